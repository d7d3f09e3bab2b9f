// What relbot posts in a release's channel as the release moves on, and the notices about a
// phase's window and about a message it could not post.
#pragma once

#include <string>
#include <vector>

#include "checklist/records.hpp"
#include "checklist/release.hpp"
#include "commands/render/blocks.hpp"

namespace relbot::commands {

// The channel announcement that a release started and its first phase began.
message render_release_started(const checklist::release& r);

// The channel announcement that a phase began: who owns what in it, and its window if any.
// `forced_reason` is non-empty when the previous phase was left by force.
message render_phase_entered(const checklist::release& r,
                             const std::string& actor,
                             const std::string& forced_reason);

// The channel announcement of a blocker.
message render_item_blocked(const checklist::release& r,
                            const checklist::item& it,
                            const std::string& actor);

// The channel announcement of a rollback decision.
message render_rollback(const checklist::release& r,
                        const std::string& actor,
                        const std::string& reason);

// The channel announcement that a release ended (finished or aborted), with the report summary.
message render_release_ended(const checklist::release& r,
                             const std::vector<checklist::audit_entry>& audit,
                             const std::string& actor,
                             const std::string& reason);

// Announcements that waited too long in one channel's queue (Slack was not taking them), as one
// message: each one's fallback text (already mrkdwn, as relbot wrote it) on a line of its own,
// oldest first, within Block Kit's limits ("…and N more" past them).
message render_folded(const std::vector<std::string>& texts);

// The channel announcement that the on-call engineer accepted the handoff.
message render_handoff_accepted(const checklist::release& r, int items_taken);

// The DM telling the release manager a phase's window minimum has passed.
message render_window_open(const checklist::release& r);

// The channel post when a phase's window is over, with what is still open.
message render_window_over(const checklist::release& r);

// A DM to the release manager: a message for the release could not be posted, and why.
message render_delivery_failure(const checklist::release& r,
                                const std::string& channel,
                                const std::string& error);

}  // namespace relbot::commands
