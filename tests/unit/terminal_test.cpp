// The sandbox demo's terminal: what a person types becomes what Slack would send, and what
// relbot sends is drawn with names and glyphs, never raw codes.
#include "sim/terminal.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

using namespace relbot::sim;

TEST_CASE("typed @names become the mentions Slack sends, and an unknown name is answered",
          "[unit][terminal]") {
    auto ok = resolve_mentions("assign 2.3 @pat due 2h");
    REQUIRE(std::holds_alternative<std::string>(ok));
    CHECK(std::get<std::string>(ok) == "assign 2.3 <@UPAT|pat> due 2h");
    auto two = resolve_mentions("handoff @sam @lee");
    REQUIRE(std::holds_alternative<std::string>(two));
    CHECK(std::get<std::string>(two) == "handoff <@USAM|sam> <@ULEE|lee>");
    auto mail = resolve_mentions("note 1.1 mailed ops@example.com");
    REQUIRE(std::holds_alternative<std::string>(mail));
    CHECK(std::get<std::string>(mail) == "note 1.1 mailed ops@example.com");
    auto unknown = resolve_mentions("assign 1.1 @nobody");
    REQUIRE(std::holds_alternative<typed_error>(unknown));
    CHECK(std::get<typed_error>(unknown).message.find("@pat") != std::string::npos);
}

TEST_CASE("a typed line is a command, a switch of person, or a sandbox word", "[unit][terminal]") {
    auto command = read_typed_line("/release check 1.1");
    REQUIRE(std::holds_alternative<typed_release>(command));
    CHECK(std::get<typed_release>(command).text == "check 1.1");
    auto bare = read_typed_line("  status ");
    REQUIRE(std::holds_alternative<typed_release>(bare));
    CHECK(std::get<typed_release>(bare).text == "status");
    auto become = read_typed_line("as @sam");
    REQUIRE(std::holds_alternative<typed_switch>(become));
    CHECK(std::get<typed_switch>(become).to->id == "USAM");
    CHECK_FALSE(std::get<typed_switch>(become).once);
    auto once = read_typed_line("as sam /release accept");
    REQUIRE(std::holds_alternative<typed_switch>(once));
    CHECK(std::get<typed_switch>(once).once == std::optional<std::string>("accept"));
    CHECK(std::holds_alternative<typed_error>(read_typed_line("as @nobody")));
    CHECK(std::holds_alternative<typed_error>(read_typed_line("/deploy now")));
    CHECK(std::holds_alternative<typed_quit>(read_typed_line("quit")));
    CHECK(std::holds_alternative<typed_people>(read_typed_line("people")));
    CHECK(std::holds_alternative<typed_nothing>(read_typed_line("   ")));
}

TEST_CASE("mentions, channels, dates, quotes and entities are drawn for a person",
          "[unit][terminal]") {
    CHECK(render_mrkdwn("<@UPAT> and <@USAM|sam> and <@U999|guest> and <@U777>", false) ==
          "@pat and @sam and @guest and @U777");
    CHECK(render_mrkdwn("in <#C0DEMO> and <#C123|ops>", false) == "in #release-demo and #ops");
    CHECK(render_mrkdwn("due <!date^1700000000^{date_short}|Nov 14>", false) == "due Nov 14");
    CHECK(render_mrkdwn("blocked\n>staging &lt;down&gt; &amp; out", false) ==
          "blocked\n│ staging <down> & out");
    CHECK(destination_name("DPAT") == "@pat (direct message)");
    CHECK(destination_name("C0DEMO") == "#release-demo");
}

// Every emoji code in relbot's own sources (string literals in checklist/, commands/, bot/)
// is drawn as a glyph in the demo: a new code without a glyph fails here.
TEST_CASE("every emoji code relbot writes is drawn as a glyph in the sandbox", "[unit][terminal]") {
    namespace fs = std::filesystem;
    std::set<std::string> codes;
    const std::regex literal("\"([^\"\\\\\\n]|\\\\.)*\"");
    const std::regex emoji_code("(^|[^:\\w]):([a-z][a-z0-9_+]*):(?=[^:\\w]|$)");
    for (const char* folder : {"checklist", "commands", "bot"}) {
        for (const auto& f : fs::directory_iterator(fs::path(RELBOT_SOURCE_DIR) / folder)) {
            if (f.path().extension() != ".cpp") {
                continue;
            }
            std::ifstream in(f.path());
            std::string text((std::istreambuf_iterator<char>(in)), {});
            for (std::sregex_iterator s(text.begin(), text.end(), literal), end; s != end; ++s) {
                auto lit = s->str();
                for (std::sregex_iterator c(lit.begin(), lit.end(), emoji_code); c != end; ++c) {
                    codes.insert(":" + (*c)[2].str() + ":");
                }
            }
        }
    }
    REQUIRE(codes.size() >= 10);  // the scan found relbot's codes at all
    for (const auto& c : codes) {
        INFO(c);
        CHECK(render_mrkdwn("x " + c + " y", false).find(c) == std::string::npos);
    }
}
