// End-to-end: the connection under Slack's faults, with the real relbot and relbot-sim
// processes. Refresh without a gap, drops, silence, redelivery, several sockets, 429s,
// link_disabled, shutdown during a stream, bad certificates, a locked database.
#include <SQLiteCpp/Database.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "support/http_probe.hpp"
#include "support/sandbox.hpp"

namespace e2e_connection_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

int count_rows(const temp_dir& dir, const std::string& where) {
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT COUNT(*) FROM audit WHERE " + where).getInt();
}

// Starts a release and returns once it is acknowledged.
void start_release(sandbox& sim) {
    auto ack = sim.wait_ack(sim.slash_command("start v1.0"));
    REQUIRE(ack);
}

// Waits for `n` acks of the given envelope ids; returns how many acks each id got.
std::map<std::string, int> collect_acks(sandbox& sim,
                                        const std::set<std::string>& ids,
                                        deadline until) {
    std::map<std::string, int> acks;
    std::size_t distinct = 0;
    while (distinct < ids.size()) {
        auto ack = sim.wait_for(
            [&](const json& e) {
                return e.value("event", "") == "ack" && ids.contains(e.value("envelope_id", ""));
            },
            until);
        if (!ack) {
            break;
        }
        if (acks[(*ack)["envelope_id"].get<std::string>()]++ == 0) {
            ++distinct;
        }
    }
    return acks;
}

void check_no_secrets(process& p) {
    for (const auto& line : p.stderr_lines()) {
        CHECK_FALSE(contains(line, app_token));
        CHECK_FALSE(contains(line, bot_token));
        CHECK_FALSE(contains(line, "sim-ticket-"));
    }
}

}  // namespace

TEST_CASE(
    "refresh: 500 commands across five refreshes are each acked once and applied once with a "
    "socket "
    "always open",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    start_release(sim);

    std::set<std::string> ids;
    for (int block = 0; block < 5; ++block) {
        for (int i = 0; i < 100; ++i) {
            ids.insert(sim.slash_command("note 1.1 n" + std::to_string(block * 100 + i)));
            if (i == 50) {
                // Mid-block: the refresh happens while commands are still arriving.
                sim.send({{"op", "disconnect"},
                          {"reason", block % 2 == 0 ? "refresh_requested" : "warning"}});
            }
        }
        REQUIRE(sim.wait_event("disconnect_sent", after(5s)));
        REQUIRE(sim.wait_event("hello_sent", after(10s)));  // the replacement is up
    }
    auto acks = collect_acks(sim, ids, after(30s));
    if (acks.size() != ids.size()) {
        // Which ones, and what relbot said about them (envelope.unacked: read too late).
        for (const auto& id : ids) {
            if (!acks.contains(id)) {
                UNSCOPED_INFO("not acked: " << id);
            }
        }
        for (const auto& line : relbot.proc().stderr_lines()) {
            if (contains(line, "unacked") || contains(line, "event=ws.")) {
                UNSCOPED_INFO(line);
            }
        }
    }
    CHECK(acks.size() == 500);
    for (const auto& [id, n] : acks) {
        INFO(id);
        CHECK(n == 1);
    }
    CHECK(count_rows(dir, "action = 'item.noted'") == 500);
    for (int closed = 0; closed < 5; ++closed) {
        REQUIRE(sim.wait_event("ws_closed", after(5s)));  // each replaced socket was closed
    }

    // The sandbox's timeline: after the first hello, at no moment were zero sockets open.
    std::set<int> open;
    bool started = false;
    int replaced = 0;
    for (const auto& e : sim.events()) {
        auto kind = e.value("event", "");
        if (kind == "hello_sent") {
            open.insert(e["connection"].get<int>());
            started = true;
        } else if (kind == "ws_closed") {
            open.erase(e["connection"].get<int>());
            ++replaced;
            CHECK(open.size() >= 1);
        }
    }
    CHECK(started);
    CHECK(replaced == 5);
    CHECK(relbot.stop() == 0);
    check_no_secrets(relbot.proc());  // debug logging over the whole run
}

TEST_CASE(
    "refresh: envelopes that keep arriving on the replaced socket after the new one's hello are "
    "each acked there, and the old socket closes once they stop",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    auto first = sim.wait_event("hello_sent", after(15s));
    REQUIRE(first);
    auto old_socket = (*first)["connection"].get<int>();
    start_release(sim);

    sim.send({{"op", "disconnect"}, {"reason", "warning"}});
    REQUIRE(sim.wait_event("hello_sent", after(10s)));  // the replacement is up
    // Slack (or a peer slow to write what it had queued) still sends on the old socket: one
    // envelope every 30 ms for 1.5 s, three times longer than the old socket is kept once
    // quiet (gaps far below that, on a busy machine too). The pause paces the sender; nothing
    // is waited for with it.
    std::vector<std::string> ids;
    for (int i = 0; i < 50; ++i) {
        ids.push_back(sim.slash_command("note 1.1 late " + std::to_string(i), "C0E2E", "U0MANAGER",
                                        {{"connection", old_socket}}));
        std::this_thread::sleep_for(30ms);
    }
    for (const auto& id : ids) {
        INFO(id);
        auto ack = sim.wait_ack(id);
        REQUIRE(ack);
        CHECK((*ack)["connection"].get<int>() == old_socket);
    }
    CHECK(count_rows(dir, "action = 'item.noted'") == 50);
    auto closed = sim.wait_event("ws_closed", after(10s));
    REQUIRE(closed);
    CHECK((*closed)["connection"].get<int>() == old_socket);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("drop: relbot reconnects within the backoff bound and no command sent meanwhile is lost",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    start_release(sim);

    sim.send({{"op", "drop"}});
    REQUIRE(sim.wait_event("ws_closed", after(5s)));
    std::set<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        ids.insert(sim.slash_command("note 1.2 after-drop " + std::to_string(i)));
    }
    // First retry after at most 1 s of backoff, plus the handshakes.
    REQUIRE(sim.wait_event("hello_sent", after(3s)));
    auto acks = collect_acks(sim, ids, after(10s));
    CHECK(acks.size() == 20);
    CHECK(count_rows(dir, "action = 'item.noted'") == 20);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("silence: a socket that stops answering pings is replaced within 40 s", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    auto first = sim.wait_event("hello_sent", after(15s));
    REQUIRE(first);
    sim.send({{"op", "silence"}});
    REQUIRE(sim.wait_event("silenced", after(5s)));
    auto second = sim.wait_event("hello_sent", after(40s));
    REQUIRE(second);
    CHECK((*second)["connection"] != (*first)["connection"]);
    auto dead = relbot.proc().wait_stderr("event=ws.dead", after(1s));
    if (!dead) {
        for (const auto& l : relbot.proc().stderr_lines()) {
            if (contains(l, "event=ws.")) {
                UNSCOPED_INFO(l);
            }
        }
    }
    CHECK(dead);
    // And it works: a command on the new socket is answered.
    CHECK(sim.wait_ack(sim.slash_command("help")));
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "several sockets: each envelope is acked on its own socket and a redelivery on another socket "
    "is "
    "applied once",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, {{"RELBOT_CONNECTIONS", "3"}});
    for (int i = 0; i < 3; ++i) {
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
    }
    start_release(sim);

    sim.send({{"op", "spread"}, {"on", true}});
    std::set<std::string> ids;
    for (int i = 0; i < 30; ++i) {
        ids.insert(sim.slash_command("note 1.3 spread " + std::to_string(i)));
    }
    collect_acks(sim, ids, after(10s));
    std::map<std::string, int> sent_on;
    std::set<int> used;
    for (const auto& e : sim.events()) {
        if (e.value("event", "") == "envelope_sent") {
            sent_on[e["envelope_id"].get<std::string>()] = e["connection"].get<int>();
        }
    }
    int acked = 0;
    for (const auto& e : sim.events()) {
        if (e.value("event", "") == "ack" && ids.contains(e["envelope_id"].get<std::string>())) {
            CHECK(e["connection"].get<int>() == sent_on[e["envelope_id"].get<std::string>()]);
            used.insert(e["connection"].get<int>());
            ++acked;
        }
    }
    CHECK(acked == 30);
    CHECK(used.size() == 3);
    sim.send({{"op", "spread"}, {"on", false}});

    // The same envelope on two sockets, and twice on one: acked each time, applied once.
    auto conns = std::vector<int>(used.begin(), used.end());
    for (int attempt = 0; attempt < 3; ++attempt) {
        sim.slash_command("check 1.4 evidence", "C0E2E", "U0MANAGER",
                          {{"envelope_id", "env-twice"},
                           {"connection", conns[attempt % 2]},
                           {"retry_attempt", attempt}});
        auto ack = sim.wait_ack("env-twice");
        REQUIRE(ack);
        CHECK((*ack)["connection"] == conns[attempt % 2]);
        CHECK(contains(message_text((*ack)["payload"]), "is done"));
    }
    CHECK(count_rows(dir, "action = 'item.checked'") == 1);
    // An event seen twice is recorded once.
    json event = {{"type", "events_api"},
                  {"retry_attempt", 0},
                  {"payload",
                   {{"type", "event_callback"},
                    {"event_id", "Ev0001"},
                    {"event", {{"type", "app_mention"}}}}}};
    for (int attempt = 0; attempt < 2; ++attempt) {
        event["envelope_id"] = "env-event-" + std::to_string(attempt);
        event["retry_attempt"] = attempt;
        sim.send({{"op", "send"}, {"frame", event}, {"connection", conns[attempt]}});
        CHECK(sim.wait_ack(event["envelope_id"].get<std::string>()));
    }
    CHECK(relbot.proc().wait_stderr("event=event.ignored", after(2s)));
    CHECK(relbot.stop() == 0);
    int recorded = 0;
    for (const auto& l : relbot.proc().stderr_lines()) {
        recorded += contains(l, "event=event.ignored") ? 1 : 0;
    }
    CHECK(recorded == 1);
}

TEST_CASE("a 429 from apps.connections.open is waited out for its Retry-After", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    sim.send(
        {{"op", "fail"}, {"method", "apps.connections.open"}, {"status", 429}, {"retry_after", 2}});
    REQUIRE(sim.wait_event("fail_armed", after(5s)));
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    auto opens = sim.calls("apps.connections.open");
    REQUIRE(opens.size() == 2);
    CHECK(opens[0]["status"] == 429);
    CHECK(opens[1]["t_us"].get<long long>() - opens[0]["t_us"].get<long long>() >= 2'000'000);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("SIGTERM while a Retry-After of a minute is waited out stops at once", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    sim.send({{"op", "fail"},
              {"method", "apps.connections.open"},
              {"status", 429},
              {"retry_after", 60}});
    REQUIRE(sim.wait_event("fail_armed", after(5s)));
    bot relbot(dir, sim);
    bool waiting = false;
    while (auto line = relbot.proc().read_stderr_line(after(15s))) {
        if (contains(*line, "event=ws.open_failed")) {
            waiting = true;
            break;
        }
    }
    REQUIRE(waiting);
    // A clean exit within stop()'s 10 s, not once the minute is over.
    CHECK(relbot.stop() == 0);
}

TEST_CASE("invalid_auth from apps.connections.open is fatal and names SLACK_APP_TOKEN", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    sim.send({{"op", "fail"}, {"method", "apps.connections.open"}, {"error", "invalid_auth"}});
    REQUIRE(sim.wait_event("fail_armed", after(5s)));
    bot relbot(dir, sim);
    auto status = relbot.proc().wait_exit(after(10s));
    REQUIRE(status);
    CHECK(*status == 1);
    auto line = relbot.proc().wait_stderr("slack.auth_failed", after(1s));
    REQUIRE(line);
    CHECK(contains(*line, "SLACK_APP_TOKEN"));
    check_no_secrets(relbot.proc());
}

TEST_CASE(
    "link_disabled stops reconnecting, and too_many_websockets is tried again only after "
    "a long wait",
    "[e2e]") {
    for (const char* reason : {"link_disabled", "too_many_websockets"}) {
        INFO(reason);
        temp_dir dir;
        sandbox sim(dir);
        bot relbot(dir, sim);
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        sim.send({{"op", "disconnect"}, {"reason", reason}});
        auto line = relbot.proc().wait_stderr(std::string(reason) == "link_disabled"
                                                  ? "socket_mode.disabled"
                                                  : "ws.too_many_websockets",
                                              after(5s));
        REQUIRE(line);
        if (std::string(reason) == "too_many_websockets") {
            // Several instances asked for more than Slack's 10 sockets: not fatal, and not a
            // loop: this socket is asked for again after 15 s at least.
            std::smatch m;
            REQUIRE(std::regex_search(*line, m, std::regex("retry_in_ms=(\\d+)")));
            CHECK(std::stoll(m[1]) >= 15000);
        }
        REQUIRE(sim.wait_event("ws_closed", after(5s)));
        CHECK(relbot.stop() == 0);
        CHECK(sim.calls("apps.connections.open").size() == 1);
    }
}

TEST_CASE(
    "SIGTERM during a stream exits 0 within 5 s and every acknowledged command is in the database",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    start_release(sim);

    std::map<std::string, int> note_of;
    std::set<std::string> first;
    for (int i = 0; i < 100; ++i) {
        auto id = sim.slash_command("note 1.5 s" + std::to_string(i) + "x");
        note_of[id] = i;
        first.insert(id);
    }
    // Mid-stream: some commands acknowledged, more on their way when the signal comes.
    auto first_ack = sim.wait_for(
        [&](const json& e) {
            return e.value("event", "") == "ack" && first.contains(e.value("envelope_id", ""));
        },
        after(5s));
    REQUIRE(first_ack);
    for (int i = 100; i < 300; ++i) {
        note_of[sim.slash_command("note 1.5 s" + std::to_string(i) + "x")] = i;
        if (i == 150) {
            relbot.proc().signal(SIGTERM);
        }
    }
    auto status = relbot.proc().wait_exit(after(5s));
    REQUIRE(status);
    CHECK(*status == 0);
    std::set<std::string> ids;
    for (const auto& [id, i] : note_of) {
        ids.insert(id);
    }
    // Every ack: the one seen mid-stream (it may be the only one, if the signal came quickly)
    // and those that followed.
    auto acks = collect_acks(sim, ids, after(1s));
    acks[(*first_ack)["envelope_id"].get<std::string>()]++;
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    for (const auto& [id, n] : acks) {
        SQLite::Statement q(
            db, "SELECT COUNT(*) FROM audit WHERE action = 'item.noted' AND note = :note");
        q.bind(":note", "s" + std::to_string(note_of[id]) + "x");
        q.executeStep();
        INFO(id);
        CHECK(q.getColumn(0).getInt() == 1);
    }
}

TEST_CASE("bad certificates are refused with a log line that says which", "[e2e]") {
    struct bad_cert {
        std::vector<std::string> args;
        const char* says;
    };
    for (const auto& c :
         {bad_cert{{"--cert-expired"}, "certificate has expired"},
          bad_cert{{"--cert-host", "wrong.example.com"}, "certificate is for another host name"}}) {
        INFO(c.says);
        temp_dir dir;
        sandbox sim(dir, c.args);
        bot relbot(dir, sim);
        CHECK(relbot.proc().wait_stderr(c.says, after(10s)));
        CHECK(sim.calls("auth.test").empty());
        CHECK(relbot.stop() == 0);
    }
}

TEST_CASE(
    "a database locked by another process still gets an ack within 3 s that says try again, "
    "a click is told so, and /healthz says why",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, {{"RELBOT_HEALTH_ADDR", "127.0.0.1:0"}});
    auto port = health_port(relbot);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    start_release(sim);
    // The living status message, with its Next phase button.
    REQUIRE(sim.wait_for([](const json& e) { return e.value("method", "") == "pins.add"; },
                         after(10s)));
    {
        SQLite::Database other(dir.file("relbot.db"), SQLite::OPEN_READWRITE, 5000);
        other.exec("BEGIN IMMEDIATE");
        auto ack = sim.wait_ack(sim.slash_command("check 1.6"));
        REQUIRE(ack);
        CHECK(contains(message_text((*ack)["payload"]), "try the command again"));
        // A click's ack carries no message: the person is told through its response_url.
        REQUIRE(sim.wait_ack(sim.click("U0MANAGER", "Next phase")));
        CHECK(sim.wait_until(
            [&] {
                auto told = sim.last_ephemeral("U0MANAGER");
                return told && contains(message_text(*told), "busy right now") &&
                       contains(message_text(*told), "nothing was changed");
            },
            after(5s)));
        // Reads still work under the lock; /healthz says that writes do not, and why.
        auto health = http_get(port, "/healthz");
        CHECK(health.status == 503);
        INFO(health.body);
        auto j = json::parse(health.body);
        CHECK(j.value("status", "") == "unhealthy");
        CHECK(j.value("db", "") == "busy: the database is locked by another process");
        CHECK(contains(j.value("reason", ""), "write lock"));
        other.exec("ROLLBACK");
    }
    // Looked at again within a second of the last look (the lock is tried at most that often).
    auto health = wait_health(port, 200, 5s);
    CHECK(health.status == 200);
    CHECK(json::parse(health.body).value("db", "") == "ok");
    CHECK(count_rows(dir, "action = 'item.checked'") == 0);
    auto ack = sim.wait_ack(sim.slash_command("check 1.6"));
    REQUIRE(ack);
    CHECK(contains(message_text((*ack)["payload"]), "is done"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "while another process holds the write lock for 5 s and the notifier and scheduler "
    "have work, every command is answered within 3 s and applied once or not at all",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim,
               {{"RELBOT_REMINDER_INTERVAL", "2s"},
                {"RELBOT_ESCALATE_AFTER", "2"},
                {"RELBOT_QUIET_HOURS", "0-0"}});
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(sim.wait_ack(sim.slash_command("start v9", "C0LOCK", "U0BOSS")));
    // Slack answers every post slowly, so the notifier has calls in flight (and rows to mark
    // sent) when the lock is taken; the assignments are due at once, so the scheduler has
    // reminders to write.
    sim.send({{"op", "fail"}, {"method", "chat.postMessage"}, {"delay_ms", 300}, {"times", 60}});
    REQUIRE(sim.wait_event("fail_armed", after(5s)));
    for (int i = 1; i <= 6; ++i) {
        auto text = "assign 1." + std::to_string(i) + " <@U0OWNER> due 1s";
        REQUIRE(sim.wait_ack(sim.slash_command(text, "C0LOCK", "U0BOSS")));
    }
    REQUIRE(sim.wait_event("api_call", after(5s)));

    std::vector<std::pair<std::string, std::string>> notes;  // envelope id, note text
    auto send_note = [&] {
        auto text = "n" + std::to_string(notes.size());
        notes.emplace_back(sim.slash_command("note 1.1 " + text, "C0LOCK", "U0BOSS"), text);
    };
    int answered = 0;
    int try_again = 0;  // notes answered "try again"
    auto answer_of = [&](const std::string& envelope) {
        auto ack = sim.wait_ack(envelope);  // Slack's 3 seconds
        REQUIRE(ack);
        ++answered;
        return message_text((*ack)["payload"]);
    };
    auto note_answered = [&](const std::string& envelope) {
        auto text = answer_of(envelope);
        bool again = contains(text, "try the command again");
        CHECK((again || contains(text, "Noted")));
        try_again += again ? 1 : 0;
    };
    {
        SQLite::Database other(dir.file("relbot.db"), SQLite::OPEN_READWRITE, 5000);
        other.exec("BEGIN IMMEDIATE");
        auto locked_at = std::chrono::steady_clock::now();
        // A burst at once, a read among them, then one command after another until the lock
        // has been held for 5 s.
        for (int i = 0; i < 4; ++i) {
            send_note();
        }
        auto status = sim.slash_command("status", "C0LOCK", "U0OWNER");
        for (const auto& [envelope, text] : notes) {
            note_answered(envelope);
        }
        auto read = answer_of(status);  // the status, or "try again" if its batch waited
        CHECK((contains(read, "v9") || contains(read, "try the command again")));
        while (std::chrono::steady_clock::now() - locked_at < 5s) {
            send_note();
            note_answered(notes.back().first);
        }
        other.exec("ROLLBACK");
    }
    CHECK(answered == static_cast<int>(notes.size()) + 1);
    CHECK(try_again >= 1);  // the lock did keep some out
    // Each note is in the timeline once if its ack said it was noted, and not at all if it
    // said to try again: nothing twice, nothing half.
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    int applied = 0;
    for (const auto& [envelope, text] : notes) {
        SQLite::Statement q(db,
                            "SELECT COUNT(*) FROM audit WHERE action = 'item.noted' AND "
                            "note = :note");
        q.bind(":note", text);
        q.executeStep();
        applied += q.getColumn(0).getInt();
        INFO(text);
        CHECK(q.getColumn(0).getInt() <= 1);
    }
    CHECK(applied == static_cast<int>(notes.size()) - try_again);
    // Free again: a command is applied at once.
    auto after_lock = sim.wait_ack(sim.slash_command("note 1.1 free", "C0LOCK", "U0BOSS"));
    REQUIRE(after_lock);
    CHECK(contains(message_text((*after_lock)["payload"]), "Noted"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE("a burst is applied in the order it came, and a status in it shows the writes before it",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    start_release(sim);
    // Sent back to back, without waiting: they arrive together and are applied in batches.
    std::set<std::string> ids;
    std::string status;
    for (int i = 0; i < 60; ++i) {
        ids.insert(sim.slash_command("note 1.1 order" + std::to_string(i)));
        if (i == 30) {
            ids.insert(sim.slash_command("check 1.1"));
            status = sim.slash_command("status");
            ids.insert(status);
        }
    }
    auto acks = collect_acks(sim, ids, after(20s));
    REQUIRE(acks.size() == ids.size());
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT note FROM audit WHERE action = 'item.noted' ORDER BY id");
    std::vector<std::string> order;
    while (q.executeStep()) {
        order.push_back(q.getColumn(0).getString());
    }
    REQUIRE(order.size() == 60);
    for (int i = 0; i < 60; ++i) {
        CHECK(order[static_cast<std::size_t>(i)] == "order" + std::to_string(i));
    }
    auto ack = std::find_if(sim.events().begin(), sim.events().end(), [&](const json& e) {
        return e.value("event", "") == "ack" && e.value("envelope_id", "") == status;
    });
    REQUIRE(ack != sim.events().end());
    // The status came after the check: 1.1 is shown done (:white_check_mark:).
    CHECK(contains((*ack)["payload"].dump(), "white_check_mark"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "a redelivery inside a burst of commands: the batch is applied again, each command once, the "
    "redelivery answered with the first reply, nothing logged twice",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    start_release(sim);
    // Sent back to back; four of them twice, right behind the first (as Slack does when an
    // ack is late). Their batches are applied without a savepoint per command, so the second
    // copy, which writes before it finds its record, spoils its batch's first try.
    // One more, a check, is sent again just before one of those: its second run writes
    // nothing (the item is done), so it does not spoil the batch itself, but the batch it is in
    // is applied again, and its redelivery must still be logged once.
    std::set<std::string> ids;
    std::vector<std::string> twice;
    for (int i = 0; i < 40; ++i) {
        auto id = "burst-" + std::to_string(i);
        auto text = "note 1.1 burst" + std::to_string(i);
        if (i == 4) {
            sim.slash_command("check 1.4 evidence", "C0E2E", "U0MANAGER",
                              {{"envelope_id", "burst-check"}});
            ids.insert("burst-check");
            twice.push_back("burst-check");
        }
        sim.slash_command(text, "C0E2E", "U0MANAGER", {{"envelope_id", id}});
        ids.insert(id);
        if (i == 5) {
            sim.slash_command("check 1.4 evidence", "C0E2E", "U0MANAGER",
                              {{"envelope_id", "burst-check"}, {"retry_attempt", 1}});
        }
        if (i % 10 == 5) {
            sim.slash_command(text, "C0E2E", "U0MANAGER",
                              {{"envelope_id", id}, {"retry_attempt", 1}});
            twice.push_back(id);
        }
    }
    REQUIRE(collect_acks(sim, ids, after(20s)).size() == ids.size());
    auto acks_of = [&](const std::string& id) {
        std::vector<json> out;
        for (const auto& e : sim.events()) {
            if (e.value("event", "") == "ack" && e.value("envelope_id", "") == id) {
                out.push_back(e["payload"]);
            }
        }
        return out;
    };
    REQUIRE(sim.wait_until(
        [&] {
            return std::all_of(twice.begin(), twice.end(),
                               [&](const std::string& id) { return acks_of(id).size() >= 2; });
        },
        after(10s)));
    for (const auto& id : twice) {
        INFO(id);
        auto acks = acks_of(id);
        REQUIRE(acks.size() == 2);
        CHECK(acks[0] == acks[1]);
        CHECK(contains(message_text(acks[0]), id == "burst-check" ? "is done" : "Noted"));
    }
    CHECK(count_rows(dir, "action = 'item.noted'") == 40);
    CHECK(count_rows(dir, "action = 'item.checked'") == 1);
    CHECK(relbot.stop() == 0);
    int redelivered = 0;
    int applied_again = 0;
    for (const auto& l : relbot.proc().stderr_lines()) {
        redelivered += contains(l, "event=command.redelivered") ? 1 : 0;
        applied_again += contains(l, "event=batch.applied_again") ? 1 : 0;
    }
    CHECK(redelivered == 5);
    CHECK(applied_again >= 1);
}

}  // namespace e2e_connection_test
