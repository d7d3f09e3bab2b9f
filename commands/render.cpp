// Block Kit rendering. User text is escaped here, at the one place it enters a message.
#include "commands/render.hpp"

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "commands/parse.hpp"

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;
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

// A Slack date token that each reader sees in their own time zone, with a UTC fallback.
std::string slack_date(checklist::epoch_seconds t) {
    return "<!date^" + std::to_string(t) + "^{date_short_pretty} {time}|" +
           checklist::format_utc(t) + ">";
}

std::string item_line(const checklist::item& i) {
    std::string line = state_icon(i.state) + " `" + i.ref() + "` *" + escape_mrkdwn(i.title) +
                       "*  " + mention(i.owner);
    if (i.due_at) {
        line += " · due " + slack_date(*i.due_at);
    }
    if (!i.state_note.empty() && i.state != checklist::item_state::done) {
        line += " · _" + escape_mrkdwn(checklist::truncate_utf8(i.state_note, 300)) + "_";
    }
    return line;
}

std::string phase_line(const checklist::release& r, const checklist::phase& p) {
    auto settled = p.settled_count();
    auto total = static_cast<int>(p.items.size());
    bool current = p.position == r.current_phase;
    std::string icon = p.position < r.current_phase || (settled == total && !current)
                           ? ":white_check_mark:"
                       : current ? ":arrow_forward:"
                                 : ":white_large_square:";
    std::string title = std::to_string(p.position) + ". " + escape_mrkdwn(p.title) + " — " +
                        std::to_string(settled) + "/" + std::to_string(total);
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
    auto summary = std::to_string(r.phases.size()) + " phases · " + std::to_string(r.item_count()) +
                   " items · " + std::to_string(settled_total) + " done or skipped";

    message m;
    m.blocks.push_back(header("Release " + r.version));
    m.blocks.push_back(context("Release manager " + mention(r.manager) + " · started " +
                               slack_date(r.started_at) + " · template `" +
                               escape_mrkdwn(r.template_name) + "` · " + summary));
    std::vector<std::string> phases;
    for (const auto& p : r.phases) {
        phases.push_back(phase_line(r, p));
    }
    append_lines(m.blocks, phases, 3);
    m.blocks.push_back(divider());

    std::vector<std::string> items;
    items.push_back("*Phase " + std::to_string(cur.position) + " of " +
                    std::to_string(r.phases.size()) + ": " + escape_mrkdwn(cur.title) + "*");
    for (const auto& i : cur.items) {
        items.push_back(item_line(i));
    }
    append_lines(m.blocks, items, 0);

    m.text = "Release " + version + " — phase " + std::to_string(cur.position) + " of " +
             std::to_string(r.phases.size()) + ": " + escape_mrkdwn(cur.title) + " (" + summary +
             ")";
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
                    "* has begun — " + std::to_string(first.items.size()) + " items:");
    for (const auto& i : first.items) {
        lines.push_back(item_line(i));
    }
    append_lines(m.blocks, lines, 1);
    m.blocks.push_back(context(std::to_string(r.phases.size()) + " phases · " +
                               std::to_string(r.item_count()) + " items · template `" +
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
