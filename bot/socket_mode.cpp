// Socket Mode: per slot, apps.connections.open → TLS → WebSocket → hello → read, dispatch,
// ack; refresh by replacement, reconnect with backoff, liveness by ping.
#include "bot/socket_mode.hpp"

#include <boost/url/parse.hpp>
#include <deque>

#include "bot/backoff.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "bot/tls.hpp"

namespace relbot::bot {

void log_ack(const ack_report& r) {
    if (r.written) {
        log_info("envelope")
            .kv("type", r.type)
            .kv("envelope_id", r.envelope_id)
            .kv("retry_attempt", r.retry_attempt)
            .kv("session", r.session)
            .kv("ack_us", r.ack_us);
    }
}

using ws_stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
using steady = std::chrono::steady_clock;

namespace {

// One frame to send. Acks remember their envelope for the log line written once it is sent.
struct outgoing {
    std::string text;
    bool ping = false;
    std::string envelope_id;
    std::string type;
    int retry_attempt = 0;
    steady::time_point received{};
};

void log_exception(const char* what, std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log_error(what).kv("error", ex.what());
    }
}

void log_writer_crash(std::exception_ptr e) {
    log_exception("ws.writer_crashed", e);
}
void log_reader_crash(std::exception_ptr e) {
    log_exception("ws.reader_crashed", e);
}
void log_pinger_crash(std::exception_ptr e) {
    log_exception("ws.pinger_crashed", e);
}
void log_closer_crash(std::exception_ptr e) {
    log_exception("ws.closer_crashed", e);
}

}  // namespace

// One WebSocket connection. Beast allows one write at a time, so every frame we send (acks,
// pings, the close frame) goes through `queue` and its single writer.
struct socket_mode_client::session {
    session(const net::any_io_executor& ex,
            ssl::context& ctx,
            int id_,
            std::shared_ptr<net::steady_timer> signal_)
        : id(id_),
          ws(ex, ctx),
          wake(ex),
          ping_timer(ex),
          close_timer(ex),
          signal(std::move(signal_)) {}

    void push(outgoing o) {
        queue.push_back(std::move(o));
        wake.cancel();
    }
    // Tells the slot that this session's state changed.
    void notify() {
        if (signal) {
            signal->cancel();
        }
    }

    int id;
    ws_stream ws;
    std::deque<outgoing> queue;
    net::steady_timer wake;         // cancelled to wake the writer
    net::steady_timer ping_timer;   // cancelled when the session ends
    net::steady_timer close_timer;  // paces the close; cancelled when the session ends
    std::shared_ptr<net::steady_timer> signal;
    std::string host;
    steady::time_point last_frame = steady::now();
    std::string disconnect_reason;  // set when Slack sends `disconnect`
    bool hello = false;
    bool closing = false;  // a close frame is wanted
    bool close_sent = false;
    bool taking_envelopes = true;  // false once shutting down
    bool ended = false;
};

socket_mode_client::socket_mode_client(ssl::context& ctx,
                                       web_api& api,
                                       envelope_handler& handler,
                                       int connections,
                                       socket_timing timing)
    : ctx_(ctx),
      api_(api),
      handler_(handler),
      connections_(std::clamp(connections, 1, 10)),
      timing_(timing),
      rng_(std::random_device{}()) {}

socket_mode_client::~socket_mode_client() = default;

int socket_mode_client::live_connections() const {
    int n = 0;
    for (const auto& s : sessions_) {
        n += s->hello && !s->closing && !s->ended ? 1 : 0;
    }
    return n;
}

void socket_mode_client::stop() {
    stopping_ = true;
    for (const auto& t : signals_) {
        t->cancel();
    }
    for (const auto& s : sessions_) {
        s->taking_envelopes = false;
        begin_close(s, std::chrono::milliseconds(0));
    }
}

std::chrono::milliseconds socket_mode_client::retry_delay(int slot,
                                                          std::string_view reason,
                                                          int& failures) {
    ++failures;
    process_metrics().reconnects.add({std::string(reason)});
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto delay = backoff_delay(failures, unit(rng_));
    log_warn("ws.reconnect").kv("slot", slot).kv("reason", reason).kv("delay_ms", delay.count());
    return delay;
}

net::awaitable<void> socket_mode_client::sleep(net::steady_timer& timer,
                                               std::chrono::milliseconds d) {
    timer.expires_after(d);
    auto [ec] = co_await timer.async_wait(use_nothrow_awaitable);
    (void)ec;  // cancelled by stop(): the caller checks stopping_
}

namespace {

// Waits on `signal` until `pred()` holds, `limit` passes, or the timer is cancelled and the
// predicate is looked at again. The predicate is a plain function object, not a coroutine.
template <typename Pred>
net::awaitable<void> wait_until(net::steady_timer& signal,
                                Pred pred,
                                std::chrono::milliseconds limit) {
    auto deadline = steady::now() + limit;
    while (!pred() && steady::now() < deadline) {
        signal.expires_at(deadline);
        auto [ec] = co_await signal.async_wait(use_nothrow_awaitable);
        (void)ec;  // cancellation means "look again"
    }
}

}  // namespace

net::awaitable<client_end> socket_mode_client::run() {
    auto ex = co_await net::this_coro::executor;
    int running = connections_;
    net::steady_timer all_done(ex, steady::time_point::max());
    for (int slot = 0; slot < connections_; ++slot) {
        net::co_spawn(ex, run_slot(slot), [&running, &all_done](std::exception_ptr e) {
            log_exception("ws.slot_crashed", e);
            if (--running == 0) {
                all_done.cancel();
            }
        });
    }
    while (running > 0) {
        auto [ec] = co_await all_done.async_wait(use_nothrow_awaitable);
        (void)ec;  // cancelled when the last slot ends
    }
    // The sockets finish their close handshakes on their own, each bounded by close_limit;
    // the event loop runs until they have.
    co_return fatal_ ? client_end::fatal : client_end::stopped;
}

// GCC 12 at -O2 inlines Asio's coroutine frame allocation (awaitable_frame_base::operator new,
// which takes the frame from Asio's recycling allocator, std::aligned_alloc underneath) and
// its release (std::free through aligned_delete) and then reports them as mismatched. They
// are the pair Asio means; the warning is silenced for this one function only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
net::awaitable<void> socket_mode_client::run_slot(int slot) {
    auto ex = co_await net::this_coro::executor;
    auto signal = std::make_shared<net::steady_timer>(ex);
    signals_.insert(signal);
    net::steady_timer nap(ex);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::shared_ptr<session> previous;  // being replaced after a refresh request
    std::shared_ptr<session> current;
    int failures = 0;

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
                        "apps.connections.open refused the app-level token; it must be an xapp- "
                        "token "
                        "with the connections:write scope");
                fatal_ = true;
                stop();
                break;
            }
            ++failures;
            auto delay = open.outcome == api_outcome::rate_limited
                             ? std::chrono::milliseconds(open.retry_after)
                             : backoff_delay(failures, unit(rng_));
            log_warn("ws.open_failed")
                .kv("slot", slot)
                .kv("error", open.error.empty() ? "no url in response" : open.error)
                .kv("retry_in_ms", delay.count());
            co_await sleep(nap, delay);
            continue;
        }

        auto s = co_await connect(url, signal);
        if (stopping_ && s) {
            s->taking_envelopes = false;
            begin_close(s, std::chrono::milliseconds(0));
        }
        if (!s || stopping_) {
            if (!stopping_) {
                auto delay = retry_delay(slot, "connect failed", failures);
                co_await sleep(nap, delay);
            }
            continue;
        }

        co_await wait_until(
            *signal, [&] { return s->hello || s->ended || stopping_; }, timing_.hello_within);
        if (!s->hello) {
            if (!s->ended && !stopping_) {
                log_warn("ws.hello_timeout").kv("slot", slot).kv("session", s->id);
            }
            begin_close(s, std::chrono::milliseconds(0));
            if (stopping_) {
                break;
            }
            auto delay = retry_delay(slot, "no hello", failures);
            co_await sleep(nap, delay);
            continue;
        }
        current = s;
        if (previous) {
            // The replacement is live: let envelopes already on their way to the old socket
            // arrive and be acked there, then close it.
            log_info("ws.replaced").kv("slot", slot).kv("old", previous->id).kv("new", s->id);
            begin_close(previous, timing_.drain_before_close);
            previous.reset();
        }
        auto healthy_since = steady::now();

        co_await wait_until(
            *signal, [&] { return s->ended || !s->disconnect_reason.empty() || stopping_; },
            std::chrono::hours(24 * 365));
        if (stopping_) {
            break;
        }
        auto reason = s->disconnect_reason;
        if (steady::now() - healthy_since > std::chrono::minutes(1)) {
            failures = 0;
        }
        if (reason == "link_disabled") {
            log_error("socket_mode.disabled")
                .kv("slot", slot)
                .kv("hint",
                    "Socket Mode was turned off in the Slack app's settings; turn it on again and "
                    "restart relbot");
            disabled_ = true;
            begin_close(s, std::chrono::milliseconds(0));
            co_await wait_until(
                *signal, [&] { return stopping_; }, std::chrono::hours(24 * 365));
            break;
        }
        if (reason == "too_many_websockets") {
            log_error("ws.too_many_websockets")
                .kv("slot", slot)
                .kv("hint",
                    "Slack has more than 10 sockets for this app: another relbot instance is "
                    "probably "
                    "running with the same app token; this connection is not reopened");
            begin_close(s, std::chrono::milliseconds(0));
            co_await wait_until(
                *signal, [&] { return stopping_; }, std::chrono::hours(24 * 365));
            break;
        }
        if (!reason.empty() && !s->ended) {
            // warning, refresh_requested or a reason we do not know: open the replacement now,
            // keep this socket until the new one has said hello.
            log_info("ws.refresh").kv("slot", slot).kv("reason", reason).kv("session", s->id);
            process_metrics().reconnects.add({reason});
            previous = s;
            failures = 0;
            continue;
        }
        auto delay = retry_delay(slot, "connection lost", failures);
        co_await sleep(nap, delay);
    }
    for (const auto& s : {previous, current}) {
        if (s && !s->ended) {
            s->taking_envelopes = false;
            begin_close(s, std::chrono::milliseconds(0));
        }
    }
    signals_.erase(signal);
}
#pragma GCC diagnostic pop

net::awaitable<std::shared_ptr<socket_mode_client::session>> socket_mode_client::connect(
    std::string url, std::shared_ptr<net::steady_timer> signal) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "wss" || parsed->host().empty()) {
        log_warn("ws.bad_url")
            .kv("error", "apps.connections.open returned a URL that is not wss://");
        co_return nullptr;
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
    auto s = std::make_shared<session>(ex, ctx_, next_session_id_++, std::move(signal));
    s->host = host_header;
    try {
        prepare_tls_stream(s->ws.next_layer().native_handle(), host);
    } catch (const boost::system::system_error& e) {
        log_warn("ws.connect_failed").kv("host", host_header).kv("error", e.what());
        co_return nullptr;
    }

    tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_nothrow_awaitable);
    if (rec) {
        log_warn("ws.connect_failed")
            .kv("host", host_header)
            .kv("error", "resolve: " + rec.message());
        co_return nullptr;
    }
    auto& tcp_layer = beast::get_lowest_layer(s->ws);
    tcp_layer.expires_after(std::chrono::seconds(15));
    auto [cec, ep] = co_await tcp_layer.async_connect(endpoints, use_nothrow_awaitable);
    if (cec) {
        log_warn("ws.connect_failed")
            .kv("host", host_header)
            .kv("error", "connect: " + cec.message());
        co_return nullptr;
    }
    // An ack is written the moment it is ready: no waiting for the peer's TCP ACK (Nagle)
    // when a frame takes more than one write.
    error_code nodelay_ec;
    tcp_layer.socket().set_option(tcp::no_delay(true), nodelay_ec);
    tcp_layer.expires_after(std::chrono::seconds(15));
    auto [hec] = co_await s->ws.next_layer().async_handshake(ssl::stream_base::client,
                                                             use_nothrow_awaitable);
    if (hec) {
        log_error("tls.failed")
            .kv("host", host_header)
            .kv("error", describe_tls_failure(s->ws.next_layer().native_handle(), hec));
        co_return nullptr;
    }

    // Turn off the tcp_stream's timeout: the WebSocket stream has its own timeout system.
    // Liveness is ours (ping_loop), so Beast's idle timeout is off too; its handshake timeout
    // still bounds the opening and the closing handshakes.
    tcp_layer.expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    s->ws.set_option(timeouts);
    s->ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(http::field::user_agent, "relbot/0.1"); }));
    s->ws.read_message_max(4 * 1024 * 1024);
    // Pings and pongs count as signs of life, as much as data frames.
    session* raw = s.get();  // the callback lives inside the session's own stream
    s->ws.control_callback(
        [raw](websocket::frame_type, beast::string_view) { raw->last_frame = steady::now(); });

    auto [wsec] = co_await s->ws.async_handshake(host_header, target, use_nothrow_awaitable);
    if (wsec) {
        log_warn("ws.connect_failed")
            .kv("host", host_header)
            .kv("error", "WebSocket handshake: " + wsec.message());
        co_return nullptr;
    }
    log_info("ws.connected").kv("host", host_header).kv("session", s->id);
    s->last_frame = steady::now();
    sessions_.insert(s);
    net::co_spawn(ex, write_loop(s), log_writer_crash);
    net::co_spawn(ex, read_loop(s), log_reader_crash);
    net::co_spawn(ex, ping_loop(s), log_pinger_crash);
    co_return s;
}

void socket_mode_client::begin_close(const std::shared_ptr<session>& s,
                                     std::chrono::milliseconds drain) {
    if (s->closing || s->ended) {
        return;
    }
    if (drain.count() == 0) {
        s->closing = true;
        s->wake.cancel();
    }
    net::co_spawn(s->ws.get_executor(), close_after(s, drain, timing_.close_limit),
                  log_closer_crash);
}

net::awaitable<void> socket_mode_client::close_after(std::shared_ptr<session> s,
                                                     std::chrono::milliseconds drain,
                                                     std::chrono::milliseconds limit) {
    auto& t = s->close_timer;
    if (drain.count() > 0) {
        t.expires_after(drain);
        auto [ec] = co_await t.async_wait(use_nothrow_awaitable);
        (void)ec;  // cancelled only when the session has ended, which is checked next
        if (s->ended) {
            co_return;
        }
        s->closing = true;
        s->wake.cancel();
    }
    // Close frame first; if the handshake has not finished within the limit, drop the TCP
    // connection (Slack does not always answer a close frame).
    t.expires_after(limit);
    auto [ec] = co_await t.async_wait(use_nothrow_awaitable);
    (void)ec;  // as above
    if (!s->ended) {
        log_debug("ws.close_timeout").kv("session", s->id);
        beast::get_lowest_layer(s->ws).close();
    }
}

net::awaitable<void> socket_mode_client::write_loop(std::shared_ptr<session> s) {
    for (;;) {
        while (!s->queue.empty() && !s->close_sent) {
            auto o = std::move(s->queue.front());
            s->queue.pop_front();
            error_code ec;
            if (o.ping) {
                auto [pec] = co_await s->ws.async_ping({}, use_nothrow_awaitable);
                ec = pec;
            } else {
                s->ws.text(true);
                auto [wec, n] =
                    co_await s->ws.async_write(net::buffer(o.text), use_nothrow_awaitable);
                ec = wec;
            }
            if (!o.envelope_id.empty()) {
                auto& m = process_metrics();
                m.acks.add({ec ? "false" : "true"});
                if (!ec) {
                    m.ack_seconds.observe(
                        std::chrono::duration<double>(steady::now() - o.received).count());
                }
                // Written or failed: either way this ack is done.
                handler_.acknowledged({o.envelope_id, o.type, o.retry_attempt, s->id,
                                       std::chrono::duration_cast<std::chrono::microseconds>(
                                           steady::now() - o.received)
                                           .count(),
                                       !ec});
            }
            if (ec) {
                // The reader sees the same broken connection and ends the session.
                log_debug("ws.write_failed").kv("session", s->id).kv("error", ec.message());
                co_return;
            }
        }
        if (s->ended) {
            co_return;
        }
        if (s->closing && !s->close_sent) {
            s->close_sent = true;
            for (const auto& o : s->queue) {
                if (!o.envelope_id.empty()) {
                    log_warn("envelope.unacked")
                        .kv("envelope_id", o.envelope_id)
                        .kv("reason", "socket closing");
                    handler_.acknowledged(
                        {o.envelope_id, o.type, o.retry_attempt, s->id, 0, false});
                }
            }
            s->queue.clear();
            auto [ec] = co_await s->ws.async_close(websocket::close_code::going_away,
                                                   use_nothrow_awaitable);
            if (ec) {
                log_debug("ws.close_failed").kv("session", s->id).kv("error", ec.message());
            }
            co_return;
        }
        s->wake.expires_at(net::steady_timer::time_point::max());
        auto [ec] = co_await s->wake.async_wait(use_nothrow_awaitable);
        (void)ec;  // cancellation is the wake-up signal
    }
}

net::awaitable<void> socket_mode_client::ping_loop(std::shared_ptr<session> s) {
    auto last_ping = steady::now();
    for (;;) {
        // Wake for whichever comes first: the next ping, or the moment the socket would have
        // been silent for too long.
        auto next_ping = last_ping + timing_.ping_interval;
        auto dead_at = s->last_frame + timing_.dead_after;
        s->ping_timer.expires_at(std::min(next_ping, dead_at));
        auto [ec] = co_await s->ping_timer.async_wait(use_nothrow_awaitable);
        (void)ec;  // cancelled when the session ends; checked next
        if (s->ended || s->close_sent) {
            co_return;
        }
        auto now = steady::now();
        if (now - s->last_frame >= timing_.dead_after) {
            log_warn("ws.dead")
                .kv("session", s->id)
                .kv("silent_ms",
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - s->last_frame)
                        .count());
            beast::get_lowest_layer(s->ws).close();  // the reader ends; the slot reconnects
            co_return;
        }
        if (now >= next_ping) {
            last_ping = now;
            outgoing ping;
            ping.ping = true;
            s->push(std::move(ping));
        }
    }
}

net::awaitable<void> socket_mode_client::read_loop(std::shared_ptr<session> s) {
    beast::flat_buffer buffer;
    std::string reason;
    for (;;) {
        auto [ec, n] = co_await s->ws.async_read(buffer, use_nothrow_awaitable);
        if (ec) {
            // Our own close ends the read with `closed` or `operation_aborted`.
            reason = ec == websocket::error::closed || s->closing ? "closed" : ec.message();
            break;
        }
        s->last_frame = steady::now();
        auto received = s->last_frame;
        auto text = beast::buffers_to_string(buffer.data());
        buffer.consume(buffer.size());
        auto f = parse_frame(text);

        if (const auto* h = std::get_if<hello_frame>(&f)) {
            s->hello = true;
            last_hello_ = std::chrono::system_clock::now();
            log_info("ws.hello")
                .kv("session", s->id)
                .kv("slack_host", h->host)
                .kv("num_connections", h->num_connections)
                .kv("approximate_connection_time_s", h->approximate_connection_time);
            s->notify();
            continue;
        }
        if (const auto* d = std::get_if<disconnect_frame>(&f)) {
            log_info("ws.disconnect_requested").kv("session", s->id).kv("reason", d->reason);
            s->disconnect_reason = d->reason.empty() ? "unspecified" : d->reason;
            s->notify();
            continue;  // the slot decides; this socket keeps serving until then
        }
        auto envelope_id = envelope_id_of(f);
        if (envelope_id) {
            process_metrics().envelopes.add({std::string(envelope_type_of(f))});
        }
        if (!s->taking_envelopes) {
            // Shutting down: left unacknowledged, so Slack delivers it again elsewhere.
            log_info("envelope.left")
                .kv("envelope_id", envelope_id.value_or(""))
                .kv("reason", "shutting down");
            continue;
        }
        std::optional<std::string> payload = handler_.handle(f);
        if (envelope_id) {
            outgoing o;
            o.text = make_ack(*envelope_id, payload ? &*payload : nullptr);
            o.envelope_id = *envelope_id;
            o.type = envelope_type_of(f);
            o.retry_attempt = retry_attempt_of(f);
            o.received = received;
            s->push(std::move(o));
        }
    }
    s->ended = true;
    s->wake.cancel();
    s->ping_timer.cancel();
    s->close_timer.cancel();
    sessions_.erase(s);
    log_info("ws.closed").kv("session", s->id).kv("reason", reason);
    s->notify();
}

}  // namespace relbot::bot
