// The promises of storage/ports.hpp, checked through the port interfaces of an engine built
// by storage::open: claim order and leases, one redelivery record per key, and a unit of work
// that rolls back everything. Each runs on both engines (a SQLite file, and a database in the
// PostgreSQL test cluster: engines.hpp) with the same code; only the SQLite file's own
// migrations are SQLite's alone.
#include "storage/ports.hpp"

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "checklist/template.hpp"
#include "engines.hpp"
#include "storage/open.hpp"
#include "storage/sqlite/database.hpp"
#include "support/releases.hpp"
#include "temp_db.hpp"

namespace storage_ports_test {

using namespace relbot;
using relbot::test::temp_db;

namespace {

std::unique_ptr<storage::engine> open_engine(const temp_db& db) {
    return storage::open({db.path()});
}

storage::outbound_message message(const std::string& key, const std::string& channel) {
    return {key,
            std::nullopt,
            checklist::destination::channel(channel),
            "chat.postMessage",
            R"({"text":")" + key + "\"}",
            checklist::message_kind::announcement};
}

std::vector<std::string> keys(const std::vector<storage::outbox_row>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) {
        out.push_back(r.dedupe_key);
    }
    return out;
}

}  // namespace

TEST_CASE("claim takes each channel's oldest due row under a lease, one per channel at a time",
          "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    q.enqueue(message("a1", "C1"), 10);
    q.enqueue(message("a2", "C1"), 11);
    q.enqueue(message("b1", "C2"), 12);
    q.enqueue(message("a3", "C1"), 13);

    auto first = q.claim(100, 30, "one", 10);
    CHECK(keys(first) == std::vector<std::string>{"a1", "b1"});
    for (const auto& r : first) {
        CHECK(r.state == storage::outbox_state::sending);
        CHECK(r.lease_until == 130);
        CHECK(r.claimed_by == "one");
        CHECK_FALSE(r.unfinished);
    }
    SECTION("while the leases live, nothing more of those channels is handed out") {
        CHECK(q.claim(101, 30, "one", 10).empty());
        CHECK(q.claim(129, 30, "two", 10).empty());
    }
    SECTION("once a row is sent, the next of its channel comes; the other channel waits") {
        q.mark_sent(first[0].id, "one", "1.1", 101);
        CHECK(keys(q.claim(102, 30, "one", 10)) == std::vector<std::string>{"a2"});
        CHECK(q.claim(103, 30, "one", 10).empty());
    }
    SECTION("a failed row also lets the next one go") {
        q.mark_failed(first[0].id, "one", "channel_not_found");
        CHECK(keys(q.claim(102, 30, "one", 10)) == std::vector<std::string>{"a2"});
    }
    SECTION("a deferred row stays its channel's head: nothing behind it goes before it is due") {
        q.defer(first[0].id, "one", 200, "ratelimited");
        q.mark_sent(first[1].id, "one", "1.2", 101);
        q.enqueue(message("b2", "C2"), 102);
        auto b2 = q.claim(150, 30, "one", 10);
        REQUIRE(keys(b2) == std::vector<std::string>{"b2"});
        q.mark_sent(b2[0].id, "one", "1.3", 151);
        auto again = q.claim(200, 30, "one", 10);
        REQUIRE(keys(again) == std::vector<std::string>{"a1"});
        CHECK(again[0].attempts == 1);  // the deferral counted the attempt
        CHECK(again[0].error == "ratelimited");
        CHECK_FALSE(again[0].unfinished);
    }
    SECTION("the limit bounds how many rows one claim takes, oldest first") {
        q.mark_sent(first[0].id, "one", "1.1", 101);
        q.mark_sent(first[1].id, "one", "1.2", 101);
        q.enqueue(message("c1", "C3"), 102);
        CHECK(keys(q.claim(102, 30, "one", 1)) == std::vector<std::string>{"a2"});
        CHECK(keys(q.claim(102, 30, "one", 1)) == std::vector<std::string>{"c1"});
    }
}

TEST_CASE("a row whose lease ran out is claimed again and flagged unfinished", "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    q.enqueue(message("a1", "C1"), 10);
    REQUIRE(q.claim(100, 30, "one", 10).size() == 1);
    CHECK(q.claim(129, 30, "two", 10).empty());

    auto again = q.claim(130, 30, "two", 10);
    REQUIRE(again.size() == 1);
    CHECK(again[0].dedupe_key == "a1");
    CHECK(again[0].unfinished);
    CHECK(again[0].claimed_by == "two");
    CHECK(again[0].lease_until == 160);
    CHECK(q.claim(131, 30, "one", 10).empty());  // the new lease holds

    SECTION("the earlier claimer, whose lease ran out, can no longer end the row") {
        CHECK_FALSE(q.mark_sent(again[0].id, "one", "1.1", 131));
        CHECK_FALSE(q.defer(again[0].id, "one", 500, "ratelimited"));
        CHECK_FALSE(q.mark_failed(again[0].id, "one", "channel_not_found"));
        CHECK_FALSE(q.release(again[0].id, "one"));
        CHECK(q.mark_sent(again[0].id, "two", "1.1", 131));
    }
}

TEST_CASE("a claimer's stale end changes nothing: the row stays as its new claimer holds it",
          "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    q.enqueue(message("a1", "C1"), 10);
    q.enqueue(message("a2", "C1"), 11);
    auto first = q.claim(100, 30, "one", 10);
    REQUIRE(first.size() == 1);
    auto held = q.claim(130, 30, "two", 10);  // one's lease ran out
    REQUIRE(held.size() == 1);

    CHECK_FALSE(q.mark_sent(first[0].id, "one", "9.9", 131));
    CHECK(q.claim(132, 30, "three", 10).empty());  // a2 still waits behind two's lease
    auto later = q.claim(160, 30, "three", 10);    // two's lease ran out too
    REQUIRE(keys(later) == std::vector<std::string>{"a1"});
    CHECK(later[0].unfinished);
    CHECK(later[0].ts.empty());
    CHECK(later[0].attempts == 0);
    CHECK(q.count_outbox(storage::outbox_state::pending) == 2);
}

TEST_CASE("defer, mark_sent and mark_failed each count the attempt they end, release does not",
          "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    q.enqueue(message("a1", "C1"), 10);
    auto taken = q.claim(100, 30, "one", 10);
    REQUIRE(taken.size() == 1);
    REQUIRE(q.release(taken[0].id, "one"));
    taken = q.claim(100, 30, "one", 10);
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].attempts == 0);
    CHECK_FALSE(taken[0].unfinished);  // given back untried
    REQUIRE(q.defer(taken[0].id, "one", 100, "internal_error"));
    taken = q.claim(100, 30, "one", 10);
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].attempts == 1);
    REQUIRE(q.defer(taken[0].id, "one", 100, "internal_error"));
    taken = q.claim(100, 30, "one", 10);
    REQUIRE(taken.size() == 1);
    CHECK(taken[0].attempts == 2);
    SECTION("sent") {
        REQUIRE(q.mark_sent(taken[0].id, "one", "1.1", 101));
    }
    SECTION("failed") {
        REQUIRE(q.mark_failed(taken[0].id, "one", "channel_not_found"));
    }
    // An ended row is claimed no more: its count is read from the store.
    CHECK(store.scalar("SELECT attempts FROM outbox WHERE dedupe_key = 'a1'") == 3);
}

TEST_CASE("abandoned claims of an instance are taken at once, as unfinished, and no others",
          "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    q.enqueue(message("a1", "C1"), 10);
    q.enqueue(message("b1", "C2"), 10);
    REQUIRE(q.claim(100, 120, "relbot@h1/1-a", 1).size() == 1);  // a1
    REQUIRE(q.claim(100, 120, "relbot@h2/1-b", 1).size() == 1);  // b1
    CHECK(q.abandon_claims("") == 0);                            // never everyone's
    CHECK(q.abandon_claims("relbot@h1/") == 1);

    auto taken = q.claim(101, 120, "relbot@h1/2-c", 10);
    REQUIRE(keys(taken) == std::vector<std::string>{"a1"});  // b1's lease still lives
    CHECK(taken[0].unfinished);
    CHECK(q.next_due(101) == 220);  // b1's lease ends first
}

TEST_CASE("next_due says when a row that cannot be claimed now can be", "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    CHECK_FALSE(q.next_due(100));
    q.enqueue(message("a1", "C1"), 10);
    q.enqueue(message("b1", "C2"), 10);
    CHECK_FALSE(q.next_due(100));  // both can be claimed now
    auto taken = q.claim(100, 30, "one", 10);
    REQUIRE(taken.size() == 2);
    q.defer(taken[0].id, "one", 150, "ratelimited");
    CHECK(q.next_due(100) == 130);  // b1's lease
    q.mark_sent(taken[1].id, "one", "1.1", 101);
    CHECK(q.next_due(101) == 150);  // a1's not_before
    CHECK_FALSE(q.next_due(150));
}

TEST_CASE("two claimers on two connections never get the same row, and each channel stays in order",
          "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto one = store.connect();
    auto two = store.connect();
    constexpr int channels = 4;
    constexpr int per_channel = 6;
    for (int i = 0; i < per_channel; ++i) {
        for (int c = 0; c < channels; ++c) {
            one->outbox().enqueue(
                message("m" + std::to_string(c) + "-" + std::to_string(i), "C" + std::to_string(c)),
                10);
        }
    }
    std::set<std::int64_t> seen;
    std::map<std::string, std::vector<std::int64_t>> sent_by_channel;
    for (std::int64_t now = 100; now < 200; ++now) {
        // Both claim before either finishes: the second sees the first's leases.
        auto a = one->outbox().claim(now, 30, "one", 3);
        auto b = two->outbox().claim(now, 30, "two", 3);
        for (const auto* rows : {&a, &b}) {
            for (const auto& r : *rows) {
                CHECK(seen.insert(r.id).second);
                sent_by_channel[r.to.stored()].push_back(r.id);
            }
        }
        for (const auto& r : a) {
            one->outbox().mark_sent(r.id, "one", "1.1", now);
        }
        for (const auto& r : b) {
            two->outbox().mark_sent(r.id, "two", "1.1", now);
        }
        if (seen.size() == channels * per_channel) {
            break;
        }
    }
    CHECK(seen.size() == channels * per_channel);
    for (const auto& [channel, ids] : sent_by_channel) {
        CHECK(std::is_sorted(ids.begin(), ids.end()));
    }
    CHECK(one->outbox().count_outbox(storage::outbox_state::pending) == 0);
}

TEST_CASE("an envelope is recorded as applied once, with its first reply", "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto one = store.connect();
    auto two = store.connect();
    {
        auto tx = one->work().begin();
        CHECK(one->applied().record_applied("envelope:e1", "first", 5));
        CHECK_FALSE(one->applied().record_applied("envelope:e1", "second", 6));
        tx->commit();
    }
    // Another connection (another instance) sees the record and cannot add a second.
    {
        auto tx = two->work().begin();
        CHECK_FALSE(two->applied().record_applied("envelope:e1", "third", 7));
        tx->commit();
    }
    CHECK(two->applied().applied_reply("envelope:e1") == "first");
    CHECK(one->applied().forget_applied_before(6) == 1);
    CHECK_FALSE(two->applied().applied_reply("envelope:e1"));
}

TEST_CASE("a unit of work that is not committed leaves nothing of what it wrote",
          "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto r = test::standard_release("C1", "v1.0", "U1", 1000);
    std::int64_t release_id = 0;
    {
        auto tx = e->work().begin();
        e->releases().insert_release(r);
        release_id = r.id;
        e->audit().append_audit({r.id, 1000, "U1", "release.started", {}, "", "", ""});
        checklist::change_log log;
        r.phases[0].items[0].state = checklist::item_state::done;
        log.items.push_back({0, 0});
        log.events.push_back({"item.checked", r.phases[0].items[0].id, "open", "done", ""});
        e->releases().save(r, log, "U1", 1001);
        e->outbox().enqueue(message("release-started:1", "C1"), 1000);
        e->applied().record_applied("envelope:e1", "done", 1000);
        e->people().remember_dm_channel("U1", "D1");
        // Inside, the unit sees its own writes.
        REQUIRE(e->releases().active_release_view("C1"));
        CHECK(e->audit().audit_for(release_id).size() == 2);
    }  // destroyed without commit
    CHECK_FALSE(e->releases().active_release("C1"));
    CHECK_FALSE(e->releases().active_release_view("C1"));
    CHECK_FALSE(e->releases().load_release(release_id));
    CHECK(e->audit().audit_for(release_id).empty());
    CHECK(e->outbox().count_outbox(storage::outbox_state::pending) == 0);
    CHECK(e->outbox().claim(2000, 30, "one", 10).empty());
    CHECK_FALSE(e->applied().applied_reply("envelope:e1"));
    CHECK_FALSE(e->people().dm_channel("U1"));
    CHECK(e->releases().count_active_releases() == 0);

    // The same unit committed keeps all of it, and says it changed state.
    {
        auto tx = e->work().begin();
        e->releases().insert_release(r);
        e->outbox().enqueue(message("release-started:1", "C1"), 1000);
        e->applied().record_applied("envelope:e1", "done", 1000);
        tx->commit();
    }
    CHECK(e->work().last_commit_changed_state());
    REQUIRE(e->releases().active_release("C1"));
    CHECK(e->outbox().count_outbox(storage::outbox_state::pending) == 1);
    CHECK(e->applied().applied_reply("envelope:e1") == "done");
}

TEST_CASE("a second active release in a channel is refused and writes nothing",
          "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto r = test::standard_release("C1", "v1.0", "U1", 1000);
    e->releases().insert_release(r);
    auto again = test::standard_release("C1", "v2.0", "U1", 1001);
    CHECK_THROWS_AS(e->releases().insert_release(again), storage::duplicate_release);
    CHECK(e->releases().count_active_releases() == 1);
    CHECK(e->releases().active_release("C1")->version == "v1.0");
}

TEST_CASE("the status message's sent version never goes back", "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto r = test::standard_release("C1", "v1.0", "U1", 1000);
    e->releases().insert_release(r);
    auto& board = e->status();
    CHECK(board.status_jobs().empty());  // inserted as posted (the first post is an outbox row)
    {
        auto tx = e->work().begin();
        checklist::change_log log;
        r.phases[0].items[0].state = checklist::item_state::done;
        log.items.push_back({0, 0});
        e->releases().save(r, log, "U1", 1001);
        tx->commit();
    }
    auto jobs = board.status_jobs();
    REQUIRE(jobs.size() == 1);
    board.status_sent(r.id, "1.1", jobs[0].version, 5000);
    board.status_sent(r.id, "1.1", jobs[0].version - 1, 6000);  // a late answer
    CHECK(board.status_jobs().empty());
    CHECK(board.status_ts(r.id) == "1.1");
}

TEST_CASE(
    "outbox rows of a file from before leases survive the migration, and one left sending is "
    "unfinished",
    "[storage][ports]") {
    temp_db db;
    {
        auto v11 = storage::sqlite::open_database(db.path(), 11);
        REQUIRE(v11->execAndGet("PRAGMA user_version").getInt() == 11);
        v11->exec(
            "INSERT INTO outbox (dedupe_key, channel_id, method, body, state, attempts, "
            "created_at, ts) VALUES "
            "('old-sent', 'C1', 'chat.postMessage', '{}', 'sent', 1, 5, '1.1'), "
            "('old-sending', 'C1', 'chat.postMessage', '{}', 'sending', 1, 6, NULL), "
            "('old-next', 'C1', 'chat.postMessage', '{}', 'pending', 0, 7, NULL), "
            "('old-pending', 'C2', 'chat.postMessage', '{}', 'pending', 0, 8, NULL), "
            "('old-failed', 'C3', 'chat.postMessage', '{}', 'failed', 3, 9, NULL)");
    }
    auto e = open_engine(db);
    {
        SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
        CHECK(raw.execAndGet("PRAGMA user_version").getInt() == storage::sqlite::schema_version());
        CHECK(raw.execAndGet("SELECT COUNT(*) FROM outbox").getInt() == 5);
    }
    CHECK(e->outbox().count_outbox(storage::outbox_state::pending) == 3);
    CHECK(e->outbox().count_outbox(storage::outbox_state::failed) == 1);
    auto taken = e->outbox().claim(100, 30, "one", 10);
    REQUIRE(keys(taken) == std::vector<std::string>{"old-sending", "old-pending"});
    CHECK(taken[0].unfinished);
    CHECK(taken[0].attempts == 1);
    CHECK_FALSE(taken[1].unfinished);
    e->outbox().mark_sent(taken[0].id, "one", "1.2", 101);
    CHECK(keys(e->outbox().claim(101, 30, "one", 10)) == std::vector<std::string>{"old-next"});
}

TEST_CASE(
    "a unit of work keeps what it queued only if it commits, and a savepoint's rollback "
    "undoes only its own",
    "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    {
        auto unit = e->work().begin();
        q.enqueue(message("a1", "C1"), 10);
        {
            auto input = e->work().begin();  // a second input of the same batch
            q.enqueue(message("a2", "C1"), 10);
        }  // not committed: a2 is undone, a1 is not
        q.enqueue(message("a3", "C1"), 10);
        unit->commit();
    }
    {
        auto unit = e->work().begin();
        q.enqueue(message("b1", "C2"), 10);
    }  // never committed
    CHECK(store.scalar("SELECT COUNT(*) FROM outbox") == 2);
    auto first = q.claim(100, 30, "one", 10);
    REQUIRE(keys(first) == std::vector<std::string>{"a1"});
    q.mark_sent(first[0].id, "one", "1.1", 100);
    CHECK(keys(q.claim(100, 30, "one", 10)) == std::vector<std::string>{"a3"});
    CHECK(q.enqueue(message("a2", "C1"), 11));  // its key was never taken
}

TEST_CASE(
    "a unit of work that another connection's unit holds back gives up at its deadline, "
    "writing nothing",
    "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto one = store.connect();
    auto two = store.connect();
    auto holding = one->work().begin();
    one->outbox().enqueue(message("a1", "C1"), 10);

    auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(
        [&] {
            auto unit = two->work().begin_until(started + std::chrono::milliseconds(300));
            two->outbox().enqueue(message("a2", "C1"), 10);
            unit->commit();
        }(),
        storage::busy_error);
    holding->commit();
    CHECK(store.scalar("SELECT COUNT(*) FROM outbox") == 1);
    // Once the first has committed, the second goes through, after it in the channel's order.
    {
        auto unit = two->work().begin();
        CHECK(two->outbox().enqueue(message("a2", "C1"), 10));
        unit->commit();
    }
    auto rows = two->outbox().claim(100, 30, "two", 10);
    CHECK(keys(rows) == std::vector<std::string>{"a1"});
}

TEST_CASE("a row given back unsure is claimed unfinished until it is given back plainly",
          "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    REQUIRE(q.enqueue(message("k1", "C1"), 10));
    auto first = q.claim(20, 60, "one", 10);
    REQUIRE(first.size() == 1);
    CHECK_FALSE(first[0].unfinished);
    REQUIRE(q.defer_unsure(first[0].id, "one", 30, "read timed out"));
    CHECK(q.claim(25, 60, "one", 10).empty());  // not due yet
    auto again = q.claim(30, 60, "one", 10);
    REQUIRE(again.size() == 1);
    CHECK(again[0].unfinished);  // Slack may have it: look first
    CHECK(again[0].error == "read timed out");
    REQUIRE(q.defer(again[0].id, "one", 40, "ratelimited"));
    auto third = q.claim(40, 60, "one", 10);
    REQUIRE(third.size() == 1);
    CHECK_FALSE(third[0].unfinished);  // that attempt got an answer
}

TEST_CASE(
    "a channel's untried announcements past the limit are folded into the oldest, in its "
    "place, all or nothing",
    "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    for (const char* key : {"a1", "a2", "a3", "a4"}) {
        q.enqueue(message(key, "C1"), 10);
    }
    q.enqueue(message("b1", "C2"), 10);
    auto status = message("s1", "C1");
    status.kind = checklist::message_kind::status;  // never folded
    q.enqueue(status, 10);

    CHECK(q.announcement_backlog(4).empty());
    // One that may have been sent (a restored backup's queue) is looked for, never folded.
    store.exec("UPDATE outbox SET maybe_sent = 1 WHERE dedupe_key = 'a4'");
    CHECK(keys(q.announcement_backlog(2)) == std::vector<std::string>{"a1", "a2", "a3"});
    CHECK(q.announcement_backlog(3).empty());
    store.exec("UPDATE outbox SET maybe_sent = 0 WHERE dedupe_key = 'a4'");
    auto backlog = q.announcement_backlog(2);
    REQUIRE(keys(backlog) == std::vector<std::string>{"a1", "a2", "a3", "a4"});

    REQUIRE(q.fold(backlog[0].id, R"({"text":"a1 to a3"})", {backlog[1].id, backlog[2].id}, 50));
    CHECK(store.scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'") == 2);
    // A row no longer untried spoils the whole fold: nothing changes.
    CHECK_FALSE(q.fold(backlog[3].id, R"({"text":"never"})", {backlog[1].id}, 51));
    CHECK(store.scalar("SELECT COUNT(*) FROM outbox WHERE body LIKE '%never%'") == 0);

    auto first = q.claim(100, 30, "one", 10);
    REQUIRE(keys(first) == std::vector<std::string>{"a1", "b1"});
    CHECK(first[0].body == R"({"text":"a1 to a3"})");
    q.mark_sent(first[0].id, "one", "1.1", 100);
    CHECK(keys(q.claim(100, 30, "one", 10)) == std::vector<std::string>{"a4"});
}

TEST_CASE(
    "an envelope applied on two connections at once is recorded by one, and the other writes "
    "nothing",
    "[storage][ports]") {
    // The second unit waits for the first (SQLite: the write lock; PostgreSQL: the key's row).
    // Once the first commits, the second finds the record (false; SQLite may instead tell it to
    // try again, busy_error); either way nothing of it is written, and trying again finds it.
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto one = store.connect();
    auto two = store.connect();
    auto first = one->work().begin();
    REQUIRE(one->applied().record_applied("envelope:e1", "first", 5));
    one->outbox().enqueue(message("reply-1", "C1"), 5);

    std::promise<std::string> outcome;
    std::jthread second([&] {
        try {
            bool recorded = false;
            {
                // Ended (rolled back when not committed) before the outcome is told: the main
                // thread uses this connection next.
                auto unit = two->work().begin_until(std::chrono::steady_clock::now() +
                                                    std::chrono::seconds(20));
                recorded = two->applied().record_applied("envelope:e1", "second", 6);
                if (recorded) {
                    two->outbox().enqueue(message("reply-2", "C1"), 6);
                    unit->commit();
                }
            }
            outcome.set_value(recorded ? "recorded" : "found");
        } catch (const storage::busy_error&) {
            outcome.set_value("busy");
        } catch (const std::exception& e) {
            outcome.set_value(std::string("failed: ") + e.what());
        }
    });
    // The second is in flight, waiting on the first, when the first commits.
    CHECK(two->wait_until_waiting(std::chrono::seconds(10)));
    first->commit();
    auto result = outcome.get_future().get();
    CHECK((result == "found" || result == "busy"));
    CHECK(two->applied().applied_reply("envelope:e1") == "first");
    CHECK(store.scalar("SELECT COUNT(*) FROM applied_envelopes") == 1);
    CHECK(store.scalar("SELECT COUNT(*) FROM outbox") == 1);
}

TEST_CASE(
    "a claimer that renews its leases keeps its rows, and once it stops another takes them "
    "over as unfinished",
    "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto one = store.connect();
    auto two = store.connect();
    one->outbox().enqueue(message("a1", "C1"), 10);
    one->outbox().enqueue(message("b1", "C2"), 10);
    auto held = one->outbox().claim(100, 4, "one", 10);  // a shared store's 4 s lease
    REQUIRE(held.size() == 2);
    std::vector<std::int64_t> ids = {held[0].id, held[1].id};

    // Only the rows named are renewed: a row whose delivery failed is left to run out.
    CHECK(one->outbox().renew_claims("one", {held[0].id}, 107) ==
          std::vector<std::int64_t>{held[0].id});
    auto b1 = two->outbox().claim(105, 4, "two", 10);
    REQUIRE(keys(b1) == std::vector<std::string>{"b1"});
    CHECK(b1[0].unfinished);
    REQUIRE(two->outbox().mark_sent(b1[0].id, "two", "1.1", 105));
    // "one" renews what it holds: a1 only (b1 is another claimer's now).
    CHECK(one->outbox().renew_claims("one", ids, 109) == std::vector<std::int64_t>{held[0].id});
    CHECK(two->outbox().claim(108, 4, "two", 10).empty());  // would have run out at 107
    CHECK(two->outbox().renew_claims("two", {held[0].id}, 200).empty());  // not its row
    // "one" dies: its last renewal runs out and "two" takes a1 over, to look it up first.
    auto taken = two->outbox().claim(110, 4, "two", 10);
    REQUIRE(keys(taken) == std::vector<std::string>{"a1"});
    CHECK(taken[0].unfinished);
    // A renewal by the dead claimer's process, late, touches nothing of "two"'s.
    CHECK(one->outbox().renew_claims("one", ids, 300).empty());
    CHECK_FALSE(one->outbox().mark_sent(taken[0].id, "one", "1.2", 111));
    CHECK(two->outbox().mark_sent(taken[0].id, "two", "1.2", 111));
}

TEST_CASE(
    "statuses_behind marks the active releases' status messages behind: all but one, or the "
    "newest few",
    "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    std::vector<std::int64_t> ids;
    for (const char* channel : {"C1", "C2", "C3"}) {
        auto r = test::standard_release(channel, "v1.0", "U1", 1000);
        e->releases().insert_release(r);
        ids.push_back(r.id);
    }
    auto behind = [&] {
        std::vector<std::int64_t> out;
        for (const auto& j : e->status().status_jobs()) {
            out.push_back(j.release_id);
        }
        std::sort(out.begin(), out.end());
        return out;
    };
    auto catch_up = [&] {
        for (const auto& j : e->status().status_jobs()) {
            e->status().status_sent(j.release_id, "1.1", j.version, 6000);
        }
    };
    auto mark = [&](std::int64_t except, int at_most) {
        auto tx = e->work().begin();
        e->status().statuses_behind(except, at_most);
        tx->commit();
    };
    catch_up();  // every message shows what its release is: nothing behind
    REQUIRE(behind().empty());
    mark(0, 2);  // the newest two (a start)
    CHECK(behind() == std::vector<std::int64_t>{ids[1], ids[2]});
    catch_up();
    mark(ids[0], 0);  // all but one (another release moved into its deployment phase)
    CHECK(behind() == std::vector<std::int64_t>{ids[1], ids[2]});
    catch_up();
    mark(0, 0);
    CHECK(behind() == ids);
}

TEST_CASE("a status update is claimed by one caller, until it is sent or its claim runs out",
          "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto one = store.connect();
    auto two = store.connect();
    auto r = test::standard_release("C1", "v1.0", "U1", 1000);
    one->releases().insert_release(r);
    one->status().status_sent(r.id, "1.1", 1, 5000);
    {
        auto tx = one->work().begin();
        checklist::change_log log;
        r.phases[0].items[0].state = checklist::item_state::done;
        log.items.push_back({0, 0});
        one->releases().save(r, log, "U1", 1001);
        tx->commit();
    }
    auto seen_one = one->status().status_jobs();
    auto seen_two = two->status().status_jobs();
    REQUIRE(seen_one.size() == 1);
    REQUIRE(seen_two.size() == 1);
    CHECK(seen_one[0].updated_ms == 5000);
    // Both saw the job; one claim wins.
    CHECK(one->status().claim_status(r.id, seen_one[0].updated_ms, 40000));
    CHECK_FALSE(two->status().claim_status(r.id, seen_two[0].updated_ms, 41000));
    // While claimed, the job says when the claim runs out (nobody else starts it before).
    auto claimed = two->status().status_jobs();
    REQUIRE(claimed.size() == 1);
    CHECK(claimed[0].updated_ms == 40000);
    // Sent: no job left to claim.
    one->status().status_sent(r.id, "1.1", claimed[0].version, 9000);
    CHECK(two->status().status_jobs().empty());
    CHECK_FALSE(two->status().claim_status(r.id, 9000, 50000));
}

TEST_CASE(
    "each new App Home view of a person is claimed by one caller, and an open claims it again",
    "[storage][ports]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto one = store.connect();
    auto two = store.connect();
    // Both follow U1 and both rendered the same new view: one publishes it.
    CHECK(one->status().claim_home_view("U1", "view-a", false, 1000));
    CHECK_FALSE(two->status().claim_home_view("U1", "view-a", false, 1001));
    // Another person's views are their own.
    CHECK(two->status().claim_home_view("U2", "view-a", false, 1002));
    // The next view goes to whoever claims it first.
    CHECK(two->status().claim_home_view("U1", "view-b", false, 2000));
    CHECK_FALSE(one->status().claim_home_view("U1", "view-b", false, 2001));
    // They opened their Home: published again even though it is the same view.
    CHECK(one->status().claim_home_view("U1", "view-b", true, 3000));
    // A publish that failed forgets its view: the next caller publishes it.
    CHECK(one->status().claim_home_view("U1", "", true, 3001));
    CHECK(two->status().claim_home_view("U1", "view-b", false, 3002));
    CHECK(store.scalar("SELECT COUNT(*) FROM home_views") == 2);

    // Who opened their Home is seen by every connection; an older open changes nothing, and a
    // claim keeps it.
    one->status().home_opened("U1", 5000);
    two->status().home_opened("U3", 6000);
    two->status().home_opened("U1", 4000);
    CHECK(one->status().claim_home_view("U1", "view-c", false, 6500));
    using followers = std::vector<std::pair<std::string, std::int64_t>>;
    auto sorted = [](followers f) {
        std::sort(f.begin(), f.end());
        return f;
    };
    CHECK(sorted(two->status().home_followers(4500)) == followers{{"U1", 5000}, {"U3", 6000}});
    CHECK(sorted(one->status().home_followers(5500)) == followers{{"U3", 6000}});
    // Someone followed who never had a view claimed gets their first one.
    CHECK(one->status().claim_home_view("U3", "view-a", false, 7000));
}

TEST_CASE(
    "two connections changing one release take turns, and the second keeps the first's "
    "change",
    "[storage][ports]") {
    // SQLite: one writer at a time. PostgreSQL: the first unit's lock on the release's row
    // (it read the release) holds the second back until it commits; the second then reads
    // the release as the first left it.
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto one = store.connect();
    auto two = store.connect();
    {
        auto r = test::standard_release("C1", "v1.0", "U1", 1000);
        one->releases().insert_release(r);
    }
    auto check_item = [](storage::engine& e, std::size_t item, std::int64_t now) {
        auto r = e.releases().active_release("C1");
        REQUIRE(r);
        checklist::change_log log;
        r->phases[0].items[item].state = checklist::item_state::done;
        log.items.push_back({0, item});
        log.events.push_back({"item.checked", r->phases[0].items[item].id, "open", "done", ""});
        e.releases().save(*r, log, "U1", now);
    };
    auto first = one->work().begin();
    check_item(one->engine(), 0, 1001);

    std::promise<std::string> outcome;
    std::jthread second([&] {
        try {
            auto unit = two->work().begin_until(std::chrono::steady_clock::now() +
                                                std::chrono::seconds(20));
            check_item(two->engine(), 1, 1002);
            unit->commit();
            outcome.set_value("committed");
        } catch (const std::exception& e) {
            outcome.set_value(std::string("failed: ") + e.what());
        }
    });
    CHECK(two->wait_until_waiting(std::chrono::seconds(10)));
    first->commit();
    CHECK(outcome.get_future().get() == "committed");
    second.join();
    auto after = one->releases().active_release("C1");
    REQUIRE(after);
    CHECK(after->phases[0].items[0].state == checklist::item_state::done);
    CHECK(after->phases[0].items[1].state == checklist::item_state::done);
    CHECK(one->audit().audit_for(after->id).size() == 2);
}

TEST_CASE(
    "an input rolled back in a batch owes its release nothing at commit, so another connection "
    "holding that release does not hold the batch back",
    "[storage][ports]") {
    // PostgreSQL only: on SQLite the batch holds the one write lock, and no other connection
    // could take a release meanwhile.
    test::fresh_store store(test::engine_kind::postgres);
    auto one = store.connect();
    auto two = store.connect();
    for (const char* channel : {"C1", "C2"}) {
        auto r = test::standard_release(channel, "v1.0", "U1", 1000);
        one->releases().insert_release(r);
    }
    auto check_first_item = [&](const char* channel) {
        auto r = *one->releases().active_release_view(channel);
        r.phases[0].items[0].state = checklist::item_state::done;
        checklist::change_log log;
        log.items.push_back({0, 0});
        one->releases().save(std::make_shared<const checklist::release>(std::move(r)), log, "U1",
                             1001);
    };
    auto batch = one->work().begin();
    {
        auto input = one->work().begin();  // a savepoint: kept
        check_first_item("C2");
        input->commit();
    }
    {
        auto input = one->work().begin();  // a savepoint: rolled back with its lock on C1
        check_first_item("C1");
    }
    // Another instance takes C1's release now and holds it while the batch commits.
    auto other = two->work().begin();
    REQUIRE(two->releases().active_release_view("C1"));
    CHECK_NOTHROW(batch->commit());
    other.reset();
    auto state = [&](const char* channel) {
        return two->releases().active_release_view(channel)->phases[0].items[0].state;
    };
    CHECK(state("C2") == checklist::item_state::done);
    CHECK(state("C1") == checklist::item_state::open);
    // The kept change raised C2's version: a third connection that held C2 reads it anew.
    auto third = store.connect();
    CHECK(third->releases().active_release_view("C2")->phases[0].items[0].state ==
          checklist::item_state::done);
}

TEST_CASE("sent_ts is the ts of a message once it is sent, and nothing before or if it failed",
          "[storage][ports]") {
    // What a threaded reply or an upload into a thread reads (the notifier's thread_ts).
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto& q = e->outbox();
    q.enqueue(message("a1", "C1"), 10);
    q.enqueue(message("b1", "C2"), 10);
    CHECK(q.sent_ts("a1").empty());  // pending
    auto taken = q.claim(100, 30, "one", 10);
    REQUIRE(taken.size() == 2);
    CHECK(q.sent_ts("a1").empty());  // being sent
    for (const auto& row : taken) {
        if (row.dedupe_key == "a1") {
            REQUIRE(q.mark_sent(row.id, "one", "1795669235.000100", 101));
        } else {
            REQUIRE(q.mark_failed(row.id, "one", "channel_not_found"));
        }
    }
    CHECK(q.sent_ts("a1") == "1795669235.000100");
    CHECK(q.sent_ts("b1").empty());
    CHECK(q.sent_ts("no-such-key").empty());
}

TEST_CASE("first_reminders gives each reminded item of one release its earliest reminder",
          "[storage][ports]") {
    // What the trends count from (a reminder to the item being done).
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store store(kind);
    auto e = store.connect();
    auto one = test::standard_release("C1", "v1.0", "U1", 1000);
    auto two = test::standard_release("C2", "v2.0", "U1", 1000);
    {
        auto tx = e->work().begin();
        e->releases().insert_release(one);
        e->releases().insert_release(two);
        tx->commit();
    }
    auto item = [](const checklist::release& r, std::size_t i) {
        return r.phases.at(0).items.at(i).id;
    };
    auto& log = e->reminders();
    {
        auto tx = e->work().begin();
        // 1.1 of v1.0: reminded at 2000, then a later slot at 2600, then again after its due
        // time moved (3000): the first is what counts.
        log.record_reminder(item(one, 0), 1900, 0, 2000);
        log.record_reminder(item(one, 0), 1900, 1, 2600);
        log.record_reminder(item(one, 0), 2900, 0, 3000);
        // The same slot twice is one record (the second is ignored, its time too).
        log.record_reminder(item(one, 1), 1900, 0, 2500);
        log.record_reminder(item(one, 1), 1900, 0, 2400);
        // Another release's item is not v1.0's.
        log.record_reminder(item(two, 0), 1900, 0, 1500);
        tx->commit();
    }
    auto first = log.first_reminders(one.id);
    CHECK(first == std::map<std::int64_t, storage::epoch_seconds>{{item(one, 0), 2000},
                                                                  {item(one, 1), 2500}});
    CHECK(log.first_reminders(two.id) ==
          std::map<std::int64_t, storage::epoch_seconds>{{item(two, 0), 1500}});
    CHECK(log.first_reminders(two.id + one.id + 100).empty());
}

}  // namespace storage_ports_test
