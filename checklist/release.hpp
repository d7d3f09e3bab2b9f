// A release in progress: its phases and items with their states. Plain values, no I/O;
// storage/ loads and saves them, commands/ reads and changes them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checklist/shared_text.hpp"
#include "checklist/template.hpp"

namespace relbot::checklist {

using epoch_seconds = std::int64_t;

enum class item_state { open, done, skipped, blocked };
enum class release_status { active, finished, aborted };
// A monitoring checkpoint's answer (README, "Click instead of type").
enum class checkpoint_answer { none, healthy, investigating, rolled_back };

std::string_view to_string(item_state s);
std::optional<item_state> parse_item_state(std::string_view s);
std::string_view to_string(release_status s);
std::optional<release_status> parse_release_status(std::string_view s);
// "none", "healthy", "investigating", "rolled_back" (stored) and back.
std::string_view to_string(checkpoint_answer a);
std::optional<checkpoint_answer> parse_checkpoint_answer(std::string_view s);

// A sign-off on a checked item (contract: "Release policy in the template").
struct approval {
    std::string user;  // Slack user ID
    epoch_seconds at = 0;
    friend bool operator==(const approval&, const approval&) = default;
};

struct item {
    std::int64_t id = 0;  // 0 until stored
    int phase = 0;        // 1-based phase position
    int position = 0;     // 1-based position within the phase
    std::string slug;
    shared_text title;        // the template's, shared by the release's copies
    shared_text description;  // the template's, shared by the release's copies
    item_state state = item_state::open;
    std::string state_note;  // the skip or block reason, or the check note
    // Who put the item in its state (a Slack user ID, or "ci:<source>" for a signal); empty
    // for an open item, or one settled before relbot kept this.
    std::string state_by = {};
    std::string owner;  // Slack user ID, empty when unowned
    std::optional<epoch_seconds> due_at;
    // The owner's next reminder for the item is not before this (Snooze).
    std::optional<epoch_seconds> snoozed_until = std::nullopt;
    item_policy policy = {};  // the template's annotation
    // The role the item is owned through (its owner moves with the role); empty once assigned
    // to a person, and for items without `owner:`.
    std::string owner_role = {};
    std::vector<approval> approvals = {};  // sign-offs on the current check, oldest first
    bool forced = false;  // checked by `check … force <reason>` (an `auto: ci` item)
    // When it was put in its state (with state_by); nullopt while open, and for an item settled
    // before relbot kept this.
    std::optional<epoch_seconds> state_at = std::nullopt;

    // "2.3"
    std::string ref() const;
    // "`2.3` *Smoke Tests*" for messages (mrkdwn, title escaped).
    std::string label() const;

    friend bool operator==(const item&, const item&) = default;
};

struct phase {
    int position = 0;   // 1-based
    std::string title;  // the template's heading, window included
    std::optional<phase_window> window;
    std::optional<epoch_seconds> entered_at;
    bool left_by_force = false;  // `next force` or `finish force` left it
    std::vector<item> items;

    // Items that are done (and signed off, when they need it) or skipped: the ones that no
    // longer hold the gate.
    int settled_count() const;

    friend bool operator==(const phase&, const phase&) = default;
};

// A monitoring checkpoint: `offset_s` after the deployment phase was left, the channel and the
// people answering are asked whether all is well (checklist/checkpoints.hpp).
struct checkpoint {
    int number = 0;  // 1-based, fixed when the checkpoints are planned
    std::int64_t offset_s = 0;
    epoch_seconds due_at = 0;
    std::optional<epoch_seconds> posted_at;
    checkpoint_answer answer = checkpoint_answer::none;  // the last answer counts
    std::string answered_by;                             // Slack user ID
    std::optional<epoch_seconds> answered_at;
    int reminders = 0;  // reminders sent while unanswered
    std::optional<epoch_seconds> last_reminded_at;

    friend bool operator==(const checkpoint&, const checkpoint&) = default;
};

struct release {
    std::int64_t id = 0;  // 0 until stored
    std::string channel;
    std::string version;
    std::string template_name;
    std::string manager;  // Slack user ID of the release manager
    std::string oncall;   // named at handoff
    std::string pm;       // named at handoff, optional
    std::optional<epoch_seconds> handoff_at;
    std::optional<epoch_seconds> handoff_accepted_at;
    release_status status = release_status::active;
    int current_phase = 1;  // 1-based
    epoch_seconds started_at = 0;
    std::optional<epoch_seconds> ended_at;
    std::vector<phase> phases;
    std::vector<checkpoint> checkpoints = {};  // empty until the deployment phase is left
    // Who holds each template role ("qa" → user ID); `manager` is `manager` above, never here.
    std::map<std::string, std::string> roles = {};

    std::size_t item_count() const;
    const phase& current() const { return phases.at(static_cast<std::size_t>(current_phase - 1)); }

    friend bool operator==(const release&, const release&) = default;
};

// A new, active release built from a template: every item open, slugs unique within the
// release, the first phase entered at `now`; an item with `owner: <role>` owned by the role's
// holder in `roles` (`manager` is the manager), unowned otherwise.
release make_release(const checklist_template& t,
                     std::string channel,
                     std::string version,
                     std::string manager,
                     epoch_seconds now,
                     std::map<std::string, std::string> roles = {});

// Who holds `role` in `r` ("manager" is the release manager); empty: nobody.
std::string role_holder(const release& r, std::string_view role);

// The roles `r`'s items and sign-offs name that nobody holds, sorted.
std::vector<std::string> unheld_roles(const release& r);

// The roles as one line ("oncall=U1 qa=U2") and back, for storage. Bad pairs are dropped.
std::string write_roles(const std::map<std::string, std::string>& roles);
std::map<std::string, std::string> read_roles(std::string_view text);

// Approvals as one line ("U1@1764590000 U2@1764590100") and back, for storage.
std::string write_approvals(const std::vector<approval>& approvals);
std::vector<approval> read_approvals(std::string_view text);

}  // namespace relbot::checklist
