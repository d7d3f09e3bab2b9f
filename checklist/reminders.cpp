// Reminder timing rules.
#include "checklist/reminders.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace relbot::checklist {

std::optional<std::int64_t> due_slot(epoch_seconds due_at,
                                     epoch_seconds now,
                                     std::chrono::seconds interval) {
    if (now < due_at) {
        return std::nullopt;
    }
    auto step = std::max<std::int64_t>(1, interval.count());
    return (now - due_at) / step;
}

epoch_seconds slot_time(epoch_seconds due_at, std::int64_t slot, std::chrono::seconds interval) {
    return due_at + slot * std::max<std::int64_t>(1, interval.count());
}

namespace {

bool quiet_hour(int hour, const reminder_rules& rules) {
    if (rules.quiet_from_hour == rules.quiet_to_hour) {
        return false;
    }
    if (rules.quiet_from_hour < rules.quiet_to_hour) {
        return hour >= rules.quiet_from_hour && hour < rules.quiet_to_hour;
    }
    return hour >= rules.quiet_from_hour || hour < rules.quiet_to_hour;  // across midnight
}

// 0 = Monday … 6 = Sunday, for a local time in seconds since the epoch (a Thursday).
int weekday(epoch_seconds local) {
    auto days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    return static_cast<int>(((days + 3) % 7 + 7) % 7);
}

}  // namespace

epoch_seconds allowed_at(epoch_seconds t,
                         int tz_offset_s,
                         const reminder_rules& rules,
                         bool deployment) {
    if (deployment || rules.quiet_from_hour == rules.quiet_to_hour) {
        return t;  // no quiet time at all (RELBOT_QUIET_HOURS=0-0 turns weekends off too)
    }
    // Walk forward hour by hour (at most a long weekend's worth) to the first allowed local hour.
    auto local = t + tz_offset_s;
    for (int step = 0; step < 24 * 4; ++step) {
        auto hour = static_cast<int>(((local % 86400) + 86400) % 86400 / 3600);
        auto day = weekday(local);
        if (!quiet_hour(hour, rules) && day < 5) {
            return local - tz_offset_s;
        }
        local = (local / 3600 + 1) * 3600;  // the start of the next local hour
    }
    return t;  // unreachable with sane settings; never suppress a reminder for good
}

namespace {

// An overdue item's next reminder by its own times: in `slot` (the one due now, or the next
// one if that was sent), not before `not_before` (an interval after the previous reminder),
// quiet time aside. `at` is now or earlier when it is due.
struct own_next {
    std::int64_t slot = 0;
    epoch_seconds at = 0;
};

own_next next_reminder(const reminder_input& c,
                       std::int64_t slot,
                       epoch_seconds not_before,
                       const reminder_rules& rules) {
    if (c.last_slot && *c.last_slot >= slot) {
        auto next = *c.last_slot + 1;
        return {next, std::max(slot_time(c.due_at, next, rules.interval), not_before)};
    }
    return {slot, not_before};
}

epoch_seconds interval_after_last(const reminder_input& c,
                                  epoch_seconds now,
                                  const reminder_rules& rules) {
    return c.last_sent_at ? *c.last_sent_at + rules.interval.count() : now;
}

// The riders of the reminders in `plan` (ride_along_within): without them, items due at
// 14:00 and 14:05 would each get a DM of their own every interval, five minutes apart; with
// them they share from the second reminder on (an item not yet due never rides).
void add_riders(const std::vector<reminder_input>& items,
                epoch_seconds now,
                const reminder_rules& rules,
                reminder_plan& plan) {
    auto within = std::min<std::int64_t>(rules.interval.count() / 4,
                                         std::chrono::seconds(ride_along_within).count());
    for (auto& entry : plan.remind) {
        // Not a structured binding: clang 14 (the fuzz build) lets no lambda capture one.
        const auto& owner = entry.first;
        auto& reminded = entry.second;
        auto already = [&](std::size_t k) {
            return std::any_of(reminded.begin(), reminded.end(),
                               [&](const auto& r) { return r.first == k; });
        };
        for (std::size_t k = 0; k < items.size(); ++k) {
            const auto& c = items[k];
            if (c.owner != owner || already(k)) {
                continue;
            }
            auto slot = due_slot(c.due_at, now, rules.interval);
            bool snooze_pending =
                c.snoozed_until && (!c.last_sent_at || *c.last_sent_at < *c.snoozed_until);
            if (!slot || snooze_pending ||
                allowed_at(now, c.tz_offset_s, rules, c.deployment_phase) > now) {
                continue;
            }
            auto next = next_reminder(c, *slot, interval_after_last(c, now, rules), rules);
            // When it would really go: a slot in quiet time or at the weekend waits for its
            // end, and such an item does not ride now.
            if (allowed_at(next.at, c.tz_offset_s, rules, c.deployment_phase) > now + within) {
                continue;
            }
            reminded.push_back({k, next.slot});
            // It counts as a reminder, towards the manager's escalation too.
            if (c.reminders_since_change + 1 >= rules.escalate_after && !c.escalated) {
                auto& escalating = plan.escalate[c.manager];
                if (std::find(escalating.begin(), escalating.end(), k) == escalating.end()) {
                    escalating.push_back(k);
                }
            }
        }
    }
}

}  // namespace

reminder_plan plan_reminders(const std::vector<reminder_input>& items,
                             epoch_seconds now,
                             const reminder_rules& rules) {
    reminder_plan plan;
    plan.next = now + 3600;
    for (std::size_t k = 0; k < items.size(); ++k) {
        const auto& c = items[k];
        auto slot = due_slot(c.due_at, now, rules.interval);
        if (!slot) {
            plan.next = std::min(plan.next, c.due_at);
            continue;
        }
        int sent = c.reminders_since_change;
        auto not_before = interval_after_last(c, now, rules);
        if (c.snoozed_until && (!c.last_sent_at || *c.last_sent_at < *c.snoozed_until)) {
            if (now < *c.snoozed_until) {
                plan.next = std::min(plan.next, *c.snoozed_until);
                continue;  // snoozed: neither reminded nor escalated until then
            }
            // The snooze is over and the owner has not been reminded since: now, in a new slot.
            not_before = now;
            if (c.last_slot && *c.last_slot >= *slot) {
                slot = *c.last_slot + 1;
            }
        }
        // The interval counts from the previous reminder (which quiet hours may have delayed).
        auto next = next_reminder(c, *slot, not_before, rules);
        if (next.at > now) {
            plan.next = std::min(plan.next, next.at);
        } else {
            auto allowed = allowed_at(now, c.tz_offset_s, rules, c.deployment_phase);
            if (allowed > now) {
                plan.next = std::min(plan.next, allowed);
            } else {
                plan.remind[c.owner].push_back({k, next.slot});
                ++sent;
                plan.next = std::min(plan.next, slot_time(c.due_at, next.slot + 1, rules.interval));
            }
        }
        if (sent >= rules.escalate_after && !c.escalated) {
            plan.escalate[c.manager].push_back(k);
        }
    }
    add_riders(items, now, rules, plan);
    return plan;
}

bool is_deployment_phase(std::string_view title) {
    std::string lower;
    for (char c : title) {
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return lower.find("deploy") != std::string::npos;
}

}  // namespace relbot::checklist
