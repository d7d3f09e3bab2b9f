// The sandbox page's state: what comes next, read from relbot's status message; and the page
// state's shape (surfaces drawn as HTML, the modal keyed so typed input survives a redraw).
#include "sim/web_state.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "checklist/checkpoints.hpp"
#include "checklist/release.hpp"
#include "checklist/template.hpp"
#include "commands/render/blocks.hpp"
#include "commands/render/status.hpp"
#include "support/releases.hpp"

namespace unit_web_state_test {

using json = nlohmann::json;
using namespace relbot;

namespace {

constexpr std::int64_t t0 = 1'800'000'000;

checklist::release standard_release() {
    return test::numbered_standard_release("C0DEMO", "v9.9", "UALEX", t0);
}

json stored(const commands::message& m) {
    return commands::to_post_body(m);
}

}  // namespace

TEST_CASE("coming up: the status message's future times, soonest first, each line once",
          "[unit][web]") {
    auto r = standard_release();
    r.phases[0].items[2].owner = "UPAT";
    r.phases[0].items[2].due_at = t0 + 7200;
    r.phases[0].items[0].owner = "UKIM";
    r.phases[0].items[0].due_at = t0 + 600;
    r.phases[0].items[1].due_at = t0 - 60;  // already overdue: not "coming up"
    auto status = stored(commands::render_status(r));
    auto lines = sim::web::upcoming(json::array({status, status}), t0);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].at == t0 + 600);
    CHECK(lines[0].mrkdwn.find("`1.1`") != std::string::npos);
    CHECK(lines[1].at == t0 + 7200);
    CHECK(lines[1].mrkdwn.find("`1.3`") != std::string::npos);
    CHECK(sim::web::upcoming(json::array({status}), t0 + 7200).empty());
    CHECK(sim::web::upcoming(json::array({status}), t0, 1).size() == 1);
}

TEST_CASE("coming up: the next monitoring checkpoint", "[unit][web]") {
    auto r = standard_release();
    for (std::size_t p = 0; p < 4; ++p) {
        r.phases[p].entered_at = t0;
    }
    r.current_phase = 5;
    r.phases[4].entered_at = t0;
    checklist::change_log log;
    REQUIRE(checklist::create_checkpoints(r, {std::chrono::hours(1), std::chrono::hours(4)}, log));
    auto lines = sim::web::upcoming(json::array({stored(commands::render_status(r))}), t0);
    bool named = false;
    for (const auto& l : lines) {
        named = named || l.mrkdwn.find("Next monitoring checkpoint +1h") != std::string::npos;
    }
    CHECK(named);
}

TEST_CASE("coming up: odd messages are read without throwing", "[unit][web]") {
    json odd = json::array({nullptr, "text", json::object(), json{{"blocks", "x"}},
                            json{{"text", "due <!date^abc|x>"}},
                            json{{"blocks", json::array({json{{"text", 3}}})}}});
    CHECK(sim::web::upcoming(odd, t0).empty());
}

TEST_CASE("the page state draws each surface and keys the modal by view, hash and errors",
          "[unit][web]") {
    auto status = stored(commands::render_status(standard_release()));
    json surfaces = {
        {"channel", json::array({{{"channel", "C0DEMO"},
                                  {"ts", "1.000001"},
                                  {"message", status},
                                  {"pinned", true},
                                  {"ephemeral", false},
                                  {"edited", false}},
                                 {{"ts", "1.000002"},
                                  {"message", {{"text", "only <b>you</b>"}}},
                                  {"ephemeral", true},
                                  {"pinned", false},
                                  {"edited", false}}})},
        {"dm", json::array()},
        {"home", nullptr},
        {"modal",
         {{"id", "V1"},
          {"hash", "h1"},
          {"type", "modal"},
          {"title", {{"type", "plain_text"}, {"text", "Skip"}}},
          {"blocks",
           json::array({{{"type", "input"},
                         {"block_id", "reason"},
                         {"label", {{"type", "plain_text"}, {"text", "Reason"}}},
                         {"element", {{"type", "plain_text_input"}, {"action_id", "text"}}}}})}}},
        {"modal_errors", {{"reason", "Give a reason."}}}};
    auto state = sim::web::page_state(surfaces, "UALEX", "C0DEMO", "release-demo", t0);
    auto channel = state["channel"]["html"].get<std::string>();
    CHECK(channel.find("Release v9.9") != std::string::npos);
    CHECK(channel.find("data-channel=\"C0DEMO\"") != std::string::npos);  // clicks name it
    CHECK(channel.find("Only visible to you") != std::string::npos);
    CHECK(channel.find("<b>you</b>") == std::string::npos);  // escaped, not markup
    CHECK(state["dm"]["count"] == 0);
    CHECK(state["home"]["html"] == "");
    auto key = state["modal"]["key"].get<std::string>();
    CHECK(key.find("V1/h1/") == 0);
    CHECK(state["modal"]["html"].get<std::string>().find("Give a reason.") != std::string::npos);
    surfaces["modal_errors"] = json::object();
    CHECK(sim::web::page_state(surfaces, "UALEX", "C0DEMO", "release-demo", t0)["modal"]["key"] !=
          key);
}

}  // namespace unit_web_state_test
