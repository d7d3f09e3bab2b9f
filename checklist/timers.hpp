// Timed notices of a release: its current phase's window (the manager hears when the phase may
// be left, the channel when the window is over) and a handoff nobody has accepted yet (the
// manager hears once per reminder interval). Pure functions of their arguments: the time comes
// in as `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "checklist/release.hpp"
#include "checklist/reminders.hpp"

namespace relbot::checklist {

enum class timer_kind {
    window_open,         // the phase's minimum window has passed: it may now be left
    window_over,         // the phase's maximum window has passed
    handoff_pending,     // the handoff has not been accepted yet
    sign_off_pending,    // a checked item still awaits the sign-off of the person asked
    sign_off_escalated,  // … and reminders did not bring it: the release manager hears once
};

// One message a timer calls for. Each is sent once: `key` names it for good (the outbox never
// queues a key twice), so a plan made again at a later `now`, or after a restart, repeats the
// keys of what was already sent, and only a key not seen before is news.
struct timer_notice {
    timer_kind kind = timer_kind::window_open;
    std::string key;  // "window-min:<release>:<phase>", "window-max:<release>:<phase>",
                      // "handoff-pending:<release>:<handoff_at>:<slot>"
    std::string to;   // a user ID when `direct`, else the release's channel
    bool direct = false;
    std::int64_t item_id = 0;  // sign-off notices: the item
};

// What the timers of one release call for at `now`, in the order to queue them, and the next
// moment one of them falls due (nullopt: none will without a change to the release).
struct timer_plan {
    std::vector<timer_notice> notices;
    std::optional<epoch_seconds> next;
};

// The current phase's window, counted from when the phase was entered: a direct message to the
// manager once the minimum has passed, one to the channel once the maximum has passed (whether
// or not items are still open: the message says which). Nothing for a phase without a window.
timer_plan plan_window_notices(const release& r, epoch_seconds now);

// A handoff not yet accepted: the manager is reminded one `interval` after the handoff, then
// once per interval (slots numbered from 0). After downtime only the latest slot is due.
timer_plan plan_handoff_reminders(const release& r,
                                  epoch_seconds now,
                                  std::chrono::seconds interval);

// Both of the above: the window's notices first, then the handoff's; the earlier next moment.
timer_plan plan_timers(const release& r, epoch_seconds now, std::chrono::seconds interval);

// The checked items of the current phase still awaiting sign-offs: the person asked for them
// (sign_off_asked) is reminded as owners are: one `rules.interval` after the check or the last
// sign-off, then once per interval (after downtime only the latest slot), outside their quiet
// hours and weekend (`tz_offset_s` of a user: seconds from UTC), which the deployment phase
// lifts. Keys "sign-off-reminder:<release>:<item>:<since>:<slot>". Once `rules.escalate_after`
// reminders (earlier slots outside quiet hours) went unanswered, the release manager (unless it
// is they who are asked) hears once:
// "sign-off-escalation:<release>:<item>:<since>".
timer_plan plan_sign_off_reminders(const release& r,
                                   epoch_seconds now,
                                   const reminder_rules& rules,
                                   const std::function<int(const std::string&)>& tz_offset_s);

}  // namespace relbot::checklist
