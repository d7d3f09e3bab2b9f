// Reminder scheduling: decide with checklist/reminders, record and queue in one transaction.
#include "bot/scheduler.hpp"

#include <map>
#include <utility>

#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "commands/render.hpp"

namespace relbot::bot {

scheduler::scheduler(storage::store& store,
                     notifier& notify,
                     web_api& api,
                     checklist::reminder_rules rules,
                     clock_fn now)
    : store_(store), notify_(notify), api_(api), rules_(rules), now_(std::move(now)) {}

std::string slack_display_name(const nlohmann::json& user) {
    auto text = [](const nlohmann::json& o, const char* key) {
        auto it = o.find(key);
        return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (!user.is_object()) {
        return {};
    }
    if (auto p = user.find("profile"); p != user.end() && p->is_object()) {
        if (auto name = text(*p, "display_name"); !name.empty()) {
            return name;
        }
    }
    if (auto name = text(user, "real_name"); !name.empty()) {
        return name;
    }
    return text(user, "name");
}

bool scheduler::person_seen(const std::string& user) {
    if (user.empty() || !seen_.insert(user).second) {
        return false;
    }
    names_wanted_.insert(user);
    return true;
}

net::awaitable<void> scheduler::refresh_people() {
    constexpr checklist::epoch_seconds day = 86400;  // people move and rename; look again daily
    auto now = now_();
    std::set<std::string> users;
    for (auto& user : store_.owners_needing_time_zone(now, day)) {
        users.insert(std::move(user));
    }
    for (auto& user : store_.people_needing_name(now, day)) {
        users.insert(std::move(user));
    }
    for (const auto& user : std::exchange(names_wanted_, {})) {
        if (!store_.name_looked_up(user, now, day)) {
            users.insert(user);
        }
    }
    constexpr checklist::epoch_seconds retry_after = 3600;
    for (const auto& user : users) {
        // A lookup Slack refused (no users:read scope, an unknown user) is tried again in an
        // hour, not on every pass.
        if (auto f = lookup_failed_.find(user);
            f != lookup_failed_.end() && now - f->second < retry_after) {
            continue;
        }
        std::map<std::string, std::string> args = {{"user", user}};
        auto r = co_await api_.call_form("users.info", std::move(args), token_kind::bot);
        if (!r.ok()) {
            // Quiet hours fall back to UTC, and the export shows the ID, for this person for
            // now; people of active releases are looked up again after retry_after.
            log_warn("users.info_failed").kv("user", user).kv("error", r.error);
            lookup_failed_[user] = now;
            continue;
        }
        lookup_failed_.erase(user);
        auto info = r.body.value("user", nlohmann::json::object());
        store_.remember_user(user, info.value("tz_offset", 0), slack_display_name(info), now_());
    }
}

void scheduler::wake() {
    woken_ = true;
    if (timer_) {
        timer_->cancel();
    }
}

void scheduler::stop() {
    stopping_ = true;
    wake();
}

checklist::epoch_seconds scheduler::tick(checklist::epoch_seconds now) {
    auto candidates = store_.reminder_candidates();
    std::vector<checklist::reminder_input> inputs;
    for (const auto& c : candidates) {
        inputs.push_back({c.owner, c.manager, c.due_at, c.last_slot, c.reminders_since_change,
                          c.escalated, c.deployment_phase,
                          store_.time_zone_offset(c.owner).value_or(0),
                          c.last_sent_at});  // unknown: UTC
    }
    auto plan = checklist::plan_reminders(inputs, now, rules_);
    auto next = plan.next;
    std::map<std::string, std::vector<std::pair<storage::reminder_candidate, std::int64_t>>>
        by_owner;
    for (const auto& [owner, picks] : plan.remind) {
        for (const auto& [index, slot] : picks) {
            by_owner[owner].push_back({candidates[index], slot});
        }
    }
    std::map<std::string, std::vector<storage::reminder_candidate>> escalate;
    for (const auto& [manager, picks] : plan.escalate) {
        for (auto index : picks) {
            escalate[manager].push_back(candidates[index]);
        }
    }
    auto timed = store_.timed_releases();
    if (timed.empty() && by_owner.empty() && escalate.empty()) {
        return next;  // nothing to write: no transaction at all
    }
    storage::store::transaction tx(store_);
    bool queued = false;
    // Phase windows and pending handoffs. Their keys make each message once-only, so a pass
    // that comes again (or after a restart) queues nothing new; after downtime only the latest
    // handoff reminder goes out.
    for (auto id : timed) {
        auto r = store_.load_release(id);
        if (!r) {
            continue;
        }
        const auto& p = r->current();
        auto tag = std::to_string(r->id) + ":" + std::to_string(p.position);
        if (p.window && p.entered_at) {
            auto min_at = *p.entered_at + p.window->min.count();
            auto max_at = *p.entered_at + p.window->max.count();
            if (now >= min_at) {
                queued |= store_.enqueue(
                    {"window-min:" + tag, r->id, "@" + r->manager, "chat.postMessage",
                     commands::dump_json(commands::to_post_body(commands::render_window_open(*r))),
                     "dm"},
                    now);
            } else {
                next = std::min(next, min_at);
            }
            if (now >= max_at) {
                queued |= store_.enqueue(
                    {"window-max:" + tag, r->id, r->channel, "chat.postMessage",
                     commands::dump_json(commands::to_post_body(commands::render_window_over(*r))),
                     ""},
                    now);
            } else {
                next = std::min(next, max_at);
            }
        }
        if (r->handoff_at && !r->handoff_accepted_at) {
            auto first = *r->handoff_at + rules_.interval.count();
            if (auto slot = checklist::due_slot(first, now, rules_.interval)) {
                queued |= store_.enqueue(
                    {"handoff-pending:" + std::to_string(r->id) + ":" +
                         std::to_string(*r->handoff_at) + ":" + std::to_string(*slot),
                     r->id, "@" + r->manager, "chat.postMessage",
                     commands::dump_json(
                         commands::to_post_body(commands::render_handoff_pending(*r))),
                     "dm"},
                    now);
                next = std::min(next, checklist::slot_time(first, *slot + 1, rules_.interval));
            } else {
                next = std::min(next, first);
            }
        }
    }
    if (by_owner.empty() && escalate.empty()) {
        tx.commit();
        if (queued) {
            notify_.wake();
        }
        return next;
    }
    for (const auto& [owner, items] : by_owner) {
        std::vector<storage::reminder_candidate> list;
        std::string key = "reminder:" + owner;
        for (const auto& [c, slot] : items) {
            store_.record_reminder(c.item_id, c.due_at, slot, now);
            // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) about
            // `":" + std::to_string(…)` once inlined in a Release build.
            key.append(":").append(std::to_string(c.item_id));
            key.append(".").append(std::to_string(c.due_at));
            key.append(".").append(std::to_string(slot));
            list.push_back(c);
        }
        store_.enqueue(
            {key, list.front().release_id, "@" + owner, "chat.postMessage",
             commands::dump_json(commands::to_post_body(commands::render_reminder(list))), "dm"},
            now);
        log_info("reminder.queued")
            .kv("owner", owner)
            .kv("items", static_cast<long long>(list.size()));
    }
    for (const auto& [manager, items] : escalate) {
        std::string key = "escalation:" + manager;
        for (const auto& c : items) {
            store_.mark_escalated(c.item_id, now);
            key.append(":").append(std::to_string(c.item_id));
            key.append(".").append(std::to_string(now));
        }
        store_.enqueue(
            {key, items.front().release_id, "@" + manager, "chat.postMessage",
             commands::dump_json(commands::to_post_body(commands::render_escalation(items))), "dm"},
            now);
        log_info("reminder.escalated")
            .kv("manager", manager)
            .kv("items", static_cast<long long>(items.size()));
    }
    tx.commit();
    auto& m = process_metrics();
    m.reminders.add({"reminder"}, static_cast<double>(by_owner.size()));
    m.reminders.add({"escalation"}, static_cast<double>(escalate.size()));
    notify_.wake();
    return std::min(next, now + 1);
}

net::awaitable<void> scheduler::run() {
    timer_ = std::make_unique<net::steady_timer>(co_await net::this_coro::executor);
    while (!stopping_) {
        woken_ = false;
        auto now = now_();
        checklist::epoch_seconds next = now + 60;
        try {
            co_await refresh_people();
        } catch (const std::exception& e) {
            log_error("scheduler.people_failed").kv("error", e.what());
        }
        try {
            // Keep the redelivery record to a week (a scan of that week); at most once an hour.
            if (now >= next_prune_) {
                auto removed = store_.forget_applied_before(now - 7 * 86400);
                if (removed > 0) {
                    log_info("envelopes.pruned").kv("removed", removed);
                }
                next_prune_ = now + 3600;
            }
            next = tick(now);
        } catch (const std::exception& e) {
            log_error("scheduler.failed").kv("error", e.what());
        }
        if (woken_) {
            continue;
        }
        timer_->expires_after(
            std::chrono::seconds(std::max<checklist::epoch_seconds>(1, next - now_())));
        auto [ec] = co_await timer_->async_wait(use_nothrow_awaitable);
        (void)ec;  // cancelled by wake() or stop(): look again
    }
}

}  // namespace relbot::bot
