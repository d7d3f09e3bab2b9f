// Reminder scheduling: decide with checklist/reminders, record and queue in one transaction.
#include "bot/scheduler.hpp"

#include <map>

#include "bot/log.hpp"
#include "commands/render.hpp"

namespace relbot::bot {

scheduler::scheduler(storage::store& store,
                     notifier& notify,
                     checklist::reminder_rules rules,
                     clock_fn now)
    : store_(store), notify_(notify), rules_(rules), now_(std::move(now)) {}

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
    auto next = now + 3600;
    std::map<std::string, std::vector<std::pair<storage::reminder_candidate, std::int64_t>>>
        by_owner;
    std::map<std::string, std::vector<storage::reminder_candidate>> escalate;
    for (auto& c : store_.reminder_candidates()) {
        auto slot = checklist::due_slot(c.due_at, now, rules_.interval);
        if (!slot) {
            next = std::min(next, c.due_at);
            continue;
        }
        int sent = c.reminders_since_change;
        if (c.last_slot && *c.last_slot >= *slot) {
            next =
                std::min(next, checklist::slot_time(c.due_at, *c.last_slot + 1, rules_.interval));
        } else {
            // Owners' time zones are not looked up yet (users.info): quiet hours are in UTC.
            auto allowed = checklist::allowed_at(now, 0, rules_, c.deployment_phase);
            if (allowed > now) {
                next = std::min(next, allowed);
            } else {
                by_owner[c.owner].push_back({c, *slot});
                ++sent;
            }
        }
        if (sent >= rules_.escalate_after && !c.escalated) {
            escalate[c.manager].push_back(c);
        }
    }
    if (by_owner.empty() && escalate.empty()) {
        return next;
    }
    storage::store::transaction tx(store_);
    for (const auto& [owner, items] : by_owner) {
        std::vector<storage::reminder_candidate> list;
        std::string key = "reminder:" + owner;
        for (const auto& [c, slot] : items) {
            store_.record_reminder(c.item_id, c.due_at, slot, now);
            key += ":" + std::to_string(c.item_id) + "." + std::to_string(c.due_at) + "." +
                   std::to_string(slot);
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
            key += ":" + std::to_string(c.item_id) + "." + std::to_string(now);
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
