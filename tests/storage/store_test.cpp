// The store on both engines (a SQLite file and a PostgreSQL database, engines.hpp), with the
// same test code: reopening, atomic commands, constraints, the outbox and applied envelopes;
// and the router's transactions end to end through the store. What is SQLite's alone (its
// checkpointer, its recheck interval) runs on a SQLite file only.
#include "storage/sqlite/store.hpp"

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

#include "commands/apply.hpp"
#include "engines.hpp"
#include "fixture.hpp"
#include "storage/database.hpp"
#include "storage/sqlite/checkpointer.hpp"

namespace storage_store_test {

using namespace relbot;
using relbot::test::engine_router;
using relbot::test::reply_text;
using relbot::test::router_fixture;
using relbot::test::temp_db;

namespace {

long long count(const test::fresh_store& db, const std::string& table) {
    return db.scalar("SELECT COUNT(*) FROM " + table);
}

}  // namespace

TEST_CASE("timeline ids are unique across releases and in order within each", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    REQUIRE(f.run("start v1.0", "C1").changed);
    REQUIRE(f.run("start v2.0", "C2").changed);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(f.run("note 1.1 one " + std::to_string(i), "C1").changed);
        REQUIRE(f.run("note 1.1 two " + std::to_string(i), "C2").changed);
    }
    CHECK(db.scalar("SELECT COUNT(DISTINCT id) FROM audit") == count(db, "audit"));
    for (const char* channel : {"C1", "C2"}) {
        auto id = f.store.releases().active_release_view(channel)->id;
        auto timeline = f.store.audit().audit_for(id);
        REQUIRE(timeline.size() == 5);
        CHECK(timeline[2].note == (std::string(channel) == "C1" ? "one 0" : "two 0"));
        CHECK(timeline[4].note.ends_with(" 2"));
    }
}

TEST_CASE("a release that ended is not remembered between commands, and an active one is",
          "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    REQUIRE(f.run("start v1.0", "C1").changed);
    REQUIRE(f.run("start v2.0", "C2").changed);
    REQUIRE(f.run("note 1.1 read and saved", "C1").changed);
    REQUIRE(f.run("note 1.1 read and saved", "C2").changed);
    CHECK(f.store.remembered_releases() == 2);
    REQUIRE(f.run("finish force done for today", "C1").changed);
    CHECK(f.store.remembered_releases() == 1);
    // Read again when asked (a report, an export), from the file.
    auto ended = f.store.load_release(f.store.releases().list_releases("C1", 1).at(0).id);
    REQUIRE(ended);
    CHECK(ended->status == checklist::release_status::finished);
    REQUIRE(f.run("note 1.1 still going", "C2").changed);
    CHECK(f.store.remembered_releases() == 1);  // C2's; not the one read after it ended
}

TEST_CASE(
    "a transaction rolled back without a write keeps what the store knows, and one that wrote "
    "forgets it",
    "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    {
        storage::sqlite::store::transaction tx(f.store);
        f.store.remember_channel_name("C1", "releases");
        tx.commit();
    }
    REQUIRE(f.store.remembered_channel_names() == 1);
    {
        // As the health endpoint's lock probe: the write lock taken and let go.
        storage::sqlite::store::transaction probe(f.store);
    }
    CHECK(f.store.remembered_channel_names() == 1);
    {
        storage::sqlite::store::transaction tx(f.store);
        f.store.remember_channel_name("C2", "payments");
    }  // rolled back: C2's name was never written
    CHECK(f.store.remembered_channel_names() == 0);
    {
        storage::sqlite::store::transaction tx(f.store);
        CHECK(f.store.channel_name("C2").empty());
    }
    // Savepoints inside savepoints: rows undone by the inner one are not counted again by
    // the outer one, so a transaction whose own write stays is still seen to have written.
    {
        storage::sqlite::store::transaction tx(f.store);
        f.store.remember_channel_name("C4", "mobile");  // the transaction's own row
        {
            storage::sqlite::store::transaction outer(f.store);  // a savepoint
            {
                storage::sqlite::store::transaction inner(f.store);  // within it
                f.store.remember_channel_name("C5", "web");
            }  // rolled back
        }      // rolled back too
        // Learnt again (the row is there, uncommitted: nothing to write).
        f.store.remember_channel_name("C4", "mobile");
        REQUIRE(f.store.remembered_channel_names() == 1);
    }  // rolled back: C4's row goes
    CHECK(f.store.remembered_channel_names() == 0);
    {
        storage::sqlite::store::transaction tx(f.store);
        CHECK(f.store.channel_name("C4").empty());
    }
}

TEST_CASE("a started release survives closing and reopening the database", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    {
        engine_router f(db);
        auto out = f.run("start v1.0");
        CHECK(out.changed);
        CHECK_FALSE(out.refused);
    }
    auto reopened = db.connect();
    auto r = reopened->releases().active_release("C1");
    REQUIRE(r);
    CHECK(r->version == "v1.0");
    CHECK(r->manager == "U1");
    CHECK(r->template_name == "standard");
    CHECK(r->current_phase == 1);
    REQUIRE(r->phases.size() == 6);
    CHECK(r->item_count() == 33);
    CHECK(r->phases[4].window->max == std::chrono::hours(48));
    CHECK(r->phases[0].entered_at == 1795669235);
    CHECK(r->phases[2].items[0].slug == "smoke-tests-production");

    auto audit = reopened->audit().audit_for(r->id);
    REQUIRE(audit.size() == 2);
    CHECK(audit[0].action == "release.started");
    CHECK(audit[0].actor == "U1");
    CHECK(audit[1].action == "phase.entered");

    // What a claimer is handed: the announcement first (the status message goes to the same
    // channel after it).
    auto outbox = reopened->outbox().claim(1795669300, 60, "test", 10);
    REQUIRE(outbox.size() == 1);
    CHECK(outbox[0].dedupe_key == "release-started:" + std::to_string(r->id));
    CHECK(outbox[0].to == checklist::destination::channel("C1"));
    CHECK(outbox[0].state == storage::outbox_state::sending);
    reopened->outbox().mark_sent(outbox[0].id, "test", "1.1", 1795669301);
    auto status = reopened->outbox().claim(1795669300, 60, "test", 10);
    REQUIRE(status.size() == 1);
    CHECK(status[0].dedupe_key == "status:" + std::to_string(r->id));
    CHECK(status[0].kind == checklist::message_kind::status);
    CHECK(outbox[0].body.find("v1.0") != std::string::npos);
}

TEST_CASE("a failure in the middle of a command leaves nothing behind", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    {
        auto s = db.connect();
        checklist::template_library lib;
        auto r = checklist::make_release(*lib.find("standard"), "C1", "v1.0", "U1", 100);
        // The unit of work's destructor rolls everything back (and only the crash is thrown).
        CHECK_THROWS_WITH(
            [&] {
                auto tx = s->work().begin();
                s->releases().insert_release(r);
                s->audit().append_audit(
                    {r.id, 100, "U1", "release.started", std::nullopt, "", "active", ""});
                s->outbox().enqueue(
                    {"release-started:x", r.id, checklist::destination::channel("C1"),
                     "chat.postMessage", "{}", checklist::message_kind::announcement},
                    100);
                throw std::runtime_error("crash half-way");
            }(),
            "crash half-way");
        CHECK_FALSE(s->releases().active_release("C1"));
    }
    for (const char* table : {"releases", "phases", "items", "audit", "outbox"}) {
        CHECK(count(db, table) == 0);
    }
}

TEST_CASE("one active release per channel, and channels run side by side", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    CHECK(f.run("start v1.0").changed);

    auto refused = f.run("start v2.0");
    CHECK(refused.refused);
    CHECK_FALSE(refused.changed);
    CHECK(reply_text(refused).find("already active") != std::string::npos);
    CHECK(count(db, "releases") == 1);

    CHECK(f.run("start v2.0", "C2").changed);
    CHECK(f.store.releases().active_release("C1")->version == "v1.0");
    CHECK(f.store.releases().active_release("C2")->version == "v2.0");

    // The store itself refuses a second active release even if a caller skipped the check.
    checklist::template_library lib;
    auto dup = checklist::make_release(*lib.find("standard"), "C1", "v3", "U1", 0);
    auto tx = f.store.work().begin();
    CHECK_THROWS_AS(f.store.releases().insert_release(dup), storage::duplicate_release);
}

TEST_CASE("bad input and unknown templates change nothing", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    auto unknown = f.run("start v1 template nope");
    CHECK(unknown.refused);
    CHECK(reply_text(unknown).find("`standard`") != std::string::npos);
    auto bad = f.run("start");
    CHECK(bad.refused);
    auto status = f.run("status");
    CHECK(status.refused);
    CHECK(reply_text(status).find("no active release") != std::string::npos);
    for (const char* table : {"releases", "audit", "outbox"}) {
        CHECK(count(db, table) == 0);
    }
}

TEST_CASE("the outbox never queues the same key twice and records delivery", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    auto e = db.connect();
    auto& s = e->outbox();
    CHECK(s.enqueue({"k1", std::nullopt, checklist::destination::channel("C1"), "chat.postMessage",
                     R"({"text":"a"})", checklist::message_kind::announcement},
                    10));
    CHECK_FALSE(
        s.enqueue({"k1", std::nullopt, checklist::destination::channel("C1"), "chat.postMessage",
                   R"({"text":"b"})", checklist::message_kind::announcement},
                  11));
    CHECK(s.enqueue({"k2", std::nullopt, checklist::destination::channel("C2"), "chat.postMessage",
                     R"({"text":"c"})", checklist::message_kind::announcement},
                    12));

    auto due = s.claim(20, 60, "test", 10);
    REQUIRE(due.size() == 2);
    CHECK(due[0].body == R"({"text":"a"})");
    CHECK(s.count_outbox(storage::outbox_state::pending) == 2);

    s.mark_sent(due[0].id, "test", "1712345678.000200", 21);
    s.defer(due[1].id, "test", 100, "ratelimited");
    CHECK(s.count_outbox(storage::outbox_state::pending) == 1);
    CHECK(s.claim(50, 60, "test", 10).empty());
    auto later = s.claim(100, 60, "test", 10);
    REQUIRE(later.size() == 1);
    CHECK(later[0].error == "ratelimited");
    CHECK(later[0].attempts == 1);
    s.mark_failed(later[0].id, "test", "channel_not_found");
    CHECK(s.count_outbox(storage::outbox_state::pending) == 0);
    CHECK(s.count_outbox(storage::outbox_state::failed) == 1);
    CHECK(s.claim(1000, 60, "test", 10).empty());
}

TEST_CASE(
    "a channel's untried announcements over the limit are offered for folding, and a fold is "
    "all or nothing",
    "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    auto e = db.connect();
    auto& s = e->outbox();
    auto queue = [&](const std::string& key, checklist::destination to,
                     checklist::message_kind kind = checklist::message_kind::announcement) {
        REQUIRE(s.enqueue({key, std::nullopt, std::move(to), "chat.postMessage",
                           R"({"text":")" + key + R"("})", kind},
                          10));
    };
    for (int i = 0; i < 4; ++i) {
        queue("c1-" + std::to_string(i), checklist::destination::channel("C1"));
    }
    queue("c1-dm", checklist::destination::direct("U1"), checklist::message_kind::dm);
    queue("c1-status", checklist::destination::channel("C1"), checklist::message_kind::status);
    queue("c2-0", checklist::destination::channel("C2"));

    auto backlog = s.announcement_backlog(3);  // C1 has 4 announcements; C2 one
    REQUIRE(backlog.size() == 4);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(backlog[k].dedupe_key == "c1-" + std::to_string(k));
    }
    CHECK(s.announcement_backlog(4).empty());

    // c1-0 is claimed meanwhile: a fold that includes it changes nothing.
    auto claimed = s.claim(20, 60, "other", 10);
    REQUIRE(claimed.size() == 3);  // the heads of C1, the DM and C2
    CHECK_FALSE(s.fold(backlog[0].id, R"({"text":"folded"})", {backlog[1].id}, 20));
    CHECK_FALSE(s.fold(backlog[1].id, R"({"text":"folded"})", {backlog[0].id}, 20));
    CHECK(s.count_outbox(storage::outbox_state::pending) == 7);
    CHECK(s.announcement_backlog(2).size() == 3);  // c1-1…c1-3: c1-0 is no longer untried

    REQUIRE(s.fold(backlog[1].id, R"({"text":"folded"})", {backlog[2].id}, 20));
    CHECK(s.count_outbox(storage::outbox_state::pending) == 6);
    REQUIRE(s.mark_sent(claimed[0].id, "other", "1.1", 21));
    auto next = s.claim(22, 60, "other", 10);
    REQUIRE_FALSE(next.empty());
    CHECK(next[0].dedupe_key == "c1-1");  // in c1-1's place, with the fold's body
    CHECK(next[0].body == R"({"text":"folded"})");
}

TEST_CASE(
    "a backup never overwrites the database it copies, and a restored backup looks for its "
    "queued messages in Slack's history before posting them",
    "[storage]") {
    temp_db file;
    temp_db copy;
    {
        storage::sqlite::store s(file.path());
        auto& o = s.outbox();
        REQUIRE(o.enqueue(
            {"sent", std::nullopt, checklist::destination::channel("C1"), "chat.postMessage",
             R"({"text":"a"})", checklist::message_kind::announcement},
            10));
        REQUIRE(o.enqueue(
            {"queued", std::nullopt, checklist::destination::channel("C1"), "chat.postMessage",
             R"({"text":"b"})", checklist::message_kind::announcement},
            11));
        auto due = o.claim(20, 60, "test", 1);
        REQUIRE(due.size() == 1);
        o.mark_sent(due[0].id, "test", "1712345678.000200", 21);
    }
    // The database itself, or one of its companion files: refused, and nothing changes.
    for (const auto& target : {file.path(), file.path() + "-wal", file.path() + "-shm"}) {
        INFO(target);
        CHECK_THROWS_WITH(storage::backup_database(file.path(), target),
                          Catch::Contains("cannot write " + target + ": it is the database") &&
                              Catch::Contains("name a file elsewhere"));
    }
    {
        SQLite::Database db(file.path(), SQLite::OPEN_READONLY);
        CHECK(db.execAndGet("SELECT COUNT(*) FROM outbox").getInt() == 2);
        CHECK(db.execAndGet("SELECT COUNT(*) FROM outbox WHERE maybe_sent = 1").getInt() == 0);
    }

    REQUIRE(storage::backup_database(file.path(), copy.path()) > 0);
    // The original is untouched; in the copy, the queued message is claimed as one whose
    // delivery may have happened (history first), the sent one is not claimed at all.
    storage::sqlite::store restored(copy.path());
    auto again = restored.outbox().claim(30, 60, "test", 10);
    REQUIRE(again.size() == 1);
    CHECK(again[0].dedupe_key == "queued");
    CHECK(again[0].unfinished);
    storage::sqlite::store original(file.path());
    auto first = original.outbox().claim(30, 60, "test", 10);
    REQUIRE(first.size() == 1);
    CHECK_FALSE(first[0].unfinished);
}

TEST_CASE("an applied envelope's reply is kept for its redelivery", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    {
        auto s = db.connect();
        CHECK_FALSE(s->applied().applied_reply("envelope:e1"));
        auto tx = s->work().begin();
        s->applied().record_applied("envelope:e1", R"({"text":"done"})", 5);
        tx->commit();
    }
    auto s = db.connect();
    CHECK(s->applied().applied_reply("envelope:e1") == R"({"text":"done"})");
}

TEST_CASE("a database locked by another process gives busy_error, not a hang", "[storage]") {
    // The other process is another connection in a unit of work. What it holds: SQLite, the
    // write lock (taken by begin()); PostgreSQL, the release's row (locked by reading it).
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    REQUIRE(f.run("start v1.0").changed);
    auto other = db.connect();
    auto holding = other->work().begin();
    REQUIRE(other->releases().active_release("C1"));
    CHECK_THROWS_AS(f.run("check 1.1"), storage::busy_error);
    holding.reset();  // rolled back: the lock is free again
    CHECK(f.run("check 1.1").changed);
    CHECK(db.scalar("SELECT COUNT(*) FROM items WHERE state = 'done'") == 1);
}

namespace {

// Every row of every table, as text: "exactly as before" means this is unchanged. (Each
// table's first two columns tell its rows apart, on both engines.)
std::string dump_all(const test::fresh_store& db) {
    std::vector<std::string> queries;
    for (const char* table :
         {"releases", "phases", "items", "audit", "outbox", "applied_envelopes"}) {
        queries.push_back(std::string("SELECT * FROM ") + table + " ORDER BY 1, 2");
    }
    return db.rows(queries);
}

// From now on every insert into `table` fails (`when`: "BEFORE INSERT" or "AFTER INSERT"), by
// a trigger of the engine's own kind, until cure() drops it.
void inject_failure(const test::fresh_store& db,
                    const std::string& when,
                    const std::string& table) {
    if (db.kind() == test::engine_kind::sqlite) {
        db.exec("CREATE TRIGGER inject " + when + " ON " + table +
                " BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
        return;
    }
    db.exec(
        "CREATE OR REPLACE FUNCTION inject() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; "
        "CREATE TRIGGER inject " +
        when + " ON " + table + " FOR EACH ROW EXECUTE FUNCTION inject()");
}

void cure(const test::fresh_store& db, const std::string& table) {
    db.exec(db.kind() == test::engine_kind::sqlite ? "DROP TRIGGER inject"
                                                   : "DROP TRIGGER inject ON " + table);
}

}  // namespace

TEST_CASE("an exception in the middle of any command leaves the database exactly as before",
          "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    REQUIRE(f.run("start v0").changed);
    REQUIRE(f.run("finish force old one").changed);
    REQUIRE(f.run("start v1.0").changed);
    REQUIRE(f.run("assign 1.2 <@U2>").changed);
    REQUIRE(f.run("block 1.3 flaky").changed);
    REQUIRE(f.run("check 1.1").changed);

    // Every one of these changes something (each attempt is rolled back, so the state they
    // start from is the same every time).
    const std::vector<std::string> all = {"check 1.7 https://ci/1",
                                          "uncheck 1.1",
                                          "skip 1.4 not needed",
                                          "block 1.5 broken",
                                          "unblock 1.3",
                                          "assign 1.6 <@U3> due 2h",
                                          "note 1.1 hello",
                                          "next force hurry",
                                          "rollback errors",
                                          "handoff <@U4> <@U5>",
                                          "manager <@U6>",
                                          "finish force enough",
                                          "abort stop",
                                          "remind",
                                          "start v2"};
    // These also queue a message.
    const std::vector<std::string> announcing = {
        "block 1.5 broken",    "next force hurry", "rollback errors", "handoff <@U4> <@U5>",
        "finish force enough", "abort stop",       "start v2"};
    // The failure is injected after each command has already written part of its change: at
    // its first audit row (before or after it is written), or at its announcement.
    const std::vector<std::pair<std::string, std::string>> triggers = {
        {"BEFORE INSERT", "audit"}, {"AFTER INSERT", "audit"}, {"BEFORE INSERT", "outbox"}};
    for (const auto& [when, table] : triggers) {
        for (const auto& text : table == "outbox" ? announcing : all) {
            INFO(when << " ON " << table << " / " << text);
            if (text == "start v2") {
                // `start` only works in a channel without an active release.
                REQUIRE(f.run("start v2", "C9").changed);
                REQUIRE(f.run("abort reset", "C9").changed);
            }
            auto before = dump_all(db);
            inject_failure(db, when, table);
            auto channel = text == "start v2" ? "C9" : "C1";
            CHECK_THROWS(f.run(text, channel));
            cure(db, table);
            CHECK(dump_all(db) == before);
        }
    }
    // Without the failure, each of them does change the database.
    for (const auto& text : all) {
        INFO(text);
        auto channel = text == "start v2" ? "C9" : "C1";
        auto tx = f.store.work().begin();
        commands::context ctx{f.store, f.templates, f.admins};
        auto out = commands::route({"T1", channel, "U1", text, 1795669235, "", ""}, ctx);
        CHECK(out.changed);
        // Not committed: the next command starts from the same state.
    }
}

TEST_CASE("owners-from copies the owners of items with the same slug from an earlier release here",
          "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    REQUIRE(f.run("start v1").changed);
    REQUIRE(f.run("assign ci-cd-status <@U7>").changed);
    REQUIRE(f.run("assign 3.1 <@U8> due 2h").changed);
    REQUIRE(f.run("abort replaced by v2").changed);

    auto missing = f.run("start v2 owners-from v0");
    CHECK(missing.refused);
    CHECK(missing.reply.text.find("no release *v0*") != std::string::npos);

    auto started = f.run("start v2 owners-from v1");
    REQUIRE(started.changed);
    CHECK(started.reply.text.find("owners of 2 items from v1") != std::string::npos);
    auto r = f.store.releases().active_release("C1");
    REQUIRE(r);
    CHECK(r->phases[0].items[0].owner == "U7");
    CHECK(r->phases[2].items[0].owner == "U8");
    CHECK_FALSE(r->phases[2].items[0].due_at);  // owners are copied, due times are not
    CHECK(r->phases[0].items[1].owner.empty());

    // Another channel's releases are not a source.
    CHECK(f.run("start v3 owners-from v1", "C2").refused);
}

TEST_CASE("list shows the channel's releases newest first", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    REQUIRE(f.run("start v1").changed);
    REQUIRE(f.run("finish force done").changed);
    REQUIRE(f.run("start v2").changed);
    auto releases = f.store.releases().list_releases("C1", 10);
    REQUIRE(releases.size() == 2);
    CHECK(releases[0].version == "v2");
    CHECK(releases[0].status == checklist::release_status::active);
    CHECK(releases[0].current_phase_title == "Pre-Release Checks");
    CHECK(releases[0].phase_count == 6);
    CHECK(releases[1].status == checklist::release_status::finished);
    auto text = f.run("list").reply.text;
    CHECK(text.find("2") != std::string::npos);
    CHECK(f.store.releases().list_releases("C2", 10).empty());
}

TEST_CASE("every cause of a message has its own dedupe key, so none is dropped as a duplicate",
          "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    REQUIRE(f.run("start v1").changed);
    REQUIRE(f.run("block 1.1 first").changed);
    REQUIRE(f.run("block 1.1 second reason").changed);  // announced again, with the new reason
    REQUIRE(f.run("unblock 1.1").changed);
    REQUIRE(f.run("block 1.1 third").changed);
    REQUIRE(f.run("rollback one").changed);
    REQUIRE(f.run("rollback two").changed);
    REQUIRE(f.run("next force go").changed);
    REQUIRE(f.run("handoff <@U5>").changed);
    REQUIRE(f.run("handoff <@U6>").changed);
    REQUIRE(f.run("abort stop").changed);
    REQUIRE(f.run("start v2").changed);

    auto rows = count(db, "outbox");
    auto distinct = db.scalar("SELECT COUNT(DISTINCT dedupe_key) FROM outbox");
    CHECK(rows == distinct);
    // 2 starts × (announcement + status) + 3 blocks + 2 rollbacks + 1 phase + 2 handoffs (each
    // posted and sent by DM) + 1 end with its timeline picture
    CHECK(rows == 4 + 3 + 2 + 1 + 2 * 2 + 1 + 1);
    CHECK(db.scalar("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'release-timeline:%'") == 1);
    CHECK(db.scalar("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'item-blocked:%'") == 3);
}

TEST_CASE("applied envelopes older than the cut-off are forgotten, newer ones kept", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    auto e = db.connect();
    auto& s = e->applied();
    {
        auto tx = e->work().begin();
        CHECK(s.record_applied("envelope:old", "{}", 100));
        CHECK(s.record_applied("envelope:new", "{}", 1000));
        // Recorded once: a second record changes nothing, and says so.
        CHECK_FALSE(s.record_applied("envelope:new", R"({"text":"second"})", 2000));
        CHECK(s.applied_reply("envelope:new") == "{}");
        tx->commit();
    }
    CHECK(s.forget_applied_before(500) == 1);
    CHECK_FALSE(s.applied_reply("envelope:old"));
    CHECK(s.applied_reply("envelope:new"));
    CHECK(s.forget_applied_before(500) == 0);
}

TEST_CASE("the checkpointer moves the log into the database file, and the log is reused, not grown",
          "[storage]") {
    // SQLite only: its checkpointer and write-ahead log (PostgreSQL's server keeps its own).
    temp_db db;
    router_fixture f(db.path());
    auto wal_bytes = [&] { return std::filesystem::file_size(db.path() + "-wal"); };
    auto write_notes = [&](int n) {
        for (int i = 0; i < n; ++i) {
            REQUIRE(f.run("note 1.1 written while the log is checkpointed " + std::to_string(i))
                        .changed);
        }
    };

    // As relbot runs: only the engine's checkpointer moves the log, so until it starts the
    // log holds every commit (started after the first writes, so that however the machine
    // schedules it, the first checkpoint finds all of them in the log).
    REQUIRE(f.run("start v1.0").changed);
    write_notes(60);
    f.store.start_housekeeping(std::chrono::milliseconds(5));
    REQUIRE(f.store.checkpoints() != nullptr);
    const auto& checkpoints = *f.store.checkpoints();
    REQUIRE(checkpoints.wait_caught_up(std::chrono::seconds(10)));
    auto first = checkpoints.state();
    CHECK(first.log_frames > 60);
    CHECK(first.frames_moved == first.log_frames);
    auto after_first = wal_bytes();

    // Once the whole log is in the database, the next commits write it from its beginning
    // again: the same writes leave the file no larger. (Without checkpoints it doubles.)
    write_notes(60);
    CHECK(wal_bytes() <= after_first);
    REQUIRE(checkpoints.wait_caught_up(std::chrono::seconds(10)));
    CHECK(checkpoints.state().log_frames <= first.log_frames);

    // What was moved is in the database file itself: a copy of that file alone has it all.
    temp_db copy;
    std::filesystem::copy_file(db.path(), copy.path());
    SQLite::Database raw(copy.path(), SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("SELECT COUNT(*) FROM audit WHERE action = 'item.noted'").getInt() == 120);
}

TEST_CASE(
    "once a checkpoint has moved the whole log, the log is started again at a quiet moment, "
    "and the next command writes behind it, however long after it comes",
    "[storage]") {
    // SQLite only: its write-ahead log. A log started again has new salts in its header
    // (bytes 16-23); SQLite writes and syncs that header in the first commit after a
    // checkpoint moved the whole log, so that commit waits for the disk.
    using namespace std::chrono_literals;
    temp_db db;
    router_fixture f(db.path());
    auto salts = [&] {
        std::ifstream wal(db.path() + "-wal", std::ios::binary);
        std::string header(32, '\0');
        wal.read(header.data(), 32);
        REQUIRE(wal.gcount() == 32);
        return header.substr(16, 8);
    };
    std::mutex mutex;
    std::condition_variable called;
    int due = 0;  // times the checkpointer said the log may start again
    auto times_due = [&] {
        std::lock_guard lock(mutex);
        return due;
    };
    // Until the store has a restart to do now (the checkpointer says so, and the store has not
    // committed since).
    auto wait_wanted = [&] {
        std::unique_lock lock(mutex);
        return called.wait_for(lock, 10s, [&] { return f.store.quiet_moment_wanted(); });
    };
    f.store.on_quiet_work([&] {
        std::lock_guard lock(mutex);
        ++due;
        called.notify_all();
    });
    REQUIRE(f.run("start v1.0", "C1", "U1").changed);
    for (int i = 0; i < 20; ++i) {
        REQUIRE(f.run("note 1.1 before the checkpoint " + std::to_string(i)).changed);
    }
    CHECK_FALSE(f.store.quiet_moment_wanted());
    f.store.use_quiet_moment();  // nothing due: nothing written
    CHECK(f.store.log_restarts() == 0);
    f.store.start_housekeeping(200ms);
    const auto& checkpoints = *f.store.checkpoints();

    // The checkpoint moved the commands' commits: the log may start again, and the store's
    // connection does it when asked, a page of its own (nothing else changes).
    REQUIRE(wait_wanted());
    CHECK(times_due() >= 1);
    auto before = salts();
    f.store.use_quiet_moment();
    CHECK(f.store.log_restarts() == 1);
    CHECK_FALSE(f.store.quiet_moment_wanted());
    auto started = salts();
    CHECK(started != before);

    // Idle: the checkpoints leave that page in the log (nothing due, nothing written), so the
    // next command, however long after, writes behind it: its commit does not start the log.
    REQUIRE(checkpoints.wait_caught_up(10s));
    REQUIRE(checkpoints.wait_caught_up(10s));
    auto due_when_idle = times_due();
    for (int round = 0; round < 3; ++round) {
        REQUIRE(checkpoints.wait_caught_up(10s));
    }
    CHECK(times_due() == due_when_idle);
    CHECK(salts() == started);
    REQUIRE(f.run("note 1.1 after a pause").changed);
    CHECK(salts() == started);

    // Its commit is moved by the next checkpoint: due again, started again.
    REQUIRE(wait_wanted());
    f.store.use_quiet_moment();
    CHECK(f.store.log_restarts() == 2);
    CHECK(salts() != started);

    // A restart that a command's commit overtook is not written: that commit started the log.
    REQUIRE(f.run("note 1.1 before the quiet moment").changed);
    REQUIRE(wait_wanted());
    REQUIRE(f.run("note 1.1 that starts the log itself").changed);
    auto started_by_command = salts();
    CHECK_FALSE(f.store.quiet_moment_wanted());
    f.store.use_quiet_moment();
    CHECK(f.store.log_restarts() == 2);
    CHECK(salts() == started_by_command);

    // Another program's commit since the store's last one is not hidden by the quiet write:
    // the next transaction reads the release again instead of the one the store remembers.
    REQUIRE(wait_wanted());
    {
        SQLite::Database other(db.path(), SQLite::OPEN_READWRITE);
        other.exec("UPDATE releases SET manager_id = 'U9' WHERE channel_id = 'C1'");
    }
    f.store.use_quiet_moment();
    CHECK(f.store.log_restarts() == 3);
    {
        auto tx = f.store.work().begin();
        CHECK(f.store.active_release_view("C1")->manager == "U9");
    }

    // Every command is in the database, and the file is sound.
    f.store.close();
    SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("SELECT COUNT(*) FROM audit WHERE action = 'item.noted'").getInt() == 23);
    CHECK(raw.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

TEST_CASE("a commit says whether it changed more than the timeline", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    auto changed_state = [&] { return f.store.work().last_commit_changed_state(); };
    // A commit of timeline rows and redelivery records only: SQLite says so (false);
    // PostgreSQL does not count what its statements changed and says true, as the port allows
    // ("true when unsure"). After any other write, both MUST say true.
    auto timeline_only = [&] {
        if (kind == test::engine_kind::sqlite) {
            CHECK_FALSE(changed_state());
        }
    };
    REQUIRE(f.run("start v1.0").changed);
    CHECK(changed_state());  // a release, an announcement, a status message
    REQUIRE(f.run("note 1.1 waiting on the DBA").changed);
    timeline_only();  // one audit row: nothing to announce
    REQUIRE(f.run("check 1.1").changed);
    CHECK(changed_state());  // the item, and the status message is behind
    {
        auto tx = f.store.work().begin();
        f.store.applied().record_applied("event:Ev1", "{}", 1000);
        tx->commit();
    }
    timeline_only();
    {
        // Any other table counts, whatever its kind (SQLite: users is a WITHOUT ROWID table).
        auto tx = f.store.work().begin();
        f.store.people().remember_user("U1", 3600, "Pat Lee", 1000);
        tx->commit();
    }
    CHECK(changed_state());
}

TEST_CASE(
    "a commit by another program is seen by the next write at once, and by reads within "
    "the recheck interval",
    "[storage]") {
    // SQLite only: the recheck interval is its engine's (PostgreSQL reads ask the server each
    // time).
    using namespace std::chrono_literals;
    temp_db db;
    router_fixture f(db.path());
    REQUIRE(f.run("start v1.0", "C1", "U1").changed);
    storage::sqlite::store eager(db.path(), 0ms);  // rechecks on every read
    storage::sqlite::store lazy(db.path(), 1h);    // rechecks reads only after an hour
    REQUIRE(eager.active_release_view("C1")->manager == "U1");
    REQUIRE(lazy.active_release_view("C1")->manager == "U1");  // both remember the release

    {
        SQLite::Database other(db.path(), SQLite::OPEN_READWRITE);
        other.exec("UPDATE releases SET manager_id = 'U9' WHERE channel_id = 'C1'");
    }
    CHECK(eager.active_release_view("C1")->manager == "U9");
    CHECK(lazy.active_release_view("C1")->manager == "U1");  // within its interval: remembered
    {
        // A write never starts from what it remembers without looking.
        storage::sqlite::store::transaction tx(lazy);
        CHECK(lazy.active_release_view("C1")->manager == "U9");
    }
    CHECK(lazy.active_release_view("C1")->manager == "U9");
}

TEST_CASE("people of active releases are looked up for a name once a day and names are kept",
          "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    auto& people = f.store.people();
    REQUIRE(f.run("start v1.0", "C1", "U1").changed);
    REQUIRE(f.run("assign 1.1 <@U2>", "C1", "U1").changed);
    REQUIRE(f.run("handoff <@U3> <@U4>", "C1", "U1").changed);
    auto wanted = people.people_needing_name(1000, 86400);
    std::sort(wanted.begin(), wanted.end());
    CHECK(wanted == std::vector<std::string>{"U1", "U2", "U3", "U4"});

    // A time zone looked up before names were kept (migration 10) does not count as a name.
    db.exec("INSERT INTO users (user_id, tz_offset, fetched_at) VALUES ('U1', 3600, 1000)");
    CHECK_FALSE(people.name_looked_up("U1", 1000, 86400));
    people.remember_user("U1", 3600, "Pat Lee", 1000);
    people.remember_user("U2", 0, "", 1000);  // users.info gave no name: the ID is shown
    CHECK(people.name_looked_up("U1", 1000, 86400));
    CHECK(people.name_looked_up("U2", 1000, 86400));
    CHECK_FALSE(people.name_looked_up("U3", 1000, 86400));
    wanted = people.people_needing_name(1000, 86400);
    std::sort(wanted.begin(), wanted.end());
    CHECK(wanted == std::vector<std::string>{"U3", "U4"});
    CHECK(people.user_names() == std::unordered_map<std::string, std::string>{{"U1", "Pat Lee"}});
    CHECK(people.time_zone_offset("U1") == 3600);
    // A day later, everyone is looked up again.
    CHECK(people.people_needing_name(1000 + 86401, 86400).size() == 4);
}

TEST_CASE("the people of a release that ended within the day are still looked up for a name",
          "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    REQUIRE(f.run("start v1.0", "C1", "U1").changed);
    REQUIRE(f.run("assign 1.1 <@U2>", "C1", "U1").changed);
    REQUIRE(f.run("abort changed our minds", "C1", "U1").changed);
    auto ended = db.scalar("SELECT ended_at FROM releases");
    auto wanted = f.store.people().people_needing_name(ended + 60, 86400);
    std::sort(wanted.begin(), wanted.end());
    CHECK(wanted == std::vector<std::string>{"U1", "U2"});  // for the report and export
    CHECK(f.store.people().people_needing_name(ended + 86401, 86400).empty());
}

TEST_CASE("a slash command's channel name is remembered, and a rename replaces it", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    CHECK(f.store.people().channel_name("C1").empty());
    f.run({"T1", "C1", "U1", "start v1.0", 1795669235, "", "release-demo"});
    CHECK(f.store.people().channel_name("C1") == "release-demo");
    f.run({"T1", "C1", "U1", "note 1.1 renamed", 1795669240, "", "releases"});
    CHECK(f.store.people().channel_name("C1") == "releases");
    CHECK(count(db, "channels") == 1);
}

}  // namespace storage_store_test
