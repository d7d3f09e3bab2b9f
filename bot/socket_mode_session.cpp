// A Socket Mode socket's loops: the single writer (acks, pings, the close frame), the pinger
// that also notices a silent socket, and the reader that hands envelopes to the handler.
#include "bot/socket_mode_session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <array>

#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "bot/socket_mode.hpp"

namespace relbot::bot {

using socket_mode_detail::outgoing;

namespace {

// An ack written (or failed): counted, timed, and reported to the handler.
void report_ack(envelope_handler& handler,
                const outgoing& o,
                int session,
                bool written,
                std::string* log_into) {
    auto& m = process_metrics();
    m.acks.add({written ? "true" : "false"});
    auto took = steady::now() - o.received;
    if (written) {
        m.ack_seconds.observe(std::chrono::duration<double>(took).count());
    }
    handler.acknowledged({o.envelope_id, o.type, o.retry_attempt, session,
                          std::chrono::duration_cast<std::chrono::microseconds>(took).count(),
                          written, o.note ? &*o.note : nullptr, log_into});
}

// Linux's TCP_CORK, as a socket option asio can set: while on, what is written leaves in full
// packets only, and turning it off sends what is held at once.
struct tcp_cork {
    int on;
    template <class Protocol>
    int level(const Protocol&) const {
        return IPPROTO_TCP;
    }
    template <class Protocol>
    int name(const Protocol&) const {
        return TCP_CORK;
    }
    template <class Protocol>
    const void* data(const Protocol&) const {
        return &on;
    }
    template <class Protocol>
    std::size_t size(const Protocol&) const {
        return sizeof on;
    }
};

void cork(ws_stream& ws, bool on) {
    error_code ignored;  // at worst the frames leave one packet each, as without it
    beast::get_lowest_layer(ws).socket().set_option(tcp_cork{on ? 1 : 0}, ignored);
}

// The socket is closing: acks still queued will not be written; Slack delivers again.
void give_up_queued(envelope_handler& handler, std::deque<outgoing>& queue, int session) {
    for (const auto& o : queue) {
        if (!o.envelope_id.empty()) {
            log_warn("envelope.unacked")
                .kv("envelope_id", o.envelope_id)
                .kv("reason", "socket closing");
            handler.acknowledged({o.envelope_id, o.type, o.retry_attempt, session, 0, false,
                                  o.note ? &*o.note : nullptr});
        }
    }
    queue.clear();
}

}  // namespace

outgoing socket_mode_detail::ack_for(const frame& f,
                                     std::string envelope_id,
                                     std::optional<slack::json_text> payload,
                                     steady::time_point received) {
    outgoing o;
    o.text = ack_head(envelope_id, payload.has_value());
    o.payload = std::move(payload);
    o.envelope_id = std::move(envelope_id);
    o.type = envelope_type_of(f);
    o.retry_attempt = retry_attempt_of(f);
    o.received = received;
    return o;
}

net::awaitable<void> socket_mode_client::write_loop(std::shared_ptr<session> s) {
    // The log lines of the acks written since the queue was last empty: written together
    // (one write for a burst's acks, not one each) before the loop waits again or ends.
    std::string lines;
    for (;;) {
        // Several frames waiting (a batch's acks): corked until the queue is empty, so that
        // they leave in a few packets instead of one each (and Slack's end reads them in a few
        // wake-ups). A lone ack is written as it comes, with no option set around it.
        bool corked = false;
        while (!s->queue.empty() && !s->close_sent) {
            if (!corked && s->queue.size() > 1) {
                cork(s->ws, true);
                corked = true;
            }
            if (lines.size() > 64 * 1024) {
                write_log_lines(lines);
            }
            auto o = std::move(s->queue.front());
            s->queue.pop_front();
            error_code ec;
            if (o.ping) {
                auto [pec] = co_await s->ws.async_ping({}, use_nothrow_awaitable);
                ec = pec;
            } else {
                s->ws.text(true);
                // The payload is written from its shared bytes (a burst of `status` replies
                // queues thousands of acks; none copies the 8 KB reply).
                static constexpr char tail[] = "}";
                std::array<net::const_buffer, 3> frame{
                    net::buffer(o.text),
                    o.payload ? net::buffer(o.payload->str()) : net::const_buffer(),
                    net::buffer(tail, o.payload ? 1 : 0)};
                auto [wec, n] = co_await s->ws.async_write(frame, use_nothrow_awaitable);
                ec = wec;
            }
            if (!o.envelope_id.empty()) {
                report_ack(handler_, o, s->id, !ec, &lines);  // this ack is done
            }
            if (ec) {
                if (corked) {
                    cork(s->ws, false);
                }
                write_log_lines(lines);
                // The reader sees the same broken connection and ends the session.
                log_debug("ws.write_failed").kv("session", s->id).kv("error", ec.message());
                co_return;
            }
        }
        if (corked) {
            cork(s->ws, false);
        }
        write_log_lines(lines);
        if (s->ended) {
            co_return;
        }
        if (s->closing && !s->close_sent) {
            s->close_sent = true;
            give_up_queued(handler_, s->queue, s->id);
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
        // A message is read a piece at a time, so that one larger than max_frame_bytes is
        // never held whole: past the limit the connection is dropped and replaced.
        error_code ec;
        do {
            auto [rec, n] =
                co_await s->ws.async_read_some(buffer, 64 * 1024, use_nothrow_awaitable);
            ec = rec;
        } while (!ec && !s->ws.is_message_done() && buffer.size() <= limits_.max_frame_bytes);
        if (!ec && buffer.size() > limits_.max_frame_bytes) {
            process_metrics().limits_hit.add({"frame_bytes"});
            log_warn("ws.frame_too_big")
                .kv("session", s->id)
                .kv("limit", limits_.max_frame_bytes)
                .kv("hint", "a frame larger than Slack ever sends; the connection is replaced");
            reason = "frame_too_big";
            beast::get_lowest_layer(s->ws).close();  // mid-message: nothing more can be read
            break;
        }
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

        if (take_control_frame(s, f)) {
            continue;
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
        if (envelope_id) {
            hand_over(s, std::move(f), std::move(*envelope_id), received);
        } else {
            // Nothing to acknowledge: say why it was not read.
            const auto* m = std::get_if<malformed_frame>(&f);
            log_warn("envelope.malformed")
                .kv("reason", m != nullptr ? m->reason : envelope_type_of(f))
                .kv("session", s->id);
        }
    }
    end_session(s, reason);
}

bool socket_mode_client::take_control_frame(const std::shared_ptr<session>& s, const frame& f) {
    if (const auto* h = std::get_if<hello_frame>(&f)) {
        s->hello = true;
        last_hello_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        recount();
        log_info("ws.hello")
            .kv("session", s->id)
            .kv("slack_host", h->host)
            .kv("num_connections", h->num_connections)
            .kv("approximate_connection_time_s", h->approximate_connection_time);
        s->notify();
        return true;
    }
    if (const auto* d = std::get_if<disconnect_frame>(&f)) {
        log_info("ws.disconnect_requested").kv("session", s->id).kv("reason", d->reason);
        s->disconnect_reason = d->reason.empty() ? "unspecified" : d->reason;
        s->notify();
        return true;  // the slot decides; this socket keeps serving until then
    }
    return false;
}

void socket_mode_client::end_session(const std::shared_ptr<session>& s, const std::string& reason) {
    s->ended = true;
    s->wake.cancel();
    s->ping_timer.cancel();
    s->close_timer.cancel();
    sessions_.erase(s);
    recount();
    log_info("ws.closed").kv("session", s->id).kv("reason", reason);
    s->notify();
}

}  // namespace relbot::bot
