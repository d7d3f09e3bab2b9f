// One HTTPS request/response over a fresh, verified TLS connection. Timeouts bound every step.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "bot/net.hpp"

namespace relbot::bot {

// Where requests go: parsed once from a base URL such as https://slack.com/api/.
struct https_endpoint {
    std::string host;
    std::string port;       // "443" unless the URL says otherwise
    std::string base_path;  // "/api/"

    // Host header value: the host, with the port when it is not 443.
    std::string host_header() const;
};

// Parses an https:// URL into an endpoint; nullopt if it is not one.
std::optional<https_endpoint> parse_https_url(std::string_view url);

struct https_response {
    unsigned status = 0;
    std::string body;
    std::optional<int> retry_after_s;  // from a Retry-After header
};

// A finished request: either `ec` (network, TLS or timeout, described in `failure`) or a
// response of any status.
struct https_result {
    error_code ec;
    std::string failure;
    https_response response;
};

// POSTs `body` to endpoint.base_path + `path_suffix` with the given headers. Never throws for
// network trouble: it is returned in `ec`. `authorization` is the full header value.
net::awaitable<https_result> https_post(ssl::context& ctx,
                                        https_endpoint endpoint,
                                        std::string path_suffix,
                                        std::string authorization,
                                        std::string content_type,
                                        std::string body,
                                        std::chrono::seconds timeout);

}  // namespace relbot::bot
