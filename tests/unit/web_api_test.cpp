// How one HTTP exchange with the Web API is classified: what the notifier and the scheduler
// then do (stop, wait, retry, give up) depends on it. Pure; no sockets.
#include "bot/web_api.hpp"

#include <catch2/catch.hpp>

using namespace relbot::bot;

namespace {

https_result answered(unsigned status, std::string body, std::optional<int> retry_after = {}) {
    https_result h;
    h.response.status = status;
    h.response.body = std::move(body);
    h.response.retry_after_s = retry_after;
    return h;
}

}  // namespace

TEST_CASE("a Web API answer is classified as ok, a Slack error, a 429, a server or network error") {
    SECTION("ok") {
        auto r = classify_api_response(answered(200, R"({"ok":true,"ts":"1.2"})"));
        CHECK(r.outcome == api_outcome::ok);
        CHECK(r.body.value("ts", "") == "1.2");
    }
    SECTION("ok false with Slack's code") {
        auto r = classify_api_response(answered(200, R"({"ok":false,"error":"not_in_channel"})"));
        CHECK(r.outcome == api_outcome::slack_error);
        CHECK(r.error == "not_in_channel");
    }
    SECTION("ok false without a code") {
        auto r = classify_api_response(answered(200, R"({"ok":false})"));
        CHECK(r.outcome == api_outcome::slack_error);
        CHECK(r.error == "unknown_error");
    }
    SECTION("429 with and without Retry-After") {
        auto r = classify_api_response(answered(429, "", 5));
        CHECK(r.outcome == api_outcome::rate_limited);
        CHECK(r.retry_after == std::chrono::seconds(5));
        CHECK(classify_api_response(answered(429, "")).retry_after == std::chrono::seconds(30));
    }
    SECTION("5xx") {
        auto r = classify_api_response(answered(503, "busy"));
        CHECK(r.outcome == api_outcome::server_error);
        CHECK(r.error == "http 503");
    }
    SECTION("200 that is not a JSON object") {
        auto r = classify_api_response(answered(200, "<html>"));
        CHECK(r.outcome == api_outcome::server_error);
        CHECK(r.body.is_object());
        CHECK(r.body.empty());
    }
    SECTION("no answer") {
        https_result h;
        h.ec = make_error_code(boost::asio::error::connection_refused);
        h.failure = "connect: refused";
        auto r = classify_api_response(h);
        CHECK(r.outcome == api_outcome::network_error);
        CHECK(r.error == "connect: refused");
    }
}

TEST_CASE("Slack-side trouble is retried, anything else Slack says is final") {
    CHECK(is_transient_slack_error("internal_error"));
    CHECK(is_transient_slack_error("ratelimited"));
    CHECK_FALSE(is_transient_slack_error("channel_not_found"));
    CHECK_FALSE(is_transient_slack_error("is_archived"));
    CHECK(is_fatal_auth_error("invalid_auth"));
    CHECK_FALSE(is_fatal_auth_error("not_in_channel"));
}
