// The rules of a release: who may do what, which item states may follow which, and what holds
// a phase's gate. Pure: a transition changes the release value and writes what it did into a
// change_log, or says why not (a refusal, as data); storage/ saves the log, commands/ words the
// replies and the refusals.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checklist/item_ref.hpp"
#include "checklist/release.hpp"

namespace relbot::checklist {

// The person acting, and whether they are in RELBOT_ADMINS.
struct actor {
    std::string user;
    bool admin = false;
};

// One line of the timeline, before storage adds the release, the time and the actor.
struct event {
    std::string action;  // "item.checked", "phase.entered", …
    std::optional<std::int64_t> item_id;
    std::string from;
    std::string to;
    std::string note;
};

// What a transition changed, for storage to save in one transaction.
struct change_log {
    std::vector<event> events;
    std::vector<item_pos> items;      // items whose state, note, owner or due time changed
    std::vector<std::size_t> phases;  // phases whose entered_at or left_by_force changed (0-based)
    std::vector<int> checkpoints = {};  // checkpoints (by number) added or changed
    bool release = false;               // the release row changed (phase, status, roles)

    bool empty() const { return events.empty(); }
};

// --- the phase gate -----------------------------------------------------------------------
struct gate {
    std::vector<item_pos> holding;  // open and blocked items of the current phase
    // Done items of the current phase whose sign-offs are not complete yet.
    std::vector<item_pos> awaiting_sign_off = {};
    std::optional<epoch_seconds> opens_at;  // the window's minimum, while it has not passed
    bool last_phase = false;
    // The number of the checkpoint answered Investigating that holds this phase (the phase with
    // the monitoring window) until Healthy on it or a later one, or a rollback.
    std::optional<int> checkpoint_hold = std::nullopt;

    bool open() const {
        return holding.empty() && awaiting_sign_off.empty() && !opens_at && !checkpoint_hold;
    }
};

// Why something was not done, as data: what was refused and who could do it. The domain says
// no; commands/ words it for the way the person came in (a typed command, a click).
enum class refused {
    not_manager,               // `action` is the release manager's or an admin's
    not_item_changer,          // `action` on `item` is the manager's, an admin's or its owner's
    already_done,              // check: `item` is done
    already_open,              // uncheck: `item` is open
    blocked_not_done,          // uncheck: `item` is blocked, which is cleared by unblock
    already_skipped,           // skip: `item` is skipped
    done_not_skippable,        // skip: `item` is done; uncheck it first
    settled_not_blockable,     // block: `item` is done or skipped; uncheck it first
    not_blocked,               // unblock: `item` is not blocked
    same_owner,                // assign: `item` has that owner (and due time) already
    last_phase,                // next: this is the last phase; finish ends the release
    gate_closed,               // next/finish: `held` says what holds the gate
    no_handoff,                // accept: there is no handoff yet
    not_oncall,                // accept: only `who` (the on-call engineer) may
    handoff_already_accepted,  // accept: done already
    already_manager,           // manager: `who` is the release manager already
    not_in_last_phase,         // finish: only from the last phase (or by force)
    not_checkpoint_answerer,   // checkpoint: the manager's, an admin's, or `who`'s (on-call,
                               // once the handoff is accepted; `who` empty before that)
    checkpoint_not_posted,     // checkpoint: no such checkpoint, or not posted yet
    checkpoint_already,        // checkpoint: it has that answer already (harmless)
    release_ended,             // checkpoint, snooze: the release is no longer active
    evidence_missing,          // check: `item` needs a link or a note (its policy says which)
    ci_only,                   // check: `item` is checked by CI; `who` (the manager) may force it
    force_needs_reason,        // check: `item` forced by its manager or an admin without a reason
    no_sign_off,               // approve: `item` needs no sign-off
    not_checked,               // approve: `item` is not done
    own_check,                 // approve: the person who checked `item` cannot approve it
    already_approved,          // approve: this person approved `item` already
    signed_off,                // approve: `item` has every sign-off it needs
    not_approver,              // approve: only `who` (the holder of the sign-off's role) may
    no_role_holder,            // approve: the sign-off's role is held by nobody; see `role`
    manager_role,              // role: "manager" changes with `/release manager`
    same_role_holder,          // role: `who` holds that role already
    frozen,                    // next into deployment: a freeze window covers now
    deploying_elsewhere,       // next into deployment: another release is deploying
};

struct refusal {
    refused why;
    std::string action;  // what was asked, in words ("move to the next phase")
    std::optional<item_pos> item = std::nullopt;  // the item it was about
    std::string who = {};  // the person it names (on-call engineer, manager), a user ID
    std::optional<gate> held = std::nullopt;  // gate_closed: what holds the gate
    bool finishing = false;                   // gate_closed: asked by finish (not next)
    bool with_due = false;                    // same_owner: the due time was the same too
    int checkpoint = 0;                       // checkpoint refusals: its number
    std::string role = {};                    // role refusals, not_approver: the role
    // frozen: until when and why; deploying_elsewhere: the other release's version and channel.
    std::optional<epoch_seconds> until = std::nullopt;
    std::string reason = {};
    std::optional<epoch_seconds> since = std::nullopt;  // frozen: when the window holding now began
    // frozen, when another channel's release is deploying too (one deploys at a time): its
    // version and channel, so a forced move knows it passes both.
    std::string also_deploying_version = {};
    std::string also_deploying_channel = {};
};

// A refusal of `action`, naming `who` (a user ID) where the wording needs a person, and the
// checkpoint's `number` for the checkpoint refusals.
refusal because(refused why, std::string_view action, std::string who = {}, int checkpoint = 0);

using verdict = std::optional<refusal>;  // nullopt: allowed / applied

bool is_manager_or_admin(const release& r, const actor& a);

// Refuses unless `a` is the release manager or an admin; `what` names the action ("move to
// the next phase").
verdict require_manager(const release& r, const actor& a, std::string_view what);

// Refuses unless `a` is the release manager, an admin or the owner of `it`.
verdict require_item_change(const release& r,
                            const item& it,
                            const actor& a,
                            std::string_view what);

// --- item transitions (the caller has checked permission) --------------------------------
verdict check_item(release& r, item_pos p, std::string note, change_log& log);
verdict uncheck_item(release& r, item_pos p, change_log& log);
verdict skip_item(release& r, item_pos p, std::string reason, change_log& log);
verdict block_item(release& r, item_pos p, std::string reason, change_log& log);
verdict unblock_item(release& r, item_pos p, change_log& log);
// A note changes nothing but the timeline: the release is only read.
verdict note_item(const release& r, item_pos p, std::string text, change_log& log);
verdict assign_item(
    release& r, item_pos p, std::string owner, std::optional<epoch_seconds> due, change_log& log);

gate current_gate(const release& r, epoch_seconds now);

// --- release policy (contract: "Release policy in the template") ---------------------------
// How many sign-offs `it` still needs before it counts as done for the gate (0 when none).
int sign_offs_missing(const item& it);
// Who is asked for the sign-offs `it` still needs: the sign-off role's holder; without a role,
// the release manager, or the owner when the manager checked it. Empty when nobody can be asked
// (the role is unheld) or nothing is needed; never the person who checked it.
std::string sign_off_asked(const release& r, const item& it);
// Whether `note` is the evidence `it`'s policy asks for (a link: an http(s) URL in it; a note:
// any text); refuses with evidence_missing if not.
verdict require_evidence(const release& r, item_pos p, std::string_view note);
// `a` approves the done item at `p`: not its checker, the sign-off role's holder (or an admin)
// when the rule names a role, once per person, until the rule is met.
verdict approve_item(release& r, item_pos p, const actor& a, epoch_seconds now, change_log& log);
// Gives `role` to `user`; items still owned through the role move to them (listed in `moved`).
verdict set_role(release& r,
                 const std::string& role,
                 const std::string& user,
                 change_log& log,
                 std::vector<item_pos>& moved);

// Moves to the next phase when the gate is open, or anyway with a non-empty `force_reason`
// (recorded). Refuses in the last phase (that is `finish`).
verdict advance_phase(release& r,
                      epoch_seconds now,
                      const std::string& force_reason,
                      change_log& log);

// --- the release as a whole ----------------------------------------------------------------
verdict record_rollback(release& r, std::string reason, change_log& log);
verdict record_handoff(
    release& r, std::string oncall, std::string pm, epoch_seconds now, change_log& log);
// Makes `user` the release manager; items owned through the `manager` role (`owner: manager`)
// move to them (listed in `moved`).
verdict transfer_manager(release& r,
                         std::string user,
                         change_log& log,
                         std::vector<item_pos>& moved);
// The on-call engineer named in the handoff takes over the open items of the current phase.
verdict accept_handoff(release& r, const actor& a, epoch_seconds now, change_log& log);
// Ends the release: needs the last phase's gate, or a non-empty `force_reason`.
verdict finish_release(release& r,
                       epoch_seconds now,
                       const std::string& force_reason,
                       change_log& log);
verdict abort_release(release& r, epoch_seconds now, std::string reason, change_log& log);

}  // namespace relbot::checklist
