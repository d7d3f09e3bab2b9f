// When to remind whom: reminder slots, quiet hours and weekends in the owner's time zone, the
// deployment-phase exception, escalation. Pure functions of their arguments.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checklist/release.hpp"

namespace relbot::checklist {

struct reminder_rules {
    std::chrono::seconds interval{4 * 3600};
    int escalate_after = 2;
    int quiet_from_hour = 20;  // quiet from this local hour …
    int quiet_to_hour = 8;     // … until this one; equal hours mean no quiet hours
};

// Reminder slots of an overdue item are numbered from 0 (at the due time), one per interval.
// The slot that is due at `now`, or nullopt while the item is not yet due. After downtime
// this is the latest slot only: missed slots are not sent one by one.
std::optional<std::int64_t> due_slot(epoch_seconds due_at,
                                     epoch_seconds now,
                                     std::chrono::seconds interval);

// When slot `slot` of an item due at `due_at` falls due.
epoch_seconds slot_time(epoch_seconds due_at, std::int64_t slot, std::chrono::seconds interval);

// The first moment at or after `t` when an owner `tz_offset_s` seconds from UTC may be
// reminded: outside quiet hours and not on their Saturday or Sunday (then: Monday at the end
// of quiet hours). `deployment` lifts both, and so do equal quiet hours (quiet time off).
epoch_seconds allowed_at(epoch_seconds t,
                         int tz_offset_s,
                         const reminder_rules& rules,
                         bool deployment);

// One overdue-capable item as the planner sees it.
struct reminder_input {
    std::string owner;
    std::string manager;
    epoch_seconds due_at = 0;
    std::optional<std::int64_t> last_slot;  // the last slot reminded for this due time
    int reminders_since_change = 0;
    bool escalated = false;                     // the manager was told since the item last changed
    bool deployment_phase = false;              // quiet hours do not apply
    int tz_offset_s = 0;                        // the owner's
    std::optional<epoch_seconds> last_sent_at;  // the previous reminder for this due time
    // Snoozed: no reminder (and no escalation) before then; once it has passed, the owner is
    // reminded at once (outside quiet hours) if not reminded since, in a new slot.
    std::optional<epoch_seconds> snoozed_until = std::nullopt;
};

// What to do at `now`: which items to remind (by owner, one DM each, with the slot), which to
// escalate (by manager), and when to look again.
struct reminder_plan {
    std::map<std::string, std::vector<std::pair<std::size_t, std::int64_t>>>
        remind;                                                // owner -> (input index, slot)
    std::map<std::string, std::vector<std::size_t>> escalate;  // manager -> input indexes
    epoch_seconds next = 0;
};

// An overdue item whose own next reminder would really go (after quiet time and weekends) at
// most this long after one its owner gets now, or a quarter of the interval if that is
// shorter, goes with it, in that next slot: one DM instead of two a few minutes apart, and the
// two keep the same times until something moves one of them (a snooze, a new due time). Not
// an item whose snooze is not over, nor one in its own quiet time now; a ride counts towards
// the manager's escalation like any reminder.
inline constexpr std::chrono::minutes ride_along_within{15};

reminder_plan plan_reminders(const std::vector<reminder_input>& items,
                             epoch_seconds now,
                             const reminder_rules& rules);

// Whether a phase is a deployment phase (its title mentions deploying), during which quiet
// hours do not apply.
bool is_deployment_phase(std::string_view title);

}  // namespace relbot::checklist
