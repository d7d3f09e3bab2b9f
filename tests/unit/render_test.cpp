// Rendering: what people read, and Block Kit's limits held even for huge templates.
#include "commands/render.hpp"

#include <catch2/catch.hpp>

#include "checklist/release.hpp"

using namespace relbot;
using nlohmann::json;

namespace {

void check_block_kit_limits(const commands::message& m) {
    CHECK_FALSE(m.text.empty());
    CHECK(m.text.size() <= commands::max_fallback_text);
    REQUIRE(m.blocks.is_array());
    CHECK(m.blocks.size() <= commands::max_blocks);
    std::size_t total = 0;
    for (const auto& b : m.blocks) {
        if (b["type"] == "section") {
            auto t = b["text"]["text"].get<std::string>();
            CHECK_FALSE(t.empty());
            CHECK(t.size() <= commands::max_section_text);
            total += t.size();
        }
        if (b["type"] == "header") {
            CHECK(b["text"]["text"].get<std::string>().size() <= commands::max_header_text);
        }
        for (const auto& e : b.value("elements", json::array())) {
            total += e.value("text", "").size();
        }
    }
    CHECK(total <= commands::max_total_block_text);
}

std::string all_text(const commands::message& m) {
    std::string out = m.text;
    for (const auto& b : m.blocks) {
        out += "\n" + b.dump();
    }
    return out;
}

checklist::release standard_release() {
    checklist::template_library lib;
    return checklist::make_release(*lib.find("standard"), "C1", "v1.0", "U1", 1795669235);
}

}  // namespace

TEST_CASE("status shows every phase with progress and the current phase's items in full",
          "[unit]") {
    auto r = standard_release();
    r.phases[0].items[0].state = checklist::item_state::done;
    r.phases[0].items[1].state = checklist::item_state::blocked;
    r.phases[0].items[1].state_note = "scanner down";
    r.phases[0].items[2].owner = "U2";
    auto m = commands::render_status(r);
    check_block_kit_limits(m);
    auto text = all_text(m);
    CHECK(text.find("Release v1.0") != std::string::npos);
    CHECK(text.find("6 phases") != std::string::npos);
    CHECK(text.find("33 items") != std::string::npos);
    CHECK(text.find("Pre-Release Checks — 1/9") != std::string::npos);
    CHECK(text.find("Post-Release Monitoring (24-48 hours) — 0/4") != std::string::npos);
    CHECK(text.find("Phase 1 of 6: Pre-Release Checks") != std::string::npos);
    CHECK(text.find("`1.9`") != std::string::npos);
    CHECK(text.find("`2.1`") == std::string::npos);  // later phases are summarised only
    CHECK(text.find("scanner down") != std::string::npos);
    CHECK(text.find("<@U2>") != std::string::npos);
}

TEST_CASE("text from a template or a user is escaped in every message", "[unit]") {
    checklist::checklist_template t{"evil",
                                    {{"<!channel> phase", std::nullopt, {{"<@U999> & co", "x"}}}}};
    auto r = checklist::make_release(t, "C1", "v1", "U1", 0);
    for (const auto& m : {commands::render_status(r), commands::render_release_started(r)}) {
        auto text = all_text(m);
        CHECK(text.find("<!channel>") == std::string::npos);
        CHECK(text.find("<@U999>") == std::string::npos);
        CHECK(text.find("&lt;!channel&gt;") != std::string::npos);
    }
}

TEST_CASE("a huge template still renders within Block Kit limits", "[unit]") {
    checklist::checklist_template t{"big", {}};
    for (int p = 0; p < 60; ++p) {
        checklist::template_phase phase{
            "Phase " + std::to_string(p) + std::string(100, 'p'), std::nullopt, {}};
        for (int i = 0; i < 200; ++i) {
            phase.items.push_back({"Item " + std::to_string(i) + " " + std::string(180, 'x'), "d"});
        }
        t.phases.push_back(std::move(phase));
    }
    auto r = checklist::make_release(t, "C1", std::string(64, 'v'), "U1", 0);
    auto status = commands::render_status(r);
    check_block_kit_limits(status);
    CHECK(all_text(status).find("more") != std::string::npos);  // says what was left out
    check_block_kit_limits(commands::render_release_started(r));
}

TEST_CASE("the release-started announcement names the version, the manager and the first phase",
          "[unit]") {
    auto m = commands::render_release_started(standard_release());
    check_block_kit_limits(m);
    CHECK(m.text.find("v1.0") != std::string::npos);
    CHECK(m.text.find("<@U1>") != std::string::npos);
    CHECK(m.text.find("Pre-Release Checks") != std::string::npos);
    CHECK(all_text(m).find("9 items") != std::string::npos);
}

TEST_CASE("help lists every command of the table", "[unit]") {
    auto m = commands::render_help();
    check_block_kit_limits(m);
    for (const char* c : {"/release start <version>", "/release status", "/release help"}) {
        CHECK(all_text(m).find(c) != std::string::npos);
    }
}

TEST_CASE("a slash command's ack payload is ephemeral unless asked", "[unit]") {
    auto m = commands::render_text("hi");
    CHECK(commands::to_ack_payload(m)["response_type"] == "ephemeral");
    CHECK(commands::to_ack_payload(m, true)["response_type"] == "in_channel");
    CHECK(commands::to_post_body(m) == json{{"text", "hi"}, {"blocks", m.blocks}});
    CHECK(commands::dump_json(json("bad \xff utf8")).find("\xEF\xBF\xBD") != std::string::npos);
}
