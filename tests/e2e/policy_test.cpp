// Release policy in the template (contract: "Release policy in the template"), driven from
// outside: the real relbot with the annotated example template (deploy/templates/
// standard-with-policy.md) against the sandbox, signals over its signed endpoint.
#include <catch2/catch.hpp>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

#include "bot/signal.hpp"
#include "support/http_probe.hpp"
#include "support/sandbox.hpp"

namespace e2e_policy_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

const std::string secret = "e2e-policy-secret-0123456789abcdef0123";
const std::string channel = "C0E2E";

// The annotated example with its Freeze section replaced by one window covering today (UTC),
// so that `next` into deployment meets a freeze whatever the day.
void write_example(const temp_dir& dir) {
    std::ifstream in(std::string(RELBOT_SOURCE_DIR) + "/deploy/templates/standard-with-policy.md");
    std::stringstream text;
    text << in.rdbuf();
    auto md = text.str();
    md = md.substr(0, md.find("\n## Freeze\n") + 1);
    auto now = std::time(nullptr);
    char from[32];
    char to[32];
    std::time_t yesterday = now - 86400;
    std::time_t tomorrow = now + 86400;
    std::strftime(from, sizeof from, "%Y-%m-%d %H:%M", std::gmtime(&yesterday));
    std::strftime(to, sizeof to, "%Y-%m-%d %H:%M", std::gmtime(&tomorrow));
    md += "## Freeze\n\n- " + std::string(from) + " to " + to + " UTC: change freeze\n";
    std::filesystem::create_directory(dir.file("templates"));
    std::ofstream(dir.file("templates/policy.md")) << md;
}

std::string reply(sandbox& sim, const std::string& text, const std::string& user) {
    auto ack = sim.wait_ack(sim.slash_command(text, channel, user));
    REQUIRE(ack);
    return message_text((*ack)["payload"]);
}

// The next accepted post to `to` whose outbox key starts with `prefix`.
std::optional<json> next_post(sandbox& sim, const std::string& to, const std::string& prefix) {
    return sim.wait_for(
        [&](const json& e) {
            return e.value("event", "") == "api_call" &&
                   e.value("method", "") == "chat.postMessage" &&
                   e["response"].value("ok", false) && e["args"].value("channel", "") == to &&
                   outbox_key(e).starts_with(prefix);
        },
        after(10s));
}

int hooks_port(bot& relbot) {
    auto line = relbot.proc().wait_stderr("event=hooks.listening", after(10s));
    REQUIRE(line);
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex("port=(\\d+)")));
    return std::stoi(m[1]);
}

}  // namespace

TEST_CASE(
    "a release of the annotated example: roles, evidence, sign-offs, CI-only items and a freeze",
    "[e2e][policy]") {
    temp_dir dir;
    write_example(dir);
    sandbox sim(dir);
    bot relbot(dir, sim,
               {{"RELBOT_TEMPLATES_DIR", dir.file("templates")},
                {"RELBOT_HOOKS_ADDR", "127.0.0.1:0"},
                {"RELBOT_HOOKS_SECRET", secret}});
    auto port = hooks_port(relbot);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    const std::string boss = "U0MANAGER";

    // Roles filled at start: the qa role's holder owns Smoke Tests and hears at once.
    auto started = reply(sim, "start v1 template policy roles qa=<@U0QA> pm=<@U0PM>", boss);
    CHECK(contains(started, "Roles: pm <@U0PM>, qa <@U0QA>"));
    CHECK(contains(started, "Nobody holds oncall, security"));
    auto qa_dm = next_post(sim, "D0QA", "phase-owner:");
    REQUIRE(qa_dm);
    CHECK(contains(message_text((*qa_dm)["args"]), "Smoke Tests"));
    auto status = reply(sim, "status", boss);
    CHECK(contains(status, "Nobody holds the roles oncall, security"));

    // The qa role changes hands mid-release: its items move, the new holder is told.
    CHECK(contains(reply(sim, "role qa <@U0QA2>", boss), "2 items owned through it moved"));
    auto moved_dm = next_post(sim, "D0QA2", "role-owner:");
    REQUIRE(moved_dm);
    CHECK(contains(message_text((*moved_dm)["args"]), "Smoke Tests"));
    CHECK(contains(reply(sim, "status", boss), "*Smoke Tests*  <@U0QA2>"));
    CHECK(contains(reply(sim, "role qa <@U0QA>", "U0QA"), "Only the release manager"));

    // Evidence: a check without the required note is refused, then accepted with one.
    CHECK(contains(reply(sim, "check rollback-plan", boss), "needs a note"));
    CHECK(contains(reply(sim, "check rollback-plan documented in the runbook", boss), "is done"));
    CHECK(contains(reply(sim, "check security-scan", boss), "needs a link"));
    CHECK(contains(reply(sim, "check security-scan see the scan", boss), "needs a link"));
    CHECK(contains(reply(sim, "check security-scan https://scan.example.com/42", boss), "done"));

    // A sign-off: asked of the qa role, refused to the checker, given by QA, withdrawn by
    // uncheck.
    CHECK(contains(reply(sim, "check release-notes", "U0PM"), "awaiting 1 sign-off"));
    auto ask = next_post(sim, "D0QA2", "sign-off-ask:");
    REQUIRE(ask);
    CHECK(contains(message_text((*ask)["args"]), "/release approve 1.4"));
    CHECK(contains(reply(sim, "status", boss), "awaiting 1 sign-off"));
    CHECK(contains(reply(sim, "approve release-notes", "U0PM"), "yourself"));
    CHECK(contains(reply(sim, "approve release-notes", "U0OTHER"), "Only the holder of the qa"));
    CHECK(contains(reply(sim, "approve release-notes", "U0QA2"), "counts as done"));
    CHECK(contains(reply(sim, "status", boss), "signed off by <@U0QA2>"));
    CHECK(contains(reply(sim, "uncheck release-notes", boss), "open again"));
    CHECK(contains(reply(sim, "check release-notes", "U0PM"), "awaiting 1 sign-off"));
    // The gate names the item awaiting its sign-off.
    auto gate = reply(sim, "next", boss);
    CHECK(contains(gate, "awaiting sign-off"));
    CHECK(contains(gate, "Release Notes"));

    // An `auto: ci` item: refused to a person, checked by a signal.
    CHECK(
        contains(reply(sim, "check ci-cd-status https://ci.example.com/1", boss), "checked by CI"));
    auto body = json{{"channel", channel},         {"item", "ci-cd-status"},
                     {"action", "check"},          {"url", "https://ci.example.com/builds/9"},
                     {"source", "github-actions"}, {"id", "run-9"}}
                    .dump();
    auto at = std::to_string(static_cast<long long>(std::time(nullptr)));
    auto signal =
        http_post(port, "/hooks/v1/signal",
                  {"X-Relbot-Timestamp: " + at,
                   "X-Relbot-Signature: " + relbot::bot::signal_signature(secret, at, body)},
                  body);
    CHECK(signal.status == 200);

    // The rest of the phase, then `next` into deployment meets the freeze; force passes it.
    REQUIRE(contains(reply(sim, "approve release-notes", "U0QA2"), "counts as done"));
    for (auto item : {"smoke-tests", "dependencies", "feature-flags", "stakeholder"}) {
        REQUIRE(contains(reply(sim, std::string("check ") + item, boss), "done"));
    }
    // The manager checked an item without an owner: nobody to DM, so the reply says who may.
    auto unowned = reply(sim, "check database-migrations", boss);
    CHECK(contains(unowned, "awaiting 1 sign-off"));
    CHECK(contains(unowned, "Anyone but you can sign it off with `/release approve 1.7`"));
    REQUIRE(contains(reply(sim, "approve database-migrations", "U0QA2"), "counts as done"));
    auto frozen = reply(sim, "next", boss);
    CHECK(contains(frozen, "Deployments are frozen from "));
    CHECK(contains(frozen, " until "));
    CHECK(contains(frozen, "change freeze"));
    CHECK(contains(reply(sim, "next force hotfix for an outage", boss), "has begun"));

    // In the deployment phase, a CI-only item forced by the manager: a reason is required.
    auto no_reason = reply(sim, "check deployment-verification force", boss);
    CHECK(contains(no_reason, "A forced check needs a reason"));
    CHECK(contains(no_reason, "`/release check 2.5 force <reason>`"));
    CHECK(contains(reply(sim, "check deployment-verification", boss), "checked by CI"));
    CHECK(contains(reply(sim, "check deployment-verification force pipeline down", "U0QA"),
                   "Only the release manager"));
    CHECK(
        contains(reply(sim, "check deployment-verification force pipeline down", boss), "is done"));
    CHECK(contains(reply(sim, "status", boss), "(forced)"));

    // The report says how each policy item was vouched for.
    auto report = reply(sim, "report markdown", boss);
    CHECK(contains(report, "verified by CI (github-actions)"));
    CHECK(contains(report, "signed off by"));
    CHECK(contains(report, "(forced: pipeline down)"));
    CHECK(contains(report, "&lt;!-- owner: pm; sign-off: 1 qa --&gt;"));
    // The template's Freeze section goes with it, in the reply and in `relbot export`, so
    // `relbot check-template` reads back the same windows.
    CHECK(contains(report, "## Freeze"));
    CHECK(contains(report, "UTC: change freeze"));
    auto env = bot_environment(dir, sim);
    env["RELBOT_TEMPLATES_DIR"] = dir.file("templates");
    int exit_status = -1;
    auto exported = run_relbot({"export", "v1"}, dir, env, exit_status);
    CHECK(exit_status == 0);
    CHECK(contains(exported, "\n## Freeze\n"));
    CHECK(contains(exported, "UTC: change freeze"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "the annotated example by clicks: a frozen status, Done asks for the link, sign-offs asked, "
    "reminded, escalated and given with Approve",
    "[e2e][policy]") {
    temp_dir dir;
    write_example(dir);
    sandbox sim(dir);
    bot relbot(dir, sim,
               {{"RELBOT_TEMPLATES_DIR", dir.file("templates")},
                {"RELBOT_REMINDER_INTERVAL", "2s"},
                {"RELBOT_ESCALATE_AFTER", "2"},
                {"RELBOT_QUIET_HOURS", "0-0"}});
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    const std::string boss = "U0MANAGER";
    auto click = [&](const std::string& user, const std::string& label, json where) {
        auto ack = sim.wait_ack(sim.click(user, label, where));
        REQUIRE(ack);
    };

    // Started during the freeze: the status reply and the living status message both say so.
    REQUIRE(contains(
        reply(sim, "start v1 template policy roles qa=<@U0QA> pm=<@U0PM> security=<@U0SEC>", boss),
        "Started"));
    auto posted = sim.wait_for(
        [&](const json& e) {
            return e.value("event", "") == "api_call" &&
                   e.value("method", "") == "chat.postMessage" &&
                   e["response"].value("ok", false) && outbox_key(e).starts_with("status:");
        },
        after(10s));
    REQUIRE(posted);
    CHECK(contains(message_text((*posted)["args"]), "frozen until"));
    CHECK(contains(message_text((*posted)["args"]), "(change freeze)"));
    auto status = reply(sim, "status", boss);
    CHECK(contains(status, "Deployments are frozen until"));
    CHECK(contains(status, "(change freeze)"));

    // Done on an item that needs a link opens a modal asking for it; a note without a link is
    // answered next to the field and changes nothing; a link checks it.
    click("U0SEC", "Done", {{"in", "channel"}, {"channel_id", channel}, {"match", "`1.2`"}});
    auto modal = sim.wait_modal("U0SEC");
    REQUIRE(modal);
    CHECK(modal->value("callback_id", "") == "check");
    CHECK(contains(modal->dump(), "Link"));
    sim.submit("U0SEC", {{"note", "the scan was fine"}});
    auto errors = sim.wait_view_errors("U0SEC");
    REQUIRE(errors);
    CHECK(contains(errors->value("note", ""), "needs a link"));
    CHECK(contains(reply(sim, "status", boss), "needs a link"));  // still open
    REQUIRE(sim.wait_ack(sim.submit("U0SEC", {{"note", "https://scan.example.com/7"}})));
    CHECK(contains(reply(sim, "status", boss), ":white_check_mark: `1.2` *Security Scan*"));

    // A sign-off: asked of the qa role's holder by DM with an Approve button, reminded each
    // interval, and the manager told once the reminders went unanswered.
    CHECK(contains(reply(sim, "check release-notes", "U0PM"), "awaiting 1 sign-off"));
    auto ask = next_post(sim, "D0QA", "sign-off-ask:");
    REQUIRE(ask);
    CHECK(contains((*ask)["args"].dump(), "\"Approve\""));
    auto again = next_post(sim, "D0QA", "sign-off-reminder:");
    REQUIRE(again);
    CHECK(contains(message_text((*again)["args"]), "Reminder"));
    CHECK(contains((*again)["args"].dump(), "\"Approve\""));
    auto escalated = next_post(sim, "D0MANAGER", "sign-off-escalation:");
    REQUIRE(escalated);
    CHECK(contains(message_text((*escalated)["args"]), "<@U0QA>"));
    CHECK(contains(message_text((*escalated)["args"]), "Release Notes"));

    // The checker's Approve (on the status reply) is refused; the qa holder's, in the DM, counts.
    REQUIRE(contains(reply(sim, "status", "U0PM"), "awaiting 1 sign-off"));
    click("U0PM", "Approve", {{"in", "ephemeral"}, {"match", "`1.4`"}});
    CHECK(sim.wait_until(
        [&] {
            auto last = sim.last_ephemeral("U0PM");
            return last && contains(message_text(*last), "yourself");
        },
        after(10s)));
    CHECK(contains(reply(sim, "status", boss), "awaiting 1 sign-off"));
    click("U0QA", "Approve", {{"in", "dm"}, {"match", "`1.4`"}});
    CHECK(sim.wait_until(
        [&] {
            for (const auto& m : sim.dm_messages("U0QA")) {
                if (contains(m.dump(), "Signed off by <@U0QA>")) {
                    return true;
                }
            }
            return false;
        },
        after(10s)));
    CHECK(contains(reply(sim, "status", boss), "signed off by <@U0QA>"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE("with one deployment at a time, a second channel's release waits for the first",
          "[e2e][policy]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, {{"RELBOT_ONE_DEPLOY_AT_A_TIME", "1"}});
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    auto say = [&](const std::string& text, const std::string& where) {
        auto ack = sim.wait_ack(sim.slash_command(text, where, "U0MANAGER"));
        REQUIRE(ack);
        return message_text((*ack)["payload"]);
    };
    REQUIRE(contains(say("start v1.2", "C0ONE"), "Started"));
    REQUIRE(contains(say("start v2.0", "C0TWO"), "Started"));
    REQUIRE(contains(say("next force straight to deploying", "C0ONE"), "has begun"));
    // The second release's status reply and living status message say what it waits for.
    CHECK(contains(say("status", "C0TWO"), "waiting for *v1.2* in <#C0ONE>"));
    CHECK(sim.wait_for(
        [&](const json& e) {
            return e.value("event", "") == "api_call" && e.value("method", "") == "chat.update" &&
                   e["args"].value("channel", "") == "C0TWO" &&
                   contains(message_text(e["args"]), "waiting for *v1.2*");
        },
        after(10s)));
    // C0TWO's gate is met by skipping its first phase's items, then the deploy lock holds it.
    for (int i = 1; i <= 9; ++i) {
        REQUIRE(
            contains(say("skip 1." + std::to_string(i) + " not this time", "C0TWO"), "skipped"));
    }
    auto held = say("next", "C0TWO");
    CHECK(contains(held, "v1.2 in <#C0ONE> is deploying"));
    // force passes the deploy lock, as it passes a freeze.
    CHECK(contains(say("next force urgent fix", "C0TWO"), "has begun"));
    // Once the first has left its deployment phase, the next release may enter.
    REQUIRE(contains(say("start v3.0", "C0THREE"), "Started"));
    REQUIRE(contains(say("next force on to verification", "C0ONE"), "has begun"));
    REQUIRE(contains(say("next force on to verification", "C0TWO"), "has begun"));
    CHECK(contains(say("next force no deploy elsewhere now", "C0THREE"), "has begun"));
    CHECK(relbot.stop() == 0);
}

}  // namespace e2e_policy_test
