// What relbot says: replies, announcements and the status view as Slack messages (a plain
// `text` fallback plus Block Kit `blocks`, always within Block Kit's limits).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "checklist/release.hpp"
#include "storage/store.hpp"

namespace relbot::commands {

// A Slack message body: `text` is the notification and fallback, `blocks` the layout.
struct message {
    std::string text;
    nlohmann::json blocks = nlohmann::json::array();
};

// Block Kit limits we render within (slack-platform.md §7).
inline constexpr std::size_t max_blocks = 50;
inline constexpr std::size_t max_section_text = 3000;
inline constexpr std::size_t max_header_text = 150;
inline constexpr std::size_t max_fallback_text = 4000;
// Slack rejects a message whose blocks hold more than about 12,000 characters of text in all
// (`msg_blocks_too_long`, undocumented); we stay under this.
inline constexpr std::size_t max_total_block_text = 11000;

// A reply of one mrkdwn section; `mrkdwn` must already be escaped where it holds user text.
message render_text(std::string_view mrkdwn);

// The command list, built from the command table.
message render_help();

// The release's checklist: every phase with its progress, the current phase's items in full.
message render_status(const checklist::release& r);

// The channel announcement that a release started and its first phase began.
message render_release_started(const checklist::release& r);

// `/release list`: the channel's releases, newest first.
message render_list(const std::vector<storage::release_summary>& releases);

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

// The handoff briefing: state of the release, what is still open, blockers, skips, rollback
// decisions, and what to watch.
message render_handoff(const checklist::release& r,
                       const std::vector<storage::audit_entry>& audit,
                       const std::string& actor);

// The channel announcement that a release ended (finished or aborted), with the report summary.
message render_release_ended(const checklist::release& r,
                             const std::vector<storage::audit_entry>& audit,
                             const std::string& actor,
                             const std::string& reason);

// The post-release report, split into as many messages as Block Kit needs (at most
// `max_pages`; beyond that it is cut with a note saying so).
std::vector<message> render_report(const checklist::release& r,
                                   const std::vector<storage::audit_entry>& audit,
                                   std::size_t max_pages);

// People's display names by Slack user ID (users.info, cached in the database), for text read
// outside Slack, where a mention does not render.
using user_names = std::unordered_map<std::string, std::string>;

// `user`'s display name on one line, or the ID itself when no name is known.
std::string display_name(std::string_view user, const user_names* names);

// The release as a checklist in the template's own format, followed by its blockers, skips,
// forced moves, rollback decisions, notes and timeline: what `/release report markdown` pages
// and `relbot export` prints. People are shown by name (`@name`, from `names`, else the ID).
// Whatever people typed, it parses back as a template with the release's phases and items:
// user text is folded onto one line and never starts one.
std::string report_markdown(const checklist::release& r,
                            const std::vector<storage::audit_entry>& audit,
                            const user_names& names = {});

// The markdown report as messages of complete code blocks, each ending between two phases
// (a phase is split only when it alone is too long for one block), at most `max_pages`.
std::vector<message> render_report_markdown(const checklist::release& r,
                                            const std::vector<storage::audit_entry>& audit,
                                            std::size_t max_pages,
                                            const user_names& names = {});

// The DM an item's new owner gets: the release, the item, what to do, when it is due.
message render_assignment(const checklist::release& r,
                          const checklist::item& it,
                          const std::string& actor);

// The channel announcement that the on-call engineer accepted the handoff.
message render_handoff_accepted(const checklist::release& r, int items_taken);

// One DM to an owner listing their items of the current phase, under `heading` (mrkdwn).
message render_owner_items(const checklist::release& r,
                           const std::vector<const checklist::item*>& items,
                           const std::string& heading);

// The DM telling the release manager a phase's window minimum has passed.
message render_window_open(const checklist::release& r);

// The channel post when a phase's window is over, with what is still open.
message render_window_over(const checklist::release& r);

// The DM reminding the release manager that the handoff has not been accepted yet.
message render_handoff_pending(const checklist::release& r);

// One DM to an owner listing all their overdue items (grouped, not one DM per item).
message render_reminder(const std::vector<storage::reminder_candidate>& items);

// One DM to a release manager listing overdue items that reminders did not move.
message render_escalation(const std::vector<storage::reminder_candidate>& items);

// A DM to the release manager: a message for the release could not be posted, and why.
message render_delivery_failure(const checklist::release& r,
                                const std::string& channel,
                                const std::string& error);

// The acknowledgement payload of a slash command (`response_type` ephemeral unless asked).
nlohmann::json to_ack_payload(const message& m, bool in_channel = false);

// The arguments of chat.postMessage except `channel`.
nlohmann::json to_post_body(const message& m);

// Serialises JSON so that invalid UTF-8 in user text never throws.
std::string dump_json(const nlohmann::json& j);

}  // namespace relbot::commands
