// Rendering: what people read, and Block Kit's limits held even for huge templates.
#include "commands/render.hpp"

#include <catch2/catch.hpp>

#include "checklist/release.hpp"
#include "commands/router.hpp"
#include "slack/block_kit.hpp"
#include "support/releases.hpp"

namespace unit_render_test {

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
    }
    CHECK(relbot::slack::message_violation(m.blocks).empty());
    total = commands::block_text_size(m.blocks);  // also counts context texts and button labels
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

TEST_CASE("the status of an ended release says it ended and shows no phase in progress", "[unit]") {
    auto r = standard_release();
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.state = checklist::item_state::done;
        }
    }
    r.current_phase = static_cast<int>(r.phases.size());
    r.status = checklist::release_status::finished;
    r.ended_at = r.started_at + 3600;
    auto finished = commands::render_status(r);
    check_block_kit_limits(finished);
    auto text = all_text(finished);
    CHECK(text.find("← current") == std::string::npos);
    CHECK(text.find(":arrow_forward:") == std::string::npos);
    CHECK(text.find("Release v1.0 — finished") != std::string::npos);
    CHECK(finished.text.starts_with("Release v1.0 finished"));
    CHECK(text.find(":white_check_mark: 6. Handoff — 3/3") != std::string::npos);

    auto aborted = standard_release();
    aborted.current_phase = 2;
    aborted.status = checklist::release_status::aborted;
    aborted.ended_at = aborted.started_at + 60;
    auto a = all_text(commands::render_status(aborted));
    CHECK(a.find("← current") == std::string::npos);
    CHECK(a.find("Release v1.0 — aborted") != std::string::npos);
    CHECK(a.find(":x: 2. Deployment Steps — 0/6, where the release was aborted") !=
          std::string::npos);
    CHECK(a.find(":white_large_square: 3. Post-Release Verification") != std::string::npos);
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

namespace {

checklist::checklist_template generated(int phases, int items_per_phase, std::size_t title_len) {
    checklist::checklist_template t{"generated", {}};
    for (int p = 0; p < phases; ++p) {
        checklist::template_phase phase{"Phase " + std::to_string(p + 1), std::nullopt, {}};
        for (int i = 0; i < items_per_phase; ++i) {
            auto title = "Item " + std::to_string(p + 1) + "." + std::to_string(i + 1) + " ";
            title += std::string(title_len > title.size() ? title_len - title.size() : 0, 'x');
            phase.items.push_back({title, "description"});
        }
        t.phases.push_back(std::move(phase));
    }
    return t;
}

std::vector<checklist::audit_entry> long_history(const checklist::release& r, int n) {
    std::vector<checklist::audit_entry> audit;
    audit.push_back(
        {r.id, 0, "U1", "release.started", std::nullopt, "", "active", "template generated"});
    for (int k = 0; k < n; ++k) {
        const auto& it = r.phases[0].items[static_cast<std::size_t>(k) % r.phases[0].items.size()];
        audit.push_back(
            {r.id, 100 + k, "U2",
             k % 3 == 0 ? "item.blocked" : (k % 3 == 1 ? "item.unblocked" : "item.checked"), it.id,
             "open", "done", "https://ci.example.com/build/" + std::to_string(k) + " <!channel>"});
    }
    return audit;
}

}  // namespace

TEST_CASE("status stays within Block Kit limits for templates up to 100 items", "[unit]") {
    for (auto [phases, items] : {std::pair{1, 100}, std::pair{10, 10}, std::pair{4, 25}}) {
        INFO(phases << " phases of " << items << " items");
        auto r = checklist::make_release(generated(phases, items, 150), "C1", "v9", "U1", 0);
        r.phases[0].items[3].owner = "U123";
        r.phases[0].items[3].due_at = 1795669235;
        r.phases[0].items[4].state = checklist::item_state::blocked;
        r.phases[0].items[4].state_note = std::string(2000, 'r');
        check_block_kit_limits(commands::render_status(r));
        check_block_kit_limits(commands::render_release_started(r));
        check_block_kit_limits(commands::render_phase_entered(r, "U1", std::string(3000, 'f')));
    }
}

TEST_CASE("a long report is split into pages within Block Kit limits, and cut with a note",
          "[unit]") {
    auto r = checklist::make_release(generated(2, 30, 60), "C1", "v9", "U1", 0);
    std::int64_t id = 1;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.id = id++;
        }
    }
    auto small = commands::render_report(r, long_history(r, 5), 6);
    CHECK(small.size() == 1);
    check_block_kit_limits(small.front());

    auto pages = commands::render_report(r, long_history(r, 3000), 6);
    REQUIRE(pages.size() == 6);
    for (const auto& p : pages) {
        check_block_kit_limits(p);
        CHECK(all_text(p).find("<!channel>") == std::string::npos);
    }
    CHECK(all_text(pages.back()).find("continues in `relbot-") != std::string::npos);
    CHECK(pages.back()
              .cut_short);  // the shell counts relbot_limits_hit_total{limit="report_messages"}

    auto two = commands::render_report(r, long_history(r, 200), 6);
    CHECK(two.size() >= 2);
    CHECK(all_text(two.back()).find("continues in") == std::string::npos);
    CHECK_FALSE(two.back().cut_short);

    auto markdown = commands::render_report_markdown(r, long_history(r, 3000), 6);
    for (const auto& p : markdown) {
        check_block_kit_limits(p);
    }
    CHECK(markdown.back().cut_short);
    CHECK_FALSE(commands::render_report_markdown(r, long_history(r, 5), 6).back().cut_short);
}

TEST_CASE("the markdown report is the template's checklist with [x], who and when", "[unit]") {
    auto r = standard_release();
    std::int64_t id = 1;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.id = id++;
        }
    }
    r.phases[0].items[0].state = checklist::item_state::done;
    r.phases[0].items[1].state = checklist::item_state::skipped;
    std::vector<checklist::audit_entry> audit = {
        {r.id, 1795669235, "U7", "item.checked", r.phases[0].items[0].id, "open", "done",
         "https://ci/1"},
        {r.id, 1795669300, "U8", "item.skipped", r.phases[0].items[1].id, "open", "skipped",
         "no scanner"},
    };
    auto md = commands::report_markdown(r, audit);
    CHECK(md.find("# Release v1.0") != std::string::npos);
    CHECK(md.find("## Pre-Release Checks") != std::string::npos);
    CHECK(md.find("## Post-Release Monitoring (24-48 hours)") != std::string::npos);
    CHECK(md.find("- [x] **CI/CD Status**: Verify all CI builds are green for the release "
                  "candidate — done by @U7 "
                  "2026-11-26 05:00 UTC (https://ci/1)") != std::string::npos);
    CHECK(md.find("- [ ] **Security Scan**: ") != std::string::npos);
    CHECK(md.find("skipped by @U8") != std::string::npos);
    // The markdown is itself a valid template with the same phases and items.
    auto again = checklist::parse_template("again", "again.md", md);
    REQUIRE(std::holds_alternative<checklist::checklist_template>(again));
    CHECK(std::get<checklist::checklist_template>(again).item_count() == 33);
}

TEST_CASE("every renderer stays within Block Kit limits for the standard and a 100-item template",
          "[unit]") {
    auto big = checklist::make_release(generated(1, 100, 150), "C1", std::string(64, 'v'), "U1",
                                       1795669235);
    for (auto* r : {&big}) {
        std::int64_t id = 1;
        for (auto& p : r->phases) {
            for (auto& i : p.items) {
                i.id = id++;
                i.owner = "U" + std::to_string(id);
                i.state_note = std::string(3000, 'n');
            }
        }
        r->oncall = "U77";
        r->pm = "U78";
        r->ended_at = 1795669935;
    }
    auto standard = standard_release();
    auto history = long_history(big, 500);
    for (const auto* r : {&big, &standard}) {
        INFO("release with " << r->item_count() << " items");
        const auto& it = r->phases[0].items[0];
        std::vector<commands::message> all = {
            commands::render_status(*r),
            commands::render_release_started(*r),
            commands::render_phase_entered(*r, "U1", std::string(3000, 'f')),
            commands::render_item_blocked(*r, it, "U1"),
            commands::render_rollback(*r, "U1", std::string(3000, 'r')),
            commands::render_handoff(*r, history, "U1"),
            commands::render_release_ended(*r, history, "U1", std::string(3000, 'e')),
            commands::render_delivery_failure(*r, "C1", "not_in_channel"),
            commands::render_help(),
        };
        for (const auto& p : commands::render_report(*r, history, 6)) {
            all.push_back(p);
        }
        for (const auto& p : commands::render_report_markdown(*r, history, 6)) {
            all.push_back(p);
        }
        std::vector<checklist::release_summary> many(
            40, {1, std::string(64, 'v'), checklist::release_status::finished, "U1", 3, 6,
                 std::string(200, 't'), 0, 100});
        all.push_back(commands::render_list(many));
        for (const auto& m : all) {
            check_block_kit_limits(m);
        }
    }
}

TEST_CASE("the status memo gives the rendered status, and renders again when the release changes",
          "[unit]") {
    auto r = standard_release();
    r.id = 7;
    commands::status_memo memo;
    auto fresh = [](const checklist::release& x) {
        return commands::dump_json(commands::to_ack_payload(commands::render_status(x)));
    };
    auto shared = std::make_shared<const checklist::release>(r);
    CHECK(memo.ack_json(shared) == fresh(r));
    CHECK(memo.ack_json(shared) == fresh(r));
    // Another object with the same content: the same message.
    CHECK(memo.ack_json(std::make_shared<const checklist::release>(r)) == fresh(r));

    auto before = memo.ack_json(shared);
    r.phases[0].items[0].state = checklist::item_state::done;
    CHECK(memo.ack_json(std::make_shared<const checklist::release>(r)) == fresh(r));
    CHECK(fresh(r) != before);

    r.phases[0].items[1].owner = "U9";  // a change the status shows in an item line
    CHECK(memo.ack_json(std::make_shared<const checklist::release>(r)) == fresh(r));
}

TEST_CASE("the status memo keeps the replies of active releases, and only the last ended one",
          "[unit]") {
    commands::status_memo memo;
    auto release_numbered = [](std::int64_t id, checklist::release_status status) {
        auto r = standard_release();
        r.id = id;
        r.status = status;
        return std::make_shared<const checklist::release>(r);
    };
    for (std::int64_t id = 1; id <= 5; ++id) {
        memo.ack_json(release_numbered(id, checklist::release_status::active));
    }
    CHECK(memo.size() == 5);
    // Releases that ended are not kept for the life of the process, however many are asked
    // about; one that ends leaves the active ones.
    for (std::int64_t id = 100; id < 200; ++id) {
        memo.ack_json(release_numbered(id, checklist::release_status::finished));
    }
    memo.ack_json(release_numbered(3, checklist::release_status::aborted));
    CHECK(memo.size() == 5);  // four active, and the last ended
    auto ended = release_numbered(3, checklist::release_status::aborted);
    CHECK(memo.ack_json(ended) ==
          commands::dump_json(commands::to_ack_payload(commands::render_status(*ended))));
}

TEST_CASE("an ack or a post serialized by hand is the same bytes as the document it replaces",
          "[unit]") {
    std::vector<commands::message> messages = {
        commands::render_text("plain"),
        commands::render_text("quotes \" and \\ and <@U1> and a newline\n"),
        commands::render_text(std::string("bad utf-8 \xff\xfe here")),
        commands::render_status(test::numbered_standard_release("C1", "v1", "U1", 1795669235)),
        commands::message{}};
    for (const auto& m : messages) {
        INFO(m.text);
        CHECK(commands::ack_payload_json(m) == commands::dump_json(commands::to_ack_payload(m)));
        CHECK(commands::ack_payload_json(m, true) ==
              commands::dump_json(commands::to_ack_payload(m, true)));
        CHECK(commands::post_body_json(m) == commands::dump_json(commands::to_post_body(m)));
    }
}

TEST_CASE("a plain reply is recorded as its text and read back as the same acknowledgement",
          "[unit]") {
    for (const std::string& text :
         {std::string("plain"), std::string("quotes \" and \\ and <@U1> and a newline\n"),
          std::string("\u00e9t\u00e9 \U0001F680"), std::string(2999, 'x') + "\u00e9",
          std::string(3500, 'y')}) {
        INFO(text.substr(0, 40));
        auto m = commands::render_text(text);
        auto record = commands::plain_reply_record(m, false);
        REQUIRE(record);
        CHECK(*record == nlohmann::json(text).dump());
        CHECK(commands::payload_of_record(*record) == commands::ack_payload_json(m));
    }
    // Anything else is recorded as sent, and read back as it is.
    auto status =
        commands::render_status(test::numbered_standard_release("C1", "v1", "U1", 1795669235));
    auto two_blocks = commands::render_text("two");
    two_blocks.blocks.push_back(commands::divider_block());
    auto other_text = commands::render_text("shown");
    other_text.text = "notified";
    auto bad_utf8 = commands::render_text(std::string("bad utf-8 \xff\xfe here"));
    for (const auto* m : {&status, &two_blocks, &other_text, &bad_utf8}) {
        INFO(m->text);
        CHECK_FALSE(commands::plain_reply_record(*m, false));
        auto sent = commands::ack_payload_json(*m);
        CHECK(commands::payload_of_record(sent) == sent);
    }
    CHECK_FALSE(commands::plain_reply_record(commands::render_text("for all"), true));
    // A record that is not a string of text is left for the caller to judge.
    CHECK(commands::payload_of_record("\"unterminated") == "\"unterminated");
}

}  // namespace unit_render_test
