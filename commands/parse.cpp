// The command table and the parsers of each command's arguments.
#include "commands/parse.hpp"

#include <array>

#include "checklist/mrkdwn.hpp"

namespace relbot::commands {
namespace {

constexpr std::size_t max_version_bytes = 64;

bool is_version_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == '+' || c == '/';
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

// User text inside a reply: shortened, and escaped so it cannot mention or link anyone.
std::string quote(std::string_view word) {
    return checklist::escape_mrkdwn(checklist::truncate_utf8(word, 40));
}

template <typename Pred>
bool all_of(std::string_view s, Pred pred) {
    for (char c : s) {
        if (!pred(c)) {
            return false;
        }
    }
    return true;
}

command parse_help(std::span<const std::string> /*args*/) {
    return help_command{};
}

command parse_status(std::span<const std::string> args) {
    if (!args.empty()) {
        return usage_error{"`status` takes no arguments. Write `/release status`."};
    }
    return status_command{};
}

command parse_start(std::span<const std::string> args) {
    constexpr std::string_view how =
        "Write `/release start <version> [template <name>]`, for example "
        "`/release start v2.4.0` or `/release start v2.4.0 template hotfix`.";
    if (args.empty()) {
        return usage_error{"`start` needs a version. " + std::string(how)};
    }
    start_command c;
    c.version = args[0];
    if (c.version.size() > max_version_bytes || !all_of(c.version, is_version_char)) {
        return usage_error{"A version is up to 64 letters, digits and `. - _ + /`. " +
                           std::string(how)};
    }
    for (std::size_t i = 1; i < args.size();) {
        if (args[i] == "template") {
            if (i + 1 >= args.size()) {
                return usage_error{"`template` needs a template name. " + std::string(how)};
            }
            c.template_name = args[i + 1];
            if (c.template_name.size() > 64 || !all_of(c.template_name, is_name_char)) {
                return usage_error{"A template name is letters, digits and `- _ .`. " +
                                   std::string(how)};
            }
            i += 2;
            continue;
        }
        return usage_error{"I don't understand `" + quote(args[i]) + "` after the version. " +
                           std::string(how)};
    }
    return c;
}

constexpr std::array<command_entry, 3> table = {{
    {"start", "start <version> [template <name>]",
     "start a release in this channel; you become its release manager", parse_start},
    {"status", "status", "the active release: every phase, and the items of the current one",
     parse_status},
    {"help", "help", "this list", parse_help},
}};

}  // namespace

std::span<const command_entry> command_table() {
    return table;
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) {
            ++i;
        }
        auto start = i;
        while (i < text.size() && !is_space(text[i])) {
            ++i;
        }
        if (i > start) {
            out.push_back(checklist::unescape_slack(text.substr(start, i - start)));
        }
    }
    return out;
}

command parse_command(std::string_view text) {
    if (text.size() > max_text_bytes) {
        return usage_error{"That command is " + std::to_string(text.size()) +
                           " characters long; the limit is 3,000. Shorten the text and try again."};
    }
    auto words = split_words(text);
    if (words.empty()) {
        return help_command{};
    }
    auto name = words.front();
    for (auto& c : name) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    for (const auto& entry : table) {
        if (entry.name == name) {
            return entry.parse(std::span<const std::string>(words).subspan(1));
        }
    }
    return usage_error{"I don't know the command `" + quote(words.front()) +
                       "`. Type `/release help` for the list."};
}

}  // namespace relbot::commands
