// The Slack Web API as the notifier and the scheduler see it: a call in, a classified answer
// out. bot::web_api is the real one (HTTPS); the unit tests script a fake. No I/O here.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "bot/net.hpp"

namespace relbot::bot {

enum class api_outcome {
    ok,            // HTTP 200, "ok": true
    slack_error,   // HTTP 200, "ok": false; `error` holds Slack's code
    rate_limited,  // HTTP 429; wait `retry_after`
    server_error,  // HTTP 5xx or another unexpected status
    network_error  // no HTTP answer: DNS, TCP, TLS, timeout
};

struct api_result {
    api_outcome outcome = api_outcome::network_error;
    // The parsed response; always an object (empty when there was no JSON answer), so
    // callers may read fields without checking.
    nlohmann::json body = nlohmann::json::object();
    std::string error;  // Slack's error code, or a description of the failure
    std::chrono::seconds retry_after{0};
    unsigned http_status = 0;
    // A network error after the whole request was written: Slack may have done what it asked
    // (a post may be in the channel), so a retry must look before it posts again.
    bool maybe_delivered = false;

    bool ok() const { return outcome == api_outcome::ok; }
};

enum class token_kind { bot, app };

// Errors that mean the token itself is wrong: retrying cannot help.
bool is_fatal_auth_error(std::string_view error);

// Slack errors worth retrying later (Slack-side trouble); everything else is final.
bool is_transient_slack_error(std::string_view error);

// The Web API methods relbot calls, and the response_url posts. Every call answers with an
// api_result and never throws for network or Slack trouble. Loop thread only; the caller keeps
// the implementation alive while any call is in progress.
class slack_api {
public:
    virtual ~slack_api() = default;

    // Calls `method` with `args` as its JSON body.
    virtual net::awaitable<api_result> call(std::string method,
                                            nlohmann::json args,
                                            token_kind token) = 0;

    // Calls a read method with form-encoded arguments, as Slack's read methods expect.
    virtual net::awaitable<api_result> call_form(std::string method,
                                                 std::map<std::string, std::string> args,
                                                 token_kind token) = 0;

    // POSTs `body` to a response_url Slack gave us (no token: the URL is the credential).
    // ok on HTTP 200; a 4xx is a final slack_error ("http 404"), 5xx and network trouble retry.
    virtual net::awaitable<api_result> post_response_url(std::string url, nlohmann::json body) = 0;

    // POSTs a file's bytes to the `upload_url` files.getUploadURLExternal gave (no token: the
    // URL is the credential). ok on HTTP 200; 429 and 5xx retry; another 4xx is final.
    virtual net::awaitable<api_result> upload_bytes(std::string url, std::string bytes) = 0;
};

}  // namespace relbot::bot
