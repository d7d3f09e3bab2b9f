// End-to-end: a whole release of the standard template, start to finish, through Slack's own
// payloads: relbot and relbot-sim as processes, over TLS and a WebSocket, on a SQLite file.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>

#include "support/sandbox.hpp"

namespace e2e_full_release_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

const std::string manager = "U0MANAGER";
const std::string owner = "U0OWNER";
const std::string stranger = "U0STRANGER";

struct session {
    sandbox& sim;

    // Sends `/release <text>` as `user` and returns the reply text (acknowledged within 3 s).
    std::string say(const std::string& text, const std::string& user = manager) {
        auto id = sim.slash_command(text, "C0REL", user);
        auto ack = sim.wait_ack(id);
        REQUIRE(ack);
        REQUIRE(ack->contains("payload"));
        return message_text((*ack)["payload"]);
    }

    void check_all(int phase, int items, std::initializer_list<int> except = {}) {
        for (int i = 1; i <= items; ++i) {
            if (std::find(except.begin(), except.end(), i) != except.end()) {
                continue;
            }
            auto ref = std::to_string(phase) + "." + std::to_string(i);
            INFO("check " << ref);
            CHECK(contains(say("check " + ref), "is done"));
        }
    }

    // Waits until the channel has received a post containing `needle`.
    json wait_post(const std::string& needle) {
        auto post = sim.wait_for(
            [&](const json& e) {
                return e.value("event", "") == "api_call" &&
                       e.value("method", "") == "chat.postMessage" &&
                       e["args"].value("channel", "") == "C0REL" &&
                       contains(message_text(e["args"]), needle);
            },
            after(5s));
        REQUIRE(post);
        CHECK((*post)["args"]["channel"] == "C0REL");
        CHECK((*post)["response"]["ok"] == true);
        return (*post)["args"];
    }
};

}  // namespace

TEST_CASE("a full release of the standard template from start to finish", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    session s{sim};

    CHECK(contains(s.say("start v3.0"), "Started release *v3.0*"));
    s.wait_post("Release v3.0* started");

    // Phase 1: assignment, an owner checking their own item, a stranger refused, a refused
    // next, a block and unblock, a skip with a reason.
    CHECK(
        contains(s.say("assign ci-cd <@" + owner + "|olive> due 1d"), "is now <@" + owner + ">'s"));
    // The new owner hears about it by DM: the item, what to do, when it is due.
    auto assigned = sim.wait_for(
        [](const json& e) {
            return e.value("method", "") == "chat.postMessage" &&
                   e["args"].value("channel", "") == "D0OWNER";
        },
        after(10s));
    REQUIRE(assigned);
    auto dm_text = message_text((*assigned)["args"]);
    CHECK(contains(dm_text, "CI/CD Status"));
    CHECK(contains(dm_text, "Verify all CI builds are green"));
    CHECK(contains(dm_text, "/release check 1.1"));
    CHECK(contains(dm_text, "Due <!date^"));
    CHECK(contains(s.say("check 1.1 https://ci.example.com/build/812", owner), "is done"));
    auto refused = s.say("check 1.2", stranger);
    CHECK(contains(refused, "Only the release manager (<@" + manager + ">)"));
    auto held = s.say("next");
    CHECK(contains(held, "cannot be left yet"));
    CHECK(contains(held, "8 items are not done or skipped"));
    CHECK(contains(s.say("block smoke-tests staging is down <!channel>"), "is blocked"));
    auto blocked = s.wait_post("Blocked");
    CHECK(contains(message_text(blocked), "staging is down &lt;!channel&gt;"));
    CHECK_FALSE(contains(message_text(blocked), "<!channel>"));
    CHECK(contains(s.say("unblock 1.3"), "no longer blocked"));
    CHECK(contains(s.say("skip feature-flags no flags in this release"), "is skipped"));
    s.check_all(1, 9, {1, 8});
    CHECK(contains(s.say("next"), "Phase 2 of 6"));
    s.wait_post("phase 2 of 6, *Deployment Steps*");

    s.check_all(2, 6);
    CHECK(contains(s.say("next"), "Phase 3 of 6"));
    s.wait_post("phase 3 of 6, *Post-Release Verification*");

    CHECK(
        contains(s.say("rollback error rate doubled after deploy"), "Rollback decision recorded"));
    s.wait_post("Rollback decided");
    s.check_all(3, 6);
    CHECK(contains(s.say("next"), "Phase 4 of 6"));
    s.wait_post("phase 4 of 6, *Communication Steps*");

    s.check_all(4, 5);
    CHECK(contains(s.say("next"), "Phase 5 of 6"));
    auto monitoring = s.wait_post("phase 5 of 6, *Post-Release Monitoring (24-48 hours)*");
    CHECK(contains(message_text(monitoring), "can be left after"));

    // The window holds the gate even with every item done; force moves on with a reason.
    s.check_all(5, 4);
    CHECK(contains(s.say("next"), "window keeps it open"));
    CHECK(contains(s.say("next force monitoring waived by the VP", owner),
                   "Only the release manager"));
    CHECK(contains(s.say("next force monitoring waived by the VP"), "forced"));
    auto handoff_phase = s.wait_post("phase 6 of 6, *Handoff*");
    CHECK(contains(message_text(handoff_phase), "by force"));

    CHECK(contains(s.say("handoff <@U0ONCALL|sam> <@U0PM>"), "briefing is posted"));
    auto briefing = s.wait_post("Handoff for release v3.0");
    CHECK(contains(message_text(briefing), "<@U0ONCALL>"));
    CHECK(contains(message_text(briefing), "error rate doubled"));
    CHECK(contains(message_text(briefing), "Deployed"));
    CHECK(contains(message_text(briefing), "Post-Release Monitoring (24-48 hours) — "));
    CHECK(contains(briefing.dump(), "https://sandbox.slack.com/archives/C0REL/p"));
    // The briefing also goes by DM to both people.
    for (const char* dm : {"D0ONCALL", "D0PM"}) {
        auto sent = sim.wait_for(
            [&](const json& e) {
                return e.value("method", "") == "chat.postMessage" &&
                       e["args"].value("channel", "") == dm && e["response"].value("ok", false);
            },
            after(10s));
        REQUIRE(sent);
        CHECK(contains(message_text((*sent)["args"]), "Handoff for release v3.0"));
    }
    // Only the on-call engineer can accept; accepting moves the open items of the phase to them.
    CHECK(contains(s.say("accept", owner), "Only <@U0ONCALL>"));
    CHECK(contains(s.say("accept", "U0ONCALL"), "You now own 3 open items of phase "));
    s.wait_post("accepted the handoff");
    CHECK(contains(s.say("status"), "<@U0ONCALL>"));

    CHECK(contains(s.say("next"), "last phase"));
    s.check_all(6, 3);
    CHECK(contains(s.say("finish"), "finished"));
    auto summary = s.wait_post("finished by");
    CHECK(contains(message_text(summary), "32 done · 1 skipped"));

    // The report: timeline, blockers, skips and forced moves with reasons, rollback, evidence.
    auto report = s.say("report");
    for (const char* part :
         {"Report: release v3.0", "Blockers", "staging is down", "Skipped",
          "no flags in this release", "Forced moves", "monitoring waived by the VP",
          "Rollback decisions", "error rate doubled after deploy", "Evidence",
          "https://ci.example.com/build/812", "Timeline"}) {
        CHECK(contains(report, part));
    }
    // People appear by name (users.info, looked up off the ack path) in the markdown.
    auto markdown = s.say("report markdown");
    for (auto until = after(10s); !contains(markdown, "done by @user-" + owner) &&
                                  std::chrono::steady_clock::now() < until;) {
        markdown = s.say("report markdown");
    }
    CHECK(contains(markdown, "- [x] **CI/CD Status**"));
    CHECK(contains(markdown, "done by @user-" + owner));
    CHECK(contains(markdown, "## Post-Release Monitoring (24-48 hours)"));

    // Each phase change was announced exactly once; nothing is active any more.
    auto posts = sim.announcements();
    for (int phase = 2; phase <= 6; ++phase) {
        auto needle = "phase " + std::to_string(phase) + " of 6,";
        auto n = std::count_if(posts.begin(), posts.end(), [&](const json& c) {
            return contains(message_text(c["args"]), needle);
        });
        CHECK(n == 1);
    }
    // started, blocked, 5 phases, rollback, handoff, handoff accepted, finished
    std::erase_if(posts, [](const json& c) { return c["args"].value("channel", "") != "C0REL"; });
    CHECK(posts.size() == 11);
    CHECK(contains(s.say("status"), "no active release"));
    CHECK(contains(s.say("list"), "finished"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE("a report longer than one message continues through response_url posts", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    session s{sim};
    s.say("start v4.0");
    for (int i = 0; i < 120; ++i) {
        s.say("note 1." + std::to_string(i % 9 + 1) + " progress update " + std::to_string(i) +
              " " + std::string(80, 'n'));
    }
    auto first = s.say("report");
    CHECK(contains(first, "Report: release v4.0"));
    auto more = sim.wait_for(
        [](const json& e) { return e.value("event", "") == "response_url_post"; }, after(5s));
    if (!more) {
        relbot.proc().wait_stderr("never-appears", after(1s));
        for (const auto& l : relbot.proc().stderr_lines()) {
            UNSCOPED_INFO(l);
        }
        UNSCOPED_INFO("events read: " << sim.events().size());
        for (const auto& e : sim.events()) {
            if (e.value("event", "") != "ack" && e.value("event", "") != "envelope_sent") {
                UNSCOPED_INFO(e.value("event", "")
                              << " " << e.value("method", "") << " " << e.value("path", ""));
            }
        }
    }
    REQUIRE(more);
    CHECK(contains((*more)["path"].get<std::string>(), "/hooks/commands/"));
    CHECK(contains(message_text((*more)["body"]), "progress update"));
    CHECK((*more)["body"]["response_type"] == "ephemeral");
    // Each page is marked sent once Slack took it, so no restart posts it again.
    CHECK(relbot.proc().wait_stderr("event=outbox.sent key=report-page:", after(5s)));
    CHECK(relbot.stop() == 0);
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM outbox WHERE method = 'response_url' AND state <> "
                        "'sent'")
              .getInt() == 0);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM outbox WHERE method = 'response_url'").getInt() >= 1);
}

}  // namespace e2e_full_release_test
