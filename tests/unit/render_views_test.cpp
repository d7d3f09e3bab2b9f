// The modals a click opens and the App Home tab: what each is about, its inputs (block ids and
// elements the reader of submissions relies on), and Slack's view limits.
#include <catch2/catch.hpp>

#include "checklist/release.hpp"
#include "commands/controls.hpp"
#include "commands/render/views.hpp"
#include "slack/block_kit.hpp"

namespace unit_render_views_test {

using namespace relbot;
using nlohmann::json;
namespace controls = commands::controls;

namespace {

checklist::release standard() {
    checklist::template_library lib;
    auto r = checklist::make_release(*lib.find("standard"), "C1", "v1.0", "U1", 1795669235);
    r.id = 7;
    std::int64_t id = 100;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.id = id++;
        }
    }
    return r;
}

// slack::view_violation, after checking that every input's element has the action_id "value"
// (commands/controls.hpp; Slack asks action_ids to be unique within their block only).
std::string view_violation(const json& view) {
    for (const auto& b : view["blocks"]) {
        if (b["type"] == "input") {
            CHECK(b["element"]["action_id"] == "value");
        }
    }
    return slack::view_violation(view);
}

// The input with `block_id`, or null.
json input(const json& view, std::string_view block_id) {
    for (const auto& b : view["blocks"]) {
        if (b["type"] == "input" && b["block_id"] == block_id) {
            return b;
        }
    }
    return nullptr;
}

void check_modal(const json& view, std::string_view callback_id) {
    INFO(view.dump());
    CHECK(view_violation(view) == "");
    CHECK(view["type"] == "modal");
    CHECK(view["callback_id"] == callback_id);
    CHECK(view["private_metadata"] == "{\"t\":\"r7.i103\"}");
    CHECK(view.contains("submit"));
    CHECK(view.contains("close"));
}

void check_reason(const json& view, std::string_view block_id) {
    auto in = input(view, block_id);
    REQUIRE(in.is_object());
    CHECK(in["element"]["type"] == "plain_text_input");
    CHECK(in["element"]["multiline"] == true);
    CHECK(in["element"]["max_length"] == 3000);
    CHECK_FALSE(in.value("optional", false));
}

commands::home_item home_item(int n, std::optional<checklist::epoch_seconds> due) {
    return {7,
            "v1.0",
            "C1",
            "Deployment Steps",
            100 + n,
            "2." + std::to_string(n),
            "Item " + std::to_string(n),
            due,
            checklist::item_state::open};
}

}  // namespace

TEST_CASE("the item modals show the item and the release and ask for a reason or a note",
          "[unit]") {
    auto r = standard();
    const auto& it = r.phases[0].items[3];
    const std::string meta = "{\"t\":\"r7.i103\"}";
    for (auto [view, id, block] :
         {std::tuple{commands::skip_modal(it, r, meta), "skip", controls::block_reason},
          std::tuple{commands::block_modal(it, r, meta), "block", controls::block_reason},
          std::tuple{commands::note_modal(it, r, meta), "note", controls::block_note}}) {
        check_modal(view, id);
        check_reason(view, block);
        auto about = view["blocks"][0]["text"]["text"].get<std::string>();
        CHECK(about.find("`1.4`") != std::string::npos);
        CHECK(about.find(it.title) != std::string::npos);
        CHECK(about.find("v1.0") != std::string::npos);
    }
}

TEST_CASE("the assign modal offers the current owner and an optional due time", "[unit]") {
    auto r = standard();
    auto it = r.phases[0].items[3];
    auto none = commands::assign_modal(it, r, "{\"t\":\"r7.i103\"}");
    check_modal(none, "assign");
    CHECK(input(none, "owner")["element"]["type"] == "users_select");
    CHECK_FALSE(input(none, "owner")["element"].contains("initial_user"));
    CHECK(input(none, "due")["element"]["type"] == "datetimepicker");
    CHECK(input(none, "due")["optional"] == true);

    it.owner = "U42";
    it.due_at = 1795700000;
    auto owned = commands::assign_modal(it, r, "{\"t\":\"r7.i103\"}");
    check_modal(owned, "assign");
    CHECK(input(owned, "owner")["element"]["initial_user"] == "U42");
    CHECK(input(owned, "due")["element"]["initial_date_time"] == 1795700000);
}

TEST_CASE("rollback and next-force modals say what they are about and require a reason", "[unit]") {
    auto r = standard();
    auto roll = commands::rollback_modal(r, 2, "{\"t\":\"r7.i103\"}");
    check_modal(roll, "rollback");
    check_reason(roll, controls::block_reason);
    auto about = roll["blocks"][0]["text"]["text"].get<std::string>();
    CHECK(about.find("v1.0") != std::string::npos);
    CHECK(about.find("checkpoint 2") != std::string::npos);
    CHECK(commands::rollback_modal(r, 0, "{}")["blocks"][0]["text"]["text"].get<std::string>().find(
              "checkpoint") == std::string::npos);

    r.phases[0].items[0].state = checklist::item_state::done;
    auto next = commands::next_force_modal(r, "The gate is not met.", "{\"t\":\"r7.i103\"}");
    check_modal(next, "next_force");
    check_reason(next, controls::block_reason);
    auto text = next.dump();
    CHECK(text.find("The gate is not met.") != std::string::npos);  // says what holds it…
    CHECK(text.find("`1.2`") == std::string::npos);  // …so the items are not listed twice
    CHECK(next["title"]["text"] == "Next phase anyway");
    auto listed = commands::next_force_modal(r, "", "{}").dump();
    CHECK(listed.find("`1.2`") != std::string::npos);  // still open
    CHECK(listed.find("`1.1`") == std::string::npos);  // done

    r.current_phase = static_cast<int>(r.phases.size());
    CHECK(commands::next_force_modal(r, "", "{}")["title"]["text"] == "Finish anyway");
}

TEST_CASE("the start modal asks for channel, version, template and where owners come from",
          "[unit]") {
    auto view =
        commands::start_modal({"hotfix", "standard", "mobile"}, "{\"t\":\"r7.i103\"}", "C9");
    check_modal(view, "start");
    auto channel = input(view, "channel")["element"];
    CHECK(channel["type"] == "conversations_select");
    CHECK(channel["default_to_current_conversation"] == false);
    CHECK(channel["filter"]["include"] == json::array({"public", "private"}));
    CHECK(channel["initial_conversation"] == "C9");
    CHECK(input(view, "version")["element"]["type"] == "plain_text_input");
    auto templ = input(view, "template")["element"];
    CHECK(templ["type"] == "static_select");
    CHECK(templ["options"].size() == 3);
    CHECK(templ["initial_option"]["value"] == "standard");
    CHECK(input(view, "owners_from")["optional"] == true);
    auto blank = commands::start_modal({"standard"}, "{\"t\":\"r7.i103\"}", "");
    CHECK_FALSE(input(blank, "channel")["element"].contains("initial_conversation"));
}

TEST_CASE("App Home: the viewer's open items overdue first, their releases, Start a release…",
          "[unit]") {
    commands::home_data d;
    d.viewer = "U1";
    d.now = 1795669235;
    d.open_items = {home_item(1, std::nullopt), home_item(2, d.now + 3600),
                    home_item(3, d.now - 60), home_item(4, d.now + 60)};
    d.managed = {{7, "v1.0", "C1", "U1", 2, 6, "Deployment Steps"}};
    d.active = d.managed;
    auto view = commands::home_view(d);
    CHECK(view_violation(view) == "");
    CHECK(view["type"] == "home");
    auto text = view.dump();
    auto at = [&](const std::string& s) { return text.find(s); };
    CHECK(at("`2.3`") < at("`2.4`"));  // overdue first
    CHECK(at("`2.4`") < at("`2.2`"));  // then by due time
    CHECK(at("`2.2`") < at("`2.1`"));  // no due time last
    CHECK(at("overdue") != std::string::npos);
    CHECK(at("Releases you manage") != std::string::npos);
    CHECK(at("Active releases") != std::string::npos);
    CHECK(at("<#C1>") != std::string::npos);
    int done = 0;
    for (const auto& b : view["blocks"]) {
        if (b["type"] == "actions" && b["block_id"] != "home") {
            CHECK(b["elements"][0]["text"]["text"] == "Done");
            auto t = controls::decode(b["elements"][0]["value"].get<std::string>());
            REQUIRE(t);
            CHECK(t->release_id == 7);
            CHECK(b["block_id"] == "item:" + std::to_string(t->item_id));
            ++done;
        }
    }
    CHECK(done == 4);
    const auto& start = view["blocks"].back();
    CHECK(start["block_id"] == "home");
    CHECK(start["elements"][0]["text"]["text"] == "Start a release…");
    CHECK(controls::parse_action_id(start["elements"][0]["action_id"].get<std::string>()) ==
          controls::action::start_release);
}

TEST_CASE("App Home stays within 100 blocks and says what is empty", "[unit]") {
    commands::home_data empty;
    auto none = commands::home_view(empty);
    CHECK(view_violation(none) == "");
    CHECK(none.dump().find("Nothing is waiting for you.") != std::string::npos);

    commands::home_data d;
    d.now = 1795669235;
    for (int n = 1; n <= 200; ++n) {
        d.open_items.push_back(home_item(n, d.now + n));
        d.active.push_back({n, "v" + std::to_string(n), "C1", "U1", 1, 6, std::string(200, 't')});
    }
    auto view = commands::home_view(d);
    CHECK(view_violation(view) == "");
    CHECK(view["blocks"].size() <= 100);
    auto text = view.dump();
    CHECK(text.find("more open items") != std::string::npos);
    CHECK(text.find("Start a release…") != std::string::npos);
}

}  // namespace unit_render_views_test
