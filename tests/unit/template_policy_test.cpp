// Release policy in templates (contract: "Release policy in the template"): annotations read by
// the template parser with file:line errors, the Freeze section, `relbot check-template`'s
// words for a policy, and the round trip through `report markdown`.
#include <catch2/catch.hpp>

#include "checklist/release.hpp"
#include "checklist/rules.hpp"
#include "checklist/template.hpp"
#include "commands/render/report.hpp"
#include "commands/render/status.hpp"

namespace unit_template_policy_test {

using namespace relbot;
using namespace relbot::checklist;

namespace {

const char* annotated =
    "# Policy\n"
    "\n"
    "## Pre-Release\n"
    "- [ ] **Sign-off from QA**: QA approves <!-- owner: qa; sign-off: 1 qa -->\n"
    "- [ ] **Changelog**: written <!-- TODO: link the wiki -->\n"
    "- [ ] **Tests green**: CI says so <!-- auto: ci; evidence: link -->\n"
    "\n"
    "## Freeze\n"
    "Nobody deploys during these.\n"
    "- 2026-12-20 00:00 to 2027-01-04 08:00 UTC: holidays\n"
    "- Fri 15:00 to Mon 08:00 Europe/Berlin: weekend\n"
    "\n"
    "## Deployment Steps\n"
    "- [ ] **Deploy to Production**: go <!-- owner: manager; evidence: text -->\n";

checklist_template parse_ok(std::string_view text) {
    auto parsed = parse_template("policy", "policy.md", text);
    if (auto* e = std::get_if<template_error>(&parsed)) {
        FAIL(e->to_string());
    }
    return std::get<checklist_template>(std::move(parsed));
}

std::string parse_bad(std::string_view text) {
    auto parsed = parse_template("policy", "policy.md", text);
    REQUIRE(std::holds_alternative<template_error>(parsed));
    return std::get<template_error>(parsed).to_string();
}

}  // namespace

TEST_CASE("a template's annotations are each item's policy, and other comments are dropped",
          "[policy][template]") {
    auto t = parse_ok(annotated);
    REQUIRE(t.phases.size() == 2);  // Freeze is not a phase
    const auto& pre = t.phases[0].items;
    REQUIRE(pre.size() == 3);
    CHECK(pre[0].description == "QA approves");
    CHECK(pre[0].policy.owner_role == "qa");
    CHECK(pre[0].policy.sign_off == sign_off_rule{1, "qa"});
    CHECK(pre[1].description == "written");
    CHECK(pre[1].policy.empty());
    CHECK(pre[2].policy.auto_ci);
    CHECK(pre[2].policy.evidence == evidence_kind::link);
    CHECK(t.phases[1].title == "Deployment Steps");
    CHECK(t.phases[1].items[0].policy.owner_role == "manager");
    CHECK(t.phases[1].items[0].policy.evidence == evidence_kind::text);
    REQUIRE(t.freezes.size() == 2);
    CHECK(t.freezes[0].line == 10);
    CHECK(t.freezes[0].reason == "holidays");
    CHECK_FALSE(t.freezes[0].weekly);
    CHECK(t.freezes[1].weekly);
    CHECK(t.freezes[1].zone_name == "Europe/Berlin");
    CHECK(describe_policy(pre[0].policy) == "owned by the qa role · 1 sign-off (qa)");
    CHECK(describe_policy(pre[2].policy) == "needs a link · checked by CI");
}

TEST_CASE("a bad annotation or freeze window makes the template invalid at its line",
          "[policy][template]") {
    auto head = std::string("## Checks\n- [ ] **A**: a\n");
    CHECK(parse_bad(head + "- [ ] **B**: b <!-- owner: qa; colour: red -->\n") ==
          "policy.md:3: item \"B\": unknown key \"colour\" (keys: owner, evidence, sign-off, "
          "auto)");
    CHECK_THAT(parse_bad(head + "- [ ] **B**: b <!-- sign-off: x -->\n"),
               Catch::StartsWith("policy.md:3: item \"B\": sign-off takes a number"));
    CHECK_THAT(parse_bad(head + "- [ ] **B**: b <!-- owner: qa --> <!-- auto: ci -->\n"),
               Catch::Contains("policy.md:3: item \"B\" has two annotations"));
    CHECK_THAT(parse_bad(head + "## Freeze\n- sometime soon: holidays\n"),
               Catch::StartsWith("policy.md:4: cannot read the freeze window"));
    CHECK_THAT(parse_bad(head + "## Freeze\n- 2026-12-20 00:00 to 2026-12-19 00:00 UTC: x\n"),
               Catch::Contains("ends before it starts"));
    CHECK_THAT(parse_bad(head + "## Freeze\n- 2026-02-30 00:00 to 2026-03-02 00:00 UTC: x\n"),
               Catch::Contains("does not exist"));
    CHECK_THAT(parse_bad(head + "## Freeze\n- Fri 15:00 to Mon 08:00 Europe/Berlin\n"),
               Catch::Contains("has no reason"));
    CHECK_THAT(parse_bad(head + "## Freeze\n- Fri 15:00 to Fri 15:00 UTC: x\n"),
               Catch::Contains("same time"));
    CHECK_THAT(parse_bad(head + "## Freeze\n- Fri 25:00 to Mon 08:00 UTC: x\n"),
               Catch::Contains("a day and a time at both ends"));
    // An empty phase before the Freeze section is still an empty phase.
    CHECK_THAT(parse_bad("## Checks\n## Freeze\n## Deploy\n- [ ] **A**: a\n"),
               Catch::Contains("phase \"Checks\" has no items"));
    // A template of only a Freeze section has no phases.
    CHECK_THAT(parse_bad("## Freeze\n- Fri 15:00 to Mon 08:00 UTC: x\n"),
               Catch::Contains("no phases found"));
}

TEST_CASE("a release takes its items' policies and owners from the roles it starts with",
          "[policy][template]") {
    auto t = parse_ok(annotated);
    auto r = make_release(t, "C1", "v1", "UMGR", 1'795'669'200, {{"qa", "UQA"}});
    const auto& qa_item = r.phases[0].items[0];
    CHECK(qa_item.owner == "UQA");
    CHECK(qa_item.owner_role == "qa");
    CHECK(r.phases[0].items[1].owner.empty());
    CHECK(r.phases[1].items[0].owner == "UMGR");  // owner: manager
    CHECK(unheld_roles(r).empty());
    auto bare = make_release(t, "C1", "v1", "UMGR", 1'795'669'200);
    CHECK(bare.phases[0].items[0].owner.empty());
    CHECK(bare.phases[0].items[0].owner_role == "qa");
    CHECK(unheld_roles(bare) == std::vector<std::string>{"qa"});
    CHECK(read_roles(write_roles({{"qa", "UQA"}, {"oncall", "UON"}})) ==
          std::map<std::string, std::string>{{"qa", "UQA"}, {"oncall", "UON"}});
    std::vector<approval> approvals = {{"U1", 100}, {"U2", 200}};
    CHECK(read_approvals(write_approvals(approvals)) == approvals);
}

TEST_CASE("report markdown writes the annotations and the Freeze section back",
          "[policy][template]") {
    auto t = parse_ok(annotated);
    auto r = make_release(t, "C1", "v1", "UMGR", 1'795'669'200, {{"qa", "UQA"}});
    r.phases[0].items[1].id = 7;
    // Someone's note that looks like an annotation must not become one.
    std::vector<audit_entry> audit = {{r.id, 1'795'669'300, "U2", "item.checked", 7, "open", "done",
                                       "done <!-- owner: nobody; sign-off: x -->"}};
    r.phases[0].items[1].state = item_state::done;
    auto md = commands::report_markdown(r, audit, {}, t.freezes);
    CHECK_THAT(md, Catch::Contains("<!-- owner: qa; sign-off: 1 qa -->"));
    CHECK_THAT(md, Catch::Contains("## Freeze\n\n- 2026-12-20 00:00 to 2027-01-04 08:00 UTC: "
                                   "holidays\n- Fri 15:00 to Mon 08:00 Europe/Berlin: weekend\n"));
    auto again = parse_ok(md);
    REQUIRE(again.phases.size() == t.phases.size());
    for (std::size_t p = 0; p < t.phases.size(); ++p) {
        REQUIRE(again.phases[p].items.size() == t.phases[p].items.size());
        for (std::size_t i = 0; i < t.phases[p].items.size(); ++i) {
            CHECK(again.phases[p].items[i].title == t.phases[p].items[i].title);
            CHECK(again.phases[p].items[i].policy == t.phases[p].items[i].policy);
        }
    }
    CHECK(again.freezes == t.freezes);
}

TEST_CASE("the gate counts a policy item only when its check and its sign-offs are complete",
          "[policy][gate]") {
    // Every combination of the rules on one item: evidence, sign-offs (none, one, two with a
    // role), CI-only; and the states the item can be in.
    for (int evidence = 0; evidence < 3; ++evidence) {
        for (int sign = 0; sign < 3; ++sign) {
            for (bool ci : {false, true}) {
                item_policy policy;
                if (evidence > 0) {
                    policy.evidence = evidence == 1 ? evidence_kind::link : evidence_kind::text;
                }
                if (sign > 0) {
                    policy.sign_off = sign_off_rule{sign, sign == 2 ? "qa" : ""};
                }
                policy.auto_ci = ci;
                INFO("policy " << write_annotation(policy));
                checklist_template t{"t",
                                     {{"Checks", std::nullopt, {{"A", "a", 1, policy}}, 1},
                                      {"Deploy", std::nullopt, {{"B", "b", 2, {}}}, 2}}};
                auto r = make_release(t, "C1", "v1", "UMGR", 1000, {{"qa", "UQA"}});
                item_pos p{0, 0};
                r.phases[0].items[0].id = 1;
                // Evidence: refused without it, taken with it.
                auto missing = require_evidence(r, p, "");
                CHECK(missing.has_value() == (evidence > 0));
                CHECK_FALSE(require_evidence(r, p, "https://ci.example.com/1 and a note"));
                change_log log;
                REQUIRE_FALSE(check_item(r, p, "https://ci.example.com/1", log));
                r.phases[0].items[0].state_by = "UCHECKER";
                CHECK(current_gate(r, 2000).open() == (sign == 0));
                // Sign-offs: never the checker's; with a role, only its holder (or an admin).
                if (sign > 0) {
                    auto own = approve_item(r, p, {"UCHECKER", false}, 2000, log);
                    REQUIRE(own);
                    CHECK(own->why == refused::own_check);
                    if (sign == 2) {
                        auto other = approve_item(r, p, {"UOTHER", false}, 2000, log);
                        REQUIRE(other);
                        CHECK(other->why == refused::not_approver);
                        CHECK_FALSE(approve_item(r, p, {"UQA", false}, 2000, log));
                        CHECK_FALSE(current_gate(r, 2000).open());
                        auto again = approve_item(r, p, {"UQA", false}, 2001, log);
                        REQUIRE(again);
                        CHECK(again->why == refused::already_approved);
                        CHECK_FALSE(approve_item(r, p, {"UADMIN", true}, 2002, log));
                    } else {
                        CHECK_FALSE(approve_item(r, p, {"UOTHER", false}, 2000, log));
                        auto more = approve_item(r, p, {"UQA", false}, 2000, log);
                        REQUIRE(more);
                        CHECK(more->why == refused::signed_off);
                    }
                    CHECK(current_gate(r, 2000).open());
                    // Uncheck withdraws every sign-off; checked again, the gate waits again.
                    REQUIRE_FALSE(uncheck_item(r, p, log));
                    CHECK(r.phases[0].items[0].approvals.empty());
                    REQUIRE_FALSE(check_item(r, p, "https://ci.example.com/2", log));
                    CHECK_FALSE(current_gate(r, 2000).open());
                    CHECK(current_gate(r, 2000).awaiting_sign_off.size() == 1);
                } else {
                    auto none = approve_item(r, p, {"UOTHER", false}, 2000, log);
                    REQUIRE(none);
                    CHECK(none->why == refused::no_sign_off);
                }
                // Skipped, any policy item stops holding the gate.
                REQUIRE_FALSE(uncheck_item(r, p, log));
                REQUIRE_FALSE(skip_item(r, p, "not this time", log));
                CHECK(current_gate(r, 2000).open());
            }
        }
    }
}

TEST_CASE(
    "the status shows sign-offs with who and when, an Approve button while one is awaited, and "
    "what keeps the release from deploying",
    "[policy][template]") {
    auto t = parse_ok(annotated);
    auto r = make_release(t, "C1", "v1", "UMGR", 1'795'669'200, {{"qa", "UQA"}});
    r.id = 4;
    auto& qa_item = r.phases[0].items[0];
    qa_item.id = 40;
    qa_item.state = item_state::done;
    qa_item.state_by = "UDEV";
    auto approve_buttons = [](const commands::message& m) {
        int n = 0;
        for (const auto& b : m.blocks) {
            for (const auto& e : b.value("elements", nlohmann::json::array())) {
                n += e.value("action_id", "") == "item.approve:40" ? 1 : 0;
            }
        }
        return n;
    };
    auto waiting = commands::render_status(r);
    // In the contract's words.
    CHECK(waiting.blocks.dump().find("`" + qa_item.ref() + "` ✅ awaiting 1 sign-off") !=
          std::string::npos);
    CHECK(approve_buttons(waiting) == 1);

    qa_item.approvals.push_back({"UQA", 1'795'670'000});
    auto signed_off = commands::render_status(r);
    auto text = signed_off.blocks.dump();
    CHECK(text.find("signed off by <@UQA> <!date^1795670000^") != std::string::npos);
    CHECK(text.find("awaiting") == std::string::npos);
    CHECK(approve_buttons(signed_off) == 0);
    CHECK(text.find("frozen") == std::string::npos);

    commands::deployment_outlook held;
    held.frozen = freeze_state{1'795'700'000, "holidays"};
    held.waiting_for_version = "v0.9";
    held.waiting_for_channel = "C2";
    auto frozen = commands::render_status(r, held).text;
    CHECK(frozen.find("Deployments are frozen until <!date^1795700000^") != std::string::npos);
    CHECK(frozen.find("(holidays)") != std::string::npos);
    CHECK(frozen.find("waiting for *v0.9* in <#C2>") != std::string::npos);
    // Once the release has ended, nothing is waiting any more.
    r.status = release_status::aborted;
    r.ended_at = 1'795'680'000;
    CHECK(commands::render_status(r, held).text.find("frozen") == std::string::npos);
}

}  // namespace unit_template_policy_test
