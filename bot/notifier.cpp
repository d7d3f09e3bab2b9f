// Outbox delivery: pending → sending → sent (or failed, or deferred), in order per channel,
// paced per channel and per method; crash recovery by message metadata; the living status
// message kept current with chat.update.
#include "bot/notifier.hpp"

#include "bot/backoff.hpp"
#include "bot/log.hpp"
#include "commands/render.hpp"

namespace relbot::bot {

using checklist::destination;
using checklist::message_kind;

using steady = std::chrono::steady_clock;

namespace {

// Slack errors after which the status message must be posted again.
bool status_message_gone(std::string_view error) {
    return error == "message_not_found" || error == "cant_update_message" ||
           error == "edit_window_closed";
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

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

bool notifier::bucket::take(steady::time_point now, steady::time_point& ready_at) {
    if (last == steady::time_point{}) {
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
    ready_at = now + std::chrono::duration_cast<steady::duration>(
                         std::chrono::duration<double>((1.0 - tokens) / per_second));
    return false;
}

notifier::notifier(storage::store& store, web_api& api, clock_fn now, notifier_timing timing)
    : store_(store),
      api_(api),
      now_(std::move(now)),
      timing_(timing),
      rng_(std::random_device{}()) {}

void notifier::wake() {
    woken_ = true;
    if (timer_) {
        timer_->cancel();
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
    timer_ = std::make_unique<net::steady_timer>(ex);
    try {
        co_await resolve_unfinished();
    } catch (const std::exception& e) {
        log_error("outbox.recovery_failed").kv("error", e.what());
    }

    while (!stopping_) {
        woken_ = false;
        auto now = steady::now();
        auto next = now + std::chrono::hours(1);
        auto now_s = now_();
        try {
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
                if (auto b = method_blocked_until_.find(row.method);
                    b != method_blocked_until_.end() && b->second > now) {
                    next = std::min(next, b->second);
                    continue;
                }
                steady::time_point ready{};
                if (row.method == "chat.postMessage") {
                    auto [it, fresh] = channel_buckets_.try_emplace(row.to.stored());
                    if (fresh) {
                        it->second.capacity = timing_.channel_burst;
                        it->second.per_second = timing_.channel_per_second;
                    }
                    if (!it->second.take(now, ready)) {
                        next = std::min(next, ready);
                        continue;
                    }
                }
                if (!method_bucket(row.method).take(now, ready)) {
                    next = std::min(next, ready);
                    continue;
                }
                busy_channels_.insert(row.to.stored());
                ++in_flight_;
                net::co_spawn(ex, deliver(row),
                              [this, channel = row.to.stored()](std::exception_ptr e) {
                                  if (e) {
                                      try {
                                          std::rethrow_exception(e);
                                      } catch (const std::exception& ex) {
                                          // A database error must not end delivery for good; the
                                          // row stays unsent.
                                          log_error("outbox.deliver_failed").kv("error", ex.what());
                                      }
                                  }
                                  busy_channels_.erase(channel);
                                  --in_flight_;
                                  wake();
                              });
            }
            auto ms = now_ms();
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
                if (auto b = method_blocked_until_.find("chat.update");
                    b != method_blocked_until_.end() && b->second > now) {
                    next = std::min(next, b->second);
                    continue;
                }
                steady::time_point ready{};
                if (!method_bucket("chat.update").take(now, ready)) {
                    next = std::min(next, ready);
                    continue;
                }
                busy_statuses_.insert(job.release_id);
                ++in_flight_;
                net::co_spawn(ex, update_status(job),
                              [this, id = job.release_id](std::exception_ptr e) {
                                  if (e) {
                                      try {
                                          std::rethrow_exception(e);
                                      } catch (const std::exception& ex) {
                                          log_error("status.update_failed").kv("error", ex.what());
                                      }
                                  }
                                  busy_statuses_.erase(id);
                                  --in_flight_;
                                  wake();
                              });
            }
        } catch (const std::exception& e) {
            log_error("outbox.read_failed").kv("error", e.what());
            next = std::min(next, now + std::chrono::seconds(5));
        }
        if (woken_) {
            continue;
        }
        timer_->expires_at(next);
        auto [ec] = co_await timer_->async_wait(use_nothrow_awaitable);
        (void)ec;  // cancelled by wake() or stop(): the loop looks again
    }
    // Let the calls in progress finish (the app bounds how long it waits for this).
    while (in_flight_ > 0) {
        timer_->expires_at(steady::time_point::max());
        auto [ec] = co_await timer_->async_wait(use_nothrow_awaitable);
        (void)ec;  // each finished call wakes us
    }
}

net::awaitable<std::optional<std::string>> notifier::resolve_channel(checklist::destination to) {
    if (to.to != checklist::destination::type::direct) {
        co_return to.id;
    }
    auto user = to.id;
    if (auto cached = store_.dm_channel(user)) {
        co_return cached;
    }
    nlohmann::json args = {{"users", user}};
    auto r = co_await api_.call("conversations.open", std::move(args), token_kind::bot);
    if (!r.ok()) {
        co_return std::nullopt;
    }
    auto id = r.body.value("channel", nlohmann::json::object()).value("id", std::string());
    if (id.empty()) {
        co_return std::nullopt;
    }
    store_.remember_dm_channel(user, id);
    co_return id;
}

net::awaitable<bool> notifier::already_posted(storage::outbox_row row, std::string channel) {
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
        std::map<std::string, std::string> form = {{"channel", channel},
                                                   {"oldest", std::to_string(row.created_at - 120)},
                                                   {"include_all_metadata", "true"},
                                                   {"limit", "200"}};
        if (!cursor.empty()) {
            form["cursor"] = cursor;
        }
        auto r = co_await api_.call_form("conversations.history", form, token_kind::bot);
        if (!r.ok()) {
            log_warn("outbox.history_failed").kv("channel", channel).kv("error", r.error);
            co_return false;  // cannot tell: sending again is the lesser harm than never sending
        }
        for (const auto& m : r.body.value("messages", nlohmann::json::array())) {
            const auto meta = m.value("metadata", nlohmann::json::object());
            const auto payload = meta.value("event_payload", nlohmann::json::object());
            if (meta.value("event_type", std::string()) == "relbot_outbox" &&
                payload.value("key", std::string()) == row.dedupe_key) {
                store_.mark_sent(row.id, m.value("ts", std::string()), now_());
                if (row.kind == message_kind::status && row.release_id) {
                    store_.status_sent(*row.release_id, m.value("ts", std::string()), 0, now_ms());
                }
                co_return true;
            }
        }
        cursor = r.body.value("response_metadata", nlohmann::json::object())
                     .value("next_cursor", std::string());
        if (!r.body.value("has_more", false) || cursor.empty()) {
            break;
        }
    }
    co_return false;
}

net::awaitable<void> notifier::resolve_unfinished() {
    // Rows left `sending` by a process that stopped mid-call: a posted message carries its
    // outbox key in its metadata, so look for it before posting again.
    for (const auto& row : store_.rows_sending()) {
        bool found = false;
        if (row.method == "chat.postMessage") {
            auto channel = co_await resolve_channel(row.to);
            if (channel) {
                found = co_await already_posted(row, *channel);
            }
        }
        if (found) {
            ++stats_.recovered;
            log_info("outbox.recovered").kv("key", row.dedupe_key).kv("channel", row.to.stored());
        } else {
            store_.defer(row.id, 0, "unfinished when relbot stopped");
            log_info("outbox.resend").kv("key", row.dedupe_key).kv("method", row.method);
        }
    }
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
        now_());
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
            // conversations.open failed: try again later (a wrong user ID fails every time,
            // and so is given up after a few attempts).
            if (row.attempts >= 5) {
                store_.mark_failed(row.id, "conversations.open failed");
                log_error("outbox.failed")
                    .kv("key", row.dedupe_key)
                    .kv("error", "conversations.open failed");
            } else {
                store_.defer(row.id, now_() + 30, "conversations.open failed");
            }
            co_return;
        }
        channel = *resolved;
        args["channel"] = channel;
        if ((row.kind == message_kind::briefing || row.kind == message_kind::briefing_dm) &&
            row.release_id) {
            co_await add_status_link(*row.release_id, args);
        }
        if (row.kind == message_kind::status && row.release_id) {
            // The living status message shows the release as it is when it is posted, not as
            // it was when the post was queued (a repost after the message was deleted can
            // wait behind the channel's pace while the release moves on, or ends).
            if (auto r = store_.load_release(*row.release_id)) {
                auto m = commands::render_status(*r);
                args["text"] = m.text;
                args["blocks"] = m.blocks;
            }
        }
        if (row.method == "chat.postMessage") {
            // Carries the outbox key, so that after a crash the message can be found instead
            // of posted twice.
            args["metadata"] = {{"event_type", "relbot_outbox"},
                                {"event_payload", {{"key", row.dedupe_key}}}};
        }
    }
    store_.mark_sending(row.id);
    api_result result;
    if (row.method == "response_url") {
        // The row's "channel" is the response_url; the body is the message as is.
        result = co_await api_.post_response_url(row.to.stored(), std::move(args));
    } else {
        result = co_await api_.call(row.method, std::move(args), token_kind::bot);
    }
    auto now = now_();
    auto shown_channel = row.method == "response_url" ? std::string("response_url") : channel;
    if (result.ok() || (row.method == "pins.add" && result.error == "already_pinned")) {
        auto ts = result.body.value("ts", std::string());
        storage::store::transaction tx(store_);
        store_.mark_sent(row.id, ts, now);
        if (row.kind == message_kind::status && row.release_id && !ts.empty()) {
            store_.status_sent(*row.release_id, ts, 0, now_ms());
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
            .kv("channel", shown_channel);
        co_return;
    }
    switch (result.outcome) {
        case api_outcome::rate_limited: {
            auto wait = std::max<long long>(1, result.retry_after.count());
            method_blocked_until_[row.method] = steady::now() + std::chrono::seconds(wait);
            store_.defer(row.id, now + wait, result.error);
            log_warn("outbox.rate_limited").kv("method", row.method).kv("retry_after_s", wait);
            co_return;
        }
        case api_outcome::slack_error:
            if (!is_transient_slack_error(result.error)) {
                store_.mark_failed(row.id, result.error);
                ++stats_.failed;
                auto line =
                    log_line(row.kind == message_kind::pin ? log_level::info : log_level::error,
                             "outbox.failed");
                line.kv("key", row.dedupe_key)
                    .kv("method", row.method)
                    .kv("channel", shown_channel)
                    .kv("error", result.error);
                report_failure(row, result.error);
                co_return;
            }
            break;
        case api_outcome::server_error:
        case api_outcome::network_error:
        case api_outcome::ok:
            break;
    }
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

net::awaitable<void> notifier::add_status_link(std::int64_t release_id, nlohmann::json& args) {
    auto r = store_.load_release(release_id);
    if (!r) {
        co_return;
    }
    auto ts = store_.status_ts(release_id);
    if (ts.empty()) {
        co_return;
    }
    std::map<std::string, std::string> form = {{"channel", r->channel}, {"message_ts", ts}};
    auto link = co_await api_.call_form("chat.getPermalink", std::move(form), token_kind::bot);
    auto url = link.ok() ? link.body.value("permalink", std::string()) : std::string();
    if (url.empty() || !args.contains("blocks") || !args["blocks"].is_array() ||
        args["blocks"].size() >= commands::max_blocks) {
        co_return;  // the briefing goes out without the link rather than not at all
    }
    args["blocks"].push_back(commands::context_block("<" + url + "|The living status message>"));
}

net::awaitable<void> notifier::update_status(storage::status_job job) {
    auto r = store_.load_release(job.release_id);
    if (!r) {
        co_return;
    }
    auto m = commands::render_status(*r);
    nlohmann::json args = {
        {"channel", job.channel}, {"ts", job.ts}, {"text", m.text}, {"blocks", m.blocks}};
    auto result = co_await api_.call("chat.update", std::move(args), token_kind::bot);
    if (result.ok()) {
        store_.status_sent(job.release_id, job.ts, job.version, now_ms());
        log_debug("status.updated").kv("release", job.release_id).kv("version", job.version);
        co_return;
    }
    if (result.outcome == api_outcome::rate_limited) {
        method_blocked_until_["chat.update"] =
            steady::now() + std::max(std::chrono::seconds(1), result.retry_after);
        co_return;
    }
    if (result.outcome == api_outcome::slack_error && status_message_gone(result.error)) {
        log_info("status.reposting").kv("release", job.release_id).kv("error", result.error);
        store_.status_lost(
            job.release_id,
            {"status-repost:" + std::to_string(job.release_id) + ":" + std::to_string(job.version),
             job.release_id, destination::channel(job.channel), "chat.postMessage",
             dump(commands::to_post_body(m)), message_kind::status},
            now_());
        co_return;
    }
    if (result.outcome == api_outcome::slack_error && !is_transient_slack_error(result.error)) {
        log_error("status.update_failed").kv("release", job.release_id).kv("error", result.error);
        store_.status_sent(job.release_id, job.ts, job.version, now_ms());  // give this version up
        co_return;
    }
    // Transient: try again after the fold interval.
    store_.status_sent(job.release_id, job.ts, 0, now_ms());
}

}  // namespace relbot::bot
