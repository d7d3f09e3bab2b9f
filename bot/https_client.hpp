// HTTPS requests over verified TLS connections, kept alive between calls. Timeouts bound every
// step.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/net.hpp"
#include "bot/net_result.hpp"

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

// The largest response body read (a Web API answer is far smaller; more is a failed read).
inline constexpr std::uint64_t max_response_body_bytes = 8 * 1024 * 1024;
// The longest Retry-After wait taken from a response; a larger one is cut to this.
inline constexpr int max_retry_after_s = 300;

// A response read whole, as the client keeps it.
https_response response_of(http::response<http::string_body>&& res);

// `bytes` read as one whole HTTP response by the client's parser, with its body limit; nullopt
// when they are not one (for the fuzz target and tests: the client reads from its socket).
std::optional<https_response> read_response_bytes(std::string_view bytes);

// A finished request: either `ec` (network, TLS or timeout, described in `failure`: the two
// fields of a `net_failure`, spelled out for web_api) or a response of any status.
struct https_result {
    error_code ec;
    std::string failure;
    https_response response;
    // The whole request was written before `ec` happened (the answer was lost, or timed out):
    // the server may have acted on it.
    bool request_sent = false;
};

// HTTPS POSTs over verified TLS connections that are kept open between requests (HTTP/1.1
// keep-alive), per host and port: most calls skip the TCP and TLS handshakes. An idle
// connection older than `idle_limit` is closed rather than reused; when a reused connection
// turns out to have been closed by the server before it answered, the request is sent once
// more on a new one. Used from one strand only (the one that owns it).
class https_client {
public:
    explicit https_client(ssl::context& ctx,
                          std::size_t max_idle_per_host = 4,
                          std::chrono::seconds idle_limit = std::chrono::seconds(20));
    ~https_client();
    https_client(const https_client&) = delete;
    https_client& operator=(const https_client&) = delete;

    // POSTs `body` to endpoint.base_path + `path_suffix` with the given headers. Never throws
    // for network trouble: it is returned in `ec`. `authorization` is the full header value.
    net::awaitable<https_result> post(https_endpoint endpoint,
                                      std::string path_suffix,
                                      std::string authorization,
                                      std::string content_type,
                                      std::string body,
                                      std::chrono::seconds timeout);

    // TCP+TLS connections opened so far.
    long long connections_opened() const { return opened_; }

private:
    using stream = beast::ssl_stream<beast::tcp_stream>;
    struct idle_connection {
        std::unique_ptr<stream> s;
        std::chrono::steady_clock::time_point since;
    };

    std::unique_ptr<stream> take_idle(const std::string& key);
    // A new TCP+TLS connection, verified and handshaken, or what failed.
    net::awaitable<net_result<std::unique_ptr<stream>>> connect(https_endpoint endpoint,
                                                                std::chrono::seconds timeout);
    // Writes `req` on `s` and reads the answer into `result`; `reused` says whether `s` was
    // idle before. Returns false when the request should go once more on a new connection.
    net::awaitable<bool> exchange(std::unique_ptr<stream> s,
                                  bool reused,
                                  const https_endpoint& endpoint,
                                  const http::request<http::string_body>& req,
                                  std::chrono::seconds timeout,
                                  https_result& result);
    // Keeps `s` for the next request to `key` if the server allows and there is room.
    void keep_or_drop(std::unique_ptr<stream> s, const std::string& key, bool keep_alive);

    ssl::context& ctx_;
    std::size_t max_idle_per_host_;
    std::chrono::seconds idle_limit_;
    std::map<std::string, std::vector<idle_connection>> idle_;
    long long opened_ = 0;
};

}  // namespace relbot::bot
