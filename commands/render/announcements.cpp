// Channel announcements, window notices and delivery failures.
#include "commands/render/announcements.hpp"

#include "checklist/mrkdwn.hpp"
#include "checklist/rules.hpp"
#include "commands/render/report.hpp"
#include "commands/render/wording.hpp"

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;
using checklist::plural;

// The first line of a phase's announcement, with why the last one was left early and the
// phase's window, if any.
std::string phase_entered_head(const checklist::release& r,
                               const std::string& actor,
                               const std::string& forced_reason) {
    const auto& p = r.current();
    std::string head = ":arrow_forward: *Release " + escape_mrkdwn(r.version) + "* — phase " +
                       std::to_string(p.position) + " of " + std::to_string(r.phases.size()) +
                       ", *" + escape_mrkdwn(p.title) + "*, has begun (moved on by " +
                       mention(actor) + ").";
    if (!forced_reason.empty()) {
        head += "\n:warning: The previous phase was left *by force*: " + user_text(forced_reason);
    }
    if (p.window && p.entered_at) {
        head += "\n:hourglass: This phase runs for at least " +
                human_duration(p.window->min.count()) + ": it can be left after " +
                checklist::date_token(*p.entered_at + p.window->min.count()) +
                ", and its window ends " +
                checklist::date_token(*p.entered_at + p.window->max.count()) + ".";
    }
    return head;
}

// "*Summary:* 3 done · 1 skipped · 2 not done · …" for a release that ended.
std::string ended_summary(const checklist::release& r, const report_facts& facts) {
    int done = 0;
    int awaiting = 0;  // checked, still awaiting a sign-off (a release finished by force)
    int skipped = 0;
    int open = 0;
    for (const auto& p : r.phases) {
        for (const auto& i : p.items) {
            bool checked = i.state == checklist::item_state::done;
            bool signed_off = checklist::sign_offs_missing(i) == 0;
            done += checked && signed_off ? 1 : 0;
            awaiting += checked && !signed_off ? 1 : 0;
            skipped += i.state == checklist::item_state::skipped ? 1 : 0;
            open += is_unsettled(i) ? 1 : 0;
        }
    }
    return "*Summary:* " + std::to_string(done) + " done · " +
           (awaiting > 0 ? std::to_string(awaiting) + " awaiting sign-off · " : std::string()) +
           std::to_string(skipped) + " skipped · " + std::to_string(open) + " not done · " +
           plural(facts.blockers.size(), "blocker") + " · " +
           plural(facts.forced.size(), "forced move") + " · " +
           plural(facts.rollbacks.size(), "rollback decision");
}

// What the release manager can do about a failed post, by Slack's error.
std::string delivery_hint(const std::string& error) {
    if (error == "not_in_channel" || error == "channel_not_found") {
        return "Invite me to the channel (`/invite @relbot` there) so I can post.";
    }
    if (error == "is_archived") {
        return "The channel is archived; unarchive it or run releases in another channel.";
    }
    if (error == "missing_scope") {
        return "The app lacks a permission it needs: reinstall it from deploy/manifest.yml.";
    }
    return "This looks like a problem in relbot itself; its log has the details.";
}

}  // namespace

message render_release_started(const checklist::release& r) {
    const auto& first = r.phases.front();
    auto version = escape_mrkdwn(r.version);
    auto first_title = escape_mrkdwn(first.title);

    message m;
    m.text = ":rocket: Release " + version + " started by " + mention(r.manager, "_unowned_") +
             ". Phase 1 of " + std::to_string(r.phases.size()) + ", " + first_title +
             ", has begun.";
    m.blocks.push_back(section_block(":rocket: *Release " + version + "* started by " +
                                     mention(r.manager, "_unowned_") + " (release manager)."));
    std::vector<std::string> lines;
    lines.push_back("*Phase 1 of " + std::to_string(r.phases.size()) + ": " + first_title +
                    "* has begun — " + plural(first.items.size(), "item") + ":");
    for (const auto& i : first.items) {
        lines.push_back(item_line(i));
    }
    append_lines(m.blocks, lines, 1);
    m.blocks.push_back(context_block(plural(r.phases.size(), "phase") + " · " +
                                     plural(r.item_count(), "item") + " · template `" +
                                     escape_mrkdwn(r.template_name) +
                                     "` · `/release status` shows the checklist"));
    return m;
}

message render_phase_entered(const checklist::release& r,
                             const std::string& actor,
                             const std::string& forced_reason) {
    const auto& p = r.current();
    message m;
    m.text = ":arrow_forward: Release " + escape_mrkdwn(r.version) + ": phase " +
             std::to_string(p.position) + " of " + std::to_string(r.phases.size()) + ", " +
             escape_mrkdwn(p.title) + ", has begun.";
    m.blocks.push_back(section_block(phase_entered_head(r, actor, forced_reason)));
    std::vector<std::string> lines;
    for (const auto& i : p.items) {
        lines.push_back(item_line(i));
    }
    append_lines(m.blocks, lines, 1);
    m.blocks.push_back(context_block(
        "`/release status` shows the checklist · `/release check <item>` marks one done"));
    return m;
}

namespace {

// What a blocker holds back: its phase's end, or nothing more once that phase is over.
std::string blocker_holds(const checklist::release& r, const checklist::item& it) {
    if (it.phase == r.current_phase) {
        return "The phase cannot end until it is cleared";
    }
    if (it.phase > r.current_phase) {
        return "Phase " + std::to_string(it.phase) + " cannot end until it is cleared";
    }
    return "Phase " + std::to_string(it.phase) +
           " is already over, so it holds nothing back; it stays in the report until cleared";
}

}  // namespace

message render_item_blocked(const checklist::release& r,
                            const checklist::item& it,
                            const std::string& actor) {
    message m;
    auto reason = user_text(it.state_note);
    m.text = ":no_entry: Release " + escape_mrkdwn(r.version) + ": " + it.ref() + " " +
             escape_mrkdwn(it.title) + " is blocked: " + reason;
    m.blocks.push_back(section_block(
        ":no_entry: *Blocked* in release *" + escape_mrkdwn(r.version) + "*: " + it.label() +
        "\n>" + reason + "\nReported by " + mention(actor) +
        (it.owner.empty() ? std::string(" · no owner") : " · owner " + mention(it.owner)) + ". " +
        blocker_holds(r, it) + " (`/release unblock " + it.ref() + "` clears it)."));
    return m;
}

message render_rollback(const checklist::release& r,
                        const std::string& actor,
                        const std::string& reason) {
    message m;
    m.text = ":rotating_light: Release " + escape_mrkdwn(r.version) + ": rollback decided by " +
             mention(actor) + ": " + user_text(reason);
    m.blocks.push_back(section_block(":rotating_light: *Rollback decided* for release *" +
                                     escape_mrkdwn(r.version) + "* by " + mention(actor) + ".\n>" +
                                     user_text(reason, 2000)));
    m.blocks.push_back(context_block("Recorded in the timeline and the report."));
    return m;
}

message render_release_ended(const checklist::release& r,
                             const std::vector<checklist::audit_entry>& audit,
                             const std::string& actor,
                             const std::string& reason) {
    auto facts = collect_facts(r, audit);
    bool finished = r.status == checklist::release_status::finished;
    auto icon = finished ? std::string(":checkered_flag:") : std::string(":octagonal_sign:");
    message m;
    m.text = icon + " Release " + escape_mrkdwn(r.version) + " " + status_word(r) + " by " +
             mention(actor);
    std::string head = icon + " *Release " + escape_mrkdwn(r.version) + "* " + status_word(r) +
                       " by " + mention(actor) + ".\n" + summary_line(r);
    if (!reason.empty()) {
        head += "\n>" + user_text(reason, 1000);
    }
    m.blocks.push_back(section_block(head));
    m.blocks.push_back(section_block(ended_summary(r, facts)));
    m.blocks.push_back(context_block(
        "`/release report` has the full report; `/release report markdown` the checklist "
        "for a wiki"));
    return m;
}

message render_folded(const std::vector<std::string>& texts) {
    constexpr std::size_t max_sections = 20;
    constexpr std::size_t max_line = 500;
    message m;
    auto head = ":hourglass_flowing_sand: Slack was slow to take relbot's messages here: " +
                plural(texts.size(), "update") + " in one, oldest first.";
    m.text = head;
    m.blocks.push_back(section_block(head));
    std::string section;
    std::size_t shown = 0;
    for (const auto& t : texts) {
        auto line = "• " + checklist::one_line(checklist::truncate_utf8(t, max_line)) + "\n";
        if (section.size() + line.size() > max_section_text) {
            m.blocks.push_back(section_block(section));
            section.clear();
            if (m.blocks.size() > max_sections) {
                break;  // the head and max_sections sections of lines
            }
        }
        section += line;
        ++shown;
    }
    if (!section.empty()) {
        m.blocks.push_back(section_block(section));
    }
    if (shown < texts.size()) {
        m.blocks.push_back(context_block("…and " + plural(texts.size() - shown, "more update") +
                                         " (the release's report has every change)."));
    }
    return m;
}

message render_handoff_accepted(const checklist::release& r, int items_taken) {
    message m;
    m.text = ":handshake: " + mention(r.oncall) + " accepted the handoff of release " +
             escape_mrkdwn(r.version);
    m.blocks.push_back(section_block(
        ":handshake: " + mention(r.oncall) + " accepted the handoff of release *" +
        escape_mrkdwn(r.version) + "*" +
        (items_taken > 0
             ? " and now owns the " + plural(static_cast<std::size_t>(items_taken), "open item") +
                   " of *" + escape_mrkdwn(r.current().title) + "*."
             : ".")));
    return m;
}

message render_window_open(const checklist::release& r) {
    const auto& p = r.current();
    std::size_t held = 0;
    for (const auto& i : p.items) {
        held += is_unsettled(i) ? 1 : 0;
    }
    return render_text(":hourglass: The minimum window of *" + escape_mrkdwn(p.title) +
                       "* in release *" + escape_mrkdwn(r.version) + "* (<#" + r.channel +
                       ">) has passed: the phase may now be left" +
                       (held == 0 ? " with `/release next`."
                                  : " once its " + plural(held, "open item is", "open items are") +
                                        " done or skipped."));
}

message render_window_over(const checklist::release& r) {
    const auto& p = r.current();
    std::vector<std::string> lines;
    for (const auto& i : p.items) {
        if (is_unsettled(i)) {
            lines.push_back(item_line(i));
        }
    }
    message m;
    m.text = ":alarm_clock: Release " + escape_mrkdwn(r.version) + ": the window of " +
             escape_mrkdwn(p.title) + " is over";
    m.blocks.push_back(section_block(
        ":alarm_clock: The window of *" + escape_mrkdwn(p.title) + "* in release *" +
        escape_mrkdwn(r.version) + "* is over. " +
        (lines.empty() ? std::string("Everything in it is done or skipped.") : "Still open:")));
    append_lines(m.blocks, lines, 0);
    return m;
}

message render_delivery_failure(const checklist::release& r,
                                const std::string& channel,
                                const std::string& error) {
    auto where = channel.starts_with("C") || channel.starts_with("G") ? "<#" + channel + ">"
                                                                      : std::string("a DM");
    message m;
    m.text = ":warning: I could not post a message about release " + escape_mrkdwn(r.version) +
             " in " + where + ": " + escape_mrkdwn(error);
    m.blocks.push_back(section_block(":warning: I could not post a message about release *" +
                                     escape_mrkdwn(r.version) + "* in " + where + ": Slack said `" +
                                     escape_mrkdwn(error) + "`.\n" + delivery_hint(error)));
    return m;
}

}  // namespace relbot::commands
