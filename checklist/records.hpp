// Records read from the history of releases, for rendering and for the timers: one line of the
// timeline, one line of `/release list`, one item a reminder may be about. Plain values; the
// store fills them, commands/ renders them, checklist/reminders.cpp plans with them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "checklist/release.hpp"

namespace relbot::checklist {

// One line of a release's timeline.
struct audit_entry {
    std::int64_t release_id = 0;
    epoch_seconds at = 0;
    std::string actor;   // Slack user ID
    std::string action;  // "release.started", "item.checked", ...
    std::optional<std::int64_t> item_id;
    std::string from_state;
    std::string to_state;
    std::string note;
};

// One line of `/release list`.
struct release_summary {
    std::int64_t id = 0;
    std::string version;
    checklist::release_status status = checklist::release_status::active;
    std::string manager;
    int current_phase = 1;
    int phase_count = 0;
    std::string current_phase_title;
    epoch_seconds started_at = 0;
    std::optional<epoch_seconds> ended_at;
};

// An owned, unfinished item with a due time in an active release: what reminders are about.
struct reminder_candidate {
    std::int64_t release_id = 0;
    std::int64_t item_id = 0;
    std::string channel;
    std::string version;
    std::string manager;
    std::string owner;
    std::string ref;  // "2.3"
    std::string title;
    bool deployment_phase = false;  // the release is in a deployment phase now
    epoch_seconds due_at = 0;
    std::optional<std::int64_t> last_slot;      // the last reminder sent for this due time
    std::optional<epoch_seconds> last_sent_at;  // and when it was sent
    int reminders_since_change = 0;
    bool escalated = false;  // the manager has been told since the item last changed
    std::optional<epoch_seconds> snoozed_until = std::nullopt;  // the owner snoozed it until then
};

}  // namespace relbot::checklist
