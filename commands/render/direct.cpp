// DMs to owners and release managers, and the handoff briefing.
#include "commands/render/direct.hpp"

#include "checklist/mrkdwn.hpp"
#include "checklist/reminders.hpp"
#include "checklist/rules.hpp"
#include "commands/render/checkpoints.hpp"
#include "commands/render/controls.hpp"
#include "commands/render/report.hpp"
#include "commands/render/wording.hpp"

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;
using checklist::plural;

std::string overdue_line(const checklist::reminder_candidate& c, bool with_owner) {
    return "• `" + c.ref + "` *" + escape_mrkdwn(c.title) + "* in release *" +
           escape_mrkdwn(c.version) + "* (<#" + c.channel + ">) — due " +
           checklist::date_token(c.due_at) + (with_owner ? ", " + mention(c.owner) : "");
}

// A DM of overdue items: `text` as the fallback, `heading` and then one line per item (with
// its owner if `with_owner`) and the item's controls, leaving room for `reserve` more blocks.
message overdue_message(const std::vector<checklist::reminder_candidate>& items,
                        bool with_owner,
                        const std::string& text,
                        const std::string& heading,
                        std::size_t reserve) {
    std::vector<item_entry> entries;
    for (const auto& c : items) {
        bool stored = c.release_id != 0 && c.item_id != 0;
        entries.push_back({overdue_line(c, with_owner), c.item_id,
                           !stored      ? std::vector<item_control>{}
                           : with_owner ? escalation_item_controls(c.release_id, c.item_id)
                                        : owner_item_controls(c.release_id, c.item_id)});
    }
    message m;
    m.text = text;
    m.blocks.push_back(section_block(heading));
    append_items(m.blocks, entries, reserve, reserve * 300);
    return m;
}

// What accepting the handoff takes over, in words: "the 3 open items of phase 5" (those
// checklist::accept_handoff moves to the on-call engineer).
std::string handoff_takes(const checklist::release& r) {
    std::size_t open = 0;
    for (const auto& i : r.current().items) {
        open += is_unsettled(i) && i.owner != r.oncall ? 1 : 0;
    }
    auto phase = "phase " + std::to_string(r.current().position);
    if (open == 0) {
        return "the release (" + phase + " has no open items left to take over)";
    }
    return (open == 1 ? "the open item" : "the " + std::to_string(open) + " open items") + " of " +
           phase;
}

// The briefing's lines: when it was deployed, its phases, what is open, and what happened.
std::vector<std::string> handoff_lines(const checklist::release& r, const report_facts& facts) {
    std::vector<std::string> lines;
    // When it was deployed: the end of the first deployment phase.
    for (std::size_t k = 0; k + 1 < r.phases.size(); ++k) {
        if (checklist::is_deployment_phase(r.phases[k].title) && r.phases[k + 1].entered_at) {
            lines.push_back("*Deployed* " + checklist::date_token(*r.phases[k + 1].entered_at));
            break;
        }
    }
    lines.push_back("*Phases*");
    for (const auto& p : r.phases) {
        lines.push_back(std::to_string(p.position) + ". " + escape_mrkdwn(p.title) + " — " +
                        phase_timing(r, p) + (p.left_by_force ? " · left by force" : ""));
    }
    // What accepting takes over (the current phase's open and blocked items), apart from what
    // stays with its owners (later phases).
    std::vector<std::string> now;
    std::vector<std::string> later;
    for (const auto& p : r.phases) {
        if (p.position < r.current_phase) {
            continue;
        }
        for (const auto& i : p.items) {
            if (is_unsettled(i)) {
                (p.position == r.current_phase ? now : later).push_back(item_line(i));
            }
        }
    }
    add_list(lines,
             "Still open in phase " + std::to_string(r.current().position) + ", " +
                 escape_mrkdwn(r.current().title) + " (accepting the handoff takes these over)",
             now);
    if (!later.empty()) {
        add_list(lines, "Still open in later phases", later);
    }
    add_list(lines, "Blockers", facts.blockers);
    add_list(lines, "Rollback decisions", facts.rollbacks);
    if (!r.checkpoints.empty()) {
        // What monitoring stands at is what the on-call engineer takes over: each checkpoint's
        // answer, an investigation that holds the phase, and when the next one comes.
        std::vector<std::string> checkpoints;
        for (const auto& c : r.checkpoints) {
            checkpoints.push_back(checkpoint_report_line(c, mention(c.answered_by), false));
        }
        for (auto line : {checkpoint_hold_line(r), next_checkpoint_line(r)}) {
            if (!line.empty()) {
                checkpoints.push_back(std::move(line));
            }
        }
        add_list(lines, "Monitoring checkpoints", checkpoints);
    }
    add_list(lines, "Skipped", facts.skips);
    add_list(lines, "Forced moves", facts.forced);
    add_list(lines, "Notes", facts.notes);
    for (const auto& p : r.phases) {
        if (p.window && p.entered_at) {
            lines.push_back("*" + escape_mrkdwn(p.title) + "* window ends " +
                            checklist::date_token(*p.entered_at + p.window->max.count()) + ".");
        }
    }
    return lines;
}

}  // namespace

message render_assignment(const checklist::release& r,
                          const checklist::item& it,
                          const std::string& actor) {
    std::string body = ":bust_in_silhouette: " + mention(actor) + " made you the owner of " +
                       it.label() + " in release *" + escape_mrkdwn(r.version) + "* (<#" +
                       r.channel + ">).";
    if (!it.description.empty()) {
        body += "\n>" + user_text(it.description, 1000);
    }
    if (it.due_at) {
        body += "\nDue " + checklist::date_token(*it.due_at) + ".";
    }
    body += "\nWhen it is done: `/release check " + it.ref() + " [note or link]` in <#" +
            r.channel + ">. Blocked? `/release block " + it.ref() + " <reason>`.";
    message m;
    m.text = "You own " + it.ref() + " " + escape_mrkdwn(it.title) + " in release " +
             escape_mrkdwn(r.version);
    m.blocks.push_back(section_block(body));
    if (r.id != 0 && it.id != 0 && is_unsettled(it)) {
        m.blocks.push_back(item_actions_block(it.id, owner_item_controls(r.id, it.id)));
    }
    return m;
}

message render_sign_off_request(const checklist::release& r,
                                const checklist::item& it,
                                const std::string& checker,
                                bool again) {
    auto missing = checklist::sign_offs_missing(it);
    std::string body = std::string(again ? ":bell: *Reminder:* " : ":ballot_box_with_check: ") +
                       mention(checker) + " checked " + it.label() + " in release *" +
                       escape_mrkdwn(r.version) + "* (<#" + r.channel + ">); it needs " +
                       plural(static_cast<std::size_t>(missing), "sign-off") +
                       " before the phase can be left.";
    if (!it.state_note.empty()) {
        body += "\n>" + user_text(it.state_note, 1000);
    }
    body += "\nTo sign it off: `Approve` below, or `/release approve " + it.ref() + "` in <#" +
            r.channel + ">.";
    message m;
    m.text = std::string(again ? "Reminder: sign-off" : "Sign-off") + " wanted on " + it.ref() +
             " " + escape_mrkdwn(it.title) + " in release " + escape_mrkdwn(r.version);
    m.blocks.push_back(section_block(body));
    if (r.id != 0 && it.id != 0) {
        m.blocks.push_back(item_actions_block(it.id, approver_item_controls(r.id, it.id)));
    }
    return m;
}

message render_sign_off_escalation(const checklist::release& r,
                                   const checklist::item& it,
                                   const std::string& asked) {
    auto missing = checklist::sign_offs_missing(it);
    std::string body = ":rotating_light: " + it.label() + " in release *" +
                       escape_mrkdwn(r.version) + "* (<#" + r.channel + ">) still needs " +
                       plural(static_cast<std::size_t>(missing), "sign-off") + "; " +
                       mention(asked) + " was asked and reminded, and the phase cannot be left " +
                       "without it.";
    const auto& role = it.policy.sign_off->role;
    body += role.empty() ? "\nYou can sign it off: `/release approve " + it.ref() + "`."
                         : "\nSomeone else can hold the " + escape_mrkdwn(role) +
                               " role: `/release role " + escape_mrkdwn(role) + " @person`.";
    message m;
    m.text = "Sign-off still missing on " + it.ref() + " " + escape_mrkdwn(it.title) +
             " in release " + escape_mrkdwn(r.version);
    m.blocks.push_back(section_block(body));
    return m;
}

message render_reminder(const std::vector<checklist::reminder_candidate>& items) {
    auto m =
        overdue_message(items, false,
                        ":bell: Reminder: " + plural(items.size(), "item is", "items are") +
                            " overdue and still open",
                        ":bell: *Reminder:* " +
                            std::string(items.size() == 1 ? "this item is" : "these items are") +
                            " overdue and still open:",
                        1);
    m.blocks.push_back(
        context_block("Done? `/release check <item> [note]` in the release channel. Blocked? "
                      "`/release block <item> <reason>`."));
    return m;
}

message render_escalation(const std::vector<checklist::reminder_candidate>& items) {
    return overdue_message(
        items, true,
        ":rotating_light: " + plural(items.size(), "overdue item", "overdue items") +
            " did not move after reminders",
        ":rotating_light: *Overdue after reminders:* the owners were reminded and nothing changed:",
        0);
}

message render_owner_items(const checklist::release& r,
                           const std::vector<const checklist::item*>& items,
                           const std::string& heading) {
    std::vector<item_entry> entries;
    for (const auto* i : items) {
        bool controlled = r.id != 0 && i->id != 0 && is_unsettled(*i);
        entries.push_back(
            {item_line(*i), i->id,
             controlled ? owner_item_controls(r.id, i->id) : std::vector<item_control>{}});
    }
    message m;
    m.text = checklist::truncate_utf8(heading, max_fallback_text);
    m.blocks.push_back(section_block(heading));
    append_items(m.blocks, entries, 1, 300);
    m.blocks.push_back(context_block("Release *" + escape_mrkdwn(r.version) + "* in <#" +
                                     r.channel +
                                     ">: `/release check <item> [note]` when one is done."));
    return m;
}

message render_handoff(const checklist::release& r,
                       const std::vector<checklist::audit_entry>& audit,
                       const std::string& actor) {
    auto facts = collect_facts(r, audit);
    message m;
    m.text = ":handshake: Handoff for release " + escape_mrkdwn(r.version) + " to " +
             mention(r.oncall) + (r.pm.empty() ? "" : " and " + mention(r.pm));
    m.blocks.push_back(header_block("Handoff: release " + r.version));
    m.blocks.push_back(
        section_block(":handshake: " + mention(actor) + " hands release *" +
                      escape_mrkdwn(r.version) + "* over to " + mention(r.oncall) + " (on call)" +
                      (r.pm.empty() ? std::string() : " and " + mention(r.pm) + " (product)") +
                      ".\n" + summary_line(r)));
    append_lines(m.blocks, handoff_lines(r, facts), 2);  // room for the context and a button
    m.blocks.push_back(context_block("On call: accept with `/release accept` in <#" + r.channel +
                                     "> to take over " + handoff_takes(r) +
                                     ". `/release report` has the full timeline."));
    return m;
}

message render_handoff_dm(const checklist::release& r, message briefing) {
    auto m = std::move(briefing);
    if (r.id != 0) {
        controls::target t{r.id, 0, 0, controls::snooze_for::none};
        m.blocks.push_back(release_actions_block(
            r.id, nlohmann::json::array({button(controls::action::handoff_accept, 0,
                                                controls::label_accept, t, "primary")})));
    }
    return m;
}

message render_handoff_pending(const checklist::release& r) {
    return render_text(":hourglass: The handoff of release *" + escape_mrkdwn(r.version) + "* to " +
                       mention(r.oncall) + " has not been accepted yet (<#" + r.channel +
                       ">, `/release accept`).");
}

}  // namespace relbot::commands
