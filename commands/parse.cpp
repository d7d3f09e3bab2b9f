// The command table and the parser of each command's arguments.
#include "commands/parse.hpp"

#include <algorithm>
#include <array>

#include "checklist/duration.hpp"
#include "checklist/item_ref.hpp"
#include "checklist/mrkdwn.hpp"
#include "checklist/policy.hpp"
#include "slack/block_kit.hpp"

namespace relbot::commands {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_version_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == '+' || c == '/';
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

template <typename Pred>
bool all_of(std::string_view s, Pred pred) {
    for (char c : s) {
        if (!pred(c)) {
            return false;
        }
    }
    return !s.empty();
}

// User text inside a reply: shortened, and escaped so it cannot mention or link anyone.
std::string quote(std::string_view word) {
    return checklist::escape_mrkdwn(checklist::truncate_utf8(word, 40));
}

// "<problem> Write `/release <usage>`, for example `/release <example>`."
usage_error bad(const command_entry& e, std::string_view problem) {
    return usage_error{std::string(problem) + " Write `/release " + std::string(e.usage) +
                       "`, for example `/release " + std::string(e.example) + "`."};
}

std::optional<usage_error> check_version(const command_entry& e, const std::string& v) {
    if (!valid_version(v)) {
        return bad(
            e, "A version is up to 64 letters, digits and `. - _ + /` (not `" + quote(v) + "`).");
    }
    return std::nullopt;
}

// --- one parser per command ---------------------------------------------------------------

command parse_help(const words&, const command_entry&) {
    return help_command{};
}

template <typename Command>
command parse_no_args(const words& w, const command_entry& e) {
    if (w.size() > 1) {
        return bad(e, "`" + std::string(e.name) + "` takes no arguments.");
    }
    return Command{};
}

command parse_start(const words& w, const command_entry& e) {
    if (w.size() < 2) {
        return bad(e, "`start` needs a version.");
    }
    start_command c;
    c.version = w[1];
    if (auto err = check_version(e, c.version)) {
        return *err;
    }
    for (std::size_t i = 2; i < w.size(); i += 2) {
        auto key = w[i];
        if (key == "roles") {
            // `roles qa=@a oncall=@b`: every `name=@person` word up to the next key.
            std::size_t j = i + 1;
            for (; j < w.size() && w[j].find('=') != std::string::npos; ++j) {
                auto pair = w[j];
                auto eq = pair.find('=');
                auto role = pair.substr(0, eq);
                auto user = parse_mention(pair.substr(eq + 1));
                if (!checklist::valid_role_name(role)) {
                    return bad(e, "`" + quote(role) +
                                      "` is not a role name (a-z, 0-9, `-` and `_`, such as qa "
                                      "or oncall).");
                }
                if (role == "manager") {
                    return bad(e,
                               "You become the release manager by starting the release; "
                               "`roles` names the others.");
                }
                if (!user) {
                    return bad(e, "`" + quote(pair) +
                                      "` is not `role=@person`: type the role, `=`, then @ and "
                                      "pick the person.");
                }
                for (const auto& [known, who] : c.roles) {
                    if (known == role) {
                        return bad(e, "The role `" + quote(role) + "` is given twice.");
                    }
                }
                c.roles.emplace_back(role, *user);
            }
            if (j == i + 1) {
                return bad(e, "`roles` needs at least one `role=@person`, such as `qa=@pat`.");
            }
            i = j - 2;  // the loop's step lands on the next key
            continue;
        }
        if (key != "template" && key != "owners-from") {
            return bad(e, "I don't understand `" + quote(key) + "` after the version.");
        }
        if (i + 1 >= w.size()) {
            return bad(e, "`" + key + "` needs a value.");
        }
        auto value = w[i + 1];
        if (key == "template") {
            if (!valid_template_name(value)) {
                return bad(e, "A template name is letters, digits and `- _ .`.");
            }
            c.template_name = value;
        } else {
            if (auto err = check_version(e, value)) {
                return *err;
            }
            c.owners_from = value;
        }
    }
    return c;
}

// Commands shaped `<name> <item>` with nothing after.
template <typename Command>
command parse_item_only(const words& w, const command_entry& e) {
    if (w.size() < 2) {
        return bad(e, "`" + std::string(e.name) +
                          "` needs an item (its number such as `2.3`, or its name).");
    }
    if (w.size() > 2) {
        return bad(e, "`" + std::string(e.name) + "` takes only the item.");
    }
    Command c;
    c.item = w[1];
    return c;
}

// Commands shaped `<name> <item> <text>`; the text is required unless `optional_text`.
template <typename Command, auto Field, bool optional_text>
command parse_item_text(const words& w, const command_entry& e) {
    if (w.size() < 2) {
        return bad(e, "`" + std::string(e.name) +
                          "` needs an item (its number such as `2.3`, or its name).");
    }
    Command c;
    c.item = w[1];
    c.*Field = w.rest(2);
    if (!optional_text && (c.*Field).empty()) {
        return bad(e, "`" + std::string(e.name) + "` needs " +
                          (e.name == "note" ? "the note's text" : "a reason") + " after the item.");
    }
    return c;
}

command parse_assign(const words& w, const command_entry& e) {
    if (w.size() < 3) {
        return bad(e, "`assign` needs an item and a person.");
    }
    assign_command c;
    c.item = w[1];
    auto user = parse_mention(w[2]);
    if (!user) {
        return bad(e,
                   "`" + quote(w[2]) +
                       "` is not a mention: type @ and pick the person, so Slack sends who it is.");
    }
    c.user = *user;
    if (w.size() == 3) {
        return c;
    }
    if (w[3] != "due" || w.size() < 5) {
        return bad(e, "After the person, only `due <when>` may follow.");
    }
    constexpr std::string_view when =
        "A due time is a duration from now (`45s`, `30m`, `2h`, `1d`) or `YYYY-MM-DD HH:MM` in "
        "UTC.";
    if (w.size() == 5) {
        auto d = checklist::parse_duration(w[4]);
        if (!d && checklist::is_duration_too_long(w[4])) {
            auto days = std::chrono::duration_cast<std::chrono::days>(checklist::max_duration);
            return bad(e, "`" + quote(w[4]) +
                              "` is too far in the future: a due time from now is at most " +
                              std::to_string(days.count()) + " days (`" +
                              checklist::format_duration(checklist::max_duration) + "`).");
        }
        if (!d && checklist::is_zero_duration(w[4])) {
            return bad(e, "`" + quote(w[4]) +
                              "` is no time from now: a due time is in the future, such as `30m`.");
        }
        if (!d) {
            return bad(e, std::string(when) + " `" + quote(w[4]) + "` is neither.");
        }
        c.due = due_spec{true, d->count()};
        return c;
    }
    if (w.size() == 6) {
        auto t = checklist::parse_utc_minutes(w[4], w[5]);
        if (!t) {
            return bad(e, std::string(when) + " `" + quote(w[4] + " " + w[5]) + "` is neither.");
        }
        c.due = due_spec{false, *t};
        return c;
    }
    return bad(e, std::string(when));
}

// `next [force <reason>]` and `finish [force <reason>]`.
template <typename Command>
command parse_forceable(const words& w, const command_entry& e) {
    Command c;
    if (w.size() == 1) {
        return c;
    }
    // The example shows a reason: `/release next` alone is not what these people asked for.
    auto forced = [&](std::string_view problem) {
        return usage_error{std::string(problem) + " Write `/release " + std::string(e.name) +
                           " force <reason>`, for example `/release " + std::string(e.name) +
                           " force smoke tests are flaky, rerun after`."};
    };
    if (w[1] != "force") {
        return forced("`" + std::string(e.name) + "` takes nothing, or `force <reason>`.");
    }
    c.force_reason = w.rest(2);
    if (c.force_reason.empty()) {
        return forced("`force` needs a reason; it goes in the timeline and the report.");
    }
    return c;
}

template <typename Command>
command parse_reason(const words& w, const command_entry& e) {
    Command c;
    c.reason = w.rest(1);
    if (c.reason.empty()) {
        return bad(e, "`" + std::string(e.name) +
                          "` needs a reason; it goes in the timeline and the report.");
    }
    return c;
}

command parse_handoff(const words& w, const command_entry& e) {
    if (w.size() == 1) {
        return handoff_command{};  // to the holders of the `oncall` and `pm` roles
    }
    if (w.size() > 3) {
        return bad(e, "`handoff` needs the on-call engineer and, optionally, the product manager.");
    }
    handoff_command c;
    auto oncall = parse_mention(w[1]);
    if (!oncall) {
        return bad(e, "`" + quote(w[1]) + "` is not a mention: type @ and pick the person.");
    }
    c.oncall = *oncall;
    if (w.size() == 3) {
        auto pm = parse_mention(w[2]);
        if (!pm) {
            return bad(e, "`" + quote(w[2]) + "` is not a mention: type @ and pick the person.");
        }
        if (*pm == c.oncall) {
            return bad(e,
                       "The same person is named twice: name the on-call engineer and, if "
                       "you like, a different product manager.");
        }
        c.pm = *pm;
    }
    return c;
}

command parse_manager(const words& w, const command_entry& e) {
    if (w.size() != 2) {
        return bad(e, "`manager` needs exactly one person.");
    }
    auto user = parse_mention(w[1]);
    if (!user) {
        return bad(e, "`" + quote(w[1]) + "` is not a mention: type @ and pick the person.");
    }
    return manager_command{*user};
}

command parse_role(const words& w, const command_entry& e) {
    if (w.size() != 3) {
        return bad(e, "`role` needs a role name and one person.");
    }
    auto role = w[1];
    if (!checklist::valid_role_name(role)) {
        return bad(e, "`" + quote(role) +
                          "` is not a role name (a-z, 0-9, `-` and `_`, such as qa or oncall).");
    }
    auto user = parse_mention(w[2]);
    if (!user) {
        return bad(e, "`" + quote(w[2]) + "` is not a mention: type @ and pick the person.");
    }
    return role_command{role, *user};
}

command parse_stats(const words& w, const command_entry& e) {
    if (w.size() == 1) {
        return stats_command{};
    }
    // Any positive count (the decision compares at most the last 50).
    if (w.size() == 2 && w[1].size() <= 6 &&
        w[1].find_first_not_of("0123456789") == std::string::npos) {
        auto n = std::stoi(w[1]);
        if (n >= 1) {
            return stats_command{n};
        }
    }
    return bad(e,
               "`stats` takes nothing, or how many finished releases to look at (such as "
               "`stats 20`).");
}

command parse_report(const words& w, const command_entry& e) {
    if (w.size() == 1) {
        return report_command{report_form::summary};
    }
    if (w.size() == 2) {
        for (auto [word, form] : {std::pair{"markdown", report_form::markdown},
                                  {"chart", report_form::chart},
                                  {"file", report_form::file}}) {
            if (w[1] == word) {
                return report_command{form};
            }
        }
    }
    return bad(e, "`report` takes nothing, or one of `markdown`, `chart`, `file`.");
}

constexpr std::array<command_entry, 23> table = {{
    {"start",
     "start <version> [template <name>] [owners-from <version>] [roles <role>=<@person> …]",
     "start v2.4.0 owners-from v2.3.0 roles qa=@dana",
     "start a release here; you become its release manager", parse_start},
    {"status", "status", "status", "the checklist: every phase, the current phase's items in full",
     parse_no_args<status_command>},
    {"list", "list", "list", "active and recent releases in this channel",
     parse_no_args<list_command>},
    {"check", "check <item> [note]", "check 1.3 https://ci.example.com/build/812",
     "mark an item done, with an optional note or link as evidence",
     parse_item_text<check_command, &check_command::note, true>},
    {"uncheck", "uncheck <item>", "uncheck smoke-tests", "back to open",
     parse_item_only<uncheck_command>},
    {"skip", "skip <item> <reason>", "skip feature-flags no flags in this release",
     "skip an item; the reason is required",
     parse_item_text<skip_command, &skip_command::reason, false>},
    {"block", "block <item> <reason>", "block 2.3 deploy pipeline is red",
     "mark a blocker (announced in the channel)",
     parse_item_text<block_command, &block_command::reason, false>},
    {"unblock", "unblock <item>", "unblock 2.3", "clear a blocker",
     parse_item_only<unblock_command>},
    {"assign", "assign <item> <@person> [due <when>]", "assign 2.3 @pat due 2h",
     "set the owner, and a due time (`2h`, `1d`, or `YYYY-MM-DD HH:MM` UTC)", parse_assign},
    {"note", "note <item> <text>", "note 2.3 waiting on the DBA",
     "add a note to the item's timeline",
     parse_item_text<note_command, &note_command::text, false>},
    {"next", "next [force <reason>]", "next",
     "move to the next phase once every item is done or skipped", parse_forceable<next_command>},
    {"rollback", "rollback <reason>", "rollback error rate doubled after deploy",
     "record a rollback decision and announce it", parse_reason<rollback_command>},
    {"handoff", "handoff [<@on-call> [<@product-manager>]]", "handoff @sam @lee",
     "post the handoff briefing for the on-call engineer and the PM (by default the holders of "
     "the `oncall` and `pm` roles)",
     parse_handoff},
    {"accept", "accept", "accept",
     "(the on-call engineer named in the handoff) take over its open items",
     parse_no_args<accept_command>},
    {"manager", "manager <@person>", "manager @pat",
     "hand the release-manager role to someone else", parse_manager},
    {"finish", "finish [force <reason>]", "finish",
     "end the release from its last phase (posts the report summary)",
     parse_forceable<finish_command>},
    {"abort", "abort <reason>", "abort release cancelled", "end the release now",
     parse_reason<abort_command>},
    {"report", "report [markdown|chart|file]", "report chart",
     "the post-release report; `markdown` the checklist for a wiki, `chart` the timeline picture, "
     "`file` the whole report as a file (both to your DM)",
     parse_report},
    {"stats", "stats [<n>]", "stats 20",
     "trends over the channel's last n finished releases (default 10): a chart to your DM, and "
     "the numbers",
     parse_stats},
    {"remind", "remind", "remind", "remind the owners of open items in this phase",
     parse_no_args<remind_command>},
    {"approve", "approve <item>", "approve 2.4",
     "sign off a checked item that needs a second pair of eyes", parse_item_only<approve_command>},
    {"role", "role <name> <@person>", "role qa @dana",
     "give a template role to someone; items owned through it move to them", parse_role},
    {"help", "help", "help", "this list", parse_help},
}};

}  // namespace

words::words(std::string_view text) : text_(text) {
    std::size_t i = 0;
    while (i < text_.size()) {
        while (i < text_.size() && is_space(text_[i])) {
            ++i;
        }
        auto start = i;
        while (i < text_.size() && !is_space(text_[i])) {
            ++i;
        }
        if (i > start) {
            spans_.emplace_back(start, i);
        }
    }
}

std::string words::operator[](std::size_t i) const {
    auto [b, e] = spans_.at(i);
    return checklist::unescape_slack(std::string_view(text_).substr(b, e - b));
}

std::string words::rest(std::size_t i) const {
    if (i >= spans_.size()) {
        return {};
    }
    auto b = spans_[i].first;
    auto e = spans_.back().second;
    return checklist::unescape_slack(std::string_view(text_).substr(b, e - b));
}

std::span<const command_entry> command_table() {
    return table;
}

std::optional<std::string> parse_mention(std::string_view word) {
    if (!word.starts_with("<@") || !word.ends_with(">")) {
        return std::nullopt;
    }
    auto inner = word.substr(2, word.size() - 3);
    inner = inner.substr(0, inner.find('|'));
    if (inner.size() < 2 || (inner[0] != 'U' && inner[0] != 'W')) {
        return std::nullopt;
    }
    for (char c : inner) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return std::nullopt;
        }
    }
    return std::string(inner);
}

bool valid_template_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && all_of(name, is_name_char);
}

bool valid_version(std::string_view v) {
    return v.size() <= max_version_bytes && all_of(v, is_version_char);
}

std::size_t typed_length(std::string_view slack_text) {
    std::size_t n = slack::code_points(slack_text);
    for (std::string_view escape : {"&amp;", "&lt;", "&gt;"}) {
        for (auto at = slack_text.find(escape); at != std::string_view::npos;
             at = slack_text.find(escape, at + escape.size())) {
            n -= escape.size() - 1;
        }
    }
    return n;
}

command parse_command(std::string_view text) {
    if (text.size() > max_text_bytes || typed_length(text) > max_text_chars) {
        auto length = text.size() > max_text_bytes ? std::string("more than 3,000")
                                                   : std::to_string(typed_length(text));
        return usage_error{"That command is " + length +
                           " characters long; the limit is 3,000. Shorten the text and try again."};
    }
    words w(text);
    if (w.size() == 0) {
        return help_command{};
    }
    auto name = w[0];
    for (auto& c : name) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    for (const auto& entry : command_table()) {
        if (entry.name == name) {
            return entry.parse(w, entry);
        }
    }
    // A near miss ("chek", "asign") is most likely that command: its form, to type again. One
    // edit for a short word, two for a longer one; none when two commands are as near (a
    // guess that could mislead), and `done` is the Done button's word for `check`.
    const command_entry* closest = nullptr;
    bool tied = false;
    auto allowed = name.size() <= 4 ? std::size_t{1} : std::size_t{2};
    std::size_t best = allowed + 1;
    for (const auto& entry : command_table()) {
        auto d = name == "done" && entry.name == "check"
                     ? 0
                     : checklist::edit_distance(name, entry.name);
        if (d < best) {
            best = d;
            closest = &entry;
            tied = false;
        } else if (d == best) {
            tied = true;
        }
    }
    if (closest != nullptr && !tied) {
        return usage_error{"I don't know the command `" + quote(w[0]) +
                           "`. Did you mean `/release " + std::string(closest->usage) + "`?" +
                           (closest->example.empty() ? std::string()
                                                     : " For example `/release " +
                                                           std::string(closest->example) + "`.") +
                           " `/release help` lists every command."};
    }
    return usage_error{"I don't know the command `" + quote(w[0]) +
                       "`. Type `/release help` for the list."};
}

}  // namespace relbot::commands
