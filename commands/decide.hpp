// Private to commands/: the decision of each `/release` subcommand and the helpers they share.
// The decide functions live by family in decide_items.cpp (the item commands),
// decide_release.cpp (the release's lifecycle) and decide_read.cpp (help, status, list,
// report); router.cpp dispatches to them and defines the shared helpers. All pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "checklist/item_ref.hpp"
#include "checklist/rules.hpp"
#include "commands/decision.hpp"
#include "commands/interaction.hpp"
#include "commands/parse.hpp"
#include "commands/render.hpp"

namespace relbot::commands::decisions {

// --- shared helpers (router.cpp) -------------------------------------------------------------

// A refusal: nothing written, `text` (mrkdwn) is the reply.
decision refuse(std::string name, std::string_view text);
// A reply; the caller adds what the decision writes and sends.
decision done(std::string name, message reply, bool changed = true);
decision no_active(std::string name);
checklist::actor actor_of(const situation& s);
const checklist::item& item_at(const checklist::release& r, checklist::item_pos p);
// The item `ref` names, or the refusal that says why not (with candidates or the closest).
std::variant<checklist::item_pos, decision> find_item(const checklist::release& r,
                                                      const std::string& ref,
                                                      const std::string& name);
// A file made and uploaded by the notifier to `to` under the key `key`, from the outbox row
// `body` (commands/render/files.hpp).
planned_message upload(checklist::destination to,
                       checklist::message_kind kind,
                       std::string body,
                       std::string key);
// A file (commands/render/files.hpp: file_timeline, file_report) of `r`.
planned_message upload(const checklist::release& r,
                       checklist::destination to,
                       checklist::message_kind kind,
                       std::string_view file,
                       std::string key,
                       const std::string& thread_of = {});
// A chat.postMessage about `r` to `to`, keyed `key_prefix` [id] `key_suffix`. A release not
// stored yet (id 0) leaves the message's release id to the shell.
planned_message post(const checklist::release& r,
                     checklist::destination to,
                     checklist::message_kind kind,
                     const message& m,
                     std::string key_prefix,
                     key_id completed_by = key_id::none,
                     std::string key_suffix = "");
// The release's timeline as it will be once `log` is saved: what is written, then the log's
// events by the request's user at its time.
std::vector<checklist::audit_entry> timeline_after(const checklist::release& r,
                                                   const checklist::change_log& log,
                                                   const situation& s);
// A sentence about the gate after an item changed: says when the phase can be left.
std::string gate_hint(const checklist::release& r, checklist::epoch_seconds now);
// The freeze (its template's `## Freeze` windows and RELBOT_FREEZE) covering `s.req.now` for
// `r`, if any.
std::optional<checklist::freeze_state> active_freeze_for(const checklist::release& r,
                                                         const situation& s);
// The open (or blocked) items of the current phase, by owner.
std::map<std::string, std::vector<const checklist::item*>> open_items_by_owner(
    const checklist::release& r);

// --- decisions -------------------------------------------------------------------------------

// decide_read.cpp
decision decide(const help_command&, const situation& s);
decision decide(const status_command&, const situation& s);
decision decide(const list_command&, const situation& s);
decision decide(const report_command& c, const situation& s);
decision decide(const stats_command& c, const situation& s);

// decide_items.cpp
decision decide(const check_command& c, const situation& s);
decision decide(const uncheck_command& c, const situation& s);
decision decide(const skip_command& c, const situation& s);
decision decide(const block_command& c, const situation& s);
decision decide(const unblock_command& c, const situation& s);
decision decide(const note_command& c, const situation& s);
decision decide(const assign_command& c, const situation& s);
decision decide(const approve_command& c, const situation& s);

// decide_release.cpp
decision decide(const start_command& c, const situation& s);
decision decide(const next_command& c, const situation& s);
decision decide(const rollback_command& c, const situation& s);
decision decide(const handoff_command& c, const situation& s);
decision decide(const accept_command&, const situation& s);
decision decide(const manager_command& c, const situation& s);
decision decide(const finish_command& c, const situation& s);
decision decide(const abort_command& c, const situation& s);
decision decide(const remind_command&, const situation& s);
decision decide(const role_command& c, const situation& s);

// router.cpp
decision decide(const usage_error& e, const situation& s);

// --- what clicks and submissions share (decide_clicks.cpp) -------------------------------------

// A Slack DM channel id (D…).
bool is_dm(std::string_view channel);
// A message only the clicker sees: through `response_url` when there is one, else by DM.
planned_message to_clicker(const std::string& user,
                           const std::string& response_url,
                           const message& m,
                           std::string key);
// The decision's reply sent to the clicker (keyed by the click's `key`); the ack carries nothing.
decision answer_clicker(decision d,
                        const view_origin& o,
                        const std::string& user,
                        std::string_view key);
// A refusal answered to the clicker only.
decision refuse_click(std::string name,
                      std::string_view text,
                      const view_origin& o,
                      const std::string& user,
                      std::string_view key);
// After a change by `a`: the clicked DM edited in place (its controls become a line), or the
// ephemeral status reply replaced by the status as it is now.
void update_clicked(decision& d,
                    controls::action a,
                    const view_origin& o,
                    const nlohmann::json& blocks,
                    const std::string& text,
                    const situation& s,
                    std::string_view key);
// Why a control may not act on s.active at all (unknown release, another channel's, ended).
std::optional<std::string> stale_or_forged(const view_origin& o, const situation& s);
// The item of `r` with database id `item_id`, or nullptr.
const checklist::item* item_named(const checklist::release& r, std::int64_t item_id);
// A decision that opens `view` and writes nothing.
decision open_modal(nlohmann::json view, std::string name);
// Whether the rules allow `probe` (a command decided and thrown away); if not, its refusal.
bool allowed(const command& probe, const situation& s, decision& refusal);

// How long after a reminder asked for by hand (`remind`, Remind owners, Remind again) the same
// reminder is not sent again: a double click, or two people at once, DMs nobody twice.
inline constexpr std::chrono::minutes remind_pause{5};
// The latest row of s.active's timeline with `action` (about `item_id`, if given) written less
// than remind_pause before now, if any; and if so, the refusal that says who asked and when.
std::optional<decision> reminded_lately(const situation& s,
                                        std::string_view action,
                                        std::optional<std::int64_t> item_id);

}  // namespace relbot::commands::decisions
