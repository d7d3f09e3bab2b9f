// The sandbox demo's terminal: what a person types becomes what Slack would send, and what
// relbot sends is drawn with names and glyphs, never raw codes.
#include "sim/terminal.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace unit_terminal_test {

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

namespace {

nlohmann::json plain(const std::string& t) {
    return {{"type", "plain_text"}, {"text", t}};
}

nlohmann::json button(const std::string& label, const std::string& action_id) {
    return {
        {"type", "button"}, {"text", plain(label)}, {"action_id", action_id}, {"value", "r4.i17"}};
}

nlohmann::json option(const std::string& label, const std::string& value) {
    return {{"text", plain(label)}, {"value", value}};
}

nlohmann::json section(const std::string& text) {
    return {{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", text}}}};
}

// Two items as relbot draws them: one with an actions block, one in compact form.
nlohmann::json item_with_controls() {
    using nlohmann::json;
    json snooze = {{"type", "static_select"},
                   {"action_id", "item.snooze:17"},
                   {"placeholder", plain("Snooze")},
                   {"options", {option("1 hour", "r4.i17.s1h"), option("4 hours", "r4.i17.s4h")}}};
    json actions = {
        {"type", "actions"},
        {"block_id", "item:17"},
        {"elements", {button("Done", "item.done:17"), button("Skip…", "item.skip:17"), snooze}}};
    json compact = section("⬜ `2.4` Canary");
    compact["accessory"] = {
        {"type", "overflow"},
        {"action_id", "item.menu:18"},
        {"options", {option("Done", "item.done|r4.i18"), option("Skip…", "item.skip|r4.i18")}}};
    return json::array({section("⬜ `2.3` Smoke tests"), actions, compact});
}

}  // namespace

TEST_CASE("buttons, selects and overflow menus are drawn on one line under their item",
          "[unit][terminal]") {
    auto blocks = item_with_controls();
    CHECK(draw_controls(blocks[1]) == "[Done] [Skip…] [Snooze ▾]");
    CHECK(draw_controls(blocks[2]) == "[⋯ Done|Skip…]");
    CHECK(draw_controls(blocks[0]).empty());
    auto drawn = render_message("relbot", {{"text", "x"}, {"blocks", blocks}}, false, false);
    auto item = drawn.find("`2.3` Smoke tests");
    auto buttons = drawn.find("[Done] [Skip…] [Snooze ▾]");
    REQUIRE(item != std::string::npos);
    REQUIRE(buttons != std::string::npos);
    CHECK(item < buttons);
    CHECK(drawn.find('\n', item) < buttons);  // on the line under the item
    // A direct message is drawn compactly, but its controls stay visible and clickable.
    auto dm = render_message("relbot → @pat", {{"text", "Yours"}, {"blocks", blocks}}, false, true);
    CHECK(dm.find("[Done] [Skip…] [Snooze ▾]") != std::string::npos);
    CHECK(dm.find("[⋯ Done|Skip…]") != std::string::npos);
}

TEST_CASE("click reads a label, the item it is for, and a select's option", "[unit][terminal]") {
    auto done = read_typed_line("click Done 2.3");
    REQUIRE(std::holds_alternative<typed_click>(done));
    CHECK(std::get<typed_click>(done).target.label == "Done");
    CHECK(std::get<typed_click>(done).target.match == "`2.3`");
    auto next = read_typed_line("click \"Next phase\"");
    REQUIRE(std::holds_alternative<typed_click>(next));
    CHECK(std::get<typed_click>(next).target.label == "Next phase");
    CHECK(std::get<typed_click>(next).target.match.empty());
    auto unquoted = read_typed_line("click remind owners");
    REQUIRE(std::holds_alternative<typed_click>(unquoted));
    CHECK(std::get<typed_click>(unquoted).target.label == "Remind owners");
    auto skip = read_typed_line("click Skip 2.3");  // the `…` may be left out
    REQUIRE(std::holds_alternative<typed_click>(skip));
    CHECK(std::get<typed_click>(skip).target.label == "Skip…");
    auto quoted = read_typed_line("click \"Roll back\"");  // in quotes too
    REQUIRE(std::holds_alternative<typed_click>(quoted));
    CHECK(std::get<typed_click>(quoted).target.label == "Roll back…");
    auto snooze = read_typed_line("click Snooze 2.3 4 hours");
    REQUIRE(std::holds_alternative<typed_click>(snooze));
    CHECK(std::get<typed_click>(snooze).target.option == "4 hours");
    CHECK(std::get<typed_click>(snooze).target.match == "`2.3`");
    auto words = read_typed_line("click Done smoke tests");
    REQUIRE(std::holds_alternative<typed_click>(words));
    CHECK(std::get<typed_click>(words).target.match == "smoke tests");
    CHECK(std::holds_alternative<typed_error>(read_typed_line("click Snooze 2.3")));
    CHECK(std::holds_alternative<typed_error>(read_typed_line("click")));
    CHECK(std::holds_alternative<typed_home>(read_typed_line("home")));
}

TEST_CASE("a click finds the control by label in the scope of its item", "[unit][terminal]") {
    auto blocks = item_with_controls();
    std::vector<std::string> seen;
    auto on_24 = find_control(blocks, {"Done", "`2.4`", ""}, seen);
    REQUIRE(on_24);
    CHECK((*on_24)["type"] == "overflow");
    CHECK((*on_24)["selected_option"]["value"] == "item.done|r4.i18");
    auto on_23 = find_control(blocks, {"Done", "`2.3`", ""}, seen);
    REQUIRE(on_23);
    CHECK((*on_23)["action_id"] == "item.done:17");
    CHECK((*on_23)["block_id"] == "item:17");
    CHECK((*on_23)["value"] == "r4.i17");
    auto snooze = find_control(blocks, {"Snooze", "Smoke", "4 hours"}, seen);
    REQUIRE(snooze);
    CHECK((*snooze)["selected_option"]["value"] == "r4.i17.s4h");
    seen.clear();
    CHECK_FALSE(find_control(blocks, {"Unblock", "", ""}, seen));
    CHECK(std::find(seen.begin(), seen.end(), "Skip…") != seen.end());
    CHECK_FALSE(find_control(blocks, {"Done", "`9.9`", ""}, seen));
}

TEST_CASE("a modal's answers are read per input and typed in state.values", "[unit][terminal]") {
    using nlohmann::json;
    json view = {{"type", "modal"},
                 {"blocks",
                  {{{"type", "input"},
                    {"block_id", "owner"},
                    {"label", plain("Owner")},
                    {"element", {{"type", "users_select"}, {"action_id", "value"}}}},
                   {{"type", "input"},
                    {"block_id", "due"},
                    {"optional", true},
                    {"label", plain("Due")},
                    {"element", {{"type", "datetimepicker"}, {"action_id", "value"}}}}}}};
    auto inputs = view_inputs(view);
    REQUIRE(inputs.size() == 2);
    auto pat = read_modal_answer(inputs[0], "@pat");
    REQUIRE(std::holds_alternative<json>(pat));
    CHECK(std::get<json>(pat) == "UPAT");
    CHECK(std::holds_alternative<typed_error>(read_modal_answer(inputs[0], "")));
    CHECK(std::get<json>(read_modal_answer(inputs[1], "")).is_null());
    CHECK(std::get<json>(read_modal_answer(inputs[1], "2026-12-01 14:00")) == 1796133600);
    std::string error;
    auto values = submission_values(view, {{"owner", "UPAT"}}, error);
    CHECK(error.empty());
    CHECK(values["owner"]["value"]["selected_user"] == "UPAT");
    CHECK(values["due"]["value"]["type"] == "datetimepicker");
    CHECK(values["due"]["value"]["selected_date_time"].is_null());
    submission_values(view, {{"nope", "x"}}, error);
    CHECK_FALSE(error.empty());
}

}  // namespace unit_terminal_test
