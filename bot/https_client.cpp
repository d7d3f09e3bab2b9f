// HTTPS client: resolve, connect, TLS handshake (verified), one request, one response.
#include "bot/https_client.hpp"

#include <boost/url/parse.hpp>

#include "bot/tls.hpp"

namespace relbot::bot {

std::string https_endpoint::host_header() const {
    return port == "443" ? host : host + ":" + port;
}

std::optional<https_endpoint> parse_https_url(std::string_view url) {
    auto u = boost::urls::parse_absolute_uri(url);
    if (!u || u->scheme() != "https" || u->host().empty()) {
        return std::nullopt;
    }
    https_endpoint e;
    e.host = std::string(u->encoded_host());
    e.port = u->has_port() ? std::string(u->port()) : "443";
    e.base_path = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
    if (e.base_path.back() != '/') {
        e.base_path.push_back('/');
    }
    return e;
}

https_client::https_client(ssl::context& ctx,
                           std::size_t max_idle_per_host,
                           std::chrono::seconds idle_limit)
    : ctx_(ctx), max_idle_per_host_(max_idle_per_host), idle_limit_(idle_limit) {}

https_client::~https_client() = default;

namespace {

// Closes without a TLS shutdown: async_shutdown would wait for the server's close_notify,
// which servers often never send on a keep-alive connection, and that wait would delay every
// call. Truncation cannot hurt a response that has already been read in full.
void drop(beast::ssl_stream<beast::tcp_stream>& s) {
    error_code ignored;
    beast::get_lowest_layer(s).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(s).close();
}

}  // namespace

std::unique_ptr<https_client::stream> https_client::take_idle(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end()) {
        return nullptr;
    }
    auto now = std::chrono::steady_clock::now();
    while (!it->second.empty()) {
        auto c = std::move(it->second.back());
        it->second.pop_back();
        if (now - c.since < idle_limit_ && beast::get_lowest_layer(*c.s).socket().is_open()) {
            return std::move(c.s);
        }
        drop(*c.s);
    }
    return nullptr;
}

namespace {

http::request<http::string_body> make_post(const https_endpoint& endpoint,
                                           const std::string& path_suffix,
                                           const std::string& authorization,
                                           const std::string& content_type,
                                           std::string body) {
    http::request<http::string_body> req{http::verb::post, endpoint.base_path + path_suffix, 11};
    req.set(http::field::host, endpoint.host_header());
    req.set(http::field::user_agent, "relbot/0.1");
    req.set(http::field::content_type, content_type);
    if (!authorization.empty()) {
        req.set(http::field::authorization, authorization);
    }
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
}

// A Retry-After header in whole seconds, at most max_retry_after_s; nullopt for an HTTP-date,
// a negative number or junk (the caller backs off its own way).
std::optional<int> retry_after_seconds(const http::response<http::string_body>& res) {
    auto it = res.find(http::field::retry_after);
    if (it == res.end()) {
        return std::nullopt;
    }
    auto text = std::string_view(it->value());
    if (text.empty() || text.size() > 9 ||
        text.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    int seconds = 0;
    for (char c : text) {
        seconds = seconds * 10 + (c - '0');
    }
    return std::min(seconds, max_retry_after_s);
}

}  // namespace

https_response response_of(http::response<http::string_body>&& res) {
    https_response out;
    out.status = res.result_int();
    out.retry_after_s = retry_after_seconds(res);
    out.body = std::move(res.body());
    return out;
}

std::optional<https_response> read_response_bytes(std::string_view bytes) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_body_bytes);
    parser.eager(true);
    error_code ec;
    while (!bytes.empty() && !parser.is_done()) {
        auto used = parser.put(net::buffer(bytes.data(), bytes.size()), ec);
        if (ec == http::error::need_more) {
            // Every byte left was given: more would have to come from the connection. (Beast
            // expects the next put to bring more than the last one, never fewer.)
            ec = {};
            break;
        }
        if (ec) {
            return std::nullopt;
        }
        bytes.remove_prefix(used);
    }
    if (!parser.is_done() && parser.is_header_done()) {
        parser.put_eof(ec);  // a body that runs to the end of the connection
    }
    if (ec || !parser.is_done()) {
        return std::nullopt;
    }
    return response_of(parser.release());
}

namespace {

// A reused connection that fails before any answer was read has been closed by the server
// while idle (a keep-alive connection it had given up on): nothing was processed.
bool closed_while_idle(const error_code& ec, std::size_t bytes_read) {
    return bytes_read == 0 &&
           (ec == http::error::end_of_stream || ec == net::error::connection_reset ||
            ec == net::ssl::error::stream_truncated);
}

net_failure failed(const error_code& ec, std::string what) {
    return net_failure{ec, std::move(what) + ": " + ec.message()};
}

}  // namespace

net::awaitable<net_result<std::unique_ptr<https_client::stream>>> https_client::connect(
    https_endpoint endpoint, std::chrono::seconds timeout) {
    auto ex = co_await net::this_coro::executor;
    tcp::resolver resolver(ex);
    auto s = std::make_unique<stream>(ex, ctx_);
    auto prepared = prepare_tls_stream(s->native_handle(), endpoint.host);
    if (!prepared) {
        co_return prepared.error();
    }

    auto [rec, endpoints] =
        co_await resolver.async_resolve(endpoint.host, endpoint.port, use_nothrow_awaitable);
    if (rec) {
        co_return failed(rec, "resolve " + endpoint.host);
    }
    beast::get_lowest_layer(*s).expires_after(timeout);
    auto [cec, ep] =
        co_await beast::get_lowest_layer(*s).async_connect(endpoints, use_nothrow_awaitable);
    if (cec) {
        co_return failed(cec, "connect " + endpoint.host_header());
    }
    error_code nodelay_ec;  // best effort: only latency depends on it
    beast::get_lowest_layer(*s).socket().set_option(tcp::no_delay(true), nodelay_ec);
    beast::get_lowest_layer(*s).expires_after(timeout);
    auto [hec] = co_await s->async_handshake(ssl::stream_base::client, use_nothrow_awaitable);
    if (hec) {
        co_return net_failure{hec, "TLS handshake with " + endpoint.host_header() + ": " +
                                       describe_tls_failure(s->native_handle(), hec)};
    }
    ++opened_;
    co_return std::move(s);
}

void https_client::keep_or_drop(std::unique_ptr<stream> s,
                                const std::string& key,
                                bool keep_alive) {
    auto& idle = idle_[key];
    if (keep_alive && idle.size() < max_idle_per_host_) {
        beast::get_lowest_layer(*s).expires_never();
        idle.push_back({std::move(s), std::chrono::steady_clock::now()});
    } else {
        drop(*s);
    }
}

net::awaitable<bool> https_client::exchange(std::unique_ptr<stream> s,
                                            bool reused,
                                            const https_endpoint& endpoint,
                                            const http::request<http::string_body>& req,
                                            std::chrono::seconds timeout,
                                            https_result& result) {
    beast::get_lowest_layer(*s).expires_after(timeout);
    auto [wec, wn] = co_await http::async_write(*s, req, use_nothrow_awaitable);
    if (wec) {
        drop(*s);
        if (reused) {
            co_return false;  // the server closed it while it was idle: nothing was sent
        }
        auto f = failed(wec, "send to " + endpoint.host_header());
        result.ec = f.ec;
        result.failure = std::move(f.message);
        co_return true;
    }
    result.request_sent = true;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_body_bytes);
    auto [rdec, rn] = co_await http::async_read(*s, buffer, parser, use_nothrow_awaitable);
    if (rdec) {
        drop(*s);
        if (reused && closed_while_idle(rdec, rn)) {
            co_return false;  // send it once more on a new connection
        }
        auto f = failed(rdec, "read from " + endpoint.host_header());
        result.ec = f.ec;
        result.failure = std::move(f.message);
        co_return true;
    }
    bool keep_alive = parser.get().keep_alive();
    result.response = response_of(parser.release());
    keep_or_drop(std::move(s), endpoint.host_header(), keep_alive);
    co_return true;
}

net::awaitable<https_result> https_client::post(https_endpoint endpoint,
                                                std::string path_suffix,
                                                std::string authorization,
                                                std::string content_type,
                                                std::string body,
                                                std::chrono::seconds timeout) {
    auto req = make_post(endpoint, path_suffix, authorization, content_type, std::move(body));
    auto key = endpoint.host_header();
    for (int attempt = 0;; ++attempt) {
        https_result result;
        auto s = attempt == 0 ? take_idle(key) : nullptr;
        bool reused = s != nullptr;
        if (!s) {
            auto connected = co_await connect(endpoint, timeout);
            if (!connected) {
                result.ec = connected.error().ec;
                result.failure = std::move(connected.error().message);
                co_return result;
            }
            s = std::move(*connected);
        }
        bool done = co_await exchange(std::move(s), reused, endpoint, req, timeout, result);
        if (done) {
            co_return result;
        }
    }
}

}  // namespace relbot::bot
