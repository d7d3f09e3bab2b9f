// End-to-end: the real relbot process against the real relbot-sim process, over TLS and a
// WebSocket, with a real SQLite file. Every wait has a deadline; nothing sleeps.
#include <SQLiteCpp/Database.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "support/sandbox.hpp"

namespace e2e_skeleton_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

// Waits until relbot has connected and the sandbox has said hello.
void wait_connected(sandbox& sim) {
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
}

json ack_payload(sandbox& sim, const std::string& envelope_id) {
    auto ack = sim.wait_ack(envelope_id);
    REQUIRE(ack);
    REQUIRE(ack->contains("payload"));
    return (*ack)["payload"];
}

const char* const standard_phases[] = {"Pre-Release Checks",        "Deployment Steps",
                                       "Post-Release Verification", "Communication Steps",
                                       "Post-Release Monitoring",   "Handoff"};

}  // namespace

TEST_CASE(
    "start is acknowledged within 3 s with an ephemeral reply and announced in the channel once",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    wait_connected(sim);

    auto id = sim.slash_command("start v1.0");
    auto reply = ack_payload(sim, id);  // wait_ack's deadline is Slack's 3 s
    CHECK(reply["response_type"] == "ephemeral");
    CHECK(contains(message_text(reply), "v1.0"));

    auto post = sim.wait_for(
        [](const json& e) {
            return e.value("event", "") == "api_call" &&
                   e.value("method", "") == "chat.postMessage";
        },
        after(5s));
    REQUIRE(post);
    CHECK((*post)["authorization"] == std::string("Bearer ") + bot_token);
    CHECK((*post)["content_type"] == "application/json; charset=utf-8");
    CHECK((*post)["args"]["channel"] == "C0E2E");
    CHECK(contains((*post)["args"]["text"].get<std::string>(), "v1.0"));
    CHECK((*post)["args"]["blocks"].is_array());
    CHECK((*post)["response"]["ok"] == true);

    auto status = ack_payload(sim, sim.slash_command("status"));
    auto text = message_text(status);
    for (const char* phase : standard_phases) {
        CHECK(contains(text, phase));
    }
    CHECK(contains(text, "6 phases"));
    CHECK(contains(text, "33 items"));

    // apps.connections.open used the app token, everything else the bot token.
    for (const auto& call : sim.calls("apps.connections.open")) {
        CHECK(call["authorization"] == std::string("Bearer ") + app_token);
    }
    CHECK(sim.announcements().size() == 1);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("a started release survives a restart of relbot and is not announced again", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    {
        bot first(dir, sim);
        wait_connected(sim);
        ack_payload(sim, sim.slash_command("start v1.0"));
        REQUIRE(sim.wait_for(
            [](const json& e) { return e.value("method", "") == "chat.postMessage"; }, after(5s)));
        REQUIRE(first.stop() == 0);
    }
    bot second(dir, sim);
    wait_connected(sim);
    auto text = message_text(ack_payload(sim, sim.slash_command("status")));
    CHECK(contains(text, "Release v1.0"));
    CHECK(contains(text, "6 phases"));
    CHECK(contains(text, "33 items"));
    for (const char* phase : standard_phases) {
        CHECK(contains(text, phase));
    }
    CHECK(sim.announcements().size() == 1);
    CHECK(second.stop() == 0);
}

TEST_CASE("a clean stop leaves no -wal or -shm file beside the database and keeps its data",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    struct stop_case {
        int signal;
        std::string version;
        std::string channel;
        bool slack_slow;  // the announcement is still on its way when the stop comes
    };
    const stop_case stops[] = {{SIGTERM, "v1.0", "C0TERM", false},
                               {SIGINT, "v1.1", "C0INT", false},
                               {SIGTERM, "v1.2", "C0SLOW", true}};
    for (const auto& c : stops) {
        INFO("stop by signal " << c.signal << ", Slack slow: " << c.slack_slow);
        {
            bot relbot(dir, sim);
            wait_connected(sim);
            if (c.slack_slow) {
                // Slack answers the announcement only after the notifier's 5 s grace: relbot
                // leaves that call behind and exits 0 without unwinding (the outbox sends the
                // message again on the next start).
                sim.send({{"op", "fail"},
                          {"method", "chat.postMessage"},
                          {"channel", c.channel},
                          {"delay_ms", 60000}});
                REQUIRE(sim.wait_event("fail_armed", after(5s)));
            }
            ack_payload(sim, sim.slash_command("start " + c.version, c.channel));
            REQUIRE(sim.wait_for(
                [&](const json& e) {
                    return e.value("event", "") == "api_call" &&
                           e.value("method", "") == "chat.postMessage" &&
                           e["args"].value("channel", "") == c.channel;
                },
                after(5s)));
            relbot.proc().signal(c.signal);
            REQUIRE(relbot.proc().wait_exit(after(20s)) == 0);
        }
        CHECK(std::filesystem::exists(dir.file("relbot.db")));
        CHECK_FALSE(std::filesystem::exists(dir.file("relbot.db-wal")));
        CHECK_FALSE(std::filesystem::exists(dir.file("relbot.db-shm")));
        // Read-write: a read-only connection cannot checkpoint, so it would leave both files
        // behind itself for the next round.
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READWRITE);
        CHECK(db.execAndGet("SELECT COUNT(*) FROM releases WHERE version = '" + c.version +
                            "' AND channel_id = '" + c.channel + "'")
                  .getInt() == 1);
    }
}

TEST_CASE("a second start in the same channel is refused and changes nothing", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    wait_connected(sim);

    ack_payload(sim, sim.slash_command("start v1.0"));
    auto refused = message_text(ack_payload(sim, sim.slash_command("start v2.0")));
    CHECK(contains(refused, "already active"));
    CHECK(contains(refused, "v1.0"));

    auto status = message_text(ack_payload(sim, sim.slash_command("status")));
    CHECK(contains(status, "Release v1.0"));
    CHECK_FALSE(contains(status, "v2.0"));

    // Another channel runs its own release side by side.
    auto other = message_text(ack_payload(sim, sim.slash_command("start v2.0", "C0OTHER")));
    CHECK(contains(other, "Started release *v2.0*"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE("bad input gets a usage reply and starts nothing", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    wait_connected(sim);

    auto missing = message_text(ack_payload(sim, sim.slash_command("start")));
    CHECK(contains(missing, "needs a version"));
    CHECK(contains(missing, "/release start <version>"));

    auto unknown = message_text(ack_payload(sim, sim.slash_command("launch <!channel>")));
    CHECK(contains(unknown, "/release help"));
    CHECK_FALSE(contains(unknown, "<!channel>"));  // user text is escaped, never a mention

    auto status = message_text(ack_payload(sim, sim.slash_command("status")));
    CHECK(contains(status, "no active release"));
    CHECK(sim.calls("chat.postMessage").empty());
    CHECK(relbot.stop() == 0);
}

TEST_CASE("a redelivered envelope is acknowledged again and applied once", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    wait_connected(sim);

    auto first = ack_payload(
        sim, sim.slash_command("start v1.0", "C0E2E", "U0MANAGER", {{"envelope_id", "env-dup"}}));
    auto again =
        ack_payload(sim, sim.slash_command("start v1.0", "C0E2E", "U0MANAGER",
                                           {{"envelope_id", "env-dup"}, {"retry_attempt", 1}}));
    CHECK(again == first);  // the same reply, not "already active"

    // A note would apply again (it is not refused the second time): the second run is undone
    // and answered with the first reply.
    auto noted = ack_payload(sim, sim.slash_command("note 1.1 only once", "C0E2E", "U0MANAGER",
                                                    {{"envelope_id", "env-note"}}));
    auto noted_again =
        ack_payload(sim, sim.slash_command("note 1.1 only once", "C0E2E", "U0MANAGER",
                                           {{"envelope_id", "env-note"}, {"retry_attempt", 1}}));
    CHECK(noted_again == noted);
    {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        CHECK(db.execAndGet("SELECT COUNT(*) FROM audit WHERE note = 'only once'").getInt() == 1);
    }

    // Unknown envelope types are acknowledged and ignored.
    sim.send({{"op", "send"}, {"frame", {{"envelope_id", "env-odd"}, {"type", "brand_new_type"}}}});
    CHECK(sim.wait_ack("env-odd"));

    // The announcement goes out after the ack; once it is there, it is there once.
    REQUIRE(sim.wait_for(
        [](const json& e) {
            return e.value("event", "") == "api_call" &&
                   e.value("method", "") == "chat.postMessage" &&
                   !outbox_key(e).starts_with("status");
        },
        after(5s)));
    ack_payload(sim, sim.slash_command("status"));
    CHECK(sim.announcements().size() == 1);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("a missing SLACK_APP_TOKEN exits with status 2 and names the variable", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, {{"SLACK_APP_TOKEN", ""}});
    auto status = relbot.proc().wait_exit(after(10s));
    REQUIRE(status);
    CHECK(*status == 2);
    std::string err;
    for (const auto& l : relbot.proc().stderr_lines()) {
        err += l + "\n";
    }
    CHECK(contains(err, "SLACK_APP_TOKEN"));
    CHECK_FALSE(contains(err, bot_token));
    CHECK(sim.calls("auth.test").empty());
}

TEST_CASE("a bot token that Slack refuses is fatal with exit status 1 and is never printed",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir, {"--invalid-token", bot_token});
    bot relbot(dir, sim);
    auto status = relbot.proc().wait_exit(after(10s));
    REQUIRE(status);
    CHECK(*status == 1);
    REQUIRE(relbot.proc().wait_stderr("invalid_auth", after(1s)));
    for (const auto& l : relbot.proc().stderr_lines()) {
        CHECK_FALSE(contains(l, bot_token));
        CHECK_FALSE(contains(l, app_token));
    }
    CHECK(sim.calls("apps.connections.open").empty());
}

TEST_CASE("relbot never talks to a server whose certificate it cannot verify and says why",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    // A second sandbox only to get a CA that did not sign the first one's certificate.
    temp_dir other_dir;
    std::string other_ca;
    {
        sandbox other(other_dir);
        other_ca = other.ca_file();
    }
    bot relbot(dir, sim, {{"SSL_CERT_FILE", other_ca}});

    auto line = relbot.proc().wait_stderr("untrusted certificate", after(10s));
    REQUIRE(line);
    CHECK(contains(*line, "localhost"));
    REQUIRE(sim.wait_event("tls_error", after(5s)));
    CHECK(sim.calls("auth.test").empty());
    CHECK(sim.calls("apps.connections.open").empty());
    // Still retrying, not crashed: a clean stop works.
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "templates from RELBOT_TEMPLATES_DIR can be started and a broken one stops relbot with exit 2",
    "[e2e]") {
    temp_dir dir;
    std::filesystem::create_directory(dir.file("templates"));
    {
        std::ofstream hotfix(dir.file("templates/hotfix.md"));
        hotfix << "# Hotfix\n\n## Patch\n- [ ] **Build**: build it\n- [ ] **Ship**: ship it\n\n"
                  "## Watch (30-60 minutes)\n- [ ] **Graphs**: look at them\n";
    }
    sandbox sim(dir);
    {
        bot relbot(dir, sim, {{"RELBOT_TEMPLATES_DIR", dir.file("templates")}});
        wait_connected(sim);
        auto text =
            message_text(ack_payload(sim, sim.slash_command("start v1.0.1 template hotfix")));
        CHECK(contains(text, "2 phases, 3 items"));
        auto status = message_text(ack_payload(sim, sim.slash_command("status")));
        CHECK(contains(status, "Watch (30-60 minutes)"));
        auto unknown =
            message_text(ack_payload(sim, sim.slash_command("start v2 template nope", "C0OTHER")));
        CHECK(contains(unknown, "`hotfix`, `standard`"));
        CHECK(relbot.stop() == 0);
    }
    {
        std::ofstream broken(dir.file("templates/broken.md"));
        broken << "## Empty phase\n\n## Another\n- [ ] **Item**: x\n";
    }
    bot relbot(dir, sim, {{"RELBOT_TEMPLATES_DIR", dir.file("templates")}});
    auto status = relbot.proc().wait_exit(after(10s));
    REQUIRE(status);
    CHECK(*status == 2);
    REQUIRE(relbot.proc().wait_stderr("broken.md:1:", after(1s)));
    CHECK(relbot.proc().wait_stderr("has no items", after(1s)));
}

TEST_CASE("a template with an inverted phase window stops relbot with exit 2 and names its line",
          "[e2e]") {
    temp_dir dir;
    std::filesystem::create_directory(dir.file("templates"));
    std::ofstream(dir.file("templates/soak.md"))
        << "# Soak\n\n## Build\n- [ ] **Compile**: build it\n\n## Soak (2-1 hours)\n"
           "- [ ] **Watch**: watch it\n";
    sandbox sim(dir);
    bot relbot(dir, sim, {{"RELBOT_TEMPLATES_DIR", dir.file("templates")}});
    auto status = relbot.proc().wait_exit(after(10s));
    REQUIRE(status);
    CHECK(*status == 2);
    CHECK(relbot.proc().wait_stderr("soak.md:6: phase window `(2-1 hours)` ends before it starts",
                                    after(1s)));
    CHECK(sim.calls("apps.connections.open").empty());
}

TEST_CASE("a dropped connection is opened again with a fresh URL and commands work after it",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    wait_connected(sim);
    ack_payload(sim, sim.slash_command("start v1.0"));

    sim.send({{"op", "drop"}});
    REQUIRE(sim.wait_event("ws_closed", after(5s)));
    wait_connected(sim);  // a second hello: relbot is back
    CHECK(sim.calls("apps.connections.open").size() == 2);
    CHECK(contains(message_text(ack_payload(sim, sim.slash_command("status"))), "Release v1.0"));

    // A disconnect request gets a new connection at once.
    sim.send({{"op", "disconnect"}, {"reason", "refresh_requested"}});
    wait_connected(sim);
    CHECK(sim.calls("apps.connections.open").size() == 3);
    CHECK(relbot.stop() == 0);
}

}  // namespace e2e_skeleton_test
