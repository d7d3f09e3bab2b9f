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

net::awaitable<https_result> https_post(ssl::context& ctx,
                                        https_endpoint endpoint,
                                        std::string path_suffix,
                                        std::string authorization,
                                        std::string content_type,
                                        std::string body,
                                        std::chrono::seconds timeout) {
    https_result result;
    auto ex = co_await net::this_coro::executor;
    tcp::resolver resolver(ex);
    beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
    try {
        prepare_tls_stream(stream.native_handle(), endpoint.host);
    } catch (const boost::system::system_error& e) {
        result.ec = e.code();
        result.failure = e.what();
        co_return result;
    }

    auto [rec, endpoints] =
        co_await resolver.async_resolve(endpoint.host, endpoint.port, use_nothrow_awaitable);
    if (rec) {
        result.ec = rec;
        result.failure = "resolve " + endpoint.host + ": " + rec.message();
        co_return result;
    }
    beast::get_lowest_layer(stream).expires_after(timeout);
    auto [cec, ep] =
        co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_nothrow_awaitable);
    if (cec) {
        result.ec = cec;
        result.failure = "connect " + endpoint.host_header() + ": " + cec.message();
        co_return result;
    }
    beast::get_lowest_layer(stream).expires_after(timeout);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_nothrow_awaitable);
    if (hec) {
        result.ec = hec;
        result.failure = "TLS handshake with " + endpoint.host_header() + ": " +
                         describe_tls_failure(stream.native_handle(), hec);
        co_return result;
    }

    http::request<http::string_body> req{http::verb::post, endpoint.base_path + path_suffix, 11};
    req.set(http::field::host, endpoint.host_header());
    req.set(http::field::user_agent, "relbot/0.1");
    req.set(http::field::content_type, content_type);
    if (!authorization.empty()) {
        req.set(http::field::authorization, authorization);
    }
    req.body() = std::move(body);
    req.prepare_payload();

    beast::get_lowest_layer(stream).expires_after(timeout);
    auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow_awaitable);
    if (wec) {
        result.ec = wec;
        result.failure = "send to " + endpoint.host_header() + ": " + wec.message();
        co_return result;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(8 * 1024 * 1024);
    auto [rdec, rn] = co_await http::async_read(stream, buffer, parser, use_nothrow_awaitable);
    if (rdec) {
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
            result.response.retry_after_s = std::nullopt;  // an HTTP-date or junk: use backoff
        }
    }

    // The response is complete and length-delimited, so nothing more is needed from this
    // connection. We close it without a TLS shutdown: async_shutdown would wait for the
    // server's close_notify, which servers often never send on a keep-alive connection, and
    // that wait (bounded only by a timer) would delay every call. Truncation cannot hurt a
    // response that has already been read in full.
    error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream).close();
    co_return result;
}

}  // namespace relbot::bot
