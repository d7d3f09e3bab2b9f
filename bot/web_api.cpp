// Web API calls: JSON in, classified result out, one log line per call.
#include "bot/web_api.hpp"

#include <array>

#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "slack/json_write.hpp"

namespace relbot::bot {

bool is_fatal_auth_error(std::string_view error) {
    constexpr std::array<std::string_view, 8> fatal = {
        "invalid_auth",     "not_authed",
        "account_inactive", "token_revoked",
        "token_expired",    "not_allowed_token_type",
        "team_disabled",    "user_removed_from_team"};
    for (auto f : fatal) {
        if (error == f) {
            return true;
        }
    }
    return false;
}

bool is_transient_slack_error(std::string_view error) {
    constexpr std::array<std::string_view, 6> transient = {"internal_error",      "fatal_error",
                                                           "service_unavailable", "request_timeout",
                                                           "rate_limited",        "ratelimited"};
    for (auto t : transient) {
        if (error == t) {
            return true;
        }
    }
    return false;
}

web_api::web_api(ssl::context& ctx,
                 https_endpoint base,
                 std::string bot_token,
                 std::string app_token)
    : http_(ctx),
      base_(std::move(base)),
      bot_token_(std::move(bot_token)),
      app_token_(std::move(app_token)) {}

net::awaitable<api_result> web_api::call(std::string method,
                                         nlohmann::json args,
                                         token_kind token) {
    auto body = slack::json_text_of(args);
    co_return co_await send(std::move(method), "application/json; charset=utf-8", std::move(body),
                            token);
}

namespace {

std::string form_encode(const std::map<std::string, std::string>& args) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const auto& [k, v] : args) {
        if (!out.empty()) {
            out.push_back('&');
        }
        for (const auto* part : {&k, &v}) {
            for (unsigned char c : *part) {
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~') {
                    out.push_back(static_cast<char>(c));
                } else {
                    out.push_back('%');
                    out.push_back(hex[c >> 4]);
                    out.push_back(hex[c & 15]);
                }
            }
            if (part == &k) {
                out.push_back('=');
            }
        }
    }
    return out;
}

}  // namespace

net::awaitable<api_result> web_api::call_form(std::string method,
                                              std::map<std::string, std::string> args,
                                              token_kind token) {
    co_return co_await send(std::move(method), "application/x-www-form-urlencoded",
                            form_encode(args), token);
}

namespace {

const char* result_label(api_outcome o) {
    switch (o) {
        case api_outcome::ok:
            return "ok";
        case api_outcome::slack_error:
            return "slack_error";
        case api_outcome::rate_limited:
            return "rate_limited";
        case api_outcome::server_error:
            return "server_error";
        case api_outcome::network_error:
            return "network";
    }
    return "network";
}

void count_call(const std::string& method, const api_result& r) {
    auto& m = process_metrics();
    m.api_calls.add({method, result_label(r.outcome)});
    if (r.outcome == api_outcome::rate_limited) {
        m.rate_limit_waits.add({method});
    }
}

}  // namespace

api_result classify_api_response(const https_result& http) {
    api_result r;
    r.http_status = http.response.status;
    if (http.ec) {
        r.outcome = api_outcome::network_error;
        r.error = http.failure;
        r.maybe_delivered = http.request_sent;
        return r;
    }
    if (http.response.status == 429) {
        r.outcome = api_outcome::rate_limited;
        r.error = "ratelimited";
        r.retry_after = std::chrono::seconds(http.response.retry_after_s.value_or(30));
        return r;
    }
    if (http.response.status != 200) {
        r.outcome = api_outcome::server_error;
        r.error = "http " + std::to_string(http.response.status);
        return r;
    }
    r.body = nlohmann::json::parse(http.response.body, nullptr, false);
    if (r.body.is_discarded() || !r.body.is_object()) {
        r.outcome = api_outcome::server_error;
        r.error = "response is not a JSON object";
        r.body = nlohmann::json::object();
        return r;
    }
    if (auto ok = r.body.find("ok"); ok != r.body.end() && *ok == true) {
        r.outcome = api_outcome::ok;
        return r;
    }
    r.outcome = api_outcome::slack_error;
    auto err = r.body.find("error");
    r.error = err != r.body.end() && err->is_string() ? err->get<std::string>() : "";
    if (r.error.empty()) {
        r.error = "unknown_error";  // every failure names something to log and act on
    }
    return r;
}

namespace {

// One line per call: debug when it went through, a warning otherwise.
void log_call(const std::string& method, const api_result& r, long long ms) {
    switch (r.outcome) {
        case api_outcome::network_error:
            log_warn("api.call")
                .kv("method", method)
                .kv("result", "network")
                .kv("error", r.error)
                .kv("ms", ms);
            return;
        case api_outcome::rate_limited:
            log_warn("api.call")
                .kv("method", method)
                .kv("status", 429)
                .kv("retry_after_s", r.retry_after.count())
                .kv("ms", ms);
            return;
        case api_outcome::server_error:
            if (r.http_status == 200) {  // an answer that is not JSON
                log_warn("api.call")
                    .kv("method", method)
                    .kv("status", 200)
                    .kv("error", r.error)
                    .kv("ms", ms);
            } else {
                log_warn("api.call").kv("method", method).kv("status", r.http_status).kv("ms", ms);
            }
            return;
        case api_outcome::ok:
            log_debug("api.call")
                .kv("method", method)
                .kv("status", 200)
                .kv("ok", true)
                .kv("ms", ms);
            return;
        case api_outcome::slack_error:
            log_warn("api.call")
                .kv("method", method)
                .kv("status", 200)
                .kv("ok", false)
                .kv("error", r.error)
                .kv("ms", ms);
            return;
    }
}

}  // namespace

net::awaitable<api_result> web_api::send(std::string method,
                                         std::string content_type,
                                         std::string body,
                                         token_kind token) {
    auto started = std::chrono::steady_clock::now();
    auto auth = "Bearer " + (token == token_kind::app ? app_token_ : bot_token_);
    auto http = co_await http_.post(base_, method, std::move(auth), std::move(content_type),
                                    std::move(body), std::chrono::seconds(15));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    auto r = classify_api_response(http);
    log_call(method, r, ms);
    count_call(method, r);
    co_return r;
}

}  // namespace relbot::bot

namespace relbot::bot {

net::awaitable<api_result> web_api::post_to_url(const std::string& url,
                                                std::string content_type,
                                                std::string body,
                                                const char* what) {
    api_result r;
    auto endpoint = parse_https_url(url);
    if (!endpoint) {
        r.outcome = api_outcome::slack_error;
        r.error = std::string(what) + " is not an https URL";
        co_return r;
    }
    // parse_https_url keeps the path as the base; the request goes to exactly that path.
    auto path = endpoint->base_path;
    if (!path.empty() && path.back() == '/' && !url.ends_with("/")) {
        path.pop_back();
    }
    endpoint->base_path = "";
    auto http = co_await http_.post(*endpoint, path, "", std::move(content_type), std::move(body),
                                    std::chrono::seconds(30));
    r.http_status = http.response.status;
    if (http.ec) {
        r.outcome = api_outcome::network_error;
        r.error = http.failure;
        r.maybe_delivered = http.request_sent;
    } else if (http.response.status == 200) {
        r.outcome = api_outcome::ok;
    } else if (http.response.status == 429) {
        r.outcome = api_outcome::rate_limited;
        r.retry_after = std::chrono::seconds(http.response.retry_after_s.value_or(30));
    } else if (http.response.status >= 500) {
        r.outcome = api_outcome::server_error;
        r.error = "http " + std::to_string(http.response.status);
    } else {
        r.outcome = api_outcome::slack_error;  // expired, used up, or refused: final
        r.error = "http " + std::to_string(http.response.status);
    }
    log_info(std::string(what) + ".post")
        .kv("status", http.response.status)
        .kv("result", r.ok() ? "ok" : r.error);
    count_call(what, r);
    co_return r;
}

net::awaitable<api_result> web_api::post_response_url(std::string url, nlohmann::json body) {
    co_return co_await post_to_url(url, "application/json; charset=utf-8",
                                   slack::json_text_of(body), "response_url");
}

net::awaitable<api_result> web_api::upload_bytes(std::string url, std::string bytes) {
    co_return co_await post_to_url(url, "application/octet-stream", std::move(bytes), "upload_url");
}

}  // namespace relbot::bot
