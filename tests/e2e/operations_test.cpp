// End-to-end: what an operator watches. The health and metrics endpoint of the running relbot.
// (The command line, run as the real binary, is in command_line_test.cpp.)
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "support/http_probe.hpp"
#include "support/sandbox.hpp"

namespace e2e_operations_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

// Polls /metrics until `series` is at least `at_least`: relbot counts a Web API call when it
// has read the answer, just after the sandbox has reported the call.
double wait_metric(int port,
                   const std::string& series,
                   double at_least,
                   std::chrono::milliseconds within) {
    auto until = after(within);
    double v = 0;
    do {
        v = sample(http_get(port, "/metrics").body, series);
        if (v >= at_least) {
            return v;
        }
    } while (std::chrono::steady_clock::now() < until);
    return v;
}

// Polls the database until users.info has given `user` a name: relbot stores it just after
// the sandbox has reported the call.
// relbot with its health endpoint on a free port, against a fresh sandbox, connected.
class health_fixture {
public:
    explicit health_fixture(std::map<std::string, std::string> env = {})
        : relbot(dir, sim, with_health_addr(std::move(env))), port(health_port(relbot)) {
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
    }

protected:
    static std::map<std::string, std::string> with_health_addr(
        std::map<std::string, std::string> env) {
        env["RELBOT_HEALTH_ADDR"] = "127.0.0.1:0";
        return env;
    }

    temp_dir dir;
    sandbox sim{dir};
    bot relbot;
    int port;
};

// The same, with reminders every 2 s at any hour.
class reminder_fixture : public health_fixture {
public:
    reminder_fixture()
        : health_fixture({{"RELBOT_REMINDER_INTERVAL", "2s"}, {"RELBOT_QUIET_HOURS", "0-0"}}) {}
};

}  // namespace

TEST_CASE_METHOD(health_fixture,
                 "/healthz is 200 once connected, 503 after link_disabled, and 404 on other paths",
                 "[e2e]") {
    auto ok = wait_health(port, 200, 5s);
    REQUIRE(ok.status == 200);
    auto body = json::parse(ok.body);
    CHECK(body["status"] == "ok");
    CHECK(body["connections"] == 1);
    CHECK(body["db"] == "ok");
    CHECK(body["outbox_pending"].is_number());
    CHECK(std::regex_match(body["last_hello"].get<std::string>(),
                           std::regex("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ")));

    CHECK(http_get(port, "/").status == 404);
    CHECK(http_get(port, "/healthz/../metrics").status == 404);

    sim.send({{"op", "disconnect"}, {"reason", "link_disabled"}});
    auto down = wait_health(port, 503, 5s);
    REQUIRE(down.status == 503);
    auto why = json::parse(down.body);
    CHECK(why["status"] == "unhealthy");
    CHECK(contains(why["reason"].get<std::string>(), "link_disabled"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE_METHOD(health_fixture,
                 "an endpoint address relbot cannot listen on stops it at start, naming the "
                 "variable: a port in use exits 1, an address not of this machine exits 2",
                 "[e2e]") {
    auto env = bot_environment(dir, sim);
    env["RELBOT_DB"] = dir.file("second.db");
    env["RELBOT_HEALTH_ADDR"] = "127.0.0.1:" + std::to_string(port);  // the first relbot's
    int status = -1;
    std::string err;
    run_relbot({}, dir, env, status, &err);
    INFO(err);
    CHECK(status == 1);
    CHECK(contains(
        err, "RELBOT_HEALTH_ADDR=127.0.0.1:" + std::to_string(port) + ": the port is in use"));
    CHECK_FALSE(contains(err, "/usr/include"));  // no library's source paths

    env["RELBOT_HEALTH_ADDR"] = "127.0.0.1:0";
    env["RELBOT_HOOKS_ADDR"] = "192.0.2.1:9109";  // TEST-NET: never this machine's
    env["RELBOT_HOOKS_SECRET"] = std::string(40, 's');
    err.clear();
    run_relbot({}, dir, env, status, &err);
    CHECK(status == 2);
    CHECK(contains(err,
                   "configuration error: RELBOT_HOOKS_ADDR=192.0.2.1:9109: not an address "
                   "of this machine"));
    CHECK_FALSE(contains(err, "/usr/include"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE("/healthz is 503 while Slack refuses connections", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    sim.send(
        {{"op", "fail"}, {"method", "apps.connections.open"}, {"status", 503}, {"times", 1000}});
    REQUIRE(sim.wait_event("fail_armed", after(5s)));
    bot relbot(dir, sim, {{"RELBOT_HEALTH_ADDR", "127.0.0.1:0"}});
    auto port = health_port(relbot);
    // relbot is up and retrying; the endpoint says why it is not healthy.
    REQUIRE(relbot.proc().wait_stderr("event=ws.open_failed", after(10s)));
    auto a = http_get(port, "/healthz");
    CHECK(a.status == 503);
    auto body = json::parse(a.body);
    CHECK(body["connections"] == 0);
    CHECK(body["db"] == "ok");
    CHECK(contains(body["reason"].get<std::string>(), "no Socket Mode connection"));
    CHECK(body["last_hello"].is_null());
    CHECK(relbot.stop() == 0);
}

TEST_CASE_METHOD(health_fixture,
                 "/metrics names every figure and each one moves when its event happens",
                 "[e2e]") {
    // The sim has sent hello; relbot counts the connection once it has read it.
    REQUIRE(wait_metric(port, "relbot_connections_open", 1, 5s) == 1);

    auto before = http_get(port, "/metrics");
    REQUIRE(before.status == 200);
    const char* const every_metric[] = {"relbot_envelopes_received_total",
                                        "relbot_acks_total",
                                        "relbot_ack_duration_seconds",
                                        "relbot_commands_total",
                                        "relbot_api_calls_total",
                                        "relbot_rate_limit_waits_total",
                                        "relbot_reminders_sent_total",
                                        "relbot_reconnects_total",
                                        "relbot_connections_open",
                                        "relbot_outbox_pending",
                                        "relbot_outbox_failed",
                                        "relbot_releases_active",
                                        "relbot_db_wal_frames",
                                        "relbot_db_checkpoints_total",
                                        "relbot_process_start_time_seconds",
                                        "relbot_batch_envelopes",
                                        "relbot_batch_wait_seconds",
                                        "relbot_db_begin_seconds",
                                        "relbot_db_commit_seconds",
                                        "relbot_envelopes_late_total",
                                        "relbot_limits_hit_total"};
    for (const char* name : every_metric) {
        CHECK(contains(before.body, std::string("# TYPE ") + name + " "));
    }
    CHECK(sample(before.body, "relbot_connections_open") == 1);
    CHECK(sample(before.body, "relbot_releases_active") == 0);
    CHECK(sample(before.body, "relbot_api_calls_total{method=\"auth.test\",result=\"ok\"}") == 1);

    // One command: each counter it touches moves by exactly one.
    auto id = sim.slash_command("start v1.0");
    REQUIRE(sim.wait_ack(id));
    REQUIRE(sim.wait_for(
        [](const json& e) {
            return e.value("event", "") == "api_call" &&
                   e.value("method", "") == "chat.postMessage";
        },
        after(5s)));
    auto a = http_get(port, "/metrics").body;
    CHECK(sample(a, "relbot_commands_total{command=\"start\",outcome=\"ok\"}") == 1);
    CHECK(sample(a, "relbot_envelopes_received_total{type=\"slash_commands\"}") == 1);
    CHECK(sample(a, "relbot_acks_total{written=\"true\"}") == 1);
    CHECK(sample(a, "relbot_ack_duration_seconds_count") == 1);
    CHECK(sample(a, "relbot_ack_duration_seconds_bucket{le=\"+Inf\"}") == 1);
    CHECK(sample(a, "relbot_batch_envelopes_count") == 1);  // alone: a batch of one
    CHECK(sample(a, "relbot_batch_envelopes_bucket{le=\"1\"}") == 1);
    CHECK(sample(a, "relbot_batch_wait_seconds_count") == 1);
    CHECK(sample(a, "relbot_db_begin_seconds_count") == 1);  // `start` writes
    CHECK(sample(a, "relbot_db_commit_seconds_count") == 1);
    CHECK(sample(a, "relbot_db_commit_seconds_bucket{le=\"+Inf\"}") == 1);
    // Its log line says where the ack's time went: the queue, the command, the commit.
    auto logged = relbot.proc().wait_stderr("envelope_id=" + id + " ", after(5s));
    REQUIRE(logged);
    CHECK(std::regex_search(*logged, std::regex(" command=start outcome=ok .* us=\\d+ wait_us=\\d+ "
                                                "begin_us=\\d+ commit_us=\\d+ ack_us=\\d+$")));
    CHECK(sample(a, "relbot_releases_active") == 1);
    CHECK(wait_metric(port, "relbot_api_calls_total{method=\"chat.postMessage\",result=\"ok\"}", 1,
                      5s) >= 1);

    // A refusal and bad input are counted as such.
    REQUIRE(sim.wait_ack(sim.slash_command("finish", "C0E2E", "U0SOMEONE")));
    auto counted = http_get(port, "/metrics").body;
    auto begins = sample(counted, "relbot_db_begin_seconds_count");
    auto commits = sample(counted, "relbot_db_commit_seconds_count");
    auto bad = sim.slash_command("frobnicate now");
    REQUIRE(sim.wait_ack(bad));
    // Bad input waited for no BEGIN or commit, and its log line says so.
    auto bad_logged = relbot.proc().wait_stderr("envelope_id=" + bad + " ", after(5s));
    REQUIRE(bad_logged);
    CHECK(std::regex_search(*bad_logged, std::regex(" wait_us=\\d+ ack_us=\\d+$")));
    // Counted once relbot has written the ack (the sim may read it a moment before).
    REQUIRE(wait_metric(port, "relbot_commands_total{command=\"unknown\",outcome=\"bad_input\"}", 1,
                        5s) == 1);
    auto b = http_get(port, "/metrics").body;
    CHECK(sample(b, "relbot_commands_total{command=\"finish\",outcome=\"refused\"}") == 1);
    CHECK(sample(b, "relbot_commands_total{command=\"unknown\",outcome=\"bad_input\"}") == 1);
    CHECK(sample(b, "relbot_commands_total{command=\"start\",outcome=\"ok\"}") == 1);
    // Every batch waited in the queue; bad input writes nothing, so it begins and commits
    // nothing.
    CHECK(sample(b, "relbot_batch_wait_seconds_count") == 3);
    CHECK(sample(b, "relbot_db_begin_seconds_count") == begins);
    CHECK(sample(b, "relbot_db_commit_seconds_count") == commits);

    // The checkpointer (once a second) finds the commits in the write-ahead log and moves them.
    CHECK(wait_metric(port, "relbot_db_wal_frames", 1, 5s) >= 1);
    CHECK(wait_metric(port, "relbot_db_checkpoints_total{result=\"ok\"}", 1, 5s) >= 1);
    CHECK(sample(http_get(port, "/metrics").body,
                 "relbot_db_checkpoints_total{result=\"failed\"}") == 0);

    // A 429 is a Web API result and a wait; a refresh is a reconnect.
    sim.send({{"op", "fail"}, {"method", "chat.postMessage"}, {"status", 429}, {"retry_after", 1}});
    REQUIRE(sim.wait_event("fail_armed", after(5s)));
    REQUIRE(sim.wait_ack(sim.slash_command("next force benchmarking the counters")));
    REQUIRE(sim.wait_for(
        [](const json& e) {
            return e.value("event", "") == "api_call" && e.value("status", 0) == 429;
        },
        after(5s)));
    sim.send({{"op", "disconnect"}, {"reason", "refresh_requested"}});
    REQUIRE(sim.wait_event("hello_sent", after(10s)));
    REQUIRE(relbot.proc().wait_stderr("event=ws.replaced", after(10s)));
    CHECK(wait_metric(port,
                      "relbot_api_calls_total{method=\"chat.postMessage\",result=\"rate_limited\"}",
                      1, 5s) == 1);
    auto c = http_get(port, "/metrics").body;
    CHECK(sample(c, "relbot_rate_limit_waits_total{method=\"chat.postMessage\"}") == 1);
    CHECK(sample(c, "relbot_reconnects_total{reason=\"refresh_requested\"}") == 1);
    CHECK(relbot.stop() == 0);
}

TEST_CASE_METHOD(reminder_fixture,
                 "/metrics counts reminders and messages Slack refused for good",
                 "[e2e]") {
    auto before = http_get(port, "/metrics").body;
    CHECK(sample(before, "relbot_reminders_sent_total{kind=\"reminder\"}") == 0);
    CHECK(sample(before, "relbot_outbox_failed") == 0);

    // An item falls due: its owner is reminded.
    REQUIRE(sim.wait_ack(sim.slash_command("start v1.0", "C0REM", "U0BOSS")));
    REQUIRE(sim.wait_ack(sim.slash_command("assign 1.1 <@U0OWNER> due 1s", "C0REM", "U0BOSS")));
    CHECK(wait_metric(port, "relbot_reminders_sent_total{kind=\"reminder\"}", 1, 10s) >= 1);

    // Slack refuses the channel for good: the release's announcement and its status message
    // are both failed messages (one after the other), with Slack errors.
    sim.send({{"op", "fail"},
              {"method", "chat.postMessage"},
              {"error", "channel_not_found"},
              {"channel", "C0GONE"},
              {"times", 5}});
    REQUIRE(sim.wait_event("fail_armed", after(5s)));
    REQUIRE(sim.wait_ack(sim.slash_command("start v2.0", "C0GONE", "U0BOSS")));
    CHECK(wait_metric(port, "relbot_outbox_failed", 2, 10s) == 2);
    CHECK(sample(http_get(port, "/metrics").body,
                 "relbot_api_calls_total{method=\"chat.postMessage\",result=\"slack_error\"}") >=
          1);
    CHECK(relbot.stop() == 0);
}

TEST_CASE_METHOD(health_fixture,
                 "idle and oversized HTTP clients do not stop acknowledgements",
                 "[e2e]") {
    // One client that sends a 1 MB header…
    int big = connect_local(port);
    REQUIRE(big >= 0);
    std::string huge = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fill: " + std::string(1 << 20, 'a');
    ::send(big, huge.data(), huge.size(), MSG_NOSIGNAL | MSG_DONTWAIT);

    // …and 200 that never send a byte (a slowloris), more than the endpoint serves at once.
    std::vector<int> idle;
    for (int i = 0; i < 200; ++i) {
        int fd = connect_local(port);
        REQUIRE(fd >= 0);
        idle.push_back(fd);
    }
    // Commands are still acknowledged within Slack's 3 s.
    for (int i = 0; i < 5; ++i) {
        CHECK(sim.wait_ack(sim.slash_command("help")));
    }
    auto id = sim.slash_command("start v1.0");
    CHECK(sim.wait_ack(id));

    // The oversized header is refused after its first 8 KiB, not read to the end.
    std::string answer(64, '\0');
    auto n = ::recv(big, answer.data(), answer.size(), 0);
    REQUIRE(n > 0);
    CHECK(answer.starts_with("HTTP/1.1 431"));
    for (int fd : idle) {
        ::close(fd);
    }
    ::close(big);
    // With the idle clients gone, the endpoint answers again, and says what it refused.
    CHECK(wait_health(port, 200, 10s).status == 200);
    auto page = http_get(port, "/metrics").body;
    CHECK(sample(page, "relbot_limits_hit_total{limit=\"health_header_bytes\"}") == 1);
    CHECK(sample(page, "relbot_limits_hit_total{limit=\"health_connections\"}") >= 1);
    CHECK(relbot.stop() == 0);
}

TEST_CASE_METHOD(health_fixture,
                 "a Socket Mode frame over 1 MiB is never held whole: the socket is replaced and "
                 "commands go on",
                 "[e2e]") {
    REQUIRE(sim.wait_ack(sim.slash_command("start v1.0")));
    json big = {{"envelope_id", "env-big"},
                {"type", "slash_commands"},
                {"payload",
                 {{"channel_id", "C0DEMO"},
                  {"user_id", "U0DEMO"},
                  {"command", "/release"},
                  {"text", "note 1.1 " + std::string(1100 * 1024, 'a')}}}};
    sim.send({{"op", "send"}, {"frame", big}});
    REQUIRE(sim.wait_event("envelope_sent", after(5s)));
    REQUIRE(relbot.proc().wait_stderr("event=ws.frame_too_big", after(5s)));
    REQUIRE(sim.wait_event("hello_sent", after(5s)));  // the replacement is up

    CHECK(sim.wait_ack(sim.slash_command("note 1.1 after the big frame")));
    for (const auto& e : sim.events()) {  // never read, so never acknowledged
        CHECK_FALSE((e.value("event", "") == "ack" && e.value("envelope_id", "") == "env-big"));
    }
    auto page = http_get(port, "/metrics").body;
    CHECK(sample(page, "relbot_limits_hit_total{limit=\"frame_bytes\"}") == 1);
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM audit WHERE action = 'item.noted'").getInt() == 1);
    CHECK(relbot.stop() == 0);
}

}  // namespace e2e_operations_test
