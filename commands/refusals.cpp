// Refusals in words (see refusals.hpp).
#include "commands/refusals.hpp"

#include "checklist/checkpoints.hpp"
#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"

namespace relbot::commands {
namespace {

using checklist::refused;

std::string mention(const std::string& user) {
    return "<@" + user + ">";
}

const checklist::item& item_of(const checklist::release& r, const checklist::refusal& no) {
    return r.phases.at(no.item->phase).items.at(no.item->index);
}

// What holds the gate, one line per item.
std::string holding_list(const checklist::release& r, const checklist::gate& g) {
    std::string out;
    for (const auto& p : g.holding) {
        const auto& it = r.phases[p.phase].items[p.index];
        out += "\n• " + it.label() + " — " + std::string(to_string(it.state));
        if (it.state == checklist::item_state::blocked && !it.state_note.empty()) {
            out += " (" + checklist::escape_mrkdwn(it.state_note) + ")";
        }
        out += it.owner.empty() ? ", no owner" : ", " + mention(it.owner);
    }
    return out;
}

}  // namespace

// Why the current phase cannot be left.
std::string gate_hold_words(const checklist::release& r, const checklist::refusal& no, way_in how) {
    const auto& g = *no.held;
    const auto& cur = r.current();
    std::string msg = "Phase " + std::to_string(cur.position) + ", *" +
                      checklist::escape_mrkdwn(cur.title) + "*, cannot be left yet.";
    if (!g.holding.empty()) {
        msg += " " + checklist::plural(g.holding.size(), "item is", "items are") +
               " not done or skipped:" + holding_list(r, g);
    }
    if (!g.awaiting_sign_off.empty()) {
        msg += "\n" + checklist::plural(g.awaiting_sign_off.size(), "item is", "items are") +
               " checked but awaiting sign-off:";
        for (const auto& p : g.awaiting_sign_off) {
            const auto& it = r.phases[p.phase].items[p.index];
            auto missing = static_cast<std::size_t>(checklist::sign_offs_missing(it));
            msg += "\n• " + it.label() + " — " + checklist::plural(missing, "sign-off") + " to go" +
                   (it.policy.sign_off->role.empty()
                        ? ""
                        : " (" + checklist::escape_mrkdwn(it.policy.sign_off->role) + ")") +
                   (how == way_in::command ? ": `/release approve " + it.ref() + "`" : "");
        }
    }
    if (g.opens_at) {
        msg += "\nIts window keeps it open until " + checklist::date_token(*g.opens_at) + ".";
    }
    if (g.checkpoint_hold) {
        // Minimal wording (issue 15, checkpoints part); the integrator may reword it.
        const auto* c = checklist::find_checkpoint(r, *g.checkpoint_hold);
        msg +=
            "\nMonitoring checkpoint " +
            (c ? "*" + checklist::checkpoint_label(*c) + "*" : std::to_string(*g.checkpoint_hold)) +
            " was answered *Investigating*: it holds the phase until someone answers "
            "*Healthy* or the release is rolled back.";
    }
    return msg;
}

namespace {

// gate_hold_words, and how to move on anyway.
std::string gate_words(const checklist::release& r, const checklist::refusal& no, way_in how) {
    auto msg = gate_hold_words(r, no, how);
    if (how == way_in::command) {
        return msg + "\nThe release manager or an admin can move on anyway with `/release " +
               (no.finishing ? "finish" : "next") + " force <reason>`.";
    }
    return msg + "\nThe release manager or an admin can move on anyway, by force, with a reason.";
}

// The refusals about one item's state.
std::string item_words(const checklist::release& r, const checklist::refusal& no, way_in how) {
    const auto& it = item_of(r, no);
    auto state = std::string(to_string(it.state));
    bool typed = how == way_in::command;
    switch (no.why) {
        case refused::already_done:
            return it.label() + " is already done.";
        case refused::already_open:
            return it.label() + " is already open.";
        case refused::already_skipped:
            return it.label() + " is already skipped.";
        case refused::blocked_not_done:
            return it.label() + " is blocked, not done. " +
                   (typed ? "Clear the block with `/release unblock " + it.ref() + "`."
                          : "Clear the block first.");
        case refused::done_not_skippable:
            return it.label() + " is done. " +
                   (typed ? "Uncheck it first with `/release uncheck " + it.ref() +
                                "` if it should be skipped instead."
                          : "Uncheck it first if it should be skipped instead.");
        case refused::settled_not_blockable:
            return it.label() + " is " + state + ". " +
                   (typed ? "Uncheck it first with `/release uncheck " + it.ref() + "` to block it."
                          : "Uncheck it first to block it.");
        case refused::not_blocked:
            return it.label() + " is not blocked (it is " + state + ").";
        case refused::same_owner:
            return it.label() + " already has that owner" + (no.with_due ? " and due time." : ".");
        case refused::evidence_missing: {
            bool link = it.policy.evidence == checklist::evidence_kind::link;
            auto what = link ? std::string("a link as evidence (an http or https URL)")
                             : std::string("a note saying what was done");
            // A click carries no text: it is told the command that does.
            return it.label() + " needs " + what + " to be checked. " + (typed ? "Write" : "Use") +
                   " `/release check " + it.ref() + (link ? " https://…`." : " <what was done>`.");
        }
        case refused::ci_only:
            return it.label() +
                   " is checked by CI (a signal from the pipeline), not by hand. The release "
                   "manager (" +
                   mention(no.who) + ") or an admin can check it anyway" +
                   (typed ? " with `/release check " + it.ref() + " force <reason>`."
                          : ", by force, with a reason.");
        case refused::force_needs_reason:
            return "A forced check needs a reason; it goes in the timeline and the report: "
                   "`/release check " +
                   it.ref() + " force <reason>`, for example `/release check " + it.ref() +
                   " force CI is down, verified by hand`. Nothing changed.";
        case refused::no_sign_off:
            return it.label() + " needs no sign-off.";
        case refused::not_checked:
            return it.label() + " is " + state +
                   ", not checked; a sign-off comes after the item is checked.";
        case refused::own_check:
            return "You checked " + it.label() +
                   " yourself; its sign-off must come from someone else.";
        case refused::already_approved:
            return "You have signed off " + it.label() + " already.";
        case refused::signed_off:
            return it.label() + " has every sign-off it needs.";
        case refused::not_approver:
            return "Only the holder of the " + checklist::escape_mrkdwn(no.role) + " role (" +
                   mention(no.who) + ") or an admin can sign off " + it.label() + ".";
        case refused::no_role_holder:
            return it.label() + " needs a sign-off from the " + checklist::escape_mrkdwn(no.role) +
                   " role, which nobody holds in this release. The release manager can give it "
                   "with `/release role " +
                   checklist::escape_mrkdwn(no.role) + " @person`.";
        default:
            return it.label() + " cannot be changed that way.";
    }
}

}  // namespace

std::string word_refusal(const checklist::release& r, const checklist::refusal& no, way_in how) {
    bool typed = how == way_in::command;
    switch (no.why) {
        case refused::not_manager:
            return "Only the release manager (" + mention(no.who) + ") or an admin can " +
                   no.action + ".";
        case refused::not_item_changer: {
            const auto& it = item_of(r, no);
            return "Only the release manager (" + mention(no.who) + "), an admin or the item's " +
                   "owner (" + (it.owner.empty() ? "it has none yet" : mention(it.owner)) +
                   ") can " + no.action + " " + it.label() + ".";
        }
        case refused::last_phase:
            return typed ? "This is the last phase. End the release with `/release finish`."
                         : "This is the last phase. Finish the release to end it.";
        case refused::gate_closed:
            return gate_words(r, no, how);
        case refused::no_handoff:
            return typed ? "There is no handoff to accept yet; the release manager starts one "
                           "with `/release handoff @on-call [@product-manager]`."
                         : "There is no handoff to accept yet; the release manager starts one.";
        case refused::not_oncall:
            return "Only " + mention(no.who) +
                   ", the on-call engineer named in the handoff, can accept it.";
        case refused::handoff_already_accepted:
            return "You accepted this handoff already.";
        case refused::already_manager:
            return mention(no.who) + " is already the release manager.";
        case refused::not_in_last_phase:
            return "The release is in phase " + std::to_string(r.current_phase) + " of " +
                   std::to_string(r.phases.size()) + "; it finishes from the last phase. " +
                   (typed ? "Use `/release next` to move on, or `/release finish force "
                            "<reason>` to end it now."
                          : "Move on phase by phase, or finish it now by force, with a reason.");
        // Minimal wording for the checkpoint and snooze refusals (issue 15, checkpoints part);
        // the integrator may reword them.
        case refused::not_checkpoint_answerer:
            return "Only the release manager (" + mention(no.who) +
                   "), an admin or the on-call engineer (once the handoff is accepted) can " +
                   no.action + ".";
        case refused::checkpoint_not_posted:
            return "That monitoring checkpoint has not been posted yet.";
        case refused::checkpoint_already:
            return "That monitoring checkpoint has that answer already.";
        case refused::release_ended:
            return "The release has ended; nothing was changed.";
        case refused::manager_role:
            return typed ? "The release manager changes with `/release manager @person`."
                         : "The release manager changes with the manager command.";
        case refused::same_role_holder:
            return mention(no.who) + " holds the " + checklist::escape_mrkdwn(no.role) +
                   " role already.";
        case refused::frozen:
            // The window (from when, until when), its reason (contract).
            return "Deployments are frozen " +
                   (no.since ? "from " + checklist::date_token(*no.since) + " " : std::string()) +
                   "until " + checklist::date_token(no.until.value_or(0)) + " (" +
                   checklist::escape_mrkdwn(no.reason) +
                   "): the deployment phase cannot be entered now. " +
                   (no.also_deploying_version.empty()
                        ? std::string()
                        : "Also, " + checklist::escape_mrkdwn(no.also_deploying_version) +
                              " in <#" + no.also_deploying_channel +
                              "> is deploying, and one release deploys at a time. ") +
                   (typed ? "The release manager or an admin can move on anyway with `/release "
                            "next force <reason>`"
                          : "The release manager or an admin can move on anyway, by force, "
                            "with a reason") +
                   (no.also_deploying_version.empty() ? "." : ", past both.");
        case refused::deploying_elsewhere:
            return checklist::escape_mrkdwn(no.reason) + " in <#" + no.who +
                   "> is deploying; one release deploys at a time, so the deployment phase "
                   "cannot be entered until it has left its own. " +
                   (typed ? "The release manager or an admin can move on anyway with `/release "
                            "next force <reason>`."
                          : "The release manager or an admin can move on anyway, by force, "
                            "with a reason.");
        default:
            return item_words(r, no, how);
    }
}

}  // namespace relbot::commands
