// Several relbot processes on one PostgreSQL database (contract: "Several instances"), as an
// operator runs them: three real binaries, one socket each, and relbot-sim spreading envelopes
// over all the sockets it has, round robin. What they promise together is what one process
// promises: every acked command is in effect, a redelivery to another instance is answered
// with the first reply and applied once, and every message is posted once, in order per
// channel, across SIGKILLs of two of them.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "storage/pg_database.hpp"
#include "support/http_probe.hpp"
#include "support/sandbox.hpp"

namespace e2e_instances_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> channels = {"C0MULTI0", "C0MULTI1", "C0MULTI2"};

struct instances {
    sandbox& sim;
    std::map<std::string, std::string> env;
    std::vector<std::unique_ptr<temp_dir>> dirs = {};
    std::vector<std::unique_ptr<bot>> bots = {};
    std::vector<int> connection = {};  // each instance's socket, as the sandbox numbers them
    std::vector<int> health = {};      // each instance's health endpoint (RELBOT_HEALTH_ADDR)

    // Starts instance `i` (again) and waits for its socket's hello.
    void start(std::size_t i) {
        while (dirs.size() <= i) {
            dirs.push_back(std::make_unique<temp_dir>());
            bots.emplace_back();
            connection.push_back(-1);
            health.push_back(-1);
        }
        bots[i] = std::make_unique<bot>(*dirs[i], sim, env);
        health[i] = health_port(*bots[i]);
        auto hello = sim.wait_event("hello_sent", after(20s));
        if (!hello) {
            for (const auto& line : bots[i]->proc().stderr_lines()) {
                UNSCOPED_INFO(line);
            }
        }
        REQUIRE(hello);
        connection[i] = (*hello)["connection"].get<int>();
    }

    // SIGKILL, and the sandbox has seen its socket close (so nothing more is spread onto it).
    void kill(std::size_t i) {
        bots[i]->proc().signal(SIGKILL);
        REQUIRE(bots[i]->proc().wait_exit(after(5s)));
        auto id = connection[i];
        REQUIRE(sim.wait_for(
            [id](const json& e) {
                return e.value("event", "") == "ws_closed" && e.value("connection", -1) == id;
            },
            after(10s)));
    }
};

long long count(relbot::storage::postgres::connection& db, const std::string& sql) {
    return db.exec(sql).integer(0, 0);
}

const std::string home_owner = "U0HOMEOWNER";

// Two instances on `database` behind the sandbox's round robin, and a release `version` in
// `channel` whose item 1.2 (Security Scan) is home_owner's.
instances two_with_home_owner(sandbox& sim,
                              const pg_database& database,
                              const std::string& version,
                              const std::string& channel) {
    sim.send({{"op", "spread"}, {"on", true}});
    instances all{sim,
                  {{"RELBOT_DATABASE_URL", database.url()},
                   {"RELBOT_CONNECTIONS", "1"},
                   {"RELBOT_HEALTH_ADDR", "127.0.0.1:0"}}};
    all.start(0);
    all.start(1);
    REQUIRE(sim.wait_ack(sim.slash_command("start " + version, channel)));
    REQUIRE(sim.wait_ack(sim.slash_command("assign 1.2 <@" + home_owner + "|olive>", channel)));
    return all;
}

// How many Home views published to home_owner showed (or did not show) their item.
int home_publishes(sandbox& sim, bool with_item) {
    int n = 0;
    for (const auto& c : sim.calls("views.publish")) {
        if (c["args"].value("user_id", "") == home_owner &&
            contains(c["args"]["view"].dump(), "Security Scan") == with_item) {
            ++n;
        }
    }
    return n;
}

}  // namespace

TEST_CASE(
    "three instances on one PostgreSQL database serve one app: commands spread over all, a "
    "redelivery to another instance applied once, two of them killed, every message posted once "
    "and in order",
    "[e2e][postgres]") {
    pg_database database;
    temp_dir dir;
    sandbox sim(dir);
    sim.send({{"op", "spread"}, {"on", true}});
    instances all{sim,
                  {{"RELBOT_DATABASE_URL", database.url()},
                   {"RELBOT_CONNECTIONS", "1"},
                   {"RELBOT_HEALTH_ADDR", "127.0.0.1:0"}}};
    for (std::size_t i = 0; i < 3; ++i) {
        all.start(i);
    }

    // Every command is answered within Slack's deadline by whichever instance gets it.
    for (const auto& c : channels) {
        auto ack = sim.wait_ack(sim.slash_command("start v5.0", c));
        REQUIRE(ack);
        CHECK(contains(message_text((*ack)["payload"]), "v5.0"));
    }

    // A redelivery to another instance gets the first reply and changes nothing more.
    auto first_id = sim.slash_command("note 1.1 noted once", channels[0], "U0MANAGER",
                                      {{"connection", all.connection[0]}});
    auto first = sim.wait_ack(first_id);
    REQUIRE(first);
    sim.slash_command("note 1.1 noted once", channels[0], "U0MANAGER",
                      {{"envelope_id", first_id},
                       {"retry_attempt", 1},
                       {"retry_reason", "timeout"},
                       {"connection", all.connection[1]}});
    auto again = sim.wait_ack(first_id);
    REQUIRE(again);
    CHECK((*again)["payload"] == (*first)["payload"]);

    // A stream of block/unblock pairs over the three channels (each block is announced),
    // with instances killed in the middle of it. Only what was acked is owed.
    std::set<std::string> acked_reasons;
    std::map<std::string, std::string> reason_of;  // by envelope id
    int command = 0;
    auto stream = [&](int pairs) {
        std::vector<std::string> sent;
        for (int p = 0; p < pairs; ++p, ++command) {
            const auto& channel = channels[static_cast<std::size_t>(command) % channels.size()];
            auto item = "1." + std::to_string(command % 6 + 2);
            auto reason = "reason-" + std::to_string(command);
            auto id = sim.slash_command("block " + item + " " + reason, channel);
            reason_of[id] = reason;
            sent.push_back(id);
            sent.push_back(sim.slash_command("unblock " + item, channel));
        }
        return sent;
    };
    // A block whose ack says it was applied (a block of an item still blocked, because its
    // unblock went to an instance as it was killed and was never acked, is refused instead).
    auto collect_acks = [&] {
        for (const auto& e : sim.events()) {
            if (e.value("event", "") == "ack" && e.contains("payload")) {
                auto r = reason_of.find(e.value("envelope_id", ""));
                if (r != reason_of.end() &&
                    contains(message_text(e["payload"]), "is blocked; I've told the channel")) {
                    acked_reasons.insert(r->second);
                }
            }
        }
    };
    // Answered within the deadline (acked "try again" while a killed instance's locks are
    // still held, or applied); if not, what each instance logged goes with the failure.
    auto answered = [&](const std::string& id) {
        INFO(id);
        bool acked = sim.wait_ack(id).has_value();
        if (!acked) {
            for (std::size_t b = 0; b < all.bots.size(); ++b) {
                for (const auto& line : all.bots[b]->proc().stderr_lines()) {
                    UNSCOPED_INFO("instance " << b << ": " << line);
                }
            }
        }
        CHECK(acked);
    };
    // Instance 0 dies right after its share of a burst went out (some of it perhaps unacked).
    stream(6);
    all.kill(0);
    // The survivors answer everything sent after the kill, within the deadline, even while
    // the killed instance's transaction still holds its locks: a batch stuck behind one
    // waits until its first command's deadline, not a lock timeout per command.
    for (const auto& id : stream(6)) {
        answered(id);
    }
    all.kill(1);
    for (const auto& id : stream(3)) {
        answered(id);
    }
    // Both come back and rejoin.
    all.start(0);
    all.start(1);
    for (const auto& id : stream(6)) {
        answered(id);
    }
    collect_acks();
    REQUIRE(acked_reasons.size() >= 10);

    relbot::storage::postgres::connection db(database.url());
    // Every acked block is in effect (audited with its reason), and the note was applied once.
    for (const auto& reason : acked_reasons) {
        INFO(reason);
        CHECK(db.exec("SELECT COUNT(*) FROM audit WHERE action = 'item.blocked' AND note = $1",
                      {reason})
                  .integer(0, 0) == 1);
    }
    CHECK(count(db, "SELECT COUNT(*) FROM audit WHERE note = 'noted once'") == 1);

    // Every message the three owe reaches the sandbox (the database says which they owe: no
    // more are queued once every command is answered).
    std::set<std::string> owed;
    {
        auto rows = db.exec("SELECT dedupe_key FROM outbox WHERE method = 'chat.postMessage'");
        for (int r = 0; r < rows.rows(); ++r) {
            owed.insert(rows.text(r, 0));
        }
    }
    auto posted_ok = [](const json& e) {
        return e.value("event", "") == "api_call" && e.value("method", "") == "chat.postMessage" &&
               e["response"].value("ok", false);
    };
    auto all_seen = [&] {
        std::set<std::string> seen;
        for (const auto& e : sim.events()) {
            if (posted_ok(e)) {
                seen.insert(outbox_key(e));
            }
        }
        return std::includes(seen.begin(), seen.end(), owed.begin(), owed.end());
    };
    auto until = after(60s);
    while (!all_seen() && sim.wait_for(posted_ok, until)) {
    }
    REQUIRE(all_seen());

    // Each message once, and each channel's in the order their changes were committed.
    std::map<std::string, int> times;
    std::map<std::string, std::vector<std::string>> posted;  // by channel, in posting order
    for (const auto& call : sim.calls("chat.postMessage")) {
        if (!call["response"].value("ok", false)) {
            continue;
        }
        auto key = outbox_key(call);
        if (key.empty() || times[key]++ > 0) {
            continue;
        }
        posted[call["args"]["channel"].get<std::string>()].push_back(key);
    }
    for (const auto& [key, n] : times) {
        INFO(key);
        CHECK(n == 1);
    }
    for (const auto& channel : channels) {
        INFO(channel);
        auto rows = db.exec(
            "SELECT dedupe_key FROM outbox WHERE channel_id = $1 AND method = "
            "'chat.postMessage' ORDER BY id",
            {channel});
        std::vector<std::string> committed;
        for (int r = 0; r < rows.rows(); ++r) {
            committed.push_back(rows.text(r, 0));
        }
        CHECK(posted[channel] == committed);
        // The living status message was posted once, never again (updated in place).
        int status_posts = 0;
        for (const auto& key : posted[channel]) {
            status_posts += key.rfind("status", 0) == 0 ? 1 : 0;
        }
        CHECK(status_posts == 1);
    }
    CHECK_FALSE(sim.calls("chat.update").empty());

    // Each instance reports its own view of the shared database (never its password), and
    // what it claimed through it.
    std::set<std::string> names;
    double claimed = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        auto h = http_get(all.health[i], "/healthz");
        CHECK(h.status == 200);
        CHECK_FALSE(contains(h.body, database.url()));
        auto j = json::parse(h.body);
        CHECK(j["database"]["engine"] == "postgresql");
        CHECK(contains(j["database"]["name"].get<std::string>(), "PostgreSQL relbot@127.0.0.1:"));
        CHECK(j["database"].contains("clock_offset_ms"));
        names.insert(j["database"]["instance"].get<std::string>());
        claimed += sample(http_get(all.health[i], "/metrics").body,
                          "relbot_claims_total{kind=\"outbox\",result=\"claimed\"}");
    }
    CHECK(names.size() == 3);
    CHECK(claimed > 0);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(all.bots[i]->stop() == 0);
    }
}

TEST_CASE(
    "three instances on one PostgreSQL database send each reminder slot and each checkpoint "
    "once, also when one of them is killed",
    "[e2e][postgres]") {
    pg_database database;
    temp_dir dir;
    sandbox sim(dir);
    sim.send({{"op", "spread"}, {"on", true}});
    instances all{sim,
                  {{"RELBOT_DATABASE_URL", database.url()},
                   {"RELBOT_CONNECTIONS", "1"},
                   {"RELBOT_HEALTH_ADDR", "127.0.0.1:0"},
                   {"RELBOT_REMINDER_INTERVAL", "2s"},
                   {"RELBOT_ESCALATE_AFTER", "100"},
                   {"RELBOT_QUIET_HOURS", "0-0"},
                   {"RELBOT_CHECKPOINTS", "1s,3s,1d"}}};
    for (std::size_t i = 0; i < 3; ++i) {
        all.start(i);
    }
    const std::string channel = "C0TIMED";
    REQUIRE(sim.wait_ack(sim.slash_command("start v9.0", channel, "U0BOSS")));
    REQUIRE(sim.wait_ack(sim.slash_command("assign 1.1 <@U0OWNER> due 1s", channel, "U0BOSS")));
    auto reminder = [](const json& e) {
        return e.value("event", "") == "api_call" && e.value("method", "") == "chat.postMessage" &&
               e["response"].value("ok", false) && outbox_key(e).starts_with("reminder:");
    };
    REQUIRE(sim.wait_for(reminder, after(15s)));
    // The instance that sent it may be the one killed; the others go on with the next slots.
    all.kill(0);
    REQUIRE(sim.wait_for(reminder, after(15s)));
    REQUIRE(sim.wait_for(reminder, after(15s)));

    // Out of the first two phases by force: the checkpoints at +1 s and +3 s fall due.
    for (const char* next : {"next force rehearsal", "next force rehearsal"}) {
        auto ack = sim.wait_ack(sim.slash_command(next, channel, "U0BOSS"));
        REQUIRE(ack);
    }
    auto checkpoint_post = [&](int n) {
        auto key = "checkpoint:";
        return [key, n, channel](const json& e) {
            if (e.value("event", "") != "api_call" || e.value("method", "") != "chat.postMessage" ||
                !e["response"].value("ok", false) || e["args"].value("channel", "") != channel) {
                return false;
            }
            auto k = outbox_key(e);
            return k.starts_with(key) && k.ends_with(":" + std::to_string(n));
        };
    };
    REQUIRE(sim.wait_for(checkpoint_post(1), after(20s)));
    REQUIRE(sim.wait_for(checkpoint_post(2), after(20s)));
    REQUIRE(sim.wait_ack(sim.slash_command("check 1.1", channel, "U0OWNER")));

    // Give the survivors two more reminder intervals to do anything twice, then look: by then
    // any instance that would send a slot again would have (each looks every second).
    sim.wait_for([](const json&) { return false; }, after(4500ms));
    std::map<std::string, int> times;
    std::set<std::pair<std::int64_t, std::int64_t>> slots;  // (due time, slot) reminded
    for (const auto& call : sim.calls("chat.postMessage")) {
        if (call["response"].value("ok", false)) {
            ++times[outbox_key(call)];
        }
    }
    int reminders = 0;
    int checkpoints = 0;
    for (const auto& [key, n] : times) {
        INFO(key);
        CHECK(n == 1);
        reminders += key.starts_with("reminder:") ? 1 : 0;
        checkpoints +=
            key.starts_with("checkpoint:") && key.find(":U") == std::string::npos ? 1 : 0;
    }
    CHECK(reminders >= 3);
    CHECK(checkpoints == 2);  // +1 s and +3 s in the channel; +1 d not yet
    relbot::storage::postgres::connection db(database.url());
    CHECK(db.exec("SELECT COUNT(*) FROM reminders").integer(0, 0) == reminders);
    CHECK(db.exec("SELECT COUNT(*) FROM checkpoints WHERE posted_at IS NOT NULL").integer(0, 0) ==
          2);
    for (std::size_t i = 1; i < 3; ++i) {
        CHECK(all.bots[i]->stop() == 0);
    }
}

TEST_CASE("two instances following one person's App Home publish each new view of it once",
          "[e2e][postgres]") {
    pg_database database;
    temp_dir dir;
    sandbox sim(dir);
    auto all = two_with_home_owner(sim, database, "v6.0", channels[0]);
    const auto& owner = home_owner;
    auto publishes = [&](bool with_item) { return home_publishes(sim, with_item); };
    auto home_claims = [&] {
        double n = 0;
        for (std::size_t i = 0; i < 2; ++i) {
            auto page = http_get(all.health[i], "/metrics").body;
            n += sample(page, "relbot_claims_total{kind=\"home\",result=\"claimed\"}") +
                 sample(page, "relbot_claims_total{kind=\"home\",result=\"lost\"}");
        }
        return n;
    };
    // Opened twice: round robin hands one to each instance, and both follow the person (an
    // open is always published).
    sim.home_opened(owner);
    sim.home_opened(owner);
    REQUIRE(sim.wait_until([&] { return publishes(true) >= 2; }, after(15s)));
    auto before = home_claims();

    // The owner's item is done: both instances see the change (the one that applied it at
    // once, the other when it looks at the database, every second), both render the same new
    // view and claim it; one of them publishes it.
    REQUIRE(sim.wait_ack(sim.slash_command("check 1.2", channels[0])));
    // (The losing claim makes no call to Slack: its instance's metrics are asked until then.)
    auto until = after(20s);
    while (home_claims() < before + 2 && std::chrono::steady_clock::now() < until) {
        std::this_thread::yield();
    }
    REQUIRE(home_claims() >= before + 2);
    CHECK(publishes(false) == 1);
    CHECK(contains(sim.home_view(owner).dump(), "v6.0"));
    CHECK_FALSE(contains(sim.home_view(owner).dump(), "Security Scan"));
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(all.bots[i]->stop() == 0);
    }
}

TEST_CASE(
    "a person's App Home is followed on by the other instance when the one that got their open "
    "is killed",
    "[e2e][postgres]") {
    pg_database database;
    temp_dir dir;
    sandbox sim(dir);
    auto all = two_with_home_owner(sim, database, "v6.1", channels[1]);
    const auto& owner = home_owner;
    auto published = [&](bool with_item) { return home_publishes(sim, with_item) > 0; };
    // Opened once: one instance gets it (on its socket) and publishes.
    auto envelope = sim.home_opened(owner);
    auto sent = sim.wait_for(
        [&](const json& e) {
            return e.value("event", "") == "envelope_sent" &&
                   e.value("envelope_id", "") == envelope;
        },
        after(5s));
    REQUIRE(sent);
    auto on = std::find(all.connection.begin(), all.connection.end(), (*sent)["connection"]);
    REQUIRE(on != all.connection.end());
    auto got_it = static_cast<std::size_t>(on - all.connection.begin());
    REQUIRE(sim.wait_until([&] { return published(true); }, after(15s)));
    all.kill(got_it);

    // The owner's item changes through the other instance, which never saw the open: it
    // follows them from the database and publishes the new view.
    REQUIRE(sim.wait_ack(sim.slash_command("check 1.2", channels[1])));
    CHECK(sim.wait_until([&] { return published(false); }, after(15s)));
    CHECK_FALSE(contains(sim.home_view(owner).dump(), "Security Scan"));
    CHECK(all.bots[1 - got_it]->stop() == 0);
}

}  // namespace e2e_instances_test
