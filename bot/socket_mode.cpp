// Socket Mode: per slot, apps.connections.open → connect (socket_mode_connect.cpp) → hello →
// the session's loops (socket_mode_session.cpp); refresh by replacement, reconnect with backoff,
// closing.
#include "bot/socket_mode.hpp"

#include <algorithm>
#include <random>

#include "bot/backoff.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "bot/slack_answers.hpp"
#include "bot/socket_mode_session.hpp"

namespace relbot::bot {

void log_ack(const ack_report& r) {
    if (!r.written) {
        return;
    }
    log_line line(log_level::info, "envelope", r.log_into);
    line.kv("type", r.type)
        .kv("envelope_id", r.envelope_id)
        .kv("retry_attempt", r.retry_attempt)
        .kv("session", r.session);
    if (r.note != nullptr) {
        line.kv("command", r.note->command)
            .kv("outcome", r.note->outcome)
            .kv("channel", r.note->channel)
            .kv("user", r.note->user)
            .kv("us", r.note->us);
        for (auto [key, us] :
             {std::pair{"wait_us", r.note->wait_us}, std::pair{"begin_us", r.note->begin_us},
              std::pair{"commit_us", r.note->commit_us}}) {
            if (us >= 0) {
                line.kv(key, us);
            }
        }
    }
    line.kv("ack_us", r.ack_us);
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

socket_mode_client::socket_mode_client(net::any_io_executor ex,
                                       ssl::context& ctx,
                                       web_api& api,
                                       envelope_handler& handler,
                                       int connections,
                                       socket_timing timing,
                                       socket_limits limits)
    : ex_(std::move(ex)),
      ctx_(ctx),
      api_(api),
      handler_(handler),
      connections_(std::clamp(connections, 1, 10)),
      timing_(timing),
      limits_(limits),
      expiry_timer_(ex_),
      rng_(std::random_device{}()) {}

socket_mode_client::~socket_mode_client() = default;

void socket_mode_client::recount() {
    int n = 0;
    for (const auto& s : sessions_) {
        n += s->hello && !s->closing && !s->ended ? 1 : 0;
    }
    live_ = n;
}

std::optional<std::chrono::system_clock::time_point> socket_mode_client::last_hello() const {
    auto ns = last_hello_ns_.load();
    if (ns == 0) {
        return std::nullopt;
    }
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(ns)));
}

void socket_mode_client::hand_over(const std::shared_ptr<session>& s,
                                   frame f,
                                   std::string envelope_id,
                                   steady::time_point received) {
    auto job = std::make_shared<envelope_job>(std::move(f), std::move(envelope_id), received);
    job->session_ = s;
    ++s->unanswered;  // deliver() counts it answered, whichever way it is
    // waiting_ holds what is unanswered, and answered jobs behind the oldest unanswered one.
    if (waiting_.size() >= limits_.max_in_flight) {
        // Answered at once rather than held: memory stays bounded whatever arrives.
        process_metrics().limits_hit.add({"envelopes_in_flight"});
        if (!refusing_) {
            refusing_ = true;
            log_warn("envelope.refused")
                .kv("reason", "envelopes_in_flight")
                .kv("limit", limits_.max_in_flight)
                .kv("hint", "more envelopes than the database can take; each gets try again");
        }
        job->expire();
        auto payload = handler_.late_answer(job->frame_);
        deliver({job, std::move(payload), handled_note{"refused", "busy", {}, {}, 0}});
        return;
    }
    if (refusing_) {
        refusing_ = false;
        log_info("envelope.accepted_again").kv("limit", limits_.max_in_flight);
    }
    if (waiting_.empty()) {
        expiry_timer_.cancel();  // the expirer sleeps until told there is something to watch
    }
    waiting_.push_back(job);
    handler_.take(std::move(job));
}

void socket_mode_client::answer(std::vector<envelope_answer> answers, bool at_once) {
    auto write = [this, answers = std::move(answers)]() mutable {
        for (auto& a : answers) {
            deliver(std::move(a));
        }
    };
    if (at_once) {
        net::dispatch(ex_, std::move(write));  // at once when the strand is free (or this is it)
    } else {
        net::post(ex_, std::move(write));
    }
}

void socket_mode_client::deliver(envelope_answer a) {
    auto& job = *a.job;
    job.answered_ = true;
    while (!waiting_.empty() && waiting_.front()->answered_) {
        waiting_.pop_front();
    }
    auto s = std::static_pointer_cast<session>(job.session_);
    if (s->unanswered > 0 && --s->unanswered == 0 && s->awaiting_answers) {
        s->close_timer.cancel();  // the replaced socket may close once this ack is written
    }
    auto o = socket_mode_detail::ack_for(job.frame_, job.envelope_id_, std::move(a.payload),
                                         job.received_);
    o.note = std::move(a.note);
    if (s->ended || s->close_sent) {
        // The socket closed before the answer came: Slack delivers the envelope again, and
        // the redelivery record gives it the same reply.
        log_warn("envelope.unacked")
            .kv("envelope_id", job.envelope_id_)
            .kv("reason", "socket closed");
        handler_.acknowledged(
            {o.envelope_id, o.type, o.retry_attempt, s->id, 0, false, o.note ? &*o.note : nullptr});
        return;
    }
    s->push(std::move(o));
}

net::awaitable<void> socket_mode_client::expire_loop() {
    while (!stopping_ || !waiting_.empty()) {
        // The first job still waiting for the handler sets the next deadline.
        auto next = steady::time_point::max();
        for (const auto& j : waiting_) {
            if (!j->answered_ && j->state_.load() == envelope_job::waiting) {
                next = j->received_ + timing_.answer_within;
                break;
            }
        }
        if (stopping_ && next == steady::time_point::max()) {
            co_return;
        }
        expiry_timer_.expires_at(next);
        auto [ec] = co_await expiry_timer_.async_wait(use_nothrow_awaitable);
        (void)ec;  // cancelled: something new to watch; look again
        auto now = steady::now();
        std::vector<job_ptr> late;
        for (const auto& j : waiting_) {
            if (j->received_ + timing_.answer_within > now) {
                break;
            }
            if (!j->answered_ && j->expire()) {
                late.push_back(j);
            }
        }
        for (auto& j : late) {
            process_metrics().envelopes_late.add({envelope_type_of(j->frame_)});
            log_warn("envelope.late")
                .kv("envelope_id", j->envelope_id_)
                .kv("type", envelope_type_of(j->frame_))
                .kv("waited_ms",
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - j->received_)
                        .count())
                .kv("hint", "the database was not free in time; nothing was changed");
            auto payload = handler_.late_answer(j->frame_);
            handled_note note{"late", "busy", {}, {}, 0};
            deliver({j, std::move(payload), std::move(note)});
        }
    }
}

void socket_mode_client::stop() {
    stopping_ = true;
    expiry_timer_.cancel();
    for (const auto& t : signals_) {
        t->cancel();
    }
    // A slot waiting out a backoff or Slack's Retry-After (up to minutes while Slack is in
    // trouble) stops now, not when its wait ends.
    for (const auto& nap : naps_) {
        nap->cancel();
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
    if (stopping_) {
        co_return;  // stop() has cancelled the waits under way; this one is not begun
    }
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
    return text_at(open.body, "url");
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

void log_too_many_websockets(int slot, std::chrono::milliseconds retry_in) {
    log_warn("ws.too_many_websockets")
        .kv("slot", slot)
        .kv("retry_in_ms", static_cast<long long>(retry_in.count()))
        .kv("hint",
            "Slack has 10 sockets for this app already: several relbot instances together "
            "ask for more than that (lower RELBOT_CONNECTIONS); the sockets already open "
            "keep working, and this one is tried again later");
}

}  // namespace

net::awaitable<client_end> socket_mode_client::run() {
    auto ex = co_await net::this_coro::executor;
    int running = connections_;
    net::steady_timer all_done(ex, steady::time_point::max());
    net::co_spawn(ex, expire_loop(),
                  [](std::exception_ptr e) { log_exception("ws.expirer_crashed", e); });
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

net::awaitable<void> socket_mode_client::run_slot(int slot) {
    auto ex = co_await net::this_coro::executor;
    slot_state st(slot, ex);
    signals_.insert(st.signal);
    naps_.insert(st.nap);
    while (!stopping_) {
        auto next = co_await run_one_socket(st);
        if (next == slot_next::stop) {
            break;
        }
    }
    close_slot(st);
    signals_.erase(st.signal);
    naps_.erase(st.nap);
}

net::awaitable<socket_mode_client::slot_next> socket_mode_client::run_one_socket(slot_state& st) {
    auto open =
        co_await api_.call("apps.connections.open", nlohmann::json::object(), token_kind::app);
    if (stopping_) {
        co_return slot_next::stop;
    }
    std::string url = url_of(open);
    if (url.empty()) {
        auto next = co_await after_open_failed(st, std::move(open));
        co_return next;
    }
    auto connected = co_await connect(url, st.signal);
    if (!connected) {  // connect logged why
        if (!stopping_) {
            auto delay = retry_delay(st.slot, "connect failed", st.failures);
            co_await sleep(*st.nap, delay);
        }
        co_return slot_next::again;
    }
    auto s = *connected;
    if (stopping_) {
        s->taking_envelopes = false;
        begin_close(s, std::chrono::milliseconds(0));
        co_return slot_next::stop;
    }
    bool greeted = co_await await_hello(st, s);
    if (!greeted) {
        co_return stopping_ ? slot_next::stop : slot_next::again;
    }
    adopt(st, s);
    auto next = co_await hold(st, s);
    co_return next;
}

// apps.connections.open gave no URL: stop for a token that cannot work, else wait and retry.
net::awaitable<socket_mode_client::slot_next> socket_mode_client::after_open_failed(
    slot_state& st, api_result open) {
    if (open.outcome == api_outcome::slack_error && is_fatal_auth_error(open.error)) {
        log_auth_failed(open.error);
        fatal_ = true;
        stop();
        co_return slot_next::stop;
    }
    ++st.failures;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto delay = open.outcome == api_outcome::rate_limited
                     ? std::chrono::milliseconds(open.retry_after)
                     : backoff_delay(st.failures, unit(rng_));
    log_warn("ws.open_failed")
        .kv("slot", st.slot)
        .kv("error", open.error.empty() ? "no url in response" : open.error)
        .kv("retry_in_ms", delay.count());
    co_await sleep(*st.nap, delay);
    co_return slot_next::again;
}

// Waits for the new socket's hello; without one it is closed and the retry waited for.
net::awaitable<bool> socket_mode_client::await_hello(slot_state& st, std::shared_ptr<session> s) {
    co_await wait_until(
        *st.signal, [&] { return s->hello || s->ended || stopping_; }, timing_.hello_within);
    if (s->hello) {
        co_return true;
    }
    if (!s->ended && !stopping_) {
        log_warn("ws.hello_timeout").kv("slot", st.slot).kv("session", s->id);
    }
    begin_close(s, std::chrono::milliseconds(0));
    if (!stopping_) {
        auto delay = retry_delay(st.slot, "no hello", st.failures);
        co_await sleep(*st.nap, delay);
    }
    co_return false;
}

// The socket said hello: it is the slot's now, and the one it replaces is drained and closed.
void socket_mode_client::adopt(slot_state& st, const std::shared_ptr<session>& s) {
    st.current = s;
    if (st.previous) {
        // Let envelopes already on their way to the old socket arrive and be acked there,
        // then close it.
        log_info("ws.replaced").kv("slot", st.slot).kv("old", st.previous->id).kv("new", s->id);
        begin_close(st.previous, timing_.drain_before_close);
        st.previous.reset();
    }
}

// Holds a live socket until it ends or Slack sends `disconnect`, and decides what follows.
net::awaitable<socket_mode_client::slot_next> socket_mode_client::hold(slot_state& st,
                                                                       std::shared_ptr<session> s) {
    constexpr auto for_ever = std::chrono::hours(24 * 365);
    auto healthy_since = steady::now();
    co_await wait_until(
        *st.signal, [&] { return s->ended || !s->disconnect_reason.empty() || stopping_; },
        for_ever);
    if (stopping_) {
        co_return slot_next::stop;
    }
    auto reason = s->disconnect_reason;
    if (steady::now() - healthy_since > std::chrono::minutes(1)) {
        st.failures = 0;
    }
    if (reason == "too_many_websockets") {
        // Other instances hold Slack's sockets for this app: this slot waits long (15-30 s,
        // doubling up to 5 min) before it asks again; the others go on.
        begin_close(s, std::chrono::milliseconds(0));
        ++st.failures;
        process_metrics().reconnects.add({reason});
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        auto delay = backoff_delay(st.failures, unit(rng_), std::chrono::seconds(30),
                                   std::chrono::minutes(5));
        log_too_many_websockets(st.slot, delay);
        co_await wait_until(
            *st.signal, [&] { return stopping_; }, delay);  // stop() ends the wait
        co_return stopping_ ? slot_next::stop : slot_next::again;
    }
    if (reason == "link_disabled") {
        log_link_disabled(st.slot);
        disabled_ = true;
        // Reconnecting cannot help: this slot waits for the stop.
        begin_close(s, std::chrono::milliseconds(0));
        co_await wait_until(
            *st.signal, [&] { return stopping_; }, for_ever);
        co_return slot_next::stop;
    }
    if (!reason.empty() && !s->ended) {
        // warning, refresh_requested or a reason we do not know: open the replacement now,
        // keep this socket until the new one has said hello.
        log_info("ws.refresh").kv("slot", st.slot).kv("reason", reason).kv("session", s->id);
        process_metrics().reconnects.add({reason});
        st.previous = s;
        st.failures = 0;
        co_return slot_next::again;
    }
    auto delay = retry_delay(st.slot, "connection lost", st.failures);
    co_await sleep(*st.nap, delay);
    co_return slot_next::again;
}

void socket_mode_client::close_slot(slot_state& st) {
    for (const auto& s : {st.previous, st.current}) {
        if (s && !s->ended) {
            s->taking_envelopes = false;
            begin_close(s, std::chrono::milliseconds(0));
        }
    }
}

void socket_mode_client::begin_close(const std::shared_ptr<session>& s,
                                     std::chrono::milliseconds drain) {
    if (s->closing || s->ended) {
        return;
    }
    if (drain.count() == 0) {
        s->closing = true;
        // A drain that was waiting for answers no longer is: an answer must not cancel the
        // timer this close_after arms next (the close handshake's).
        s->awaiting_answers = false;
        s->wake.cancel();
        recount();
    }
    net::co_spawn(s->ws.get_executor(), close_after(s, drain, timing_.close_limit),
                  log_closer_crash);
}

net::awaitable<void> socket_mode_client::close_after(std::shared_ptr<session> s,
                                                     std::chrono::milliseconds drain,
                                                     std::chrono::milliseconds limit) {
    auto& t = s->close_timer;
    if (drain.count() > 0) {
        // The replaced socket stays open until nothing has arrived on it for `drain` (envelopes
        // Slack, or a busy peer, still had on their way to it: once the close frame is sent,
        // one that arrives can no longer be acked) and every envelope read on it is answered
        // (each within answer_within, by the expirer at worst); drain_limit at most.
        auto started = steady::now();
        auto give_up = started + timing_.drain_limit;
        for (;;) {
            auto quiet_at = std::max(started, s->last_frame) + drain;
            auto now = steady::now();
            if (s->ended || s->closing || now >= give_up) {
                break;  // (closing: stop() closes it now, with a close_after of its own)
            }
            if (s->unanswered > 0) {
                s->awaiting_answers = true;
                t.expires_at(std::min(give_up, now + timing_.answer_within));
            } else if (now < quiet_at) {
                t.expires_at(std::min(give_up, quiet_at));
            } else {
                break;
            }
            auto [ec] = co_await t.async_wait(use_nothrow_awaitable);
            (void)ec;  // cancelled by the last answer, or by the session's end: checked next
            s->awaiting_answers = false;
        }
        if (s->ended || s->closing) {
            co_return;
        }
        s->closing = true;
        s->wake.cancel();
        recount();
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
