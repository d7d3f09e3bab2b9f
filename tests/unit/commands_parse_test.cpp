// Parsing `/release …` text: every command of the grammar and every way to get it wrong,
// as one table.
#include <catch2/catch.hpp>
#include <set>

#include "checklist/duration.hpp"
#include "commands/parse.hpp"

namespace unit_commands_parse_test {

using namespace relbot::commands;

namespace {

bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// What a parse should give: the command's index in the variant and a check on its fields, or
// a usage error containing `error_part`.
struct row {
    std::string text;
    std::size_t alternative;  // the variant index expected
    std::string error_part;   // for usage_error rows: part of the message
    std::function<bool(const command&)> fields = [](const command&) { return true; };
};

template <typename T>
constexpr std::size_t index_of() {
    command probe = T{};
    return probe.index();
}

template <typename T, typename F>
std::function<bool(const command&)> with(F f) {
    return [f](const command& c) { return f(std::get<T>(c)); };
}

}  // namespace

TEST_CASE("every command parses, and every bad input says what was wrong and how to write it",
          "[unit]") {
    const auto err = index_of<usage_error>();
    const std::vector<row> rows = {
        {"", index_of<help_command>(), ""},
        {"help", index_of<help_command>(), ""},
        {"HELP", index_of<help_command>(), ""},
        {"start v2.4.0", index_of<start_command>(), "", with<start_command>([](auto& c) {
             return c.version == "v2.4.0" && c.template_name == "standard" && c.owners_from.empty();
         })},
        {"start 2026.05.1-rc1+b/7 template hotfix owners-from v2.3", index_of<start_command>(), "",
         with<start_command>([](auto& c) {
             return c.version == "2026.05.1-rc1+b/7" && c.template_name == "hotfix" &&
                    c.owners_from == "v2.3";
         })},
        {"start", err, "needs a version"},
        {"start v1 template", err, "needs a value"},
        {"start v1 tempate hotfix", err, "`tempate`"},
        {"start <@U123>", err, "A version is"},
        {"start " + std::string(65, '1'), err, "up to 64"},
        {"start v1 template ../etc", err, "template name"},
        {"start v1 owners-from <b>", err, "A version is"},
        {"status", index_of<status_command>(), ""},
        {"status now", err, "takes no arguments"},
        {"list", index_of<list_command>(), ""},
        {"list all", err, "takes no arguments"},
        {"check 1.3", index_of<check_command>(), "",
         with<check_command>([](auto& c) { return c.item == "1.3" && c.note.empty(); })},
        {"check smoke  https://ci/812   passed", index_of<check_command>(), "",
         with<check_command>(
             [](auto& c) { return c.item == "smoke" && c.note == "https://ci/812   passed"; })},
        {"check", err, "needs an item"},
        {"uncheck 2.1", index_of<uncheck_command>(), "",
         with<uncheck_command>([](auto& c) { return c.item == "2.1"; })},
        {"uncheck", err, "needs an item"},
        {"uncheck 2.1 please", err, "takes only the item"},
        {"skip feature-flags none this time", index_of<skip_command>(), "",
         with<skip_command>(
             [](auto& c) { return c.item == "feature-flags" && c.reason == "none this time"; })},
        {"skip feature-flags", err, "needs a reason"},
        {"skip", err, "needs an item"},
        {"block 2.3 pipeline &lt;red&gt;", index_of<block_command>(), "",
         with<block_command>([](auto& c) { return c.reason == "pipeline <red>"; })},
        {"block 2.3", err, "needs a reason"},
        {"unblock 2.3", index_of<unblock_command>(), ""},
        {"unblock", err, "needs an item"},
        {"assign 2.3 <@U0789>", index_of<assign_command>(), "",
         with<assign_command>([](auto& c) { return c.user == "U0789" && !c.due; })},
        {"assign 2.3 <@U0789|pat> due 2h", index_of<assign_command>(), "",
         with<assign_command>([](auto& c) {
             return c.user == "U0789" && c.due && c.due->relative && c.due->value == 7200;
         })},
        {"assign 2.3 <@W0789> due 2026-12-01 14:30", index_of<assign_command>(), "",
         with<assign_command>([](auto& c) {
             return c.user == "W0789" && c.due && !c.due->relative &&
                    c.due->value == *relbot::checklist::parse_utc_minutes("2026-12-01", "14:30");
         })},
        {"assign 2.3 @pat", err, "not a mention"},
        {"assign 2.3", err, "needs an item and a person"},
        {"assign 2.3 <@U1> due tomorrow", err, "YYYY-MM-DD HH:MM"},
        {"assign 2.3 <@U1> due 99999d", err,
         "`99999d` is too far in the future: a due time from now is at most 365 days (`365d`)."},
        {"assign 2.3 <@U1> due 8761h", err, "too far in the future"},
        {"assign 2.3 <@U1> due 99999999999999999999999s", err, "too far in the future"},
        {"assign 2.3 <@U1> due 365d", index_of<assign_command>(), "",
         with<assign_command>([](auto& c) { return c.due && c.due->value == 365 * 86400; })},
        {"assign 2.3 <@U1> due 0h", err, "is no time from now"},
        {"assign 2.3 <@U1> due 00m", err, "is no time from now"},
        {"assign 2.3 <@U1> due 0x", err, "is neither"},
        {"assign 2.3 <@U1> due 2026-02-30 10:00", err, "is neither"},
        {"assign 2.3 <@U1> due 2026-12-01 25:00", err, "is neither"},
        {"assign 2.3 <@U1> by 2h", err, "only `due <when>`"},
        {"note 2.3 waiting on the DBA", index_of<note_command>(), "",
         with<note_command>([](auto& c) { return c.text == "waiting on the DBA"; })},
        {"note 2.3", err, "needs the note's text"},
        {"next", index_of<next_command>(), "",
         with<next_command>([](auto& c) { return c.force_reason.empty(); })},
        {"next force window waived by VP", index_of<next_command>(), "",
         with<next_command>([](auto& c) { return c.force_reason == "window waived by VP"; })},
        {"next force", err, "needs a reason"},
        {"next please", err, "`force <reason>`"},
        {"rollback error rate doubled", index_of<rollback_command>(), "",
         with<rollback_command>([](auto& c) { return c.reason == "error rate doubled"; })},
        {"rollback", err, "needs a reason"},
        {"handoff <@U1>", index_of<handoff_command>(), "",
         with<handoff_command>([](auto& c) { return c.oncall == "U1" && c.pm.empty(); })},
        {"handoff <@U1|sam> <@U2|lee>", index_of<handoff_command>(), "",
         with<handoff_command>([](auto& c) { return c.oncall == "U1" && c.pm == "U2"; })},
        {"handoff", index_of<handoff_command>(), "",
         with<handoff_command>([](auto& c) { return c.oncall.empty() && c.pm.empty(); })},
        {"handoff <@U1> <@U2> <@U3>", err, "on-call"},
        {"approve 2.4", index_of<approve_command>(), "",
         with<approve_command>([](auto& c) { return c.item == "2.4"; })},
        {"approve", err, "needs an item"},
        {"role qa <@U7|dana>", index_of<role_command>(), "",
         with<role_command>([](auto& c) { return c.role == "qa" && c.user == "U7"; })},
        {"role QA! <@U7>", err, "not a role name"},
        {"role qa dana", err, "not a mention"},
        {"role qa", err, "a role name and one person"},
        {"start v2 roles qa=<@U1|a> oncall=<@U2> template standard", index_of<start_command>(), "",
         with<start_command>([](auto& c) {
             return c.roles == std::vector<std::pair<std::string, std::string>>{{"qa", "U1"},
                                                                                {"oncall", "U2"}} &&
                    c.template_name == "standard";
         })},
        {"start v2 roles", err, "at least one `role=@person`"},
        {"start v2 roles qa=dana", err, "not `role=@person`"},
        {"start v2 roles manager=<@U1>", err, "You become the release manager"},
        {"start v2 roles qa=<@U1> qa=<@U2>", err, "given twice"},
        {"handoff sam", err, "not a mention"},
        {"handoff <@U1> lee", err, "not a mention"},
        {"handoff <@U1|sam> <@U1|sam>", err, "same person is named twice"},
        {"manager <@U9>", index_of<manager_command>(), "",
         with<manager_command>([](auto& c) { return c.user == "U9"; })},
        {"manager", err, "exactly one person"},
        {"manager pat", err, "not a mention"},
        {"finish", index_of<finish_command>(), ""},
        {"finish force monitoring cut short", index_of<finish_command>(), "",
         with<finish_command>([](auto& c) { return c.force_reason == "monitoring cut short"; })},
        {"finish now", err, "`force <reason>`"},
        {"abort cancelled by product", index_of<abort_command>(), "",
         with<abort_command>([](auto& c) { return c.reason == "cancelled by product"; })},
        {"abort", err, "needs a reason"},
        {"report", index_of<report_command>(), "",
         with<report_command>([](auto& c) { return c.form == report_form::summary; })},
        {"report markdown", index_of<report_command>(), "",
         with<report_command>([](auto& c) { return c.form == report_form::markdown; })},
        {"report chart", index_of<report_command>(), "",
         with<report_command>([](auto& c) { return c.form == report_form::chart; })},
        {"report file", index_of<report_command>(), "",
         with<report_command>([](auto& c) { return c.form == report_form::file; })},
        {"report pdf", err, "`markdown`, `chart`, `file`"},
        {"stats", index_of<stats_command>(), "",
         with<stats_command>([](auto& c) { return c.count == 10; })},
        {"stats 25", index_of<stats_command>(), "",
         with<stats_command>([](auto& c) { return c.count == 25; })},
        {"stats 1", index_of<stats_command>(), "",
         with<stats_command>([](auto& c) { return c.count == 1; })},
        {"stats 500", index_of<stats_command>(), "",
         with<stats_command>([](auto& c) { return c.count == 500; })},
        {"stats 0", err, "such as `stats 20`"},
        // A near miss names the command it most likely is; anything else points at help.
        {"chek 1.2", err, "Did you mean `/release check <item>"},
        {"asign 1.2 <@U1>", err, "Did you mean `/release assign"},
        {"xyzzy", err, "Type `/release help` for the list"},
        {"done 1.2", err, "Did you mean `/release check <item>"},
        // Short words: one edit only, so `stop` is not taken for `skip`; and no guess between
        // two as near (`stat`: `start` or `stats`).
        {"stop", err, "Type `/release help` for the list"},
        {"stat", err, "Type `/release help` for the list"},
        {"finsh", err, "Did you mean `/release finish"},
        {"stats many", err, "such as `stats 20`"},
        {"remind", index_of<remind_command>(), ""},
        {"accept", index_of<accept_command>(), ""},
        {"accept all", err, "takes no arguments"},
        {"remind everyone", err, "takes no arguments"},
        {"launch now", err, "/release help"},
        {"start v1 " + std::string(3000, 'x'), err, "3,000"},
    };
    for (const auto& r : rows) {
        INFO("text: " << r.text.substr(0, 80));
        auto c = parse_command(r.text);
        REQUIRE(c.index() == r.alternative);
        if (r.alternative == err) {
            const auto& msg = std::get<usage_error>(c).message;
            CHECK(has(msg, r.error_part));
            // Every error about a known command shows the right form.
            if (!has(r.text, "launch") && r.text.size() < 3000) {
                CHECK(has(msg, "/release "));
            }
        } else {
            CHECK(r.fields(c));
        }
    }
}

TEST_CASE("the 3,000-character limit counts characters as typed, not bytes", "[unit]") {
    auto repeat = [](std::string_view piece, int n) {
        std::string out;
        for (int i = 0; i < n; ++i) {
            out += piece;
        }
        return out;
    };
    auto accepted = [](const std::string& text) {
        INFO(text.substr(0, 40) << "… (" << text.size() << " bytes)");
        return !std::holds_alternative<usage_error>(parse_command(text));
    };
    // Four bytes each, one character each: 2,990 characters in 11,933 bytes.
    CHECK(accepted("note 1.3 " + repeat("\xF0\x9F\x9A\x80", 2981)));
    CHECK(accepted("note 1.3 " + repeat("\xC3\xA9", 2991)));  // é
    // Slack sends & as &amp;: one character typed.
    CHECK(accepted("note 1.3 " + repeat("&amp;", 2991)));
    CHECK(typed_length("a &lt;b&gt; &amp; c") == 9);
    // One character too many, whatever its bytes.
    for (const auto& piece : {std::string("x"), std::string("\xC3\xA9"), std::string("&lt;")}) {
        auto c = parse_command("note 1.3 " + repeat(piece, 2992));
        REQUIRE(std::holds_alternative<usage_error>(c));
        CHECK(has(std::get<usage_error>(c).message, "3001 characters long; the limit is 3,000"));
    }
    auto huge = parse_command("note 1.3 " + std::string(20000, 'x'));
    REQUIRE(std::holds_alternative<usage_error>(huge));
    CHECK(has(std::get<usage_error>(huge).message, "more than 3,000 characters"));
}

TEST_CASE("user text in errors is escaped so it cannot mention anyone", "[unit]") {
    auto evil = std::get<usage_error>(parse_command("<!channel>")).message;
    CHECK_FALSE(has(evil, "<!channel>"));
    CHECK(has(evil, "&lt;!channel&gt;"));
    auto evil2 = std::get<usage_error>(parse_command("assign 1.1 <!here>")).message;
    CHECK_FALSE(has(evil2, "<!here>"));
}

TEST_CASE("words are split on whitespace and Slack's escapes undone after splitting", "[unit]") {
    words spaced(" a\tb\n c ");
    REQUIRE(spaced.size() == 3);
    CHECK(spaced[0] == "a");
    CHECK(spaced[2] == "c");
    words escaped("note x &lt;b&gt; &amp; <@U1|pat>");
    REQUIRE(escaped.size() == 5);
    CHECK(escaped[2] == "<b>");
    CHECK(escaped[3] == "&");
    CHECK(escaped[4] == "<@U1|pat>");
    words w("note 2.3   keep   its spacing ");
    CHECK(w.rest(2) == "keep   its spacing");
    CHECK(w.rest(9).empty());
}

TEST_CASE("mentions come in both forms Slack sends", "[unit]") {
    CHECK(parse_mention("<@U0123ABC>") == "U0123ABC");
    CHECK(parse_mention("<@U0123ABC|pat>") == "U0123ABC");
    CHECK(parse_mention("<@W0123>") == "W0123");
    CHECK_FALSE(parse_mention("@pat"));
    CHECK_FALSE(parse_mention("<#C0123|releases>"));
    CHECK_FALSE(parse_mention("<@u0123>"));
    CHECK_FALSE(parse_mention("<!channel>"));
}

TEST_CASE("the command table has no name twice and every entry has usage, an example and a summary",
          "[unit]") {
    std::set<std::string_view> names;
    for (const auto& e : command_table()) {
        CHECK(names.insert(e.name).second);
        CHECK(e.usage.starts_with(e.name));
        CHECK(e.example.starts_with(e.name));
        CHECK_FALSE(e.summary.empty());
        // The example in the table parses to that command.
        auto c = parse_command(e.example);
        if (e.name != "assign" && e.name != "handoff" && e.name != "manager" && e.name != "role" &&
            e.name != "start") {  // examples show @names
            CHECK_FALSE(std::holds_alternative<usage_error>(c));
        }
    }
    CHECK(names == std::set<std::string_view>{"start",   "status",   "list",    "check",  "uncheck",
                                              "skip",    "block",    "unblock", "assign", "note",
                                              "next",    "rollback", "handoff", "accept", "manager",
                                              "approve", "role",     "finish",  "abort",  "report",
                                              "stats",   "remind",   "help"});
}

}  // namespace unit_commands_parse_test
