// The Slack Web API over HTTPS: one call = one POST with a JSON (or form) body and a bearer
// token; the answer is classified so callers know whether to stop, wait, retry or give up.
#pragma once

#include <map>
#include <string>

#include "bot/https_client.hpp"
#include "bot/net.hpp"
#include "bot/slack_port.hpp"

namespace relbot::bot {

// Classifies one HTTP exchange with the Web API (`http`): a network failure, 429 with its
// Retry-After (30 s when absent), another non-200 status, a body that is not a JSON object,
// or Slack's `ok` and `error`. Pure.
api_result classify_api_response(const https_result& http);

// The real slack_api.
class web_api final : public slack_api {
public:
    // `ctx` must outlive this object. Tokens are kept only in memory and never logged.
    web_api(ssl::context& ctx, https_endpoint base, std::string bot_token, std::string app_token);

    net::awaitable<api_result> call(std::string method,
                                    nlohmann::json args,
                                    token_kind token) override;
    net::awaitable<api_result> call_form(std::string method,
                                         std::map<std::string, std::string> args,
                                         token_kind token) override;
    net::awaitable<api_result> post_response_url(std::string url, nlohmann::json body) override;
    net::awaitable<api_result> upload_bytes(std::string url, std::string bytes) override;

private:
    // POSTs `body` to exactly the URL `url` (https, host verified), without a token.
    net::awaitable<api_result> post_to_url(const std::string& url,
                                           std::string content_type,
                                           std::string body,
                                           const char* what);
    // One call: posted, classified, logged and counted in the metrics.
    net::awaitable<api_result> send(std::string method,
                                    std::string content_type,
                                    std::string body,
                                    token_kind token);

    https_client http_;
    https_endpoint base_;
    std::string bot_token_;
    std::string app_token_;
};

}  // namespace relbot::bot
