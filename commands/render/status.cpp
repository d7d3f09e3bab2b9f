// The command list, the list of releases and the status view.
#include "commands/render/status.hpp"

#include "checklist/mrkdwn.hpp"
#include "checklist/rules.hpp"
#include "commands/parse.hpp"
#include "commands/render/checkpoints.hpp"
#include "commands/render/controls.hpp"
#include "commands/render/wording.hpp"

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;
using checklist::plural;

std::string phase_line(const checklist::release& r, const checklist::phase& p) {
    auto settled = p.settled_count();
    auto total = static_cast<int>(p.items.size());
    bool ended = r.status != checklist::release_status::active;
    bool current = !ended && p.position == r.current_phase;
    std::string icon = p.position < r.current_phase || (settled == total && !current)
                           ? ":white_check_mark:"
                       : current ? ":arrow_forward:"
                                 : ":white_large_square:";
    std::string title = std::to_string(p.position) + ". " + escape_mrkdwn(p.title) + " — " +
                        std::to_string(settled) + "/" + std::to_string(total);
    if (p.left_by_force) {
        // Not complete: moved on from (or finished in) with items open or its window unmet.
        return ":fast_forward: " + title + ", left by force";
    }
    if (ended && p.position == r.current_phase && settled < total) {
        return ":x: " + title + ", where the release was aborted";
    }
    return icon + " " + (current ? "*" + title + "*  ← current" : title);
}

// "finished" or "aborted" for a release that has ended; empty while it runs.
std::string outcome_word(const checklist::release& r) {
    return r.status == checklist::release_status::active ? std::string()
                                                         : std::string(to_string(r.status));
}

// The heading line of the current (or, once ended, the last) phase.
std::string phase_heading(const checklist::release& r, bool ended) {
    const auto& cur = r.current();
    return "*" + std::string(ended ? "Last phase, " : "Phase ") + std::to_string(cur.position) +
           " of " + std::to_string(r.phases.size()) + ": " + escape_mrkdwn(cur.title) + "*";
}

// The heading line and the lines of the current (or, once ended, the last) phase's items.
std::vector<std::string> current_phase_lines(const checklist::release& r, bool ended) {
    std::vector<std::string> items{phase_heading(r, ended)};
    for (const auto& i : r.current().items) {
        items.push_back(item_line(i));
    }
    return items;
}

// Next phase (or Finish in the last phase) and Remind owners.
nlohmann::json release_buttons(const checklist::release& r) {
    controls::target t{r.id, 0, 0, controls::snooze_for::none};
    bool last = static_cast<std::size_t>(r.current_phase) >= r.phases.size();
    controls::target moving_on = t;  // Next phase and Finish act on the phase they were drawn in
    moving_on.phase = r.current().position;
    return nlohmann::json::array(
        {last ? button(controls::action::release_finish, 0, controls::label_finish, moving_on,
                       "primary")
              : button(controls::action::phase_next, 0, controls::label_next, moving_on, "primary"),
         button(controls::action::remind_owners, 0, controls::label_remind, t)});
}

// An active release's current phase: each item with its controls (open and blocked items of a
// stored release), then the release-wide controls.
void append_current_phase(nlohmann::json& blocks, const checklist::release& r) {
    blocks.push_back(section_block(phase_heading(r, false)));
    std::vector<item_entry> entries;
    for (const auto& i : r.current().items) {
        bool controlled = r.id != 0 && i.id != 0 &&
                          (is_unsettled(i) || (i.state == checklist::item_state::done &&
                                               checklist::sign_offs_missing(i) > 0));
        entries.push_back(
            {item_line(i), i.id,
             controlled ? status_item_controls(r.id, i) : std::vector<item_control>{}});
    }
    append_items(blocks, entries, r.id != 0 ? 1 : 0, 100);
    if (r.id != 0) {
        blocks.push_back(release_actions_block(r.id, release_buttons(r)));
    }
}

// One release of the list: where it is, who runs it, when it started and ended.
std::string release_summary_line(const checklist::release_summary& s) {
    bool active = s.status == checklist::release_status::active;
    std::string line = (active ? ":arrow_forward: *" : "• *") + escape_mrkdwn(s.version) + "* — ";
    if (active) {
        line += "phase " + std::to_string(s.current_phase) + " of " +
                std::to_string(s.phase_count) + " (" + escape_mrkdwn(s.current_phase_title) + ")";
    } else {
        line += std::string(checklist::to_string(s.status));
    }
    line +=
        " · manager " + mention(s.manager) + " · started " + checklist::date_token(s.started_at);
    if (s.ended_at) {
        line += " · ended " + checklist::date_token(*s.ended_at);
    }
    return line;
}

}  // namespace

message render_help() {
    std::vector<std::string> lines;
    for (const auto& entry : command_table()) {
        lines.push_back("`/release " + std::string(entry.usage) + "`  " +
                        std::string(entry.summary));
    }
    message m;
    m.text = "relbot commands:";
    m.blocks.push_back(section_block("*relbot* runs your release checklist in this channel."));
    append_lines(m.blocks, lines, 0);
    for (const auto& l : lines) {
        m.text += "\n" + l;
    }
    m.text = checklist::truncate_utf8(m.text, max_fallback_text);
    return m;
}

message render_status(const checklist::release& r, const deployment_outlook& outlook) {
    const auto& cur = r.current();
    int settled_total = 0;
    for (const auto& p : r.phases) {
        settled_total += p.settled_count();
    }
    auto version = escape_mrkdwn(r.version);
    auto summary = plural(r.phases.size(), "phase") + " · " + plural(r.item_count(), "item") +
                   " · " + std::to_string(settled_total) + " done or skipped";

    // A release that has ended says so first; its phases show no "current" any more.
    auto outcome = outcome_word(r);
    std::string ended;  // the outcome, with when
    if (!outcome.empty()) {
        ended = outcome + (r.ended_at ? " " + checklist::date_token(*r.ended_at) : std::string());
    }

    message m;
    m.blocks.push_back(
        header_block("Release " + r.version + (outcome.empty() ? "" : " — " + outcome)));
    m.blocks.push_back(context_block("Release manager " + mention(r.manager, "_unowned_") +
                                     " · started " + checklist::date_token(r.started_at) +
                                     (ended.empty() ? "" : " · " + ended) + " · template `" +
                                     escape_mrkdwn(r.template_name) + "` · " + summary));
    std::vector<std::string> phases;
    for (const auto& p : r.phases) {
        phases.push_back(phase_line(r, p));
    }
    if (auto hold = checkpoint_hold_line(r); !hold.empty() && ended.empty()) {
        phases.push_back(hold);  // an Investigating answer holds the monitoring phase
    }
    if (auto next = next_checkpoint_line(r); !next.empty() && ended.empty()) {
        phases.push_back(next);
    }
    // Roles the template's items or sign-offs name that nobody holds.
    if (auto unheld = checklist::unheld_roles(r); !unheld.empty() && ended.empty()) {
        std::string names;
        for (const auto& role : unheld) {
            names += (names.empty() ? "" : ", ") + escape_mrkdwn(role);
        }
        phases.push_back(":busts_in_silhouette: Nobody holds the role" +
                         std::string(unheld.size() == 1 ? " " : "s ") + names +
                         ": `/release role <name> @person`");
    }
    if (outlook.frozen && ended.empty()) {
        phases.push_back(":snowflake: Deployments are frozen until " +
                         checklist::date_token(outlook.frozen->until) + " (" +
                         escape_mrkdwn(outlook.frozen->reason) +
                         "): the deployment phase waits; `/release next force <reason>` passes "
                         "the freeze.");
    }
    if (!outlook.waiting_for_version.empty() && ended.empty()) {
        phases.push_back(":hourglass_flowing_sand: The deployment phase is waiting for *" +
                         escape_mrkdwn(outlook.waiting_for_version) + "* in <#" +
                         outlook.waiting_for_channel +
                         ">, which is deploying: one release deploys at a time.");
    }
    append_lines(m.blocks, phases, 5);
    m.blocks.push_back(divider_block());
    if (ended.empty()) {
        append_current_phase(m.blocks, r);
    } else {
        append_lines(m.blocks, current_phase_lines(r, true), 0);  // no controls any more
    }

    m.text = ended.empty() ? "Release " + version + " — phase " + std::to_string(cur.position) +
                                 " of " + std::to_string(r.phases.size()) + ": " +
                                 escape_mrkdwn(cur.title) + " (" + summary + ")"
                           : "Release " + version + " " + ended + " (" + summary + ")";
    for (const auto& p : phases) {
        m.text += "\n" + p;
    }
    m.text = checklist::truncate_utf8(m.text, max_fallback_text);
    return m;
}

message render_list(const std::vector<checklist::release_summary>& releases) {
    if (releases.empty()) {
        return render_text(
            "No releases in this channel yet. Start one with `/release start <version>`.");
    }
    std::vector<std::string> lines;
    for (const auto& s : releases) {
        lines.push_back(release_summary_line(s));
    }
    message m;
    m.text = "Releases in this channel: " + std::to_string(releases.size());
    m.blocks.push_back(section_block("*Releases in this channel* (newest first)"));
    append_lines(m.blocks, lines, 0);
    return m;
}

}  // namespace relbot::commands
