// What relbot sends to one person: DMs to owners and release managers, and the handoff
// briefing.
#pragma once

#include <string>
#include <vector>

#include "checklist/records.hpp"
#include "checklist/release.hpp"
#include "commands/render/blocks.hpp"

namespace relbot::commands {

// The DM an item's new owner gets: the release, the item, what to do, when it is due.
message render_assignment(const checklist::release& r,
                          const checklist::item& it,
                          const std::string& actor);

// One DM to an owner listing all their overdue items (grouped, not one DM per item).
message render_reminder(const std::vector<checklist::reminder_candidate>& items);

// One DM to a release manager listing overdue items that reminders did not move.
message render_escalation(const std::vector<checklist::reminder_candidate>& items);

// One DM to an owner listing their items of the current phase, under `heading` (mrkdwn).
message render_owner_items(const checklist::release& r,
                           const std::vector<const checklist::item*>& items,
                           const std::string& heading);

// The DM asking a person for a sign-off on an item `checker` checked (release policy), with
// the Approve button; `again`: the reminder of it.
message render_sign_off_request(const checklist::release& r,
                                const checklist::item& it,
                                const std::string& checker,
                                bool again = false);
// The DM telling the release manager that `asked` has not signed off `it` after reminders.
message render_sign_off_escalation(const checklist::release& r,
                                   const checklist::item& it,
                                   const std::string& asked);

// The handoff briefing: state of the release, what is still open, blockers, skips, rollback
// decisions, and what to watch.
message render_handoff(const checklist::release& r,
                       const std::vector<checklist::audit_entry>& audit,
                       const std::string& actor);

// The handoff briefing (render_handoff's) as a DM to the on-call engineer: with an
// `Accept handoff` button (actions block "release:<id>").
message render_handoff_dm(const checklist::release& r, message briefing);

// The DM reminding the release manager that the handoff has not been accepted yet.
message render_handoff_pending(const checklist::release& r);

}  // namespace relbot::commands
