// The report's facts and the report itself, for Slack and as markdown.
#include "commands/render/report.hpp"

#include <map>

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "checklist/rules.hpp"
#include "commands/render/checkpoints.hpp"
#include "commands/render/files.hpp"
#include "commands/render/wording.hpp"

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;
using checklist::plural;
using nlohmann::json;

// How the report's facts are worded: for Slack (mrkdwn, user text escaped, people as mentions
// Slack renders) or as markdown read outside Slack (user text on one line, people by name).
struct style {
    bool markdown = false;
    const user_names* names = nullptr;  // markdown only
    bool whole = false;                 // markdown only: user text is never shortened
};

const style slack_style{};

std::string person(const style& st, std::string_view user) {
    if (!st.markdown) {
        return mention(user);
    }
    if (auto tool = signal_source(user)) {
        return signal_actor_name(*tool);
    }
    return user.empty() ? std::string("someone") : "@" + display_name(user, st.names);
}

// User text: escaped for Slack, or on one line for markdown.
std::string say(const style& st, std::string_view text, std::size_t max = 500) {
    if (st.markdown && st.whole) {
        return checklist::one_line(text);
    }
    return st.markdown ? checklist::one_line(checklist::truncate_utf8(text, max))
                       : user_text(text, max);
}

std::string strong(const style& st, const std::string& text) {
    return st.markdown ? "**" + text + "**" : "*" + text + "*";
}

std::string when(const style& st, checklist::epoch_seconds at) {
    return st.markdown ? checklist::format_utc(at) : checklist::date_token(at);
}

std::string item_name(const style& st, const checklist::item* it) {
    if (it == nullptr) {
        return "an item";
    }
    return st.markdown ? it->ref() + " **" + checklist::one_line(it->title) + "**" : it->label();
}

// A start's note ("template standard, roles oncall=U1 pm=U2, owners of …") with each role's
// person named as everyone else in the report is, not by their Slack ID.
std::string started_note(const style& st, const std::string& note) {
    constexpr std::string_view marker = ", roles ";
    auto at = note.find(marker);
    if (at == std::string::npos) {
        return say(st, note);
    }
    auto from = at + marker.size();
    auto end = note.find(", ", from);
    auto written = std::string_view(note).substr(
        from, end == std::string::npos ? std::string_view::npos : end - from);
    std::string roles;
    for (const auto& [role, user] : checklist::read_roles(written)) {
        roles += (roles.empty() ? "" : ", ") + say(st, role) + " " + person(st, user);
    }
    return say(st, note.substr(0, at)) + ", roles " + roles +
           (end == std::string::npos ? std::string() : say(st, note.substr(end)));
}

std::string describe_event(const checklist::release& r,
                           const checklist::audit_entry& e,
                           const style& st) {
    auto name = item_name(st, find_item(r, e.item_id));
    auto note = e.note.empty() ? std::string() : " — " + say(st, e.note, 300);
    const auto& a = e.action;
    if (a == "release.started")
        return "started the release (" + started_note(st, e.note) + ")";
    if (a == "phase.entered")
        return "entered phase " + strong(st, say(st, e.to_state));
    if (a == "phase.completed")
        return "completed phase " + strong(st, say(st, e.to_state));
    if (a == "phase.forced")
        return "forced the move from " + strong(st, say(st, e.from_state)) + " to " +
               strong(st, say(st, e.to_state)) + note;
    if (a == "item.checked")
        return "checked " + name + note;
    if (a == "item.unchecked")
        return "unchecked " + name + " (was " + say(st, e.from_state) + ")";
    if (a == "item.skipped")
        return "skipped " + name + note;
    if (a == "item.blocked")
        return "blocked " + name + note;
    if (a == "item.unblocked")
        return "unblocked " + name + note;
    if (a == "item.assigned")
        return "assigned " + name + " to " + person(st, e.to_state) + note;
    if (a == "item.noted")
        return "noted on " + name + note;
    if (a == "release.rollback")
        return "decided to roll back" + note;
    if (a == "release.handoff")
        return "handed off to " + person(st, e.to_state) +
               (e.note.size() <= 3 ? "" : " and " + person(st, e.note.substr(3)));
    if (a == "release.manager_changed")
        return "made " + person(st, e.to_state) + " release manager (was " +
               person(st, e.from_state) + ")";
    if (a == "release.handoff_accepted")
        return "accepted the handoff";
    if (a == "release.forced_finish")
        return "finished the release by force" + note;
    if (a == "release.finished")
        return "finished the release";
    if (a == "release.aborted")
        return "aborted the release" + note;
    if (a == "remind.requested")
        return "asked for reminders" + note;
    if (a == "checkpoint.answered")
        return "answered monitoring " + say(st, e.note);
    if (a == "item.snoozed")
        return "snoozed the reminders of " + name + " " + say(st, e.to_state);
    if (a == "release.deployed")
        return "reported the deployment" + note;
    if (a == "item.approved")
        return "signed off " + name + " (" + say(st, e.note) + ")";
    if (a == "release.role")
        return "gave the " + strong(st, say(st, e.note)) + " role to " + person(st, e.to_state) +
               (e.from_state.empty() ? std::string() : " (was " + person(st, e.from_state) + ")");
    return say(st, a) + note;
}

// An item's blocker while it lasts: since when, who reported it, and every reason given.
struct open_block {
    checklist::epoch_seconds since;
    std::string by;
    std::string reasons;
};
using open_blocks = std::map<std::int64_t, open_block>;
// Facts about an item that hold only while it stays in its state (a skip and its reason, a
// check and its evidence), in the order they were made: item id, line.
using standing = std::vector<std::pair<std::int64_t, std::string>>;
struct standing_facts {
    standing skips;
    standing evidence;
};

// What ended a blocker: a skip, or else its clearing (`unblock`, or a check, which records
// the block cleared first).
std::string_view block_ended_by(const std::string& action) {
    return action == "item.skipped" ? "skipped" : "cleared";
}

// Adds what `e` tells to the facts other than the timeline; blockers are told once they end
// (unblocked, checked, or skipped while blocked), skips and evidence while they stand.
void add_fact(report_facts& f,
              open_blocks& blocked,
              standing_facts& held,
              const checklist::release& r,
              const checklist::audit_entry& e,
              const style& st) {
    auto name = item_name(st, find_item(r, e.item_id));
    if (e.item_id && e.from_state == "blocked" && e.to_state != "blocked") {
        if (auto b = blocked.find(*e.item_id); b != blocked.end()) {
            f.blockers.push_back(name + " — blocked by " + person(st, b->second.by) + " " +
                                 when(st, b->second.since) + ": " + b->second.reasons + " · " +
                                 std::string(block_ended_by(e.action)) + " by " +
                                 person(st, e.actor) + " after " +
                                 human_duration(e.at - b->second.since));
            blocked.erase(b);
        }
    }
    auto forget = [&e](standing& facts) {
        std::erase_if(facts, [&e](const auto& f) { return f.first == *e.item_id; });
    };
    if (e.item_id && e.from_state == "skipped" && e.to_state != "skipped") {
        forget(held.skips);
    }
    if (e.item_id && e.from_state == "done" && e.to_state != "done") {
        forget(held.evidence);  // unchecked: the evidence was for a check that no longer holds
    }
    if (e.action == "item.blocked" && e.item_id) {
        auto& b = blocked[*e.item_id];
        if (e.from_state != "blocked") {
            b = {e.at, e.actor, say(st, e.note, 300)};
        } else {
            b.reasons += "; then: " + say(st, e.note, 300);
        }
    } else if (e.action == "item.skipped" && e.item_id) {
        held.skips.emplace_back(*e.item_id, name + " — " + say(st, e.note, 300) + " (" +
                                                person(st, e.actor) + ", " + when(st, e.at) + ")");
    } else if (e.action == "phase.forced" || e.action == "release.forced_finish") {
        f.forced.push_back(when(st, e.at) + " " + person(st, e.actor) + ": " +
                           describe_event(r, e, st));
    } else if (e.action == "release.rollback") {
        f.rollbacks.push_back(when(st, e.at) + " " + person(st, e.actor) + ": " +
                              say(st, e.note, 1000));
    } else if (e.action == "item.noted") {
        f.notes.push_back(name + ": " + say(st, e.note, 300) + " (" + person(st, e.actor) + ")");
    } else if (e.action == "item.checked" && !e.note.empty() && e.item_id) {
        held.evidence.emplace_back(
            *e.item_id, name + ": " + say(st, e.note, 500) + " (" + person(st, e.actor) + ")");
    }
}

// One line per monitoring checkpoint with its answer (who and when), "no answer", or that it
// was not posted.
std::vector<std::string> checkpoint_lines(const checklist::release& r, const style& st) {
    std::vector<std::string> lines;
    for (const auto& c : r.checkpoints) {
        lines.push_back(checkpoint_report_line(c, person(st, c.answered_by),
                                               r.status != checklist::release_status::active));
    }
    return lines;
}

report_facts facts_in_style(const checklist::release& r,
                            const std::vector<checklist::audit_entry>& audit,
                            const style& st,
                            timeline_rows rows) {
    report_facts f;
    open_blocks blocked;
    standing_facts held;
    for (const auto& e : audit) {
        if (rows == timeline_rows::written) {
            f.timeline.push_back("`" + checklist::format_utc(e.at).substr(0, 16) + "` " +
                                 person(st, e.actor) + " " + describe_event(r, e, st));
        }
        add_fact(f, blocked, held, r, e, st);
    }
    for (auto& [id, line] : held.skips) {
        f.skips.push_back(std::move(line));
    }
    for (auto& [id, line] : held.evidence) {
        f.evidence.push_back(std::move(line));
    }
    for (const auto& [id, b] : blocked) {
        f.blockers.push_back(item_name(st, find_item(r, id)) + " — blocked by " + person(st, b.by) +
                             " " + when(st, b.since) + ": " + b.reasons + " · " +
                             strong(st, "still blocked"));
    }
    // Release policy: who vouched for each checked item that needs CI or sign-offs.
    for (const auto& p : r.phases) {
        for (const auto& i : p.items) {
            if (i.state != checklist::item_state::done ||
                (!i.policy.auto_ci && !i.policy.sign_off)) {
                continue;
            }
            std::string line = item_name(st, &i) + " — ";
            if (signal_source(i.state_by)) {
                line += "verified by " + person(st, i.state_by);
            } else {
                line += "attested by " + person(st, i.state_by);
                if (i.forced) {
                    line += " (forced: " + say(st, i.state_note, 300) + ")";
                }
            }
            for (std::size_t k = 0; k < i.approvals.size(); ++k) {
                line += (k == 0 ? " · signed off by " : ", ") + person(st, i.approvals[k].user) +
                        " " + when(st, i.approvals[k].at);
            }
            if (auto missing = checklist::sign_offs_missing(i); missing > 0) {
                line += " · awaiting " +
                        checklist::plural(static_cast<std::size_t>(missing), "sign-off");
            }
            f.verification.push_back(std::move(line));
        }
    }
    return f;
}

}  // namespace

report_facts collect_facts(const checklist::release& r,
                           const std::vector<checklist::audit_entry>& audit,
                           timeline_rows rows) {
    return facts_in_style(r, audit, slack_style, rows);
}

std::vector<message> render_report(const checklist::release& r,
                                   const std::vector<checklist::audit_entry>& audit,
                                   std::size_t max_pages) {
    auto facts = collect_facts(r, audit, timeline_rows::written);
    json head = json::array();
    head.push_back(header_block("Report: release " + r.version));
    head.push_back(context_block(summary_line(r)));
    std::vector<std::string> lines;
    lines.push_back("*Phases*");
    for (const auto& p : r.phases) {
        lines.push_back(std::to_string(p.position) + ". " + escape_mrkdwn(p.title) + " — " +
                        std::to_string(p.settled_count()) + "/" + std::to_string(p.items.size()) +
                        " done or skipped · " + phase_timing(r, p) +
                        (p.left_by_force ? " · left by force" : ""));
    }
    add_list(lines, "Blockers", facts.blockers);
    add_list(lines, "Skipped", facts.skips);
    add_list(lines, "Forced moves", facts.forced);
    add_list(lines, "Rollback decisions", facts.rollbacks);
    if (!r.checkpoints.empty()) {
        add_list(lines, "Monitoring checkpoints", checkpoint_lines(r, slack_style));
    }
    add_list(lines, "Evidence", facts.evidence);
    if (!facts.verification.empty()) {
        add_list(lines, "Verification", facts.verification);
    }
    lines.push_back("*Timeline* (UTC)");
    for (auto& t : facts.timeline) {
        lines.push_back(std::move(t));
    }
    return paginate("Report for release " + escape_mrkdwn(r.version), head, lines, max_pages,
                    ":scissors: The report continues in `" + report_file_name(r.version) +
                        "`, which I've sent to your DM: it is longer than Slack allows in " +
                        plural(max_pages, "message") + ".");
}

std::string display_name(std::string_view user, const user_names* names) {
    if (names != nullptr) {
        if (auto it = names->find(std::string(user)); it != names->end() && !it->second.empty()) {
            return checklist::one_line(checklist::truncate_utf8(it->second, 80));
        }
    }
    return checklist::one_line(user);
}

namespace {

// "- [x] **Title**: description — what happened", in a form parse_template reads back with
// the same title, whatever the description and `status` hold (they are on one line already).
std::string markdown_item(const checklist::item& i, const std::string& status) {
    auto title = checklist::one_line(i.title);
    auto rest = checklist::one_line(i.description);
    if (!status.empty()) {
        rest = rest.empty() ? status : rest + " — " + status;
    }
    // Only the item's own annotation opens a comment: what people typed ("<!-- owner: x -->"
    // in a note) must not read back as one.
    for (std::size_t at; (at = rest.find("<!--")) != std::string::npos;) {
        rest.replace(at, 4, "< !--");
    }
    if (auto annotation = checklist::write_annotation(i.policy); !annotation.empty()) {
        rest = rest.empty() ? annotation : rest + " " + annotation;
    }
    // Checked but still awaiting a sign-off is not done yet: its box stays empty.
    bool done = i.state == checklist::item_state::done && checklist::sign_offs_missing(i) == 0;
    std::string line = std::string("- [") + (done ? "x" : " ") + "] ";
    if (!title.empty() && title.back() == ':') {
        // "**Title::**": the parser takes one colon inside the bold as the separator.
        return line + "**" + title + ":**" + (rest.empty() ? "" : " " + rest);
    }
    // "**Title* **": a title ending in a star keeps it (the parser closes at the first "**").
    const char* close = !title.empty() && title.back() == '*' ? " **" : "**";
    return line + "**" + title + close + (rest.empty() ? "" : ": " + rest);
}

void markdown_list(std::string& md,
                   const std::string& title,
                   const std::vector<std::string>& items) {
    md += "\n### " + title + "\n\n";
    if (items.empty()) {
        md += "None.\n";
    }
    for (const auto& i : items) {
        md += "- " + i + "\n";
    }
}

// The last check, skip, block or uncheck of each item, by item ID.
using last_changes = std::map<std::int64_t, const checklist::audit_entry*>;

last_changes last_change_of_items(const std::vector<checklist::audit_entry>& audit) {
    last_changes last;
    for (const auto& e : audit) {
        if (e.item_id && (e.action == "item.checked" || e.action == "item.skipped" ||
                          e.action == "item.blocked" || e.action == "item.unchecked")) {
            last[*e.item_id] = &e;
        }
    }
    return last;
}

// What happened to an item, who did it and when, or who owns it while it is open.
std::string item_status(const checklist::item& i, const last_changes& last, const style& st) {
    std::string status;
    auto it = last.find(i.id);
    if (it != last.end() && i.state != checklist::item_state::open) {
        const auto& e = *it->second;
        status = std::string(checklist::to_string(i.state)) + " by " + person(st, e.actor) + " " +
                 checklist::format_utc(e.at);
        if (!e.note.empty()) {
            status += " (" + say(st, e.note, 300) + ")";
        }
        if (auto missing = checklist::sign_offs_missing(i);
            missing > 0 && i.state == checklist::item_state::done) {
            status += ", awaiting " + plural(static_cast<std::size_t>(missing), "sign-off");
        }
    } else if (!i.owner.empty()) {
        status = "open, owner " + person(st, i.owner);
    }
    return status;
}

}  // namespace

std::string report_markdown(const checklist::release& r,
                            const std::vector<checklist::audit_entry>& audit,
                            const user_names& names,
                            const std::vector<checklist::freeze_window>& freezes) {
    const style st{true, &names, true};
    auto last = last_change_of_items(audit);
    // The timeline goes under what it is about: an item's rows under the item, the rest under
    // the phase the release was in (indented list lines, which a template ignores).
    std::map<std::int64_t, std::vector<const checklist::audit_entry*>> by_item;
    std::vector<std::vector<const checklist::audit_entry*>> by_phase(r.phases.size());
    std::size_t phase_now = 0;
    for (const auto& e : audit) {
        if (e.action == "phase.entered" && !e.from_state.empty() &&
            phase_now + 1 < r.phases.size()) {
            ++phase_now;
        }
        if (e.item_id && find_item(r, e.item_id) != nullptr) {
            by_item[*e.item_id].push_back(&e);
        } else if (!by_phase.empty()) {
            by_phase[phase_now].push_back(&e);
        }
    }
    // A row's time as the contract shows it ("14:02 UTC") on the day the release started (the
    // heading gives that date), with its date on any other day ("2026-12-02 09:15 UTC").
    auto day_of = [](const std::string& utc) { return utc.substr(0, utc.find(' ')); };
    const auto start_day = day_of(checklist::format_utc(r.started_at));
    auto row_time = [&](checklist::epoch_seconds at) {
        auto full = checklist::format_utc(at);
        return day_of(full) == start_day ? full.substr(start_day.size() + 1) : full;
    };
    auto timeline_lines = [&](const std::vector<const checklist::audit_entry*>& rows) {
        std::string out;
        for (const auto* e : rows) {
            out += "  - " + row_time(e->at) + " " + person(st, e->actor) + ": " +
                   describe_event(r, *e, st) + "\n";
        }
        return out;
    };
    // Every piece of user text below is on one line and follows text of ours on that line:
    // pasted back as a template, the export has exactly the release's phases and items.
    std::string md = "# Release " + say(st, r.version, 200) + "\n\n";
    md += "Release manager: " + person(st, r.manager) +
          " · template: " + say(st, r.template_name, 200) + " · started " +
          checklist::format_utc(r.started_at);
    if (r.ended_at) {
        md += " · " + status_word(r) + " " + checklist::format_utc(*r.ended_at);
    }
    md += "\n";
    for (std::size_t k = 0; k < r.phases.size(); ++k) {
        const auto& p = r.phases[k];
        md += "\n## " + checklist::one_line(p.title) + "\n\n";
        md += timeline_lines(by_phase[k]);
        for (const auto& i : p.items) {
            md += markdown_item(i, item_status(i, last, st)) + "\n";
            if (auto rows = by_item.find(i.id); rows != by_item.end() && i.id != 0) {
                md += timeline_lines(rows->second);
            }
        }
    }
    if (!freezes.empty()) {
        md += "\n## Freeze\n\n";
        for (const auto& w : freezes) {
            md += "- " + checklist::one_line(w.text) + "\n";
        }
    }
    // The timeline rows are written above, under their items and phases.
    auto facts = facts_in_style(r, audit, st, timeline_rows::left_out);
    md += "\n---\n";
    markdown_list(md, "Blockers", facts.blockers);
    markdown_list(md, "Skipped", facts.skips);
    markdown_list(md, "Forced moves", facts.forced);
    markdown_list(md, "Rollback decisions", facts.rollbacks);
    if (!r.checkpoints.empty()) {
        markdown_list(md, "Monitoring checkpoints", checkpoint_lines(r, st));
    }
    if (!facts.verification.empty()) {
        markdown_list(md, "Verification", facts.verification);
    }
    return md;  // the notes and the rest of the timeline are under their items and phases
}

namespace {

// A line as it goes inside a code block: escaped for mrkdwn, and with no "```" of a user's
// that would end the block early (a zero-width space goes between the backticks).
std::string code_line(std::string line) {
    for (std::size_t at; (at = line.find("```")) != std::string::npos;) {
        line.replace(at, 3, "``\xE2\x80\x8B`");
    }
    auto escaped = escape_mrkdwn(checklist::truncate_utf8(line, 1000));
    return escaped.size() < 2900 ? escaped : escape_mrkdwn(checklist::truncate_utf8(line, 500));
}

// The markdown as code lines in parts that each start at a phase heading (or a section after
// the checklist), so that a code block ends between two phases and never inside a list.
std::vector<std::string> markdown_parts(const std::string& md) {
    std::vector<std::string> parts;
    std::size_t pos = 0;
    while (pos < md.size()) {
        auto end = md.find('\n', pos);
        auto line = md.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        pos = end == std::string::npos ? md.size() : end + 1;
        if (parts.empty() || line.starts_with("## ") || line.starts_with("### ") || line == "---") {
            parts.emplace_back();
        }
        parts.back() += code_line(line) + "\n";
    }
    return parts;
}

// Code blocks of whole parts, each within a section's limit (the fences included); only a part
// too long for one block on its own is split, between whole lines.
std::vector<std::string> code_blocks(const std::vector<std::string>& parts) {
    constexpr std::size_t room = max_section_text - 6;
    std::vector<std::string> chunks;
    std::string current;
    auto flush = [&] {
        if (!current.empty()) {
            chunks.push_back("```" + current + "```");
            current.clear();
        }
    };
    for (const auto& part : parts) {
        if (current.size() + part.size() <= room) {
            current += part;
            continue;
        }
        flush();
        if (part.size() <= room) {
            current = part;
            continue;
        }
        for (std::size_t at = 0; at < part.size();) {
            auto nl = part.find('\n', at);
            auto line = part.substr(at, nl - at + 1);
            at = nl + 1;
            if (current.size() + line.size() > room) {
                flush();
            }
            current += line;
        }
    }
    flush();
    return chunks;
}

// One section per code block; a message holds as many as Block Kit allows, and after
// `max_pages` messages the last ends with a note that the markdown is cut.
std::vector<message> code_block_pages(const checklist::release& r,
                                      const std::vector<std::string>& chunks,
                                      std::size_t max_pages) {
    std::vector<message> pages;
    message page;
    std::size_t used = 0;
    for (const auto& c : chunks) {
        if (!page.blocks.empty() && (used + c.size() > max_total_block_text - reserved_text ||
                                     page.blocks.size() + 2 >= max_blocks)) {
            pages.push_back(std::move(page));
            page = message{};
            used = 0;
            if (pages.size() == max_pages) {
                pages.back().blocks.push_back(context_block(
                    ":scissors: The markdown continues in `" + report_file_name(r.version) +
                    "`, which I've sent to your DM: it is longer than Slack allows "
                    "in " +
                    plural(max_pages, "message") + "."));
                pages.back().cut_short = true;
                return pages;
            }
        }
        page.text = "Release " + escape_mrkdwn(r.version) + " checklist (markdown)" +
                    (pages.empty() ? "" : " (continued)");
        page.blocks.push_back(section_block(c));
        used += c.size();
    }
    if (!page.blocks.empty()) {
        pages.push_back(std::move(page));
    }
    return pages;
}

}  // namespace

std::vector<message> render_report_markdown(const checklist::release& r,
                                            const std::vector<checklist::audit_entry>& audit,
                                            std::size_t max_pages,
                                            const user_names& names,
                                            const std::vector<checklist::freeze_window>& freezes) {
    auto md = report_markdown(r, audit, names, freezes);
    return code_block_pages(r, code_blocks(markdown_parts(md)), max_pages);
}

}  // namespace relbot::commands
