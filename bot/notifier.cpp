// Outbox delivery: pending → sending → sent (or failed, or deferred), in order per channel,
// paced per channel and per method. The loop and one row's delivery; the status message, DM
// channels and crash recovery are in notifier_status.cpp. Time comes from the clock port and
// Slack from the slack_api port, so that both can be scripted in the unit tests.
#include "bot/notifier.hpp"

#include "bot/backoff.hpp"
#include "bot/log.hpp"
#include "commands/render.hpp"

namespace relbot::bot {

using checklist::destination;
using checklist::message_kind;

namespace {

struct method_rate {
    std::string_view method;
    double capacity;
    double per_second;
};

// Web API tiers (slack-platform.md §5.3): a small burst, then the tier's steady rate.
constexpr method_rate method_rates[] = {
    {"chat.postMessage", 20, 5.0},            // special: several hundred a minute per workspace
    {"chat.update", 5, 50.0 / 60},            // tier 3
    {"pins.add", 3, 20.0 / 60},               // tier 2
    {"conversations.open", 5, 50.0 / 60},     // tier 3
    {"conversations.history", 5, 50.0 / 60},  // tier 3
    {"response_url", 5, 5.0},
};

std::string dump(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

bool notifier::bucket::take(steady_time now, steady_time& ready_at) {
    if (last == steady_time{}) {
        last = now;
        tokens = capacity;
    }
    tokens =
        std::min(capacity, tokens + std::chrono::duration<double>(now - last).count() * per_second);
    last = now;
    if (tokens >= 1.0) {
        tokens -= 1.0;
        return true;
    }
    ready_at = now + std::chrono::duration_cast<steady_time::duration>(
                         std::chrono::duration<double>((1.0 - tokens) / per_second));
    return false;
}

void notifier::bucket::give_back() {
    tokens = std::min(capacity, tokens + 1.0);
}

notifier::notifier(storage::store& store, slack_api& api, clock& time, notifier_timing timing)
    : store_(store), api_(api), clock_(time), timing_(timing), rng_(std::random_device{}()) {}

void notifier::wake() {
    woken_ = true;
    if (alarm_) {
        alarm_->ring();
    }
}

void notifier::stop() {
    stopping_ = true;
    wake();
}

notifier::bucket& notifier::method_bucket(const std::string& method) {
    auto it = method_buckets_.find(method);
    if (it != method_buckets_.end()) {
        return it->second;
    }
    bucket b;
    b.capacity = 5;
    b.per_second = 1;
    for (const auto& r : method_rates) {
        if (r.method == method) {
            b.capacity = r.capacity;
            b.per_second = r.per_second;
        }
    }
    return method_buckets_.emplace(method, b).first->second;
}

net::awaitable<void> notifier::run() {
    auto ex = co_await net::this_coro::executor;
    alarm_ = clock_.make_alarm(ex);
    try {
        co_await resolve_unfinished();
    } catch (const std::exception& e) {
        log_error("outbox.recovery_failed").kv("error", e.what());
    }
    while (!stopping_) {
        woken_ = false;
        auto next = start_due(ex);
        if (woken_) {
            continue;
        }
        co_await alarm_->wait_until(next);  // or until wake()
    }
    // Let the calls in progress finish (the app bounds how long it waits for this).
    while (in_flight_ > 0) {
        co_await alarm_->wait_until(steady_time::max());  // each finished call wakes us
    }
}

steady_time notifier::start_due(const net::any_io_executor& ex) {
    auto now = clock_.steady_now();
    auto next = now + std::chrono::hours(1);
    try {
        start_heads(ex, now, next);
        start_status_jobs(ex, now, next);
    } catch (const std::exception& e) {
        log_error("outbox.read_failed").kv("error", e.what());
        next = std::min(next, now + std::chrono::seconds(5));
    }
    return next;
}

bool notifier::method_unblocked(const std::string& method, steady_time now, steady_time& next) {
    if (auto b = method_blocked_until_.find(method);
        b != method_blocked_until_.end() && b->second > now) {
        next = std::min(next, b->second);
        return false;
    }
    return true;
}

notifier::bucket* notifier::channel_bucket(const storage::outbox_row& row) {
    if (row.method != "chat.postMessage") {
        return nullptr;  // Slack's 1 per second per channel is about posting
    }
    auto [it, fresh] = channel_buckets_.try_emplace(row.to.stored());
    if (fresh) {
        it->second.capacity = timing_.channel_burst;
        it->second.per_second = timing_.channel_per_second;
    }
    return &it->second;
}

bool notifier::take_token(bucket& b, steady_time now, steady_time& next) {
    steady_time ready{};
    if (!b.take(now, ready)) {
        next = std::min(next, ready);
        return false;
    }
    return true;
}

void notifier::start_heads(const net::any_io_executor& ex, steady_time now, steady_time& next) {
    auto now_s = clock_.epoch_s();
    for (auto& row : store_.channel_heads()) {
        if (in_flight_ >= timing_.max_in_flight) {
            break;
        }
        if (busy_channels_.contains(row.to.stored())) {
            continue;
        }
        if (row.not_before > now_s) {
            next = std::min(next, now + std::chrono::seconds(row.not_before - now_s));
            continue;
        }
        auto* channel = channel_bucket(row);
        if (!method_unblocked(row.method, now, next) ||
            (channel && !take_token(*channel, now, next))) {
            continue;
        }
        if (!take_token(method_bucket(row.method), now, next)) {
            // Waiting for its method: the channel's token is not spent (or every pass until
            // the method has one would spend one more, and the channel would fall to its own
            // slower pace).
            if (channel) {
                channel->give_back();
            }
            continue;
        }
        busy_channels_.insert(row.to.stored());
        ++in_flight_;
        net::co_spawn(ex, deliver(row), [this, channel = row.to.stored()](std::exception_ptr e) {
            busy_channels_.erase(channel);
            // A database error must not end delivery for good; the row stays unsent.
            finished(e, "outbox.deliver_failed");
        });
    }
}

void notifier::start_status_jobs(const net::any_io_executor& ex,
                                 steady_time now,
                                 steady_time& next) {
    auto ms = clock_.epoch_ms();
    for (auto& job : store_.status_jobs()) {
        if (job.ts.empty() || busy_statuses_.contains(job.release_id) ||
            in_flight_ >= timing_.max_in_flight) {
            continue;  // not posted yet (its outbox row posts it), or already in hand
        }
        auto due = job.updated_ms + timing_.status_fold.count();
        if (ms < due) {
            next = std::min(next, now + std::chrono::milliseconds(due - ms));
            continue;
        }
        if (!method_unblocked("chat.update", now, next) ||
            !take_token(method_bucket("chat.update"), now, next)) {
            continue;
        }
        busy_statuses_.insert(job.release_id);
        ++in_flight_;
        net::co_spawn(ex, update_status(job), [this, id = job.release_id](std::exception_ptr e) {
            busy_statuses_.erase(id);
            finished(e, "status.update_failed");
        });
    }
}

void notifier::finished(std::exception_ptr e, const char* event) {
    if (e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            log_error(event).kv("error", ex.what());
        }
    }
    --in_flight_;
    wake();
}

net::awaitable<void> notifier::deliver(storage::outbox_row row) {
    auto args = nlohmann::json::parse(row.body, nullptr, false);
    if (args.is_discarded() || !args.is_object()) {
        log_error("outbox.bad_row").kv("id", row.id).kv("key", row.dedupe_key);
        store_.mark_failed(row.id, "stored body is not a JSON object");
        co_return;
    }
    std::string channel = row.to.stored();
    if (row.method != "response_url") {
        auto resolved = co_await resolve_channel(row.to);
        if (!resolved) {
            open_failed(row);
            co_return;
        }
        open_failures_.erase(row.id);
        channel = *resolved;
        co_await complete_args(row, channel, args);
    }
    store_.mark_sending(row.id);
    auto result = co_await send(row, std::move(args));
    if (result.ok() || (row.method == "pins.add" && result.error == "already_pinned")) {
        record_sent(row, channel, result);
    } else {
        record_failure(row, row.method == "response_url" ? "response_url" : channel, result);
    }
}

net::awaitable<void> notifier::complete_args(const storage::outbox_row& row,
                                             const std::string& channel,
                                             nlohmann::json& args) {
    args["channel"] = channel;
    if ((row.kind == message_kind::briefing || row.kind == message_kind::briefing_dm) &&
        row.release_id) {
        co_await add_status_link(*row.release_id, args);
    }
    if (row.kind == message_kind::status && row.release_id) {
        render_status_post(*row.release_id, args);
    }
    if (row.method == "chat.postMessage") {
        // Carries the outbox key, so that after a crash the message can be found instead
        // of posted twice.
        args["metadata"] = {{"event_type", "relbot_outbox"},
                            {"event_payload", {{"key", row.dedupe_key}}}};
    }
}

net::awaitable<api_result> notifier::send(const storage::outbox_row& row, nlohmann::json args) {
    if (row.method == "response_url") {
        // The row's "channel" is the response_url; the body is the message as is.
        co_return co_await api_.post_response_url(row.to.stored(), std::move(args));
    }
    co_return co_await api_.call(row.method, std::move(args), token_kind::bot);
}

void notifier::record_sent(const storage::outbox_row& row,
                           const std::string& channel,
                           const api_result& result) {
    auto now = clock_.epoch_s();
    auto ts = result.body.value("ts", std::string());
    storage::store::transaction tx(store_);
    store_.mark_sent(row.id, ts, now);
    if (row.kind == message_kind::status && row.release_id && !ts.empty()) {
        store_.status_sent(*row.release_id, ts, 0, clock_.epoch_ms());
        store_.enqueue({"pin:" + std::to_string(*row.release_id) + ":" + ts, row.release_id,
                        destination::channel(channel), "pins.add", dump({{"timestamp", ts}}),
                        message_kind::pin},
                       now);
    }
    tx.commit();
    ++stats_.sent;
    log_info("outbox.sent")
        .kv("key", row.dedupe_key)
        .kv("method", row.method)
        .kv("channel", row.method == "response_url" ? std::string("response_url") : channel);
}

void notifier::record_failure(const storage::outbox_row& row,
                              const std::string& shown_channel,
                              const api_result& result) {
    auto now = clock_.epoch_s();
    if (result.outcome == api_outcome::rate_limited) {
        auto wait = std::max<long long>(1, result.retry_after.count());
        method_blocked_until_[row.method] = clock_.steady_now() + std::chrono::seconds(wait);
        store_.defer(row.id, now + wait, result.error);
        log_warn("outbox.rate_limited").kv("method", row.method).kv("retry_after_s", wait);
        return;
    }
    if (result.outcome == api_outcome::slack_error && !is_transient_slack_error(result.error)) {
        give_up(row, shown_channel, result.error);
        return;
    }
    // 5xx, network trouble, a transient Slack error: capped exponential backoff with jitter.
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto delay = std::chrono::duration_cast<std::chrono::seconds>(backoff_delay(
        row.attempts + 1, unit(rng_), std::chrono::seconds(1), std::chrono::minutes(5)));
    auto wait = std::max<long long>(1, delay.count());
    store_.defer(row.id, now + wait, result.error);
    log_warn("outbox.retry")
        .kv("key", row.dedupe_key)
        .kv("error", result.error)
        .kv("retry_in_s", wait);
}

void notifier::give_up(const storage::outbox_row& row,
                       const std::string& shown_channel,
                       const std::string& error) {
    store_.mark_failed(row.id, error);
    ++stats_.failed;
    auto line = log_line(row.kind == message_kind::pin ? log_level::info : log_level::error,
                         "outbox.failed");
    line.kv("key", row.dedupe_key)
        .kv("method", row.method)
        .kv("channel", shown_channel)
        .kv("error", error);
    report_failure(row, error);
}

void notifier::open_failed(const storage::outbox_row& row) {
    // conversations.open failed: try again in 30 s; a wrong user ID fails every time, and so is
    // given up after a few attempts. Whether the store's defer counts an attempt or not, the
    // larger of the stored count and this process's count is the number of failures so far.
    auto& failures = open_failures_[row.id];
    failures = std::max(failures, row.attempts) + 1;
    if (failures < timing_.max_open_attempts) {
        store_.defer(row.id, clock_.epoch_s() + 30, "conversations.open failed");
        return;
    }
    open_failures_.erase(row.id);
    store_.mark_failed(row.id, "conversations.open failed");
    ++stats_.failed;
    log_error("outbox.failed").kv("key", row.dedupe_key).kv("error", "conversations.open failed");
}

void notifier::report_failure(const storage::outbox_row& row, const std::string& error) {
    if (!row.release_id || row.kind == message_kind::dm || row.kind == message_kind::briefing_dm ||
        row.kind == message_kind::pin || row.method == "response_url") {
        return;  // nobody to tell, or telling would only fail the same way
    }
    auto r = store_.load_release(*row.release_id);
    if (!r) {
        return;
    }
    auto m = commands::render_delivery_failure(*r, row.to.stored(), error);
    store_.enqueue(
        {"delivery-failed:" + std::to_string(row.id), r->id, destination::direct(r->manager),
         "chat.postMessage", dump(commands::to_post_body(m)), message_kind::dm},
        clock_.epoch_s());
}

}  // namespace relbot::bot
