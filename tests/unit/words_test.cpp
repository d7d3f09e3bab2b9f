// The words relbot uses: a phase left by force says so, a forced move's example has a
// reason, and every count agrees with its noun.
#include <catch2/catch.hpp>

#include "checklist/mrkdwn.hpp"
#include "checklist/rules.hpp"
#include "commands/parse.hpp"
#include "commands/refusals.hpp"
#include "commands/render.hpp"

namespace unit_words_test {

using namespace relbot;

namespace {

checklist::release standard_release() {
    checklist::template_library lib;
    return checklist::make_release(*lib.find("standard"), "C1", "v1.0", "U1", 1795669235);
}

std::string all_text(const commands::message& m) {
    std::string out = m.text;
    for (const auto& b : m.blocks) {
        out += "\n" + b.dump();
    }
    return out;
}

std::string usage_message(std::string_view text) {
    auto c = commands::parse_command(text);
    REQUIRE(std::holds_alternative<commands::usage_error>(c));
    return std::get<commands::usage_error>(c).message;
}

}  // namespace

TEST_CASE("a phase left by force shows it was forced and not complete", "[unit][words]") {
    auto r = standard_release();
    checklist::change_log log;
    REQUIRE_FALSE(checklist::advance_phase(r, 1795669300, "QA is out today", log));
    CHECK(r.phases[0].left_by_force);
    CHECK(std::find(log.phases.begin(), log.phases.end(), 0U) != log.phases.end());
    auto status = all_text(commands::render_status(r));
    INFO(status);
    CHECK(status.find(":fast_forward: 1. Pre-Release Checks — 0/9, left by force") !=
          std::string::npos);
    CHECK(status.find(":white_check_mark: 1. Pre-Release Checks") == std::string::npos);

    // Finishing by force marks the phase it was finished in.
    checklist::change_log finish;
    REQUIRE_FALSE(checklist::finish_release(r, 1795669400, "rolled back", finish));
    status = all_text(commands::render_status(r));
    CHECK(status.find(":fast_forward: 2. Deployment Steps — 0/6, left by force") !=
          std::string::npos);
    auto report = all_text(commands::render_report(r, {}, 6).front());
    CHECK(report.find("1. Pre-Release Checks — 0/9 done or skipped · ") != std::string::npos);
    CHECK(report.find(" · left by force") != std::string::npos);

    // A phase left through an open gate is complete.
    auto plain = standard_release();
    for (auto& i : plain.phases[0].items) {
        i.state = checklist::item_state::done;
    }
    checklist::change_log next;
    REQUIRE_FALSE(checklist::advance_phase(plain, 1795669300, "", next));
    CHECK_FALSE(plain.phases[0].left_by_force);
    CHECK(all_text(commands::render_status(plain))
              .find(":white_check_mark: 1. Pre-Release Checks — 9/9") != std::string::npos);
}

TEST_CASE("a forced move without a reason is shown an example with a reason", "[unit][words]") {
    for (std::string name : {"next", "finish"}) {
        INFO(name);
        for (auto text : {name + " force", name + " please"}) {
            auto msg = usage_message(text);
            INFO(msg);
            CHECK(msg.find("`/release " + name + " force <reason>`") != std::string::npos);
            CHECK(msg.find("for example `/release " + name +
                           " force smoke tests are flaky, rerun after`") != std::string::npos);
            CHECK(msg.find("for example `/release " + name + "`") == std::string::npos);
        }
    }
}

TEST_CASE("counts agree with their nouns", "[unit][words]") {
    CHECK(checklist::plural(0, "item") == "0 items");
    CHECK(checklist::plural(1, "item") == "1 item");
    CHECK(checklist::plural(2, "forced move") == "2 forced moves");
    CHECK(checklist::plural(1, "person", "people") == "1 person");
    CHECK(checklist::plural(3, "person", "people") == "3 people");
    CHECK(checklist::plural(1, "item is", "items are") == "1 item is");

    // A release with one phase of one item, one blocker, one forced finish, one rollback.
    checklist::checklist_template t{"tiny", {{"Only", std::nullopt, {{"Ship", "ship it"}}}}};
    auto r = checklist::make_release(t, "C1", "v1", "U1", 1795669235);
    r.phases[0].items[0].id = 1;
    auto started = all_text(commands::render_release_started(r));
    CHECK(started.find("1 item:") != std::string::npos);
    CHECK(started.find("1 phase · 1 item · template") != std::string::npos);
    CHECK(all_text(commands::render_status(r)).find("1 phase · 1 item · 0 done or skipped") !=
          std::string::npos);

    checklist::change_log log;
    auto refused = checklist::advance_phase(r, 1795669300, "", log);
    CHECK(refused);  // the last phase: nothing to count
    auto gate = checklist::finish_release(r, 1795669300, "", log);
    REQUIRE(gate);
    CHECK(commands::word_refusal(r, *gate).find("1 item is not done or skipped") !=
          std::string::npos);

    std::vector<checklist::audit_entry> audit = {
        {r.id, 1795669300, "U1", "item.blocked", 1, "open", "blocked", "pipeline red"},
        {r.id, 1795669310, "U1", "release.rollback", std::nullopt, "", "", "errors"},
        {r.id, 1795669320, "U1", "release.forced_finish", std::nullopt, "Only", "finished",
         "rolled back"},
    };
    checklist::change_log finish;
    REQUIRE_FALSE(checklist::finish_release(r, 1795669320, "rolled back", finish));
    auto ended = all_text(commands::render_release_ended(r, audit, "U1", ""));
    INFO(ended);
    CHECK(ended.find("1 blocker · 1 forced move · 1 rollback decision") != std::string::npos);
    CHECK(ended.find("1 blockers") == std::string::npos);

    std::vector<checklist::reminder_candidate> one(1);
    one[0].ref = "1.1";
    CHECK(all_text(commands::render_reminder(one)).find("1 item is overdue") != std::string::npos);
    CHECK(all_text(commands::render_escalation(one)).find("1 overdue item did not move") !=
          std::string::npos);
}

}  // namespace unit_words_test
