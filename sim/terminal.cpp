// The demo's terminal rendering and input reading (see terminal.hpp).
#include "sim/terminal.hpp"

#include <cctype>
#include <cstring>
#include <regex>
#include <utility>

#include "sim/mrkdwn.hpp"

namespace relbot::sim {
namespace {

using json = nlohmann::json;

// One piece of mrkdwn as terminal text: mentions and channels as names, dates as their
// fallback, links as "text (url)"; anything else as written.
std::string draw_piece(const mrkdwn::piece& p) {
    switch (p.what) {
        case mrkdwn::kind::user:
            return "@" + mrkdwn::user_name(p, false);
        case mrkdwn::kind::channel:
            return "#" + mrkdwn::channel_name(p);
        case mrkdwn::kind::special:
            return "@" + p.target;
        case mrkdwn::kind::date:
            return p.label;
        case mrkdwn::kind::link:
            if (mrkdwn::safe_url(p.target)) {
                return p.label.empty() ? p.target : p.label + " (" + p.target + ")";
            }
            return p.raw;
        case mrkdwn::kind::text:
            break;
    }
    return p.raw;
}

std::string indent(const std::string& text) {
    std::string out = "  ";
    for (char c : text) {
        out.push_back(c);
        if (c == '\n') {
            out += "  ";
        }
    }
    return out;
}

// The first `keep` non-empty lines of `text`, and "…" when there were more.
std::string first_lines(const std::string& text, std::size_t keep) {
    std::string out;
    std::size_t kept = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        auto line = trim(std::string_view(text).substr(
            start, end == std::string::npos ? std::string::npos : end - start));
        if (!line.empty()) {
            if (kept == keep) {
                return out + " …";
            }
            out += (kept++ == 0 ? "" : "\n") + line;
        }
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    return out;
}

// For a compact message (a DM): each control line under the first line of the item it
// belongs to, so that a person can still click them.
std::string compact_controls(const json& blocks, bool color) {
    std::string out;
    if (!blocks.is_array()) {
        return out;
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        auto controls = draw_controls(blocks[i]);
        if (controls.empty()) {
            continue;
        }
        const auto& about =
            blocks[i].value("type", "") == "actions" && i > 0 ? blocks[i - 1] : blocks[i];
        auto text = about.value("text", json::object()).value("text", "");
        if (!text.empty()) {
            out += indent(first_lines(render_mrkdwn(text, color), 1)) + "\n";
        }
        out += indent("  " + ansi(controls, "36", color)) + "\n";
    }
    return out;
}

}  // namespace

std::string ansi(const std::string& s, const char* code, bool color) {
    return color ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
}

std::string trim(std::string_view s) {
    auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    auto last = s.find_last_not_of(" \t\r");
    return std::string(s.substr(first, last - first + 1));
}

std::string render_mrkdwn(std::string text, bool color) {
    std::string drawn;
    for (const auto& p : mrkdwn::tokenize(mrkdwn::with_emoji(std::move(text)))) {
        drawn += draw_piece(p);
    }
    text = std::move(drawn);
    if (color) {
        text = std::regex_replace(text, std::regex("(^|[\\s(])\\*([^*\\n]+)\\*"),
                                  "$1\033[1m$2\033[0m");
        text = std::regex_replace(text, std::regex("`([^`\\n]+)`"), "\033[36m$1\033[0m");
        text = std::regex_replace(text, std::regex("(^|\\s)_([^_\\n]+)_"), "$1\033[3m$2\033[0m");
    } else {
        text = std::regex_replace(text, std::regex("(^|[\\s(])\\*([^*\\n]+)\\*"), "$1$2");
    }
    // A quoted line (mrkdwn's `>` at the start of a line; a `>` a person typed arrives as
    // &gt;) is drawn with a bar.
    text = std::regex_replace(text, std::regex("(^|\n)>[ ]?"), "$1│ ");
    return mrkdwn::decode_entities(text);
}

std::string render_message(const std::string& heading, const json& body, bool color, bool compact) {
    std::string out = ansi(heading, "2", color) + "\n";
    auto blocks = body.find("blocks");
    if (compact || blocks == body.end() || !blocks->is_array() || blocks->empty()) {
        auto text = render_mrkdwn(body.value("text", ""), color);
        out += indent(compact ? first_lines(text, 2) : text) + "\n";
        return blocks == body.end() ? out : out + compact_controls(*blocks, color);
    }
    for (const auto& b : *blocks) {
        auto type = b.value("type", "");
        if (auto controls = draw_controls(b); !controls.empty() && type == "actions") {
            out += indent(ansi(controls, "36", color)) + "\n";
        } else if (type == "header") {
            out += indent(ansi(b["text"].value("text", ""), "1;4", color)) + "\n";
        } else if (type == "section" && b.contains("text")) {
            out += indent(render_mrkdwn(b["text"].value("text", ""), color)) + "\n";
            if (auto controls = draw_controls(b); !controls.empty()) {
                out += indent(ansi(controls, "36", color)) + "\n";
            }
        } else if (type == "section" && b.contains("fields")) {
            for (const auto& f : b["fields"]) {
                out += indent(render_mrkdwn(f.value("text", ""), color)) + "\n";
            }
        } else if (type == "context") {
            for (const auto& e : b.value("elements", json::array())) {
                out += indent(ansi(render_mrkdwn(e.value("text", ""), color), "2", color)) + "\n";
            }
        } else if (type == "divider") {
            out += "  " + ansi("────────────────────────────────────────", "2", color) + "\n";
        }
    }
    return out;
}

std::string destination_name(std::string_view channel) {
    if (channel == demo_channel_id) {
        return "#" + std::string(demo_channel_name);
    }
    if (!channel.empty() && (channel[0] == 'D' || channel[0] == 'U' || channel[0] == 'W')) {
        // The sandbox's DM channel with UPAT is DPAT.
        const person* p = person_by_id("U" + std::string(channel.substr(1)));
        return "@" + (p ? std::string(p->name) : std::string(channel)) + " (direct message)";
    }
    return "#" + std::string(channel);
}

std::variant<std::string, typed_error> resolve_mentions(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        bool starts_word = i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) ||
                                       text[i - 1] == '<' || text[i - 1] == '.');
        if (text[i] != '@' || !starts_word) {
            out.push_back(text[i++]);
            continue;
        }
        auto end = i + 1;
        while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                     text[end] == '-' || text[end] == '_')) {
            ++end;
        }
        auto name = text.substr(i + 1, end - i - 1);
        if (name.empty()) {
            out.push_back(text[i++]);
            continue;
        }
        const person* p = person_by_name(name);
        if (p == nullptr) {
            std::string known;
            for (const auto& c : cast) {
                known += " @" + std::string(c.name);
            }
            return typed_error{"nobody here is called @" + std::string(name) +
                               "; the people in this sandbox are" + known +
                               " (type `people` to see who does what)"};
        }
        out += "<@" + std::string(p->id) + "|" + std::string(p->name) + ">";
        i = end;
    }
    return out;
}

typed_line read_typed_line(std::string_view raw) {
    auto line = trim(raw);
    // A comment, and a transcript's expectations (`> text`, `!> text`: tests/demo/*.txt), are
    // not typed: such a file piped in sends only its commands.
    if (line.empty() || line.starts_with('#') || line == ">" || line.starts_with("> ") ||
        line.starts_with("!> ")) {
        return typed_nothing{};
    }
    if (line == "quit" || line == "exit" || line == "/release quit") {
        return typed_quit{};
    }
    if (line == "people" || line == "who") {
        return typed_people{};
    }
    if (line == "home") {
        return typed_home{};
    }
    if (line == "click" || line.starts_with("click ")) {
        return read_click(trim(std::string_view(line).substr(5)));
    }
    if (line == "as" || line.starts_with("as ")) {
        auto rest = trim(std::string_view(line).substr(2));
        auto space = rest.find(' ');
        auto who = rest.substr(0, space);
        if (who.starts_with('@')) {
            who.erase(0, 1);
        }
        const person* p = person_by_name(who);
        if (p == nullptr) {
            std::string known;
            for (const auto& c : cast) {
                known += " @" + std::string(c.name);
            }
            return typed_error{"say who to be, for example `as @sam`; the people here are" + known};
        }
        if (space == std::string::npos) {
            return typed_switch{p, std::nullopt};
        }
        auto once = read_typed_line(rest.substr(space + 1));
        if (auto* command = std::get_if<typed_release>(&once)) {
            return typed_switch{p, command->text};
        }
        if (auto* error = std::get_if<typed_error>(&once)) {
            return *error;
        }
        return typed_error{"after `as @" + std::string(p->name) +
                           "` type a /release command, for example `as @sam /release accept`"};
    }
    std::string_view text = line;
    if (text.starts_with("/release")) {
        text.remove_prefix(8);
    } else if (text.starts_with('/')) {
        return typed_error{"this sandbox knows one slash command, /release; try `/release help`"};
    }
    auto resolved = resolve_mentions(trim(text));
    if (auto* error = std::get_if<typed_error>(&resolved)) {
        return *error;
    }
    return typed_release{std::get<std::string>(resolved)};
}

std::string cast_lines(const person& current) {
    std::string out;
    for (const auto& p : cast) {
        std::string handle = "@" + std::string(p.name);
        handle.resize(6, ' ');
        out += "  " + handle + " " + std::string(p.real_name) + ", " + std::string(p.part) +
               (&p == &current ? "  ← you" : "") + "\n";
    }
    return out;
}

}  // namespace relbot::sim
