// Block Kit rendering. User text is escaped here, at the one place it enters a message.
#include "commands/render.hpp"

#include <map>

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "checklist/reminders.hpp"
#include "commands/parse.hpp"

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;
using checklist::plural;
using nlohmann::json;

json section(std::string_view mrkdwn) {
    return {{"type", "section"},
            {"text",
             {{"type", "mrkdwn"}, {"text", checklist::truncate_utf8(mrkdwn, max_section_text)}}}};
}

json header(std::string_view plain) {
    return {{"type", "header"},
            {"text",
             {{"type", "plain_text"},
              {"text", checklist::truncate_utf8(plain, max_header_text)},
              {"emoji", true}}}};
}

json context(std::string_view mrkdwn) {
    return {{"type", "context"},
            {"elements",
             json::array({{{"type", "mrkdwn"},
                           {"text", checklist::truncate_utf8(mrkdwn, max_section_text)}}})}};
}

json divider() {
    return {{"type", "divider"}};
}

// The characters of text held by `blocks` (what Slack's total-text budget counts).
std::size_t block_text_size(const json& blocks) {
    std::size_t n = 0;
    for (const auto& b : blocks) {
        if (auto t = b.find("text"); t != b.end() && t->is_object()) {
            n += t->value("text", "").size();
        }
        for (const auto& e : b.value("elements", json::array())) {
            if (e.is_object()) {
                n += e.value("text", "").size();
            }
        }
    }
    return n;
}

// Room kept for the blocks a renderer adds after a list, and for the "…and N more" line.
constexpr std::size_t reserved_text = 600;

// Appends `lines` as sections of at most 3,000 characters each, leaving room for `reserve`
// more blocks and within the message's total text budget; what does not fit is summarised
// in a last line.
void append_lines(json& blocks, const std::vector<std::string>& lines, std::size_t reserve) {
    std::string current;
    std::size_t shown = 0;
    auto used = block_text_size(blocks);
    auto text_left = max_total_block_text > used + reserved_text
                         ? max_total_block_text - used - reserved_text
                         : 0;
    std::size_t taken = 0;
    auto budget = [&] { return max_blocks - reserve - blocks.size(); };
    for (const auto& line : lines) {
        if (taken + line.size() + 1 > text_left) {
            break;
        }
        if (!current.empty() && current.size() + 1 + line.size() > max_section_text) {
            if (budget() <= 1) {
                break;
            }
            blocks.push_back(section(current));
            current.clear();
        }
        current += current.empty() ? line : "\n" + line;
        taken += line.size() + 1;
        ++shown;
    }
    if (shown < lines.size()) {
        auto more = "…and " + std::to_string(lines.size() - shown) + " more";
        if (current.size() + 1 + more.size() <= max_section_text) {
            current += "\n" + more;
        }
    }
    if (!current.empty()) {
        blocks.push_back(section(current));
    }
}

std::string mention(std::string_view user) {
    return user.empty() ? std::string("_unowned_") : "<@" + std::string(user) + ">";
}

std::string state_icon(checklist::item_state s) {
    switch (s) {
        case checklist::item_state::open:
            return ":white_large_square:";
        case checklist::item_state::done:
            return ":white_check_mark:";
        case checklist::item_state::skipped:
            return ":fast_forward:";
        case checklist::item_state::blocked:
            return ":no_entry:";
    }
    return ":white_large_square:";
}

std::string item_line(const checklist::item& i) {
    std::string line = state_icon(i.state) + " `" + i.ref() + "` *" + escape_mrkdwn(i.title) +
                       "*  " + mention(i.owner);
    if (i.due_at) {
        line += " · due " + checklist::date_token(*i.due_at);
    }
    if (!i.state_note.empty() && i.state != checklist::item_state::done) {
        line += " · _" + escape_mrkdwn(checklist::truncate_utf8(i.state_note, 300)) + "_";
    }
    return line;
}

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

}  // namespace

message render_text(std::string_view mrkdwn) {
    message m;
    m.text = checklist::truncate_utf8(mrkdwn, max_fallback_text);
    m.blocks.push_back(section(mrkdwn));
    return m;
}

message render_help() {
    std::vector<std::string> lines;
    for (const auto& entry : command_table()) {
        lines.push_back("`/release " + std::string(entry.usage) + "`  " +
                        std::string(entry.summary));
    }
    message m;
    m.text = "relbot commands:";
    m.blocks.push_back(section("*relbot* runs your release checklist in this channel."));
    append_lines(m.blocks, lines, 0);
    for (const auto& l : lines) {
        m.text += "\n" + l;
    }
    m.text = checklist::truncate_utf8(m.text, max_fallback_text);
    return m;
}

message render_status(const checklist::release& r) {
    const auto& cur = r.current();
    int settled_total = 0;
    for (const auto& p : r.phases) {
        settled_total += p.settled_count();
    }
    auto version = escape_mrkdwn(r.version);
    auto summary = plural(r.phases.size(), "phase") + " · " + plural(r.item_count(), "item") +
                   " · " + std::to_string(settled_total) + " done or skipped";

    // A release that has ended says so first; its phases show no "current" any more.
    std::string outcome;  // "finished" or "aborted", empty while the release runs
    std::string ended;    // the same, with when
    if (r.status != checklist::release_status::active) {
        outcome = r.status == checklist::release_status::finished ? "finished" : "aborted";
        ended = outcome + (r.ended_at ? " " + checklist::date_token(*r.ended_at) : std::string());
    }

    message m;
    m.blocks.push_back(header("Release " + r.version + (outcome.empty() ? "" : " — " + outcome)));
    m.blocks.push_back(context("Release manager " + mention(r.manager) + " · started " +
                               checklist::date_token(r.started_at) +
                               (ended.empty() ? "" : " · " + ended) + " · template `" +
                               escape_mrkdwn(r.template_name) + "` · " + summary));
    std::vector<std::string> phases;
    for (const auto& p : r.phases) {
        phases.push_back(phase_line(r, p));
    }
    append_lines(m.blocks, phases, 3);
    m.blocks.push_back(divider());

    std::vector<std::string> items;
    items.push_back("*" + std::string(ended.empty() ? "Phase " : "Last phase, ") +
                    std::to_string(cur.position) + " of " + std::to_string(r.phases.size()) + ": " +
                    escape_mrkdwn(cur.title) + "*");
    for (const auto& i : cur.items) {
        items.push_back(item_line(i));
    }
    append_lines(m.blocks, items, 0);

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

message render_release_started(const checklist::release& r) {
    const auto& first = r.phases.front();
    auto version = escape_mrkdwn(r.version);
    auto first_title = escape_mrkdwn(first.title);

    message m;
    m.text = ":rocket: Release " + version + " started by " + mention(r.manager) + ". Phase 1 of " +
             std::to_string(r.phases.size()) + ", " + first_title + ", has begun.";
    m.blocks.push_back(section(":rocket: *Release " + version + "* started by " +
                               mention(r.manager) + " (release manager)."));
    std::vector<std::string> lines;
    lines.push_back("*Phase 1 of " + std::to_string(r.phases.size()) + ": " + first_title +
                    "* has begun — " + plural(first.items.size(), "item") + ":");
    for (const auto& i : first.items) {
        lines.push_back(item_line(i));
    }
    append_lines(m.blocks, lines, 1);
    m.blocks.push_back(context(plural(r.phases.size(), "phase") + " · " +
                               plural(r.item_count(), "item") + " · template `" +
                               escape_mrkdwn(r.template_name) +
                               "` · `/release status` shows the checklist"));
    return m;
}

nlohmann::json to_ack_payload(const message& m, bool in_channel) {
    return {{"response_type", in_channel ? "in_channel" : "ephemeral"},
            {"text", m.text},
            {"blocks", m.blocks}};
}

nlohmann::json to_post_body(const message& m) {
    return {{"text", m.text}, {"blocks", m.blocks}};
}

std::string dump_json(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace relbot::commands

// --- announcements, list, briefing and report ------------------------------------------------

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;
using checklist::plural;
using nlohmann::json;

std::string who(std::string_view user) {
    return user.empty() ? std::string("someone") : "<@" + std::string(user) + ">";
}

std::string human_duration(checklist::epoch_seconds s) {
    if (s < 0) {
        s = 0;
    }
    if (s < 60) {
        return std::to_string(s) + "s";
    }
    auto d = s / 86400;
    auto h = s % 86400 / 3600;
    auto m = s % 3600 / 60;
    std::string out;
    if (d > 0) {
        out += std::to_string(d) + "d ";
    }
    if (h > 0 || d > 0) {
        out += std::to_string(h) + "h ";
    }
    if (d == 0) {
        out += std::to_string(m) + "m";
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    return out;
}

const checklist::item* find_item(const checklist::release& r, std::optional<std::int64_t> id) {
    if (!id) {
        return nullptr;
    }
    for (const auto& p : r.phases) {
        for (const auto& i : p.items) {
            if (i.id == *id) {
                return &i;
            }
        }
    }
    return nullptr;
}

std::string user_text(std::string_view text, std::size_t max = 500) {
    return escape_mrkdwn(checklist::truncate_utf8(text, max));
}

std::string status_word(const checklist::release& r) {
    switch (r.status) {
        case checklist::release_status::active:
            return "in progress";
        case checklist::release_status::finished:
            return "finished";
        case checklist::release_status::aborted:
            return "aborted";
    }
    return "in progress";
}

// Splits `lines` into pages of sections within Block Kit's limits; the first page starts with
// `head`. After `max_pages` the last page ends with `cut_note`.
std::vector<message> paginate(const std::string& fallback,
                              const json& head,
                              const std::vector<std::string>& lines,
                              std::size_t max_pages,
                              const std::string& cut_note) {
    std::vector<message> pages;
    std::size_t next = 0;
    while (next < lines.size() || pages.empty()) {
        if (pages.size() == max_pages) {
            auto& last = pages.back();
            last.blocks.push_back(context(cut_note));
            break;
        }
        message m;
        m.text = checklist::truncate_utf8(fallback + (pages.empty() ? "" : " (continued)"),
                                          max_fallback_text);
        if (pages.empty()) {
            for (const auto& b : head) {
                m.blocks.push_back(b);
            }
        }
        // Fill this page with whole lines; what does not fit goes on the next page.
        std::string current;
        std::size_t used = block_text_size(m.blocks);
        for (; next < lines.size(); ++next) {
            const auto& line = lines[next];
            if (used + current.size() + line.size() + 1 > max_total_block_text - reserved_text) {
                break;
            }
            if (!current.empty() && current.size() + 1 + line.size() > max_section_text) {
                if (m.blocks.size() + 2 >= max_blocks) {
                    break;
                }
                used += current.size();
                m.blocks.push_back(section(current));
                current.clear();
            }
            current +=
                current.empty() ? checklist::truncate_utf8(line, max_section_text) : "\n" + line;
        }
        if (!current.empty()) {
            m.blocks.push_back(section(current));
        }
        pages.push_back(std::move(m));
        if (next >= lines.size()) {
            break;
        }
    }
    return pages;
}

}  // namespace

message render_list(const std::vector<storage::release_summary>& releases) {
    if (releases.empty()) {
        return render_text(
            "No releases in this channel yet. Start one with `/release start <version>`.");
    }
    std::vector<std::string> lines;
    for (const auto& s : releases) {
        std::string line =
            (s.status == checklist::release_status::active ? ":arrow_forward: *" : "• *") +
            escape_mrkdwn(s.version) + "* — ";
        if (s.status == checklist::release_status::active) {
            line += "phase " + std::to_string(s.current_phase) + " of " +
                    std::to_string(s.phase_count) + " (" + escape_mrkdwn(s.current_phase_title) +
                    ")";
        } else {
            line += std::string(checklist::to_string(s.status));
        }
        line +=
            " · manager " + who(s.manager) + " · started " + checklist::date_token(s.started_at);
        if (s.ended_at) {
            line += " · ended " + checklist::date_token(*s.ended_at);
        }
        lines.push_back(std::move(line));
    }
    message m;
    m.text = "Releases in this channel: " + std::to_string(releases.size());
    m.blocks.push_back(section("*Releases in this channel* (newest first)"));
    append_lines(m.blocks, lines, 0);
    return m;
}

message render_phase_entered(const checklist::release& r,
                             const std::string& actor,
                             const std::string& forced_reason) {
    const auto& p = r.current();
    auto version = escape_mrkdwn(r.version);
    auto title = escape_mrkdwn(p.title);
    message m;
    m.text = ":arrow_forward: Release " + version + ": phase " + std::to_string(p.position) +
             " of " + std::to_string(r.phases.size()) + ", " + title + ", has begun.";
    std::string head = ":arrow_forward: *Release " + version + "* — phase " +
                       std::to_string(p.position) + " of " + std::to_string(r.phases.size()) +
                       ", *" + title + "*, has begun (moved on by " + who(actor) + ").";
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
    m.blocks.push_back(section(head));
    std::vector<std::string> lines;
    for (const auto& i : p.items) {
        lines.push_back(item_line(i));
    }
    append_lines(m.blocks, lines, 1);
    m.blocks.push_back(
        context("`/release status` shows the checklist · `/release check <item>` marks one done"));
    return m;
}

message render_item_blocked(const checklist::release& r,
                            const checklist::item& it,
                            const std::string& actor) {
    message m;
    auto reason = user_text(it.state_note);
    m.text = ":no_entry: Release " + escape_mrkdwn(r.version) + ": " + it.ref() + " " +
             escape_mrkdwn(it.title) + " is blocked: " + reason;
    m.blocks.push_back(section(
        ":no_entry: *Blocked* in release *" + escape_mrkdwn(r.version) + "*: " + it.label() +
        "\n>" + reason + "\nReported by " + who(actor) +
        (it.owner.empty() ? std::string(" · no owner") : " · owner " + who(it.owner)) +
        ". The phase cannot end until it is cleared (`/release unblock " + it.ref() + "`)."));
    return m;
}

message render_rollback(const checklist::release& r,
                        const std::string& actor,
                        const std::string& reason) {
    message m;
    m.text = ":rotating_light: Release " + escape_mrkdwn(r.version) + ": rollback decided by " +
             who(actor) + ": " + user_text(reason);
    m.blocks.push_back(section(":rotating_light: *Rollback decided* for release *" +
                               escape_mrkdwn(r.version) + "* by " + who(actor) + ".\n>" +
                               user_text(reason, 2000)));
    m.blocks.push_back(context("Recorded in the timeline and the report."));
    return m;
}

namespace {

struct report_facts {
    std::vector<std::string> blockers;
    std::vector<std::string> skips;
    std::vector<std::string> forced;
    std::vector<std::string> rollbacks;
    std::vector<std::string> evidence;
    std::vector<std::string> notes;
    std::vector<std::string> timeline;
};

// How the report's facts are worded: for Slack (mrkdwn, user text escaped, people as mentions
// Slack renders) or as markdown read outside Slack (user text on one line, people by name).
struct style {
    bool markdown = false;
    const user_names* names = nullptr;  // markdown only
};

const style slack_style{};

std::string person(const style& st, std::string_view user) {
    if (!st.markdown) {
        return who(user);
    }
    return user.empty() ? std::string("someone") : "@" + display_name(user, st.names);
}

// User text: escaped for Slack, or on one line for markdown.
std::string say(const style& st, std::string_view text, std::size_t max = 500) {
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

std::string describe_event(const checklist::release& r,
                           const storage::audit_entry& e,
                           const style& st = slack_style) {
    auto name = item_name(st, find_item(r, e.item_id));
    auto note = e.note.empty() ? std::string() : " — " + say(st, e.note, 300);
    const auto& a = e.action;
    if (a == "release.started")
        return "started the release (" + say(st, e.note) + ")";
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
    return say(st, a) + note;
}

report_facts collect_facts(const checklist::release& r,
                           const std::vector<storage::audit_entry>& audit,
                           const style& st = slack_style) {
    report_facts f;
    struct open_block {
        checklist::epoch_seconds since;
        std::string by;
        std::string reasons;
    };
    std::map<std::int64_t, open_block> blocked;
    for (const auto& e : audit) {
        auto name = item_name(st, find_item(r, e.item_id));
        f.timeline.push_back("`" + checklist::format_utc(e.at).substr(0, 16) + "` " +
                             person(st, e.actor) + " " + describe_event(r, e, st));
        if (e.action == "item.blocked" && e.item_id) {
            auto& b = blocked[*e.item_id];
            if (e.from_state != "blocked") {
                b = {e.at, e.actor, say(st, e.note, 300)};
            } else {
                b.reasons += "; then: " + say(st, e.note, 300);
            }
        } else if (e.action == "item.unblocked" && e.item_id) {
            if (auto b = blocked.find(*e.item_id); b != blocked.end()) {
                f.blockers.push_back(name + " — blocked by " + person(st, b->second.by) + " " +
                                     when(st, b->second.since) + ": " + b->second.reasons +
                                     " · cleared by " + person(st, e.actor) + " after " +
                                     human_duration(e.at - b->second.since));
                blocked.erase(b);
            }
        } else if (e.action == "item.skipped") {
            f.skips.push_back(name + " — " + say(st, e.note, 300) + " (" + person(st, e.actor) +
                              ", " + when(st, e.at) + ")");
        } else if (e.action == "phase.forced" || e.action == "release.forced_finish") {
            f.forced.push_back(when(st, e.at) + " " + person(st, e.actor) + ": " +
                               describe_event(r, e, st));
        } else if (e.action == "release.rollback") {
            f.rollbacks.push_back(when(st, e.at) + " " + person(st, e.actor) + ": " +
                                  say(st, e.note, 1000));
        } else if (e.action == "item.noted") {
            f.notes.push_back(name + ": " + say(st, e.note, 300) + " (" + person(st, e.actor) +
                              ")");
        } else if (e.action == "item.checked" && !e.note.empty()) {
            f.evidence.push_back(name + ": " + say(st, e.note, 500) + " (" + person(st, e.actor) +
                                 ")");
        }
    }
    for (const auto& [id, b] : blocked) {
        f.blockers.push_back(item_name(st, find_item(r, id)) + " — blocked by " + person(st, b.by) +
                             " " + when(st, b.since) + ": " + b.reasons + " · " +
                             strong(st, "still blocked"));
    }
    return f;
}

std::string phase_timing(const checklist::release& r, const checklist::phase& p) {
    if (!p.entered_at) {
        return "not reached";
    }
    std::optional<checklist::epoch_seconds> left;
    auto index = static_cast<std::size_t>(p.position);
    if (index < r.phases.size() && r.phases[index].entered_at) {
        left = r.phases[index].entered_at;
    } else if (r.ended_at && p.position == r.current_phase) {
        left = r.ended_at;
    }
    return left ? human_duration(*left - *p.entered_at)
                : "since " + checklist::date_token(*p.entered_at);
}

std::string summary_line(const checklist::release& r) {
    std::string s = "Release manager " + who(r.manager) + " · template `" +
                    escape_mrkdwn(r.template_name) + "` · started " +
                    checklist::date_token(r.started_at);
    if (r.ended_at) {
        s += " · " + status_word(r) + " " + checklist::date_token(*r.ended_at) + " (" +
             human_duration(*r.ended_at - r.started_at) + ")";
    } else {
        s += " · in progress, phase " + std::to_string(r.current_phase) + " of " +
             std::to_string(r.phases.size());
    }
    return s;
}

void add_list(std::vector<std::string>& lines,
              const std::string& title,
              const std::vector<std::string>& items) {
    lines.push_back("*" + title + "*" + (items.empty() ? ": none" : ""));
    for (const auto& i : items) {
        lines.push_back("• " + i);
    }
}

}  // namespace

message render_handoff(const checklist::release& r,
                       const std::vector<storage::audit_entry>& audit,
                       const std::string& actor) {
    auto facts = collect_facts(r, audit);
    message m;
    m.text = ":handshake: Handoff for release " + escape_mrkdwn(r.version) + " to " +
             who(r.oncall) + (r.pm.empty() ? "" : " and " + who(r.pm));
    m.blocks.push_back(header("Handoff: release " + r.version));
    m.blocks.push_back(section(":handshake: " + who(actor) + " hands release *" +
                               escape_mrkdwn(r.version) + "* over to " + who(r.oncall) +
                               " (on call)" +
                               (r.pm.empty() ? std::string() : " and " + who(r.pm) + " (product)") +
                               ".\n" + summary_line(r)));
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
    std::vector<std::string> open;
    for (const auto& p : r.phases) {
        if (p.position < r.current_phase) {
            continue;
        }
        for (const auto& i : p.items) {
            if (i.state == checklist::item_state::open ||
                i.state == checklist::item_state::blocked) {
                open.push_back(item_line(i));
            }
        }
    }
    add_list(lines, "Still open", open);
    add_list(lines, "Blockers", facts.blockers);
    add_list(lines, "Rollback decisions", facts.rollbacks);
    add_list(lines, "Skipped", facts.skips);
    add_list(lines, "Forced moves", facts.forced);
    add_list(lines, "Notes", facts.notes);
    for (const auto& p : r.phases) {
        if (p.window && p.entered_at) {
            lines.push_back("*" + escape_mrkdwn(p.title) + "* window ends " +
                            checklist::date_token(*p.entered_at + p.window->max.count()) + ".");
        }
    }
    append_lines(m.blocks, lines, 1);
    m.blocks.push_back(
        context("On call: accept with `/release accept` in <#" + r.channel +
                "> to take over the open items. `/release report` has the full timeline."));
    return m;
}

message render_release_ended(const checklist::release& r,
                             const std::vector<storage::audit_entry>& audit,
                             const std::string& actor,
                             const std::string& reason) {
    auto facts = collect_facts(r, audit);
    bool finished = r.status == checklist::release_status::finished;
    auto icon = finished ? std::string(":checkered_flag:") : std::string(":octagonal_sign:");
    message m;
    m.text =
        icon + " Release " + escape_mrkdwn(r.version) + " " + status_word(r) + " by " + who(actor);
    std::string head = icon + " *Release " + escape_mrkdwn(r.version) + "* " + status_word(r) +
                       " by " + who(actor) + ".\n" + summary_line(r);
    if (!reason.empty()) {
        head += "\n>" + user_text(reason, 1000);
    }
    m.blocks.push_back(section(head));
    int done = 0;
    int skipped = 0;
    int open = 0;
    for (const auto& p : r.phases) {
        for (const auto& i : p.items) {
            done += i.state == checklist::item_state::done ? 1 : 0;
            skipped += i.state == checklist::item_state::skipped ? 1 : 0;
            open += (i.state == checklist::item_state::open ||
                     i.state == checklist::item_state::blocked)
                        ? 1
                        : 0;
        }
    }
    m.blocks.push_back(section("*Summary:* " + std::to_string(done) + " done · " +
                               std::to_string(skipped) + " skipped · " + std::to_string(open) +
                               " not done · " + plural(facts.blockers.size(), "blocker") + " · " +
                               plural(facts.forced.size(), "forced move") + " · " +
                               plural(facts.rollbacks.size(), "rollback decision")));
    m.blocks.push_back(
        context("`/release report` has the full report; `/release report markdown` the checklist "
                "for a wiki"));
    return m;
}

message render_assignment(const checklist::release& r,
                          const checklist::item& it,
                          const std::string& actor) {
    std::string body = ":bust_in_silhouette: " + who(actor) + " made you the owner of " +
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
    m.blocks.push_back(section(body));
    return m;
}

namespace {

std::string overdue_line(const storage::reminder_candidate& c, bool with_owner) {
    return "• `" + c.ref + "` *" + escape_mrkdwn(c.title) + "* in release *" +
           escape_mrkdwn(c.version) + "* (<#" + c.channel + ">) — due " +
           checklist::date_token(c.due_at) + (with_owner ? ", " + who(c.owner) : "");
}

}  // namespace

message render_reminder(const std::vector<storage::reminder_candidate>& items) {
    std::vector<std::string> lines;
    for (const auto& c : items) {
        lines.push_back(overdue_line(c, false));
    }
    message m;
    m.text = ":bell: Reminder: " + plural(items.size(), "item is", "items are") +
             " overdue and still open";
    m.blocks.push_back(section(":bell: *Reminder:* " +
                               std::string(items.size() == 1 ? "this item is" : "these items are") +
                               " overdue and still open:"));
    append_lines(m.blocks, lines, 1);
    m.blocks.push_back(
        context("Done? `/release check <item> [note]` in the release channel. Blocked? "
                "`/release block <item> <reason>`."));
    return m;
}

message render_escalation(const std::vector<storage::reminder_candidate>& items) {
    std::vector<std::string> lines;
    for (const auto& c : items) {
        lines.push_back(overdue_line(c, true));
    }
    message m;
    m.text = ":rotating_light: " + plural(items.size(), "overdue item", "overdue items") +
             " did not move after reminders";
    m.blocks.push_back(
        section(":rotating_light: *Overdue after reminders:* the owners were reminded and nothing "
                "changed:"));
    append_lines(m.blocks, lines, 0);
    return m;
}

message render_owner_items(const checklist::release& r,
                           const std::vector<const checklist::item*>& items,
                           const std::string& heading) {
    std::vector<std::string> lines;
    for (const auto* i : items) {
        lines.push_back(item_line(*i));
    }
    message m;
    m.text = checklist::truncate_utf8(heading, max_fallback_text);
    m.blocks.push_back(section(heading));
    append_lines(m.blocks, lines, 1);
    m.blocks.push_back(context("Release *" + escape_mrkdwn(r.version) + "* in <#" + r.channel +
                               ">: `/release check <item> [note]` when one is done."));
    return m;
}

message render_window_open(const checklist::release& r) {
    const auto& p = r.current();
    std::size_t held = 0;
    for (const auto& i : p.items) {
        held +=
            (i.state == checklist::item_state::open || i.state == checklist::item_state::blocked)
                ? 1
                : 0;
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
        if (i.state == checklist::item_state::open || i.state == checklist::item_state::blocked) {
            lines.push_back(item_line(i));
        }
    }
    message m;
    m.text = ":alarm_clock: Release " + escape_mrkdwn(r.version) + ": the window of " +
             escape_mrkdwn(p.title) + " is over";
    m.blocks.push_back(section(
        ":alarm_clock: The window of *" + escape_mrkdwn(p.title) + "* in release *" +
        escape_mrkdwn(r.version) + "* is over. " +
        (lines.empty() ? std::string("Everything in it is done or skipped.") : "Still open:")));
    append_lines(m.blocks, lines, 0);
    return m;
}

message render_handoff_pending(const checklist::release& r) {
    return render_text(":hourglass: The handoff of release *" + escape_mrkdwn(r.version) + "* to " +
                       who(r.oncall) + " has not been accepted yet (<#" + r.channel +
                       ">, `/release accept`).");
}

message render_handoff_accepted(const checklist::release& r, int items_taken) {
    message m;
    m.text = ":handshake: " + who(r.oncall) + " accepted the handoff of release " +
             escape_mrkdwn(r.version);
    m.blocks.push_back(
        section(":handshake: " + who(r.oncall) + " accepted the handoff of release *" +
                escape_mrkdwn(r.version) + "*" +
                (items_taken > 0 ? " and now owns the " +
                                       plural(static_cast<std::size_t>(items_taken), "open item") +
                                       " of *" + escape_mrkdwn(r.current().title) + "*."
                                 : ".")));
    return m;
}

message render_delivery_failure(const checklist::release& r,
                                const std::string& channel,
                                const std::string& error) {
    std::string hint;
    if (error == "not_in_channel" || error == "channel_not_found") {
        hint = "Invite me to the channel (`/invite @relbot` there) so I can post.";
    } else if (error == "is_archived") {
        hint = "The channel is archived; unarchive it or run releases in another channel.";
    } else if (error == "missing_scope") {
        hint = "The app lacks a permission it needs: reinstall it from deploy/manifest.yml.";
    } else {
        hint = "This looks like a problem in relbot itself; its log has the details.";
    }
    auto where = channel.starts_with("C") || channel.starts_with("G") ? "<#" + channel + ">"
                                                                      : std::string("a DM");
    message m;
    m.text = ":warning: I could not post a message about release " + escape_mrkdwn(r.version) +
             " in " + where + ": " + escape_mrkdwn(error);
    m.blocks.push_back(section(":warning: I could not post a message about release *" +
                               escape_mrkdwn(r.version) + "* in " + where + ": Slack said `" +
                               escape_mrkdwn(error) + "`.\n" + hint));
    return m;
}

std::vector<message> render_report(const checklist::release& r,
                                   const std::vector<storage::audit_entry>& audit,
                                   std::size_t max_pages) {
    auto facts = collect_facts(r, audit);
    json head = json::array();
    head.push_back(header("Report: release " + r.version));
    head.push_back(context(summary_line(r)));
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
    add_list(lines, "Evidence", facts.evidence);
    lines.push_back("*Timeline* (UTC)");
    for (auto& t : facts.timeline) {
        lines.push_back(std::move(t));
    }
    return paginate("Report for release " + escape_mrkdwn(r.version), head, lines, max_pages,
                    ":scissors: The report is cut here: it is longer than Slack allows in " +
                        plural(max_pages, "message") +
                        ". `/release report markdown` gives the checklist.");
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
    std::string line =
        std::string("- [") + (i.state == checklist::item_state::done ? "x" : " ") + "] ";
    if (!title.empty() && title.back() == ':') {
        // "**Title::**": the parser takes one colon inside the bold as the separator.
        return line + "**" + title + ":**" + (rest.empty() ? "" : " " + rest);
    }
    return line + "**" + title + "**" + (rest.empty() ? "" : ": " + rest);
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

}  // namespace

std::string report_markdown(const checklist::release& r,
                            const std::vector<storage::audit_entry>& audit,
                            const user_names& names) {
    const style st{true, &names};
    // The last check, skip or block of each item: who and when.
    std::map<std::int64_t, const storage::audit_entry*> last;
    for (const auto& e : audit) {
        if (e.item_id && (e.action == "item.checked" || e.action == "item.skipped" ||
                          e.action == "item.blocked" || e.action == "item.unchecked")) {
            last[*e.item_id] = &e;
        }
    }
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
    for (const auto& p : r.phases) {
        md += "\n## " + checklist::one_line(p.title) + "\n\n";
        for (const auto& i : p.items) {
            std::string status;
            auto it = last.find(i.id);
            if (it != last.end() && i.state != checklist::item_state::open) {
                const auto& e = *it->second;
                status = std::string(checklist::to_string(i.state)) + " by " + person(st, e.actor) +
                         " " + checklist::format_utc(e.at);
                if (!e.note.empty()) {
                    status += " (" + say(st, e.note, 300) + ")";
                }
            } else if (!i.owner.empty()) {
                status = "open, owner " + person(st, i.owner);
            }
            md += markdown_item(i, status) + "\n";
        }
    }
    auto facts = collect_facts(r, audit, st);
    md += "\n---\n";
    markdown_list(md, "Blockers", facts.blockers);
    markdown_list(md, "Skipped", facts.skips);
    markdown_list(md, "Forced moves", facts.forced);
    markdown_list(md, "Rollback decisions", facts.rollbacks);
    markdown_list(md, "Notes", facts.notes);
    markdown_list(md, "Timeline (UTC)", facts.timeline);
    return md;
}

std::vector<message> render_report_markdown(const checklist::release& r,
                                            const std::vector<storage::audit_entry>& audit,
                                            std::size_t max_pages,
                                            const user_names& names) {
    auto md = report_markdown(r, audit, names);
    // A line as it goes inside a code block: escaped for mrkdwn, and with no "```" of a
    // user's that would end the block early (a zero-width space goes between the backticks).
    auto code_line = [](std::string line) {
        for (std::size_t at; (at = line.find("```")) != std::string::npos;) {
            line.replace(at, 3, "``\xE2\x80\x8B`");
        }
        auto escaped = escape_mrkdwn(checklist::truncate_utf8(line, 1000));
        return escaped.size() < 2900 ? escaped : escape_mrkdwn(checklist::truncate_utf8(line, 500));
    };
    // The markdown in parts that each start at a phase heading (or a section after the
    // checklist), so that a code block ends between two phases and never inside a list.
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
    // Code blocks of whole parts, each within a section's limit (the fences included); only
    // a part too long for one block on its own is split, between whole lines.
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
    // One section per code block; a message holds as many as Block Kit allows.
    std::vector<message> pages;
    message page;
    std::size_t used = 0;
    for (auto& c : chunks) {
        if (!page.blocks.empty() && (used + c.size() > max_total_block_text - reserved_text ||
                                     page.blocks.size() + 2 >= max_blocks)) {
            pages.push_back(std::move(page));
            page = message{};
            used = 0;
            if (pages.size() == max_pages) {
                pages.back().blocks.push_back(
                    context(":scissors: The markdown is cut here: it is longer than Slack "
                            "allows in " +
                            plural(max_pages, "message") +
                            ". `relbot export` on the server prints all of it."));
                return pages;
            }
        }
        page.text = "Release " + escape_mrkdwn(r.version) + " checklist (markdown)" +
                    (pages.empty() ? "" : " (continued)");
        page.blocks.push_back(section(c));
        used += c.size();
    }
    if (!page.blocks.empty()) {
        pages.push_back(std::move(page));
    }
    return pages;
}

}  // namespace relbot::commands
