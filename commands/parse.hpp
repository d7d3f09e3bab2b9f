// `/release …` text to a typed command, or a usage error that says what was wrong and how to
// write it. Pure: no storage, no clock (relative due times stay relative until routing).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace relbot::commands {

// A due time as typed: `2h` from now, or `2026-05-01 14:00` UTC.
struct due_spec {
    bool relative = true;
    std::int64_t value = 0;  // seconds from now, or epoch seconds
};

struct help_command {};
struct start_command {
    std::string version;
    std::string template_name = "standard";
    std::string owners_from;  // a version of an earlier release in this channel, or empty
    // `roles qa=@a oncall=@b`: template roles filled at start (role name → user ID).
    std::vector<std::pair<std::string, std::string>> roles = {};
};
struct status_command {};
struct list_command {};
struct check_command {
    std::string item;
    std::string note;
};
struct uncheck_command {
    std::string item;
};
struct skip_command {
    std::string item;
    std::string reason;
};
struct block_command {
    std::string item;
    std::string reason;
};
struct unblock_command {
    std::string item;
};
struct assign_command {
    std::string item;
    std::string user;  // Slack user ID
    std::optional<due_spec> due;
};
struct note_command {
    std::string item;
    std::string text;
};
struct next_command {
    std::string force_reason;  // empty: not forced
};
struct rollback_command {
    std::string reason;
};
struct handoff_command {
    std::string oncall;  // empty: the release's `oncall` role
    std::string pm;      // optional; empty: the `pm` role, if anyone holds it
};
struct manager_command {
    std::string user;
};
struct finish_command {
    std::string force_reason;
};
struct abort_command {
    std::string reason;
};
// `report [markdown|chart|file]`.
enum class report_form { summary, markdown, chart, file };
struct report_command {
    report_form form = report_form::summary;
};
struct remind_command {};
// `stats [<n>]`: trends over the channel's last n finished releases (2 to 50; default 10).
struct stats_command {
    int count = 10;  // as asked: 1 or more
};
// `stats` compares at most this many finished releases, however many are asked for.
inline constexpr int max_stats_releases = 50;
// `approve <item>`: a sign-off on a checked item.
struct approve_command {
    std::string item;
};
// `role <name> <@user>`: gives a template role to a person during a release.
struct role_command {
    std::string role;
    std::string user;  // Slack user ID
};
struct accept_command {};

// Bad input: `message` (mrkdwn, user text escaped) says what was wrong and how to write it.
struct usage_error {
    std::string message;
};

using command = std::variant<help_command,
                             start_command,
                             status_command,
                             list_command,
                             check_command,
                             uncheck_command,
                             skip_command,
                             block_command,
                             unblock_command,
                             assign_command,
                             note_command,
                             next_command,
                             rollback_command,
                             handoff_command,
                             manager_command,
                             finish_command,
                             abort_command,
                             report_command,
                             remind_command,
                             accept_command,
                             approve_command,
                             role_command,
                             stats_command,
                             usage_error>;

// The longest command text accepted: the contract's 3,000 characters (Unicode code points),
// as typed: each of Slack's `&amp;`, `&lt;` and `&gt;` counts as the one character it stands
// for. A text of more bytes than any such text can have is refused without counting.
inline constexpr std::size_t max_text_chars = 3000;
inline constexpr std::size_t max_text_bytes = max_text_chars * 5;  // all "&amp;"

// A release's version, as `start` and the start form take it: 1 to 64 letters, digits and
// `. - _ + /`.
inline constexpr std::size_t max_version_bytes = 64;
bool valid_version(std::string_view v);
// A template's name, as `start … template <name>` takes it (and so a template file's name
// without `.md`): 1 to 64 letters, digits and `- _ .`.
bool valid_template_name(std::string_view name);

// The characters of a command text as the person typed them (see max_text_chars).
std::size_t typed_length(std::string_view slack_text);

// The words of a command text, with the raw text kept so that free text (a note, a reason)
// keeps its spacing. Slack's `&amp;`/`&lt;`/`&gt;` are undone after splitting, so a mention
// such as `<@U1|pat>` stays one word.
class words {
public:
    explicit words(std::string_view text);

    std::size_t size() const { return spans_.size(); }
    std::string operator[](std::size_t i) const;
    // Everything from word `i` to the end, as typed (trimmed, unescaped); "" past the end.
    std::string rest(std::size_t i) const;

private:
    std::string text_;
    std::vector<std::pair<std::size_t, std::size_t>> spans_;  // begin, end
};

// One row of the command table: the source of parsing and of `help`.
struct command_entry {
    std::string_view name;
    std::string_view usage;    // "check <item> [note]"
    std::string_view example;  // "check 1.3 https://ci.example.com/build/812"
    std::string_view summary;  // one line for `help`
    command (*parse)(const words& w, const command_entry& self);
};

// Every command, in the order `help` lists them.
std::span<const command_entry> command_table();

// A Slack user mention (`<@U123>` or `<@U123|name>`) to the user ID; nullopt otherwise.
std::optional<std::string> parse_mention(std::string_view word);

// Parses the text after `/release`. Empty text is `help`.
command parse_command(std::string_view text);

}  // namespace relbot::commands
