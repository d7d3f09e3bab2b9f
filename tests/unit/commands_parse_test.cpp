// Parsing `/release …` text: the commands that exist today and their bad inputs.
#include <catch2/catch.hpp>
#include <set>

#include "commands/parse.hpp"

using namespace relbot::commands;

namespace {

std::string usage_of(const command& c) {
    REQUIRE(std::holds_alternative<usage_error>(c));
    return std::get<usage_error>(c).message;
}

bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("help: empty text and `help` both list the commands", "[unit]") {
    CHECK(std::holds_alternative<help_command>(parse_command("")));
    CHECK(std::holds_alternative<help_command>(parse_command("   ")));
    CHECK(std::holds_alternative<help_command>(parse_command("help")));
    CHECK(std::holds_alternative<help_command>(parse_command("HELP")));
}

TEST_CASE("start takes a version and an optional template", "[unit]") {
    auto c = parse_command("start v2.4.0");
    REQUIRE(std::holds_alternative<start_command>(c));
    CHECK(std::get<start_command>(c).version == "v2.4.0");
    CHECK(std::get<start_command>(c).template_name == "standard");

    c = parse_command("  start   2026.05.1-rc1+build/7   template  hotfix ");
    REQUIRE(std::holds_alternative<start_command>(c));
    CHECK(std::get<start_command>(c).version == "2026.05.1-rc1+build/7");
    CHECK(std::get<start_command>(c).template_name == "hotfix");
}

TEST_CASE("start refuses bad input and says how to write it", "[unit]") {
    CHECK(has(usage_of(parse_command("start")), "/release start <version>"));
    CHECK(has(usage_of(parse_command("start v1 template")), "needs a template name"));
    CHECK(has(usage_of(parse_command("start v1 tempate hotfix")), "`tempate`"));
    CHECK(has(usage_of(parse_command("start <@U123>")), "version"));
    CHECK(has(usage_of(parse_command("start " + std::string(65, '1'))), "up to 64"));
    CHECK(has(usage_of(parse_command("start v1 template ../etc")), "template name"));
}

TEST_CASE("status takes no arguments", "[unit]") {
    CHECK(std::holds_alternative<status_command>(parse_command("status")));
    CHECK(has(usage_of(parse_command("status now")), "/release status"));
}

TEST_CASE("unknown commands point at help, with the user's word escaped", "[unit]") {
    auto msg = usage_of(parse_command("launch now"));
    CHECK(has(msg, "`launch`"));
    CHECK(has(msg, "/release help"));
    auto evil = usage_of(parse_command("<!channel>"));
    CHECK_FALSE(has(evil, "<!channel>"));
    CHECK(has(evil, "&lt;!channel&gt;"));
}

TEST_CASE("text over 3,000 characters is refused", "[unit]") {
    auto msg = usage_of(parse_command("start v1 " + std::string(3000, 'x')));
    CHECK(has(msg, "3,000"));
}

TEST_CASE("words are split on whitespace and Slack's escapes undone after splitting", "[unit]") {
    CHECK(split_words(" a\tb\n c ") == std::vector<std::string>{"a", "b", "c"});
    CHECK(split_words("note x &lt;b&gt; &amp; <@U1|pat>") ==
          std::vector<std::string>{"note", "x", "<b>", "&", "<@U1|pat>"});
}

TEST_CASE("the command table has no name twice and every entry has usage and a summary", "[unit]") {
    std::set<std::string_view> names;
    for (const auto& e : command_table()) {
        CHECK(names.insert(e.name).second);
        CHECK(e.usage.starts_with(e.name));
        CHECK_FALSE(e.summary.empty());
        CHECK(e.parse != nullptr);
    }
    CHECK(names == std::set<std::string_view>{"help", "start", "status"});
}
