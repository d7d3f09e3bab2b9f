// How one HTTP exchange with the Web API is classified: what the notifier and the scheduler
// then do (stop, wait, retry, give up) depends on it. Pure; no sockets.
#include "bot/web_api.hpp"

#include <catch2/catch.hpp>

#include "bot/https_client.hpp"
#include "bot/slack_answers.hpp"

namespace unit_web_api_test {

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
    // Found by fuzz/api_response.cpp: `"ok": "yes"` threw a type_error out of the reader.
    SECTION("ok that is not a boolean") {
        for (const char* body : {R"({"ok":"true"})", R"({"ok":1})", R"({"ok":null,"error":5})",
                                 R"({"ok":false,"error":""})"}) {
            INFO(body);
            auto r = classify_api_response(answered(200, body));
            CHECK(r.outcome == api_outcome::slack_error);
            CHECK(r.error == "unknown_error");
        }
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

TEST_CASE("a response Retry-After is whole seconds, at most 5 minutes, and anything else is absent",
          "[unit]") {
    auto retry_after = [](const std::string& value) {
        auto r = read_response_bytes("HTTP/1.1 429 Too Many Requests\r\nRetry-After: " + value +
                                     "\r\nContent-Length: 0\r\n\r\n");
        REQUIRE(r);
        CHECK(r->status == 429);
        return r->retry_after_s;
    };
    CHECK(retry_after("7") == 7);
    CHECK(retry_after("0") == 0);
    CHECK(retry_after("86400") == max_retry_after_s);  // a day of silence is not taken
    CHECK(retry_after("99999999999999") == std::nullopt);
    CHECK(retry_after("-5") == std::nullopt);
    CHECK(retry_after("Wed, 21 Oct 2026 07:28:00 GMT") == std::nullopt);
    CHECK(retry_after("3 ") == 3);  // HTTP trims the value's spaces
    CHECK_FALSE(read_response_bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"));
    auto chunked = read_response_bytes(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
        "chunked\r\n\r\n5\r\n{\"ok\"\r\n6\r\n:true}\r\n0\r\n\r\n");
    REQUIRE(chunked);
    CHECK(chunked->body == R"({"ok":true})");
}

TEST_CASE(
    "what relbot reads from Slack's answers takes any JSON: a field of another type is absent",
    "[unit]") {
    using nlohmann::json;
    CHECK(posted_ts(json::parse(R"({"ok":true,"ts":"1.2"})")) == "1.2");
    CHECK(posted_ts(json::parse(R"({"ok":true,"ts":12})")).empty());
    CHECK(posted_ts(json::array()).empty());
    CHECK(opened_channel(json::parse(R"({"channel":{"id":"D1"}})")) == "D1");
    CHECK(opened_channel(json::parse(R"({"channel":"D1"})")).empty());
    CHECK(opened_channel(json::parse(R"({"channel":{"id":["D1"]}})")).empty());

    auto page = read_history(json::parse(
        R"({"messages":[1,"x",{"ts":"1.1"},{"ts":2,"metadata":"m"},)"
        R"({"ts":"1.3","metadata":{"event_type":"relbot_outbox","event_payload":{"key":"k1"}}}],)"
        R"("has_more":true,"response_metadata":{"next_cursor":"c2"}})"));
    REQUIRE(page.messages.size() == 3);  // the objects
    CHECK(text_at(page.messages[1], "ts").empty());
    CHECK_FALSE(carries_key(page.messages[1], "k1"));
    CHECK(carries_key(page.messages[2], "k1"));
    CHECK_FALSE(carries_key(page.messages[2], "k2"));
    CHECK(page.next_cursor == "c2");
    CHECK(read_history(json::parse(R"({"messages":{},"has_more":"yes",)"
                                   R"("response_metadata":{"next_cursor":"c"}})"))
              .next_cursor.empty());
    CHECK(read_history(json::parse(R"({"has_more":true,"response_metadata":[]})"))
              .next_cursor.empty());

    auto pat = read_user(json::parse(
        R"({"user":{"tz_offset":-18000,"real_name":"Pat","profile":{"display_name":""}}})"));
    CHECK(pat.tz_offset_s == -18000);
    CHECK(pat.display_name == "Pat");
    CHECK(read_user(json::parse(R"({"user":{"tz_offset":"-18000"}})")).tz_offset_s == 0);
    CHECK(read_user(json::parse(R"({"user":{"tz_offset":9999999999}})")).tz_offset_s == 0);
    CHECK(read_user(json::parse(R"({"user":{"tz_offset":1.5}})")).tz_offset_s == 0);
    CHECK(read_user(json::parse(R"({"user":"U1"})")).display_name.empty());
}

}  // namespace unit_web_api_test
