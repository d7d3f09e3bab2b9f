// End-to-end: what relbot says in Slack arrives once, in order, at Slack's pace, through
// 429s, 5xx, permanent errors and crashes of relbot itself; and the channel stays quiet.
#include <SQLiteCpp/Database.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/sandbox.hpp"

namespace e2e_delivery_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

bool posted_ok(const json& e) {
    return e.value("event", "") == "api_call" && e.value("method", "") == "chat.postMessage" &&
           e["response"].value("ok", false);
}

// Waits until the sandbox has accepted `n` more chat.postMessage calls.
void wait_posts(sandbox& sim, int n, std::chrono::milliseconds within) {
    auto until = after(within);
    for (int i = 0; i < n; ++i) {
        REQUIRE(sim.wait_for(posted_ok, until));
    }
}

std::string say(sandbox& sim,
                const std::string& text,
                const std::string& channel,
                const std::string& user = "U0MANAGER") {
    auto ack = sim.wait_ack(sim.slash_command(text, channel, user));
    REQUIRE(ack);
    return message_text((*ack)["payload"]);
}

}  // namespace

TEST_CASE("a 429 storm and a run of 500s: every message arrives once and in order per channel",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    sim.send({{"op", "fail"},
              {"method", "chat.postMessage"},
              {"status", 429},
              {"retry_after", 1},
              {"times", 4}});
    sim.send({{"op", "fail"}, {"method", "chat.postMessage"}, {"status", 500}, {"times", 4}});
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));

    const std::vector<std::string> channels = {"C0ONE", "C0TWO", "C0THREE"};
    for (const auto& c : channels) {
        CHECK(contains(say(sim, "start v1-" + c, c), "Started release"));
        say(sim, "block 1.2 waiting on " + c, c);
        say(sim, "rollback bad canary in " + c, c);
        say(sim, "next force skipping ahead", c);
    }
    // Per channel: started, status, blocked, rollback, phase entered.
    wait_posts(sim, 15, 30s);

    std::map<std::string, std::vector<std::string>> delivered;  // channel -> keys in order
    std::map<std::string, int> times;
    for (const auto& call : sim.calls("chat.postMessage")) {
        if (call["response"].value("ok", false)) {
            delivered[call["args"]["channel"].get<std::string>()].push_back(outbox_key(call));
            ++times[outbox_key(call)];
        }
    }
    for (const auto& [key, n] : times) {
        INFO(key);
        CHECK(n == 1);
    }
    for (const auto& c : channels) {
        INFO(c);
        const auto& keys = delivered[c];
        REQUIRE(keys.size() == 5);
        CHECK(keys[0].starts_with("release-started:"));
        CHECK(keys[1].starts_with("status:"));
        CHECK(keys[2].starts_with("item-blocked:"));
        CHECK(keys[3].starts_with("rollback:"));
        CHECK(keys[4].starts_with("phase-entered:"));
    }
    // The faults really happened.
    int refused = 0;
    for (const auto& call : sim.calls("chat.postMessage")) {
        refused += call["status"] != 200 ? 1 : 0;
    }
    CHECK(refused >= 8);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("not_in_channel reaches the release manager by DM and does not hold up other channels",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    sim.send({{"op", "fail"},
              {"method", "chat.postMessage"},
              {"error", "not_in_channel"},
              {"channel", "C0BAD"},
              {"times", 10}});
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));

    say(sim, "start v1", "C0BAD", "U0BADMGR");
    say(sim, "start v2", "C0GOOD", "U0GOODMGR");
    auto dm = sim.wait_for(
        [](const json& e) { return posted_ok(e) && e["args"].value("channel", "") == "D0BADMGR"; },
        after(10s));
    REQUIRE(dm);
    auto text = message_text((*dm)["args"]);
    CHECK(contains(text, "not_in_channel"));
    CHECK(contains(text, "/invite @relbot"));
    CHECK(contains(text, "<#C0BAD>"));
    auto opened = sim.calls("conversations.open");
    REQUIRE_FALSE(opened.empty());
    CHECK(opened[0]["args"]["users"] == "U0BADMGR");

    // The other channel got its announcement and its status message all the same.
    for (int i = 0; i < 2; ++i) {
        CHECK(sim.wait_for(
            [](const json& e) {
                return posted_ok(e) && e["args"].value("channel", "") == "C0GOOD";
            },
            after(10s)));
    }
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "killed 20 times with SIGKILL: every acknowledged command is in effect and every message was "
    "seen once",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    std::mt19937 rng(20261126);
    std::set<std::string> acked_reasons;
    {
        bot first(dir, sim);
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        for (int c = 0; c < 4; ++c) {
            say(sim, "start v9", "C0CRASH" + std::to_string(c));
        }
        REQUIRE(first.stop() == 0);
    }
    int command = 0;
    for (int round = 0; round < 20; ++round) {
        INFO("round " << round);
        bot relbot(dir, sim);
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        std::map<std::string, std::string> reason_of;
        for (int i = 0; i < 3; ++i, ++command) {
            // Each block is announced; each unblock lets the next block announce again. Four
            // channels, because each is paced at about one message a second.
            auto channel = "C0CRASH" + std::to_string(command % 4);
            auto item = "1." + std::to_string(command % 9 + 1);
            auto reason = "r" + std::to_string(command);
            reason_of[sim.slash_command("block " + item + " " + reason, channel)] = reason;
            sim.slash_command("unblock " + item, channel);
        }
        // Kill after a random number of acknowledgements (sometimes none).
        int wait_for = static_cast<int>(rng() % 8);
        for (int a = 0; a < wait_for; ++a) {
            auto ack = sim.wait_for([](const json& e) { return e.value("event", "") == "ack"; },
                                    after(3s));
            if (!ack) {
                break;
            }
            if (auto r = reason_of.find((*ack)["envelope_id"].get<std::string>());
                r != reason_of.end()) {
                acked_reasons.insert(r->second);
            }
        }
        relbot.proc().signal(SIGKILL);
        REQUIRE(relbot.proc().wait_exit(after(5s)));
        // Acks that made it out before the kill count too.
        for (const auto& e : sim.events()) {
            if (e.value("event", "") == "ack") {
                if (auto r = reason_of.find(e["envelope_id"].get<std::string>());
                    r != reason_of.end()) {
                    acked_reasons.insert(r->second);
                }
            }
        }
    }
    // A last, calm run delivers whatever is left.
    bot last(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    std::set<std::string> keys;
    {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT dedupe_key FROM outbox WHERE method = 'chat.postMessage'");
        while (q.executeStep()) {
            keys.insert(q.getColumn(0).getString());
        }
    }
    // Wait until the sandbox has seen every queued message at least once.
    auto until = after(60s);
    std::map<std::string, int> seen;
    auto count_seen = [&] {
        seen.clear();
        for (const auto& call : sim.calls("chat.postMessage")) {
            if (call["response"].value("ok", false)) {
                ++seen[outbox_key(call)];
            }
        }
        return std::all_of(keys.begin(), keys.end(),
                           [&](const std::string& k) { return seen[k] >= 1; });
    };
    while (!count_seen()) {
        if (!sim.wait_for(posted_ok, until)) {
            SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
            SQLite::Statement q(
                db,
                "SELECT dedupe_key, state, attempts, error, not_before FROM outbox WHERE method = "
                "'chat.postMessage' AND state <> 'sent'");
            while (q.executeStep()) {
                UNSCOPED_INFO(q.getColumn(0).getString()
                              << " " << q.getColumn(1).getString() << " attempts="
                              << q.getColumn(2).getInt() << " error=" << q.getColumn(3).getString()
                              << " seen=" << seen[q.getColumn(0).getString()]);
            }
            for (const auto& l : last.proc().stderr_lines()) {
                if (contains(l, "outbox") || contains(l, "level=error") ||
                    contains(l, "level=warn")) {
                    UNSCOPED_INFO(l);
                }
            }
            FAIL("not every queued message reached the sandbox");
        }
    }
    for (const auto& k : keys) {
        INFO(k);
        CHECK(seen[k] == 1);
    }
    CHECK(last.stop() == 0);
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    for (const auto& reason : acked_reasons) {
        SQLite::Statement q(
            db, "SELECT COUNT(*) FROM audit WHERE action = 'item.blocked' AND note = :note");
        q.bind(":note", reason);
        q.executeStep();
        INFO(reason);
        CHECK(q.getColumn(0).getInt() == 1);
    }
    CHECK(acked_reasons.size() >= 5);
    CHECK(db.execAndGet(
                "SELECT COUNT(*) FROM outbox WHERE state <> 'sent' AND method = 'chat.postMessage'")
              .getInt() == 0);
}

TEST_CASE(
    "40 check-marks in 10 s fold into a few status updates and no channel posts, and a deleted "
    "status message is posted again",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    say(sim, "start v5", "C0QUIET");
    wait_posts(sim, 2, 10s);  // the announcement and the status message
    json status_post;
    for (const auto& call : sim.calls("chat.postMessage")) {
        if (outbox_key(call).starts_with("status:")) {
            status_post = call;
        }
    }
    REQUIRE_FALSE(status_post.is_null());
    REQUIRE(
        sim.wait_for([](const json& e) { return e.value("method", "") == "pins.add"; }, after(5s)));
    auto updates_before = sim.calls("chat.update").size();

    // The load under test: four check-marks a second for ten seconds, as people click.
    std::vector<std::string> ops;
    for (int round = 0; round < 4; ++round) {
        for (int i = 1; i <= 9; ++i) {
            ops.push_back((round % 2 == 0 ? "check 1." : "uncheck 1.") + std::to_string(i));
        }
    }
    for (int i = 1; i <= 4; ++i) {
        ops.push_back("check 1." + std::to_string(i));
    }
    auto next = std::chrono::steady_clock::now();
    for (const auto& op : ops) {
        std::this_thread::sleep_until(next);  // pacing the input, not waiting for a result
        next += 250ms;
        say(sim, op, "C0QUIET");
    }
    // The last state reaches the status message.
    auto final_update = sim.wait_for(
        [](const json& e) {
            return e.value("method", "") == "chat.update" &&
                   contains(message_text(e["args"]), "Pre-Release Checks — 4/9");
        },
        after(10s));
    REQUIRE(final_update);
    auto updates = sim.calls("chat.update").size() - updates_before;
    CHECK(updates >= 2);
    CHECK(updates <= 7);
    CHECK(sim.announcements().size() == 1);  // only the release-started announcement

    // Slack loses the message: the next change posts it again and keeps the new ts.
    sim.send(
        {{"op", "delete_message"}, {"channel", "C0QUIET"}, {"ts", status_post["response"]["ts"]}});
    REQUIRE(sim.wait_event("message_deleted", after(5s)));
    say(sim, "check 1.5", "C0QUIET");
    auto repost = sim.wait_for(
        [](const json& e) { return posted_ok(e) && outbox_key(e).starts_with("status-repost:"); },
        after(10s));
    REQUIRE(repost);
    CHECK((*repost)["response"]["ts"] != status_post["response"]["ts"]);
    say(sim, "check 1.6", "C0QUIET");
    auto after_repost = sim.wait_for(
        [&](const json& e) {
            return e.value("method", "") == "chat.update" && e["response"].value("ok", false) &&
                   e["args"]["ts"] == (*repost)["response"]["ts"];
        },
        after(10s));
    CHECK(after_repost);

    // The release ends: its message says so, then gives up its pin (a channel keeps 100), so
    // the channel's pins are the releases under way.
    say(sim, "finish force done for today", "C0QUIET");
    auto unpinned = sim.wait_for(
        [&](const json& e) {
            return e.value("method", "") == "pins.remove" &&
                   e["args"].value("timestamp", "") == (*repost)["response"]["ts"];
        },
        after(10s));
    REQUIRE(unpinned);
    CHECK((*unpinned)["response"].value("ok", false));
    auto finished = sim.calls("chat.update");
    REQUIRE_FALSE(finished.empty());
    CHECK(contains(message_text(finished.back()["args"]), "inished"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "after a start, the living status message is brought up to date, and posted again with its "
    "buttons where it is gone (a sandbox started afresh on its old database)",
    "[e2e]") {
    temp_dir dir;
    {
        sandbox sim(dir);
        bot relbot(dir, sim);
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        say(sim, "start v6", "C0AGAIN");
        REQUIRE(sim.wait_for([](const json& e) { return e.value("method", "") == "pins.add"; },
                             after(10s)));
        CHECK(relbot.stop() == 0);
    }
    // A Slack that has never seen the message (as a sandbox remembers nothing of a run before).
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    auto reposted = sim.wait_for(
        [](const json& e) { return posted_ok(e) && outbox_key(e).starts_with("status-repost:"); },
        after(15s));
    REQUIRE(reposted);
    CHECK(contains(message_text((*reposted)["args"]), "v6"));
    // Its buttons are there again (click throws when the sandbox has no such control), and
    // work: Next phase, with the gate closed, opens the manager's "move on anyway" form.
    REQUIRE(sim.wait_ack(sim.click("U0MANAGER", "Next phase", {{"channel_id", "C0AGAIN"}})));
    CHECK(sim.wait_modal("U0MANAGER"));
    CHECK(relbot.stop() == 0);
}

}  // namespace e2e_delivery_test
