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

net::awaitable<std::unique_ptr<https_client::stream>> https_client::connect(
    https_endpoint endpoint, std::chrono::seconds timeout, https_result& result) {
    auto ex = co_await net::this_coro::executor;
    tcp::resolver resolver(ex);
    auto s = std::make_unique<stream>(ex, ctx_);
    try {
        prepare_tls_stream(s->native_handle(), endpoint.host);
    } catch (const boost::system::system_error& e) {
        result.ec = e.code();
        result.failure = e.what();
        co_return nullptr;
    }

    auto [rec, endpoints] =
        co_await resolver.async_resolve(endpoint.host, endpoint.port, use_nothrow_awaitable);
    if (rec) {
        result.ec = rec;
        result.failure = "resolve " + endpoint.host + ": " + rec.message();
        co_return nullptr;
    }
    beast::get_lowest_layer(*s).expires_after(timeout);
    auto [cec, ep] =
        co_await beast::get_lowest_layer(*s).async_connect(endpoints, use_nothrow_awaitable);
    if (cec) {
        result.ec = cec;
        result.failure = "connect " + endpoint.host_header() + ": " + cec.message();
        co_return nullptr;
    }
    error_code nodelay_ec;  // best effort: only latency depends on it
    beast::get_lowest_layer(*s).socket().set_option(tcp::no_delay(true), nodelay_ec);
    beast::get_lowest_layer(*s).expires_after(timeout);
    auto [hec] = co_await s->async_handshake(ssl::stream_base::client, use_nothrow_awaitable);
    if (hec) {
        result.ec = hec;
        result.failure = "TLS handshake with " + endpoint.host_header() + ": " +
                         describe_tls_failure(s->native_handle(), hec);
        co_return nullptr;
    }
    ++opened_;
    co_return s;
}

net::awaitable<https_result> https_client::post(https_endpoint endpoint,
                                                std::string path_suffix,
                                                std::string authorization,
                                                std::string content_type,
                                                std::string body,
                                                std::chrono::seconds timeout) {
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

    auto key = endpoint.host_header();
    for (int attempt = 0;; ++attempt) {
        https_result result;
        auto s = attempt == 0 ? take_idle(key) : nullptr;
        bool reused = s != nullptr;
        if (!s) {
            s = co_await connect(endpoint, timeout, result);
            if (!s) {
                co_return result;
            }
        }

        beast::get_lowest_layer(*s).expires_after(timeout);
        auto [wec, wn] = co_await http::async_write(*s, req, use_nothrow_awaitable);
        if (wec) {
            drop(*s);
            if (reused) {
                continue;  // the server closed it while it was idle: nothing was sent
            }
            result.ec = wec;
            result.failure = "send to " + endpoint.host_header() + ": " + wec.message();
            co_return result;
        }
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(8 * 1024 * 1024);
        auto [rdec, rn] = co_await http::async_read(*s, buffer, parser, use_nothrow_awaitable);
        if (rdec) {
            drop(*s);
            if (reused && rn == 0 &&
                (rdec == http::error::end_of_stream || rdec == net::error::connection_reset ||
                 rdec == net::ssl::error::stream_truncated)) {
                // Closed by the server before it read the request (an idle keep-alive
                // connection it had given up on): send it once more on a new connection.
                continue;
            }
            result.ec = rdec;
            result.failure = "read from " + endpoint.host_header() + ": " + rdec.message();
            co_return result;
        }
        auto& res = parser.get();
        result.response.status = res.result_int();
        result.response.body = std::move(res.body());
        if (auto it = res.find(http::field::retry_after); it != res.end()) {
            try {
                result.response.retry_after_s = std::stoi(std::string(it->value()));
            } catch (const std::exception&) {
                result.response.retry_after_s = std::nullopt;  // an HTTP-date or junk: backoff
            }
        }
        auto& idle = idle_[key];
        if (res.keep_alive() && idle.size() < max_idle_per_host_) {
            beast::get_lowest_layer(*s).expires_never();
            idle.push_back({std::move(s), std::chrono::steady_clock::now()});
        } else {
            drop(*s);
        }
        co_return result;
    }
}

}  // namespace relbot::bot
