// `/release …` text to a typed command, or a usage error that says how to write it.
// Pure: no storage, no clock.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace relbot::commands {

struct help_command {};

struct start_command {
    std::string version;
    std::string template_name = "standard";
};

struct status_command {};

// Bad input: `message` says what was wrong and how to write it.
struct usage_error {
    std::string message;
};

using command = std::variant<help_command, start_command, status_command, usage_error>;

// The longest command text accepted, in bytes (the contract's 3,000 characters).
inline constexpr std::size_t max_text_bytes = 3000;

// One row of the command table: the source of parsing, `help` and nothing else.
struct command_entry {
    std::string_view name;
    std::string_view usage;    // "start <version> [template <name>]"
    std::string_view summary;  // one line for `help`
    command (*parse)(std::span<const std::string> args);
};

// The commands that work today, in the order `help` lists them.
std::span<const command_entry> command_table();

// Splits on whitespace and turns Slack's `&amp;`/`&lt;`/`&gt;` back into characters in each
// word (after splitting, so that a mention such as `<@U1|pat>` stays one word).
std::vector<std::string> split_words(std::string_view text);

// Parses the text after `/release`. Empty text is `help`.
command parse_command(std::string_view text);

}  // namespace relbot::commands
