// End-to-end: what an operator uses. The health and metrics endpoint of the running relbot,
// and the command line (check-template, backup, export) run as the real binary.
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

#include "support/sandbox.hpp"

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

// A TCP connection to 127.0.0.1:port, or -1.
int connect_local(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{5, 0};  // a read never waits longer than this
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

struct http_answer {
    int status = 0;
    std::string body;
};

// One plain-HTTP request; the server closes the connection after its answer.
http_answer http_get(int port, const std::string& target) {
    http_answer a;
    int fd = connect_local(port);
    REQUIRE(fd >= 0);
    auto req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    std::string raw;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
        raw.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    std::smatch m;
    if (std::regex_search(raw, m, std::regex("^HTTP/1\\.1 (\\d{3})"))) {
        a.status = std::stoi(m[1]);
    }
    if (auto at = raw.find("\r\n\r\n"); at != std::string::npos) {
        a.body = raw.substr(at + 4);
    }
    return a;
}

// relbot with its endpoint on a free port; returns the port it logged.
int health_port(bot& relbot) {
    auto line = relbot.proc().wait_stderr("event=health.listening", after(10s));
    REQUIRE(line);
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex("port=(\\d+)")));
    return std::stoi(m[1]);
}

// The value of one sample of the metrics page (0 when it is not there).
double sample(const std::string& page, const std::string& series) {
    auto at = page.find("\n" + series + " ");
    if (at == std::string::npos) {
        return 0;
    }
    return std::stod(page.substr(at + series.size() + 2));
}

// Polls /healthz until it answers `status`, within `within`. Health changes have no event
// of their own to wait on; each poll is a real request, and the deadline bounds the wait.
http_answer wait_health(int port, int status, std::chrono::milliseconds within) {
    auto until = after(within);
    http_answer a;
    do {
        a = http_get(port, "/healthz");
        if (a.status == status) {
            return a;
        }
    } while (std::chrono::steady_clock::now() < until);
    return a;
}

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
bool wait_name(const temp_dir& dir, const std::string& user, std::chrono::milliseconds within) {
    auto until = after(within);
    do {
        try {
            SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
            SQLite::Statement q(db,
                                "SELECT name FROM users WHERE user_id = ? AND name IS NOT NULL");
            q.bind(1, user);
            if (q.executeStep()) {
                return true;
            }
        } catch (const SQLite::Exception&) {
            // not created or not migrated yet
        }
    } while (std::chrono::steady_clock::now() < until);
    return false;
}

std::string run_relbot(const std::vector<std::string>& args,
                       const temp_dir& dir,
                       std::map<std::string, std::string> env,
                       int& status) {
    std::vector<std::string> argv = {RELBOT_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    process p(argv, std::move(env), dir.path());
    p.close_stdin();
    std::string out;
    while (auto line = p.read_stdout_line(after(20s))) {
        out += *line + "\n";
    }
    auto code = p.wait_exit(after(20s));
    REQUIRE(code);
    status = *code;
    return out;
}

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
    for (const char* name :
         {"relbot_envelopes_received_total", "relbot_acks_total", "relbot_ack_duration_seconds",
          "relbot_commands_total", "relbot_api_calls_total", "relbot_rate_limit_waits_total",
          "relbot_reminders_sent_total", "relbot_reconnects_total", "relbot_connections_open",
          "relbot_outbox_pending", "relbot_outbox_failed", "relbot_releases_active",
          "relbot_db_wal_frames", "relbot_db_checkpoints_total",
          "relbot_process_start_time_seconds"}) {
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
    CHECK(sample(a, "relbot_releases_active") == 1);
    CHECK(wait_metric(port, "relbot_api_calls_total{method=\"chat.postMessage\",result=\"ok\"}", 1,
                      5s) >= 1);

    // A refusal and bad input are counted as such.
    REQUIRE(sim.wait_ack(sim.slash_command("finish", "C0E2E", "U0SOMEONE")));
    REQUIRE(sim.wait_ack(sim.slash_command("frobnicate now")));
    // Counted once relbot has written the ack (the sim may read it a moment before).
    REQUIRE(wait_metric(port, "relbot_commands_total{command=\"unknown\",outcome=\"bad_input\"}", 1,
                        5s) == 1);
    auto b = http_get(port, "/metrics").body;
    CHECK(sample(b, "relbot_commands_total{command=\"finish\",outcome=\"refused\"}") == 1);
    CHECK(sample(b, "relbot_commands_total{command=\"unknown\",outcome=\"bad_input\"}") == 1);
    CHECK(sample(b, "relbot_commands_total{command=\"start\",outcome=\"ok\"}") == 1);

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
    // With the idle clients gone, the endpoint answers again.
    CHECK(wait_health(port, 200, 10s).status == 200);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("check-template lists a good template and points at the line of a broken one", "[e2e]") {
    temp_dir dir;
    std::ofstream(dir.file("broken.md")) << "# Broken\n\n## Phase one\n\nJust prose, no items.\n";
    int status = -1;
    auto good = run_relbot({"check-template", CHECKLIST_STANDARD_MD}, dir, {}, status);
    CHECK(status == 0);
    CHECK(contains(good, "6 phases, 33 items"));
    CHECK(contains(good, "1. Pre-Release Checks"));
    CHECK(contains(good, "1.1 CI/CD Status"));

    process p({RELBOT_BIN, "check-template", dir.file("broken.md")}, {}, dir.path());
    auto err = p.read_stderr_line(after(10s));
    REQUIRE(err);
    CHECK(std::regex_search(*err, std::regex("broken\\.md:\\d+: ")));
    CHECK(p.wait_exit(after(10s)) == 2);

    run_relbot({"check-template"}, dir, {}, status);
    CHECK(status == 2);
}

TEST_CASE("check-template shows each phase's window and warns of items whose slugs collide",
          "[e2e]") {
    temp_dir dir;
    std::ofstream(dir.file("dup.md"))
        << "# Dup\n\n## Checks\n- [ ] **Smoke tests**: staging\n\n## Bake (1-2 weeks)\n"
           "- [ ] **Smoke tests**: production\n";
    process p({RELBOT_BIN, "check-template", dir.file("dup.md")}, {}, dir.path());
    std::string out;
    while (auto line = p.read_stdout_line(after(10s))) {
        out += *line + "\n";
    }
    REQUIRE(p.wait_exit(after(10s)) == 0);  // a warning is not a failure
    CHECK(contains(out, "1. Checks — no window"));
    CHECK(contains(out, "2. Bake (1-2 weeks) — window 7d to 14d"));
    CHECK(contains(out, "2.1 Smoke tests"));
    std::string err;
    for (const auto& line : p.stderr_lines()) {
        err += line + "\n";
    }
    CHECK(contains(err, dir.file("dup.md") +
                            ":7: warning: \"Smoke tests\" repeats line 4; its slug is "
                            "smoke-tests-2 (line 4 has smoke-tests)"));

    int status = -1;
    auto standard = run_relbot({"check-template", CHECKLIST_STANDARD_MD}, dir, {}, status);
    CHECK(status == 0);
    CHECK(contains(standard, "5. Post-Release Monitoring (24-48 hours) — window 1d to 2d"));
}

TEST_CASE("check-template refuses an inverted or empty phase window with its line", "[e2e]") {
    temp_dir dir;
    std::ofstream(dir.file("inverted.md")) << "## Build\n- [ ] **A**: a\n## Soak (48-24 hours)\n"
                                              "- [ ] **B**: b\n";
    std::ofstream(dir.file("empty.md")) << "## Soak (0-0 hours)\n- [ ] **B**: b\n";
    for (auto [file, expected] :
         {std::pair{std::string("inverted.md"), std::string(":3: phase window `(48-24 hours)` ends "
                                                            "before it starts")},
          std::pair{std::string("empty.md"), std::string(":1: phase window `(0-0 hours)` is "
                                                         "empty")}}) {
        process p({RELBOT_BIN, "check-template", dir.file(file)}, {}, dir.path());
        auto err = p.read_stderr_line(after(10s));
        REQUIRE(err);
        CHECK(contains(*err, dir.file(file) + expected));
        CHECK(p.wait_exit(after(10s)) == 2);
    }
}

TEST_CASE("backup taken during a stream of commands holds every command acknowledged before it",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(sim.wait_ack(sim.slash_command("start v1.0")));
    for (int i = 0; i < 20; ++i) {
        REQUIRE(sim.wait_ack(sim.slash_command("note 1.1 before the backup " + std::to_string(i))));
    }
    // More commands while the backup runs.
    std::vector<std::string> during;
    for (int i = 0; i < 20; ++i) {
        during.push_back(sim.slash_command("note 1.2 during the backup " + std::to_string(i)));
    }
    auto env = bot_environment(dir, sim);
    int status = -1;
    auto out = run_relbot({"backup", dir.file("copy.db")}, dir, env, status);
    CHECK(status == 0);
    CHECK(contains(out, "backed up"));
    for (const auto& id : during) {
        CHECK(sim.wait_ack(id));
    }

    SQLite::Database copy(dir.file("copy.db"), SQLite::OPEN_READONLY);
    CHECK(copy.execAndGet("PRAGMA integrity_check").getString() == "ok");
    SQLite::Statement q(copy,
                        "SELECT COUNT(*) FROM audit WHERE action = 'item.noted' AND note LIKE "
                        "'before the backup %'");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getInt() == 20);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("backup into a folder that does not exist names the file and the missing folder",
          "[e2e]") {
    temp_dir dir;
    {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE t (x INTEGER)");
    }
    auto target = dir.file("nonexistent/dir/x.db");
    process p({RELBOT_BIN, "backup", target}, {{"RELBOT_DB", dir.file("relbot.db")}}, dir.path());
    p.close_stdin();
    auto status = p.wait_exit(after(20s));
    REQUIRE(status);
    CHECK(*status != 0);
    std::string err;
    for (const auto& line : p.stderr_lines()) {
        err += line + "\n";
    }
    CHECK(contains(err, "relbot backup: cannot write " + target + ": the folder " +
                            dir.file("nonexistent/dir") + " does not exist"));
    CHECK_FALSE(contains(err, "unable to open database file"));
    CHECK_FALSE(std::filesystem::exists(dir.file("nonexistent")));
}

TEST_CASE("export prints the same markdown report as /release report markdown", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    for (const char* c : {"start v2.0", "check 1.1 all green", "note 1.2 scanned twice",
                          "skip 1.3 covered by 1.1", "block 1.4 waiting for QA"}) {
        REQUIRE(sim.wait_ack(sim.slash_command(c)));
    }
    // Both show the manager by name once users.info has answered.
    REQUIRE(wait_name(dir, "U0MANAGER", 10s));
    auto ack = sim.wait_ack(sim.slash_command("report markdown"));
    REQUIRE(ack);
    // The markdown travels as code blocks, escaped for mrkdwn; put it back together.
    std::string from_slack;
    for (const auto& b : (*ack)["payload"]["blocks"]) {
        if (!b.contains("text") || !b["text"].contains("text")) {
            continue;
        }
        auto t = b["text"]["text"].get<std::string>();
        if (t.starts_with("```") && t.ends_with("```")) {
            from_slack += t.substr(3, t.size() - 6);
        }
    }
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
        for (std::size_t at; (at = from_slack.find(from)) != std::string::npos;) {
            from_slack.replace(at, from.size(), to);
        }
    }
    REQUIRE_FALSE(from_slack.empty());

    auto env = bot_environment(dir, sim);
    int status = -1;
    auto exported = run_relbot({"export", "v2.0"}, dir, env, status);
    CHECK(status == 0);
    CHECK(exported == from_slack);

    run_relbot({"export", "v9.9"}, dir, env, status);
    CHECK(status == 2);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("export by channel name shows rollbacks and forced moves and blockers and skips by name",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    // The sandbox's channel C0DEMO is #release-demo; users.info names people "user-<ID>".
    for (const char* c : {"start v4.0", "block 1.2 waiting for the QA sign-off",
                          "skip 1.3 covered by the nightly run",
                          "next force QA is out today, smoke tests are enough",
                          "assign 2.1 <@U0PAT>", "rollback error rate doubled after deploy",
                          "finish force rolled back, closing this one"}) {
        INFO(c);
        REQUIRE(sim.wait_ack(sim.slash_command(c, "C0DEMO")));
    }
    REQUIRE(wait_name(dir, "U0MANAGER", 10s));
    REQUIRE(wait_name(dir, "U0PAT", 10s));

    auto env = bot_environment(dir, sim);
    int status = -1;
    auto md = run_relbot({"export", "v4.0", "--channel", "#release-demo"}, dir, env, status);
    INFO(md);
    CHECK(status == 0);
    CHECK(contains(md, "Release manager: @user-U0MANAGER"));
    CHECK(contains(md, "owner @user-U0PAT"));
    CHECK_FALSE(contains(md, "@U0MANAGER"));  // never the raw ID once the name is known
    const std::string when = "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC";
    auto has = [&](const std::string& pattern) {
        return std::regex_search(md, std::regex(pattern));
    };
    // Each section with who, when and why.
    CHECK(has("### Rollback decisions\n\n- " + when +
              " @user-U0MANAGER: error rate doubled after deploy\n"));
    CHECK(has("### Forced moves\n\n- " + when +
              " @user-U0MANAGER: forced the move from \\*\\*Pre-Release Checks\\*\\* to "
              "\\*\\*Deployment Steps\\*\\* — QA is out today, smoke tests are enough\n- " +
              when +
              " @user-U0MANAGER: finished the release by force — rolled back, closing this one\n"));
    CHECK(has("### Blockers\n\n- 1\\.2 \\*\\*[^*]+\\*\\* — blocked by @user-U0MANAGER " + when +
              ": waiting for the QA sign-off · \\*\\*still blocked\\*\\*\n"));
    CHECK(
        has("### Skipped\n\n- 1\\.3 \\*\\*[^*]+\\*\\* — covered by the nightly run "
            "\\(@user-U0MANAGER, " +
            when + "\\)\n"));
    CHECK(contains(md, "blocked by @user-U0MANAGER"));

    // The channel's name without `#`, and its ID, find it too; another name does not.
    CHECK(run_relbot({"export", "v4.0", "--channel", "release-demo"}, dir, env, status) == md);
    CHECK(status == 0);
    CHECK(run_relbot({"export", "v4.0", "--channel", "C0DEMO"}, dir, env, status) == md);
    CHECK(status == 0);
    run_relbot({"export", "v4.0", "--channel", "#elsewhere"}, dir, env, status);
    CHECK(status == 2);

    // The report in Slack has the same facts (people as mentions there).
    auto report_ack = sim.wait_ack(sim.slash_command("report", "C0DEMO"));
    REQUIRE(report_ack);
    auto report = message_text((*report_ack)["payload"]);
    CHECK(contains(report, "error rate doubled after deploy"));
    CHECK(contains(report, "QA is out today, smoke tests are enough"));
    CHECK(contains(report, "waiting for the QA sign-off"));
    CHECK(contains(report, "covered by the nightly run"));
    CHECK(contains(report, "<@U0MANAGER>"));
    CHECK(relbot.stop() == 0);
}
