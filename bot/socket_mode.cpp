// Socket Mode: apps.connections.open → TLS → WebSocket → hello → read, dispatch, ack.
#include "bot/socket_mode.hpp"

#include <boost/url/parse.hpp>
#include <deque>

#include "bot/backoff.hpp"
#include "bot/log.hpp"
#include "bot/tls.hpp"

namespace relbot::bot {

using ws_stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// One WebSocket connection and its single writer's queue. Beast allows one write at a time,
// so every frame we send (acks, the close frame) goes through `queue`.
struct socket_mode_client::session {
    session(const net::any_io_executor& ex, ssl::context& ctx) : ws(ex, ctx), wake(ex) {}

    void push(std::string text) {
        queue.push_back(std::move(text));
        wake.cancel();
    }

    void close() {
        closing = true;
        wake.cancel();
    }

    ws_stream ws;
    std::deque<std::string> queue;
    net::steady_timer wake;  // cancelled to wake the writer
    bool closing = false;
    bool hello = false;
};

socket_mode_client::socket_mode_client(ssl::context& ctx, web_api& api, envelope_handler& handler)
    : ctx_(ctx), api_(api), handler_(handler), rng_(std::random_device{}()) {}

socket_mode_client::~socket_mode_client() = default;

bool socket_mode_client::connected() const {
    return current_ && current_->hello && !current_->closing;
}

void socket_mode_client::stop() {
    stopping_ = true;
    if (sleep_timer_) {
        sleep_timer_->cancel();
    }
    if (current_) {
        current_->close();
    }
}

net::awaitable<void> socket_mode_client::sleep(std::chrono::milliseconds d) {
    if (!sleep_timer_) {
        sleep_timer_ = std::make_unique<net::steady_timer>(co_await net::this_coro::executor);
    }
    sleep_timer_->expires_after(d);
    auto [ec] = co_await sleep_timer_->async_wait(use_nothrow_awaitable);
    (void)ec;  // cancelled by stop(): the caller checks stopping_
}

net::awaitable<client_end> socket_mode_client::run() {
    int failures = 0;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    while (!stopping_) {
        auto open =
            co_await api_.call("apps.connections.open", nlohmann::json::object(), token_kind::app);
        if (stopping_) {
            break;
        }
        std::string url;
        if (open.ok()) {
            auto u = open.body.find("url");
            url = u != open.body.end() && u->is_string() ? u->get<std::string>() : "";
        }
        if (url.empty()) {
            if (open.outcome == api_outcome::slack_error && is_fatal_auth_error(open.error)) {
                log_error("slack.auth_failed")
                    .kv("variable", "SLACK_APP_TOKEN")
                    .kv("error", open.error)
                    .kv("hint",
                        "apps.connections.open refused the app-level token; create one "
                        "with the connections:write scope");
                co_return client_end::fatal;
            }
            ++failures;
            auto delay = open.outcome == api_outcome::rate_limited
                             ? std::chrono::milliseconds(open.retry_after)
                             : backoff_delay(failures, unit(rng_));
            log_warn("ws.open_failed")
                .kv("error", open.error.empty() ? "no url in response" : open.error)
                .kv("retry_in_ms", delay.count());
            co_await sleep(delay);
            continue;
        }

        auto started = std::chrono::steady_clock::now();
        auto end = co_await run_session(url);
        if (stopping_) {
            break;
        }
        bool healthy_for_a_minute =
            end.hello && std::chrono::steady_clock::now() - started > std::chrono::minutes(1);
        if (end.reconnect_now || healthy_for_a_minute) {
            failures = 0;
        }
        if (end.reconnect_now) {
            log_info("ws.reconnect").kv("reason", end.reason).kv("delay_ms", 0);
            continue;
        }
        ++failures;
        auto delay = backoff_delay(failures, unit(rng_));
        log_warn("ws.reconnect").kv("reason", end.reason).kv("delay_ms", delay.count());
        co_await sleep(delay);
    }
    co_return client_end::stopped;
}

net::awaitable<void> socket_mode_client::write_loop(std::shared_ptr<session> s) {
    for (;;) {
        while (!s->queue.empty()) {
            auto text = std::move(s->queue.front());
            s->queue.pop_front();
            s->ws.text(true);
            auto [ec, n] = co_await s->ws.async_write(net::buffer(text), use_nothrow_awaitable);
            if (ec) {
                // The reader sees the same broken connection and ends the session.
                log_debug("ws.write_failed").kv("error", ec.message());
                co_return;
            }
        }
        if (s->closing) {
            auto [ec] = co_await s->ws.async_close(websocket::close_code::going_away,
                                                   use_nothrow_awaitable);
            if (ec) {
                log_debug("ws.close_failed").kv("error", ec.message());
            }
            co_return;
        }
        s->wake.expires_at(net::steady_timer::time_point::max());
        auto [ec] = co_await s->wake.async_wait(use_nothrow_awaitable);
        (void)ec;  // cancellation is the wake-up signal
    }
}

namespace {

void log_spawn_failure(std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log_error("ws.writer_crashed").kv("error", ex.what());
    }
}

}  // namespace

net::awaitable<socket_mode_client::session_end> socket_mode_client::run_session(std::string url) {
    session_end end;
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "wss" || parsed->host().empty()) {
        end.reason = "apps.connections.open returned a URL that is not wss://";
        co_return end;
    }
    std::string host(parsed->encoded_host());
    std::string port = parsed->has_port() ? std::string(parsed->port()) : "443";
    // The query string carries the ticket: keep it intact in the upgrade request.
    std::string target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
    if (parsed->has_query()) {
        target += "?" + std::string(parsed->encoded_query());
    }
    std::string host_header = port == "443" ? host : host + ":" + port;

    auto ex = co_await net::this_coro::executor;
    auto s = std::make_shared<session>(ex, ctx_);
    try {
        prepare_tls_stream(s->ws.next_layer().native_handle(), host);
    } catch (const boost::system::system_error& e) {
        end.reason = e.what();
        co_return end;
    }

    tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_nothrow_awaitable);
    if (rec) {
        end.reason = "resolve " + host + ": " + rec.message();
        co_return end;
    }
    auto& tcp_layer = beast::get_lowest_layer(s->ws);
    tcp_layer.expires_after(std::chrono::seconds(15));
    auto [cec, ep] = co_await tcp_layer.async_connect(endpoints, use_nothrow_awaitable);
    if (cec) {
        end.reason = "connect " + host_header + ": " + cec.message();
        co_return end;
    }
    tcp_layer.expires_after(std::chrono::seconds(15));
    auto [hec] = co_await s->ws.next_layer().async_handshake(ssl::stream_base::client,
                                                             use_nothrow_awaitable);
    if (hec) {
        end.reason = "TLS handshake with " + host_header + ": " +
                     describe_tls_failure(s->ws.next_layer().native_handle(), hec);
        log_error("tls.failed").kv("host", host_header).kv("error", end.reason);
        co_return end;
    }

    // Turn off the tcp_stream's timeout: the WebSocket stream has its own timeout system.
    tcp_layer.expires_never();
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
    timeouts.handshake_timeout = std::chrono::seconds(10);
    // The suggested client settings have no idle timeout, which would let a half-open
    // connection hang forever: ping when idle, give up after 30 s of silence.
    timeouts.idle_timeout = std::chrono::seconds(30);
    timeouts.keep_alive_pings = true;
    s->ws.set_option(timeouts);
    s->ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(http::field::user_agent, "relbot/0.1"); }));
    s->ws.read_message_max(4 * 1024 * 1024);

    auto [wsec] = co_await s->ws.async_handshake(host_header, target, use_nothrow_awaitable);
    if (wsec) {
        end.reason = "WebSocket handshake with " + host_header + ": " + wsec.message();
        co_return end;
    }
    log_info("ws.connected").kv("host", host_header);

    current_ = s;
    if (stopping_) {
        s->close();
    }
    net::co_spawn(ex, write_loop(s), log_spawn_failure);

    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, n] = co_await s->ws.async_read(buffer, use_nothrow_awaitable);
        if (ec) {
            // Our own close (shutdown or a disconnect request) ends the read with `closed` or
            // `operation_aborted`; either way the session ended as we asked.
            end.reason = ec == websocket::error::closed || s->closing ? "closed" : ec.message();
            break;
        }
        auto text = beast::buffers_to_string(buffer.data());
        buffer.consume(buffer.size());
        auto f = parse_frame(text);

        if (const auto* h = std::get_if<hello_frame>(&f)) {
            s->hello = true;
            end.hello = true;
            log_info("ws.hello")
                .kv("slack_host", h->host)
                .kv("num_connections", h->num_connections)
                .kv("approximate_connection_time_s", h->approximate_connection_time);
            continue;
        }
        if (const auto* d = std::get_if<disconnect_frame>(&f)) {
            log_info("ws.disconnect_requested").kv("reason", d->reason);
            end.reconnect_now = true;
            end.reason = "disconnect:" + d->reason;
            s->close();
            continue;  // keep reading until the close handshake completes
        }
        if (s->closing) {
            // Shutting down: envelopes that arrive now are left for Slack to redeliver.
            continue;
        }
        auto envelope_id = envelope_id_of(f);
        std::optional<nlohmann::json> payload = handler_.handle(f);
        if (envelope_id) {
            s->push(make_ack(*envelope_id, payload ? &*payload : nullptr));
        }
    }
    if (current_ == s) {
        current_.reset();
    }
    s->close();
    log_info("ws.closed").kv("reason", end.reason);
    co_return end;
}

}  // namespace relbot::bot
