// Outbox delivery: claimed (sending, under a lease) → sent (or failed, or deferred), in order
// per channel, paced per channel and per method. The loop and one row's delivery; the status
// message, DM channels and the history check of unfinished rows are in notifier_status.cpp. Time
// comes from the clock port and Slack from the slack_api port, so that both can be scripted in the
// unit tests.
#include "bot/notifier.hpp"

#include "bot/backoff.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "bot/slack_answers.hpp"
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

// Web API tiers (docs/SLACK.md, "Rate limits"): a small burst, then the tier's steady rate.
constexpr method_rate method_rates[] = {
    {"chat.postMessage", 20, 5.0},            // special: several hundred a minute per workspace
    {"chat.update", 5, 50.0 / 60},            // tier 3
    {"pins.add", 3, 20.0 / 60},               // tier 2
    {"pins.remove", 3, 20.0 / 60},            // tier 2
    {"conversations.open", 5, 50.0 / 60},     // tier 3
    {"conversations.history", 5, 50.0 / 60},  // tier 3
    {"response_url", 5, 5.0},
};

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

notifier::notifier(
    notifier_ports ports, slack_api& api, clock& time, notifier_timing timing, claimer who)
    : ports_(ports),
      who_(std::move(who)),
      api_(api),
      clock_(time),
      timing_(timing),
      rng_(std::random_device{}()) {}

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
        // Rows an earlier run of this instance claimed and never finished (it stopped): the
        // next claim takes them as unfinished, and their history is checked before a resend.
        // With short leases (a shared store) they are taken over within seconds anyway.
        if (!timing_.renew_every) {
            if (auto n = ports_.outbox.abandon_claims(who_.instance); n > 0) {
                log_info("outbox.claims_abandoned").kv("rows", n);
            }
        }
    } catch (const std::exception& e) {
        log_error("outbox.recovery_failed").kv("error", e.what());
    }
    while (!stopping_) {
        woken_ = false;
        // A burst: the acks of the envelopes waiting come first; the messages they decided
        // go out once the burst is over, or at the latest when the hold ends (bot/burst.hpp).
        if (busy_ && !hold_.go_on(busy_(), clock_.steady_now())) {
            co_await alarm_->wait_until(clock_.steady_now() + hold_look);  // or until wake()
            continue;
        }
        auto next = start_due(ex);
        if (woken_) {
            continue;
        }
        co_await alarm_->wait_until(next);  // or until wake()
    }
    release_held();
    // Let the calls in progress finish (the app bounds how long it waits for this).
    while (in_flight_ > 0) {
        co_await alarm_->wait_until(steady_time::max());  // each finished call wakes us
    }
}

steady_time notifier::start_due(const net::any_io_executor& ex) {
    auto now = clock_.steady_now();
    auto next = now + std::chrono::hours(1);
    try {
        auto now_s = clock_.epoch_s();
        if (now >= next_fold_) {
            next_fold_ = now + timing_.fold_every;
            fold_backlogs(now_s);
        }
        renew_leases(now, now_s, next);
        claim_rows(now_s);
        start_held(ex, now, next);
        if (auto due = ports_.outbox.next_due(now_s)) {
            next = std::min(next, now + std::chrono::seconds(*due - now_s));
        }
        start_status_jobs(ex, now, next);
        if (read_failing_) {
            read_failing_ = false;
            log_info("outbox.read_recovered");  // the database answers again
        }
    } catch (const std::exception& e) {
        log_error("outbox.read_failed").kv("error", e.what());
        read_failing_ = true;
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

void notifier::renew_leases(steady_time now, checklist::epoch_seconds now_s, steady_time& next) {
    if (!timing_.renew_every || (held_.empty() && rows_in_flight_.empty())) {
        return;
    }
    if (now >= next_renew_) {
        next_renew_ = now + *timing_.renew_every;
        auto until = now_s + timing_.lease.count();
        // Only the rows this run holds or is delivering: a row whose delivery ended without
        // ending its claim (it threw) is left to run out, and is then taken as unfinished.
        std::vector<std::int64_t> ids;
        for (const auto& [id, row] : held_) {
            ids.push_back(id);
        }
        ids.insert(ids.end(), rows_in_flight_.begin(), rows_in_flight_.end());
        auto renewed = ports_.outbox.renew_claims(who_.owner, ids, until);
        std::set<std::int64_t> kept(renewed.begin(), renewed.end());
        for (auto it = held_.begin(); it != held_.end();) {
            if (!kept.contains(it->first)) {
                lease_lost(it->second, "renew");  // another claimer has it now
                it = held_.erase(it);
                continue;
            }
            it->second.lease_until = until;  // so claim_rows does not give it back as stale
            ++it;
        }
    }
    next = std::min(next, next_renew_);
}

void notifier::claim_rows(checklist::epoch_seconds now_s) {
    for (auto it = held_.begin(); it != held_.end();) {
        const auto& row = it->second;
        if (row.unfinished || !row.lease_until ||
            *row.lease_until - now_s > timing_.lease.count() / 2) {
            ++it;
            continue;
        }
        // Waited on pacing for half its lease: given back, so that the lease never runs out
        // while it waits (the claim below takes it again with a new lease if it is still due).
        if (!ports_.outbox.release(row.id, who_.owner)) {
            lease_lost(row, "release");
        }
        it = held_.erase(it);
    }
    int room = timing_.max_claimed - static_cast<int>(held_.size()) - in_flight_;
    if (room <= 0) {
        return;
    }
    for (auto& row : ports_.outbox.claim(now_s, timing_.lease.count(), who_.owner, room)) {
        if (auto h = held_.find(row.id); h != held_.end()) {
            h->second.lease_until = row.lease_until;  // ours already: the claim renewed it
            continue;
        }
        if (rows_in_flight_.contains(row.id)) {
            // Ours, in a call that outlived the lease: the claim renewed it, and that call
            // ends it.
            log_warn("outbox.lease_outlived").kv("key", row.dedupe_key);
            continue;
        }
        process_metrics().claims.add({"outbox", row.unfinished ? "takeover" : "claimed"});
        if (row.unfinished && row.method != "chat.postMessage" &&
            row.method != commands::upload_method) {
            // Only posts and files carry their key to look for; the other calls are safe to
            // repeat.
            log_info("outbox.resend").kv("key", row.dedupe_key).kv("method", row.method);
            row.unfinished = false;
        }
        held_.emplace(row.id, std::move(row));
    }
}

void notifier::fold_backlogs(checklist::epoch_seconds now_s) {
    auto keep = timing_.max_queued_per_channel;
    auto rows = ports_.outbox.announcement_backlog(keep);
    for (std::size_t first = 0; first < rows.size();) {
        auto end = first;
        while (end < rows.size() && rows[end].to == rows[first].to) {
            ++end;
        }
        // The channel's oldest rows, all but `keep` - 1 of them, become one: it is then owed
        // `keep` posts.
        auto fold_count = end - first - static_cast<std::size_t>(keep) + 1;
        std::vector<std::string> texts;
        std::vector<std::int64_t> folded;
        for (auto k = first; k < first + fold_count; ++k) {
            texts.push_back(text_at(nlohmann::json::parse(rows[k].body, nullptr, false), "text"));
            if (k != first) {
                folded.push_back(rows[k].id);
            }
        }
        auto body = commands::post_body_json(commands::render_folded(texts));
        if (ports_.outbox.fold(rows[first].id, body, folded, now_s)) {
            process_metrics().limits_hit.add({"outbox_per_channel"},
                                             static_cast<double>(fold_count));
            log_warn("outbox.folded")
                .kv("channel", rows[first].to.stored())
                .kv("rows", fold_count)
                .kv("into", rows[first].dedupe_key)
                .kv("limit", keep)
                .kv("hint", "Slack is not taking this channel's messages fast enough");
        }
        first = end;
    }
}

bool notifier::may_go(const storage::outbox_row& row, steady_time now, steady_time& next) {
    auto* channel = channel_bucket(row);
    if (!method_unblocked(row.method, now, next) || (channel && !take_token(*channel, now, next))) {
        return false;
    }
    if (!take_token(method_bucket(row.method), now, next)) {
        // Waiting for its method: the channel's token is not spent (or every pass until the
        // method has one would spend one more, and the channel would fall to its own slower
        // pace).
        if (channel) {
            channel->give_back();
        }
        return false;
    }
    return true;
}

void notifier::start_held(const net::any_io_executor& ex, steady_time now, steady_time& next) {
    for (auto it = held_.begin(); it != held_.end() && in_flight_ < timing_.max_in_flight;) {
        auto& held = it->second;
        // An unfinished row is first looked for in the history, unpaced (as a delivery that
        // already went once), unless Slack asked to wait before reading history again.
        if (busy_channels_.contains(held.to.stored()) ||
            (!held.unfinished && !may_go(held, now, next)) ||
            (held.unfinished &&
             !method_unblocked(
                 held.method == commands::upload_method ? "files.list" : "conversations.history",
                 now, next))) {
            ++it;
            continue;
        }
        auto row = std::move(held);
        it = held_.erase(it);
        busy_channels_.insert(row.to.stored());
        rows_in_flight_.insert(row.id);
        ++in_flight_;
        auto channel = row.to.stored();
        auto id = row.id;
        auto work = row.unfinished ? recover(std::move(row)) : deliver(std::move(row));
        net::co_spawn(ex, std::move(work), [this, channel, id](std::exception_ptr e) {
            busy_channels_.erase(channel);
            rows_in_flight_.erase(id);
            // A database error must not end delivery for good: the row stays claimed, and
            // once its lease runs out it is claimed again as unfinished.
            finished(e, "outbox.deliver_failed");
        });
    }
}

void notifier::release_held() {
    for (const auto& [id, row] : held_) {
        if (row.unfinished) {
            continue;  // stays unfinished: the next run looks for it in the history
        }
        try {
            if (!ports_.outbox.release(id, who_.owner)) {
                lease_lost(row, "release");
            }
        } catch (const std::exception& e) {
            log_error("outbox.release_failed").kv("error", e.what());
        }
    }
    held_.clear();
}

void notifier::start_status_jobs(const net::any_io_executor& ex,
                                 steady_time now,
                                 steady_time& next) {
    auto ms = clock_.epoch_ms();
    for (auto& job : ports_.status.status_jobs()) {
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
        // Ours, unless another instance took this update meanwhile.
        if (!ports_.status.claim_status(
                job.release_id, job.updated_ms,
                ms + std::chrono::milliseconds(timing_.status_lease).count())) {
            method_bucket("chat.update").give_back();
            process_metrics().claims.add({"status", "lost"});
            continue;
        }
        process_metrics().claims.add({"status", "claimed"});
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
        if (!ports_.outbox.mark_failed(row.id, who_.owner, "stored body is not a JSON object")) {
            lease_lost(row, "failed");
        }
        co_return;
    }
    // An edit of a message relbot posted under another key (a checkpoint's other copies): its
    // ts is known once that message was sent (it was, or failed: the destination's rows go in
    // order); one never posted has nothing to edit (and its DM channel is not opened for it).
    if (auto of = args.find("ts_of"); of != args.end()) {
        auto ts = of->is_string() ? ports_.outbox.sent_ts(of->get<std::string>()) : std::string();
        args.erase("ts_of");
        if (ts.empty()) {
            if (!ports_.outbox.mark_sent(row.id, who_.owner, "", clock_.epoch_s())) {
                lease_lost(row, "sent");
            }
            log_info("outbox.nothing_to_edit").kv("key", row.dedupe_key);
            co_return;
        }
        args["ts"] = ts;
    }
    // An edit of a clicked message that may be one of those copies (unless_ts_of: its
    // original key): if it is, that copy's own edit, decided with this one and delivered before
    // it (the same destination), shows the same, and a second call would only spend the
    // method's rate limit. (Had that edit failed for good, this identical one would too.)
    if (auto unless = args.find("unless_ts_of"); unless != args.end()) {
        auto copies = std::move(*unless);
        args.erase(unless);
        if (auto copy = find_edited_copy(args, copies)) {
            if (!ports_.outbox.mark_sent(row.id, who_.owner, args["ts"].get<std::string>(),
                                         clock_.epoch_s())) {
                lease_lost(row, "sent");
            } else {
                log_info("outbox.edited_as_copy").kv("key", row.dedupe_key).kv("copy", *copy);
            }
            co_return;
        }
    }
    std::string channel = row.to.stored();
    if (row.method != "response_url") {
        auto resolved = co_await resolve_channel(row.to);
        if (!resolved) {
            open_failed(row);
            co_return;
        }
        channel = *resolved;
        co_await complete_args(row, channel, args);
    }
    auto result = co_await send(row, std::move(args));
    // A pin that is already where it should be (pinned, or unpinned by someone) is done.
    if (result.ok() || (row.method == "pins.add" && result.error == "already_pinned") ||
        (row.method == "pins.remove" && result.error == "no_pin")) {
        record_sent(row, channel, result);
    } else {
        record_failure(row, row.method == "response_url" ? "response_url" : channel, result);
    }
}

std::optional<std::string> notifier::find_edited_copy(const nlohmann::json& args,
                                                      const nlohmann::json& copies) {
    auto ts = args.find("ts");
    if (ts == args.end() || !ts->is_string() || ts->get_ref<const std::string&>().empty() ||
        !copies.is_array()) {
        return std::nullopt;
    }
    for (const auto& key : copies) {
        if (key.is_string() && ports_.outbox.sent_ts(key.get_ref<const std::string&>()) ==
                                   ts->get_ref<const std::string&>()) {
            return key.get<std::string>();
        }
    }
    return std::nullopt;
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
    if (row.method == commands::upload_method) {
        co_return co_await upload(row, std::move(args));
    }
    co_return co_await api_.call(row.method, std::move(args), token_kind::bot);
}

void notifier::record_sent(const storage::outbox_row& row,
                           const std::string& channel,
                           const api_result& result) {
    auto now = clock_.epoch_s();
    auto ts = posted_ts(result.body);
    auto tx = ports_.work.begin();
    if (!ports_.outbox.mark_sent(row.id, who_.owner, ts, now)) {
        // Its new claimer finds the message in the history (unfinished) and records it.
        lease_lost(row, "sent");
        return;
    }
    record_status_posted(row, channel, ts, now);
    tx->commit();
    ++stats_.sent;
    log_info("outbox.sent")
        .kv("key", row.dedupe_key)
        .kv("method", row.method)
        .kv("channel", row.method == "response_url" ? std::string("response_url") : channel);
}

void notifier::record_status_posted(const storage::outbox_row& row,
                                    const std::string& channel,
                                    const std::string& ts,
                                    checklist::epoch_seconds now) {
    if (row.kind != message_kind::status || !row.release_id || ts.empty()) {
        return;
    }
    ports_.status.status_sent(*row.release_id, ts, 0, clock_.epoch_ms());
    ports_.outbox.enqueue({"pin:" + std::to_string(*row.release_id) + ":" + ts, row.release_id,
                           destination::channel(channel), "pins.add",
                           commands::dump_json({{"timestamp", ts}}), message_kind::pin},
                          now);
}

void notifier::record_failure(const storage::outbox_row& row,
                              const std::string& shown_channel,
                              const api_result& result) {
    auto now = clock_.epoch_s();
    if (result.outcome == api_outcome::rate_limited) {
        auto wait = std::max<long long>(1, result.retry_after.count());
        method_blocked_until_[row.method] = clock_.steady_now() + std::chrono::seconds(wait);
        if (!ports_.outbox.defer(row.id, who_.owner, now + wait, result.error)) {
            lease_lost(row, "deferred");
        }
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
    // A post whose answer was lost may be in the channel: the next claim takes the row
    // unfinished, and it is looked for in the history before it is posted again.
    bool unsure = result.maybe_delivered &&
                  (row.method == "chat.postMessage" || row.method == commands::upload_method);
    if (!(unsure ? ports_.outbox.defer_unsure(row.id, who_.owner, now + wait, result.error)
                 : ports_.outbox.defer(row.id, who_.owner, now + wait, result.error))) {
        lease_lost(row, "deferred");
        return;
    }
    log_warn("outbox.retry")
        .kv("key", row.dedupe_key)
        .kv("error", result.error)
        .kv("retry_in_s", wait);
}

void notifier::give_up(const storage::outbox_row& row,
                       const std::string& shown_channel,
                       const std::string& error) {
    if (!ports_.outbox.mark_failed(row.id, who_.owner, error)) {
        lease_lost(row, "failed");
        return;  // its new claimer gets the same answer and reports it
    }
    ++stats_.failed;
    // A pin or an edit that could not be made (the message was deleted, the channel archived)
    // leaves what was posted as it was: nobody needs to act.
    bool cosmetic = row.kind == message_kind::pin || row.method == "chat.update";
    auto line = log_line(cosmetic ? log_level::info : log_level::error, "outbox.failed");
    line.kv("key", row.dedupe_key)
        .kv("method", row.method)
        .kv("channel", shown_channel)
        .kv("error", error);
    report_failure(row, error);
}

void notifier::open_failed(const storage::outbox_row& row) {
    // conversations.open failed: try again in 30 s; a wrong user ID fails every time, and so is
    // given up at the max_open_attempts-th failure. The stored attempts count every earlier
    // ending of this row's delivery (each deferral counts one), also those of earlier runs.
    const char* error = "conversations.open failed";
    if (row.attempts + 1 < timing_.max_open_attempts) {
        if (!ports_.outbox.defer(row.id, who_.owner, clock_.epoch_s() + 30, error)) {
            lease_lost(row, "deferred");
        }
        return;
    }
    if (!ports_.outbox.mark_failed(row.id, who_.owner, error)) {
        lease_lost(row, "failed");
        return;
    }
    ++stats_.failed;
    log_error("outbox.failed").kv("key", row.dedupe_key).kv("error", error);
}

void notifier::lease_lost(const storage::outbox_row& row, const char* step) {
    process_metrics().claims.add({"outbox", "lost"});
    log_warn("outbox.lease_lost").kv("key", row.dedupe_key).kv("step", step);
}

void notifier::report_failure(const storage::outbox_row& row, const std::string& error) {
    if (!row.release_id || row.kind == message_kind::dm || row.kind == message_kind::briefing_dm ||
        row.kind == message_kind::pin || row.method == "response_url" ||
        row.method == "chat.update") {
        return;  // nobody to tell, telling would only fail the same way, or an edit of a
                 // message that was delivered
    }
    auto r = ports_.releases.load_release(*row.release_id);
    if (!r) {
        return;
    }
    auto m = commands::render_delivery_failure(*r, row.to.stored(), error);
    ports_.outbox.enqueue(
        {"delivery-failed:" + std::to_string(row.id), r->id, destination::direct(r->manager),
         "chat.postMessage", commands::post_body_json(m), message_kind::dm},
        clock_.epoch_s());
}

}  // namespace relbot::bot
