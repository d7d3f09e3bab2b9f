// Opening one Socket Mode socket: the URL from apps.connections.open → TCP → TLS → WebSocket
// handshake; then the session's loops start (socket_mode_session.cpp).
#include <boost/url/parse.hpp>
#include <optional>
#include <string>

#include "bot/log.hpp"
#include "bot/net_result.hpp"
#include "bot/socket_mode.hpp"
#include "bot/socket_mode_session.hpp"
#include "bot/tls.hpp"

namespace relbot::bot {

namespace {

using socket_mode_detail::log_exception;

void log_writer_crash(std::exception_ptr e) {
    log_exception("ws.writer_crashed", e);
}
void log_reader_crash(std::exception_ptr e) {
    log_exception("ws.reader_crashed", e);
}
void log_pinger_crash(std::exception_ptr e) {
    log_exception("ws.pinger_crashed", e);
}

// Where a wss:// URL points, as the connection and the upgrade request need it.
struct wss_target {
    std::string host;
    std::string port;
    std::string target;       // path and query
    std::string host_header;  // host, and the port if not 443
};

std::optional<wss_target> parse_wss_url(const std::string& url) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "wss" || parsed->host().empty()) {
        return std::nullopt;
    }
    wss_target out;
    out.host = std::string(parsed->encoded_host());
    out.port = parsed->has_port() ? std::string(parsed->port()) : "443";
    // The query string carries the ticket: keep it intact in the upgrade request.
    out.target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
    if (parsed->has_query()) {
        out.target += "?" + std::string(parsed->encoded_query());
    }
    out.host_header = out.port == "443" ? out.host : out.host + ":" + out.port;
    return out;
}

// The WebSocket stream's options. `last_frame` is the session's, which owns `ws`.
void configure_websocket(ws_stream& ws, steady::time_point& last_frame, std::size_t max_frame) {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(http::field::user_agent, "relbot/0.1"); }));
    // read_loop stops a message at max_frame itself; this is only a backstop.
    ws.read_message_max(2 * max_frame);
    // A client masks what it writes, through a buffer of this size: 16 KiB (one TLS record)
    // lets an 8–9 KB `status` ack go out in one write instead of three.
    ws.write_buffer_bytes(16 * 1024);
    // Pings and pongs count as signs of life, as much as data frames.
    auto* last = &last_frame;  // the callback lives inside the session's own stream
    ws.control_callback(
        [last](websocket::frame_type, beast::string_view) { *last = steady::now(); });
}

}  // namespace

net::awaitable<net_result<std::shared_ptr<socket_mode_client::session>>>
socket_mode_client::connect(std::string url, std::shared_ptr<net::steady_timer> signal) {
    auto where = parse_wss_url(url);
    if (!where) {
        net_failure f{net::error::invalid_argument,
                      "apps.connections.open returned a URL that is not wss://"};
        log_warn("ws.bad_url").kv("error", f.message);
        co_return f;
    }
    auto ex = co_await net::this_coro::executor;
    auto s = std::make_shared<session>(ex, ctx_, next_session_id_++, std::move(signal));
    s->host = where->host_header;
    auto opened = co_await open_tls(s, where->host, where->port);
    if (!opened) {
        co_return opened.error();
    }
    auto upgraded = co_await upgrade(s, where->target);
    if (!upgraded) {
        co_return upgraded.error();
    }
    log_info("ws.connected").kv("host", s->host).kv("session", s->id);
    s->last_frame = steady::now();
    start_loops(s);
    co_return s;
}

// TCP to host:port, then the verified TLS handshake; logs what failed.
net::awaitable<net_result<void>> socket_mode_client::open_tls(std::shared_ptr<session> s,
                                                              std::string host,
                                                              std::string port) {
    auto failed = [&](error_code ec, std::string message) {
        log_warn("ws.connect_failed").kv("host", s->host).kv("error", message);
        return net_failure{ec, std::move(message)};
    };
    auto prepared = prepare_tls_stream(s->ws.next_layer().native_handle(), host);
    if (!prepared) {
        co_return failed(prepared.error().ec, prepared.error().message);
    }
    tcp::resolver resolver(s->ws.get_executor());
    auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_nothrow_awaitable);
    if (rec) {
        co_return failed(rec, "resolve: " + rec.message());
    }
    auto& tcp_layer = beast::get_lowest_layer(s->ws);
    tcp_layer.expires_after(std::chrono::seconds(15));
    auto [cec, ep] = co_await tcp_layer.async_connect(endpoints, use_nothrow_awaitable);
    if (cec) {
        co_return failed(cec, "connect: " + cec.message());
    }
    // An ack is written the moment it is ready: no waiting for the peer's TCP ACK (Nagle)
    // when a frame takes more than one write.
    error_code nodelay_ec;
    tcp_layer.socket().set_option(tcp::no_delay(true), nodelay_ec);
    tcp_layer.expires_after(std::chrono::seconds(15));
    auto [hec] = co_await s->ws.next_layer().async_handshake(ssl::stream_base::client,
                                                             use_nothrow_awaitable);
    if (hec) {
        auto why = describe_tls_failure(s->ws.next_layer().native_handle(), hec);
        log_error("tls.failed").kv("host", s->host).kv("error", why);
        co_return net_failure{hec, "TLS handshake with " + s->host + ": " + why};
    }
    co_return net_result<void>{};
}

// The WebSocket handshake on an open TLS stream; logs what failed.
net::awaitable<net_result<void>> socket_mode_client::upgrade(std::shared_ptr<session> s,
                                                             std::string target) {
    // Turn off the tcp_stream's timeout: the WebSocket stream has its own timeout system.
    // Liveness is ours (ping_loop), so Beast's idle timeout is off too; its handshake timeout
    // still bounds the opening and the closing handshakes.
    beast::get_lowest_layer(s->ws).expires_never();
    configure_websocket(s->ws, s->last_frame, limits_.max_frame_bytes);
    auto [wsec] = co_await s->ws.async_handshake(s->host, target, use_nothrow_awaitable);
    if (wsec) {
        auto message = "WebSocket handshake: " + wsec.message();
        log_warn("ws.connect_failed").kv("host", s->host).kv("error", message);
        co_return net_failure{wsec, message};
    }
    co_return net_result<void>{};
}

void socket_mode_client::start_loops(const std::shared_ptr<session>& s) {
    sessions_.insert(s);
    auto ex = s->ws.get_executor();
    net::co_spawn(ex, write_loop(s), log_writer_crash);
    net::co_spawn(ex, read_loop(s), log_reader_crash);
    net::co_spawn(ex, ping_loop(s), log_pinger_crash);
}

}  // namespace relbot::bot
