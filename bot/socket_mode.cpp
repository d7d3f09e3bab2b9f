// Socket Mode: per slot, apps.connections.open → connect (socket_mode_connect.cpp) → hello →
// the session's loops (socket_mode_session.cpp); refresh by replacement, reconnect with backoff,
// closing.
#include "bot/socket_mode.hpp"

#include <algorithm>
#include <random>

#include "bot/backoff.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "bot/socket_mode_session.hpp"

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

void socket_mode_detail::log_exception(const char* what, std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log_error(what).kv("error", ex.what());
    }
}

namespace {

using socket_mode_detail::log_exception;

void log_closer_crash(std::exception_ptr e) {
    log_exception("ws.closer_crashed", e);
}

}  // namespace

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

// The socket URL in an apps.connections.open answer ("": none).
std::string url_of(const api_result& open) {
    if (!open.ok()) {
        return "";
    }
    auto u = open.body.find("url");
    return u != open.body.end() && u->is_string() ? u->get<std::string>() : "";
}

void log_auth_failed(const std::string& error) {
    log_error("slack.auth_failed")
        .kv("variable", "SLACK_APP_TOKEN")
        .kv("error", error)
        .kv("hint",
            "apps.connections.open refused the app-level token; it must be an xapp- "
            "token "
            "with the connections:write scope");
}

void log_link_disabled(int slot) {
    log_error("socket_mode.disabled")
        .kv("slot", slot)
        .kv("hint",
            "Socket Mode was turned off in the Slack app's settings; turn it on again and "
            "restart relbot");
}

void log_too_many_websockets(int slot) {
    log_error("ws.too_many_websockets")
        .kv("slot", slot)
        .kv("hint",
            "Slack has more than 10 sockets for this app: another relbot instance is "
            "probably "
            "running with the same app token; this connection is not reopened");
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
        std::string url = url_of(open);
        if (url.empty()) {
            if (open.outcome == api_outcome::slack_error && is_fatal_auth_error(open.error)) {
                log_auth_failed(open.error);
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
            log_link_disabled(slot);
            disabled_ = true;
            begin_close(s, std::chrono::milliseconds(0));
            co_await wait_until(
                *signal, [&] { return stopping_; }, std::chrono::hours(24 * 365));
            break;
        }
        if (reason == "too_many_websockets") {
            log_too_many_websockets(slot);
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

}  // namespace relbot::bot
