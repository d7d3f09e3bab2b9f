// Migrations on real SQLite files: an empty file, files of older schema versions (their rows
// survive and are read as this relbot reads them), and a file from a newer relbot.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "fixture.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/sqlite/store.hpp"

namespace storage_migrations_test {

using namespace relbot;
using relbot::test::count;
using relbot::test::router_fixture;
using relbot::test::temp_db;

TEST_CASE("an empty file is migrated to the current schema, and reopening changes nothing",
          "[storage]") {
    temp_db db;
    { storage::sqlite::store s(db.path()); }
    {
        SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
        CHECK(raw.execAndGet("PRAGMA user_version").getInt() == storage::sqlite::schema_version());
        CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "wal");
        for (const char* table :
             {"releases", "phases", "items", "audit", "outbox", "applied_envelopes"}) {
            CHECK(raw.tableExists(table));
        }
    }
    { storage::sqlite::store again(db.path()); }
    CHECK(count(db.path(), "releases") == 0);
}

TEST_CASE(
    "a timeline written before migration 9 keeps its rows, order and ids, and new rows follow",
    "[storage]") {
    temp_db db;
    std::int64_t release_id = 0;
    {
        // A release with its timeline as relbot wrote it at schema version 8.
        router_fixture f(db.path());
        REQUIRE(f.run("start v1.0").changed);
        REQUIRE(f.run("note 1.1 before the upgrade").changed);
        release_id = f.store.active_release_view("C1")->id;
    }
    std::vector<std::pair<std::int64_t, std::string>> before;
    {
        // Back to version 8: the old audit table (rowid ids, an index on release_id).
        temp_db old;
        {
            auto v8 = storage::sqlite::open_database(old.path(), 8);
            v8->exec("ATTACH DATABASE '" + db.path() + "' AS now");
            // phases as version 8 had it (migration 11 added left_by_force).
            v8->exec(
                "INSERT INTO releases SELECT id, channel_id, version, template_name, manager_id, "
                "status, current_phase, started_at, ended_at, oncall_id, pm_id, handoff_at, "
                "status_ts, status_version, status_sent_version, status_updated_ms, "
                "handoff_accepted_at FROM now.releases");
            v8->exec(
                "INSERT INTO phases SELECT release_id, position, title, window_min_s, "
                "window_max_s, entered_at FROM now.phases");
            // items as version 8 had it (migration 13 added snoozed_until).
            v8->exec(
                "INSERT INTO items SELECT id, release_id, phase, position, slug, title, "
                "description, "
                "state, state_note, owner_id, due_at, updated_at, escalated_at FROM now.items");
            v8->exec(
                "INSERT INTO audit (id, release_id, at, actor_id, action, item_id, from_state, "
                "to_state, note) SELECT id, release_id, at, actor_id, action, item_id, "
                "from_state, to_state, note FROM now.audit ORDER BY release_id, id");
            v8->exec("DETACH DATABASE now");
            CHECK(v8->execAndGet("PRAGMA user_version").getInt() == 8);
            SQLite::Statement q(*v8, "SELECT id, action FROM audit ORDER BY id");
            while (q.executeStep()) {
                before.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getString());
            }
        }
        REQUIRE(before.size() == 3);  // started, phase entered, the note

        // Opening it with this relbot migrates it.
        router_fixture f(old.path());
        auto timeline = f.store.audit_for(release_id);
        REQUIRE(timeline.size() == 3);
        for (std::size_t i = 0; i < before.size(); ++i) {
            CHECK(timeline[i].action == before[i].second);
        }
        SQLite::Database raw(old.path(), SQLite::OPEN_READONLY);
        CHECK(raw.execAndGet("SELECT group_concat(id) FROM (SELECT id FROM audit ORDER BY id)")
                  .getString() == std::to_string(before[0].first) + "," +
                                      std::to_string(before[1].first) + "," +
                                      std::to_string(before[2].first));
        CHECK_FALSE(raw.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name = "
                                   "'audit_by_release'")
                        .getInt());
        // A row written now comes after them in the release's timeline, with an id no older
        // row has.
        REQUIRE(f.run("note 1.1 after the upgrade").changed);
        timeline = f.store.audit_for(release_id);
        REQUIRE(timeline.size() == 4);
        CHECK(timeline.back().note == "after the upgrade");
        CHECK(raw.execAndGet("SELECT max(id) FROM audit").getInt64() >= (release_id << 32));
    }
}

TEST_CASE("a database from a newer relbot is refused, not damaged", "[storage]") {
    temp_db db;
    {
        SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        raw.exec("PRAGMA user_version = 999");
    }
    CHECK_THROWS_WITH(storage::sqlite::store(db.path()), Catch::Contains("newer than this relbot"));
}

TEST_CASE(
    "opened to be read as it is (relbot export), only the current schema is taken: a missing, "
    "empty, older or newer file is refused and left as it was",
    "[storage]") {
    namespace fs = std::filesystem;
    temp_db db;
    auto read_as_is = [](const std::string& path) {
        return storage::sqlite::store(path, storage::sqlite::store::default_recheck_reads, false);
    };
    // Missing: named, and not created.
    auto missing = db.path() + ".missing";
    CHECK_THROWS_WITH(read_as_is(missing), Catch::Contains("does not exist"));
    CHECK_FALSE(fs::exists(missing));
    // Empty, then older, then newer: refused before anything is set (the file not even made
    // a write-ahead-log file), each with its reason.
    { SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE); }
    CHECK_THROWS_WITH(read_as_is(db.path()), Catch::Contains("holds no relbot data"));
    CHECK(fs::file_size(db.path()) == 0);
    auto journal_mode = [&] {
        // Read-write: a read-only connection to a log file nobody else has open may wait on
        // it forever.
        SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
        return raw.execAndGet("PRAGMA journal_mode").getString();
    };
    for (int version : {storage::sqlite::schema_version() - 1, 999}) {
        INFO(version);
        {
            SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
            raw.exec("PRAGMA user_version = " + std::to_string(version));
        }
        REQUIRE(journal_mode() == "delete");
        CHECK_THROWS_WITH(
            read_as_is(db.path()),
            Catch::Contains(version == 999 ? "newer than this relbot" : "older than this relbot"));
        CHECK(journal_mode() == "delete");
        SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
        CHECK(raw.execAndGet("PRAGMA user_version").getInt() == version);
    }
    // The current schema is read.
    { storage::sqlite::store s(db.path() + ".current"); }
    CHECK_NOTHROW(read_as_is(db.path() + ".current"));
}

TEST_CASE("a phase left by force is stored and older databases learn it from the timeline",
          "[storage]") {
    temp_db db;
    std::int64_t release_id = 0;
    {
        router_fixture f(db.path());
        REQUIRE(f.run("start v1.0").changed);
        REQUIRE(f.run("next force QA is out today").changed);
        auto r = f.store.load_release(f.store.active_release_view("C1")->id);
        REQUIRE(r);
        release_id = r->id;
        CHECK(r->phases[0].left_by_force);
        CHECK_FALSE(r->phases[1].left_by_force);
    }
    {
        storage::sqlite::store reopened(db.path());
        CHECK(reopened.load_release(release_id)->phases[0].left_by_force);
    }
    // The same release in a database from before migration 11: migrating marks the phase.
    temp_db old;
    {
        auto v10 = storage::sqlite::open_database(old.path(), 10);
        v10->exec("ATTACH DATABASE '" + db.path() + "' AS now");
        v10->exec(
            "INSERT INTO releases SELECT id, channel_id, version, template_name, manager_id, "
            "status, current_phase, started_at, ended_at, oncall_id, pm_id, handoff_at, "
            "status_ts, status_version, status_sent_version, status_updated_ms, "
            "handoff_accepted_at FROM now.releases");
        v10->exec(
            "INSERT INTO phases (release_id, position, title, window_min_s, window_max_s, "
            "entered_at) SELECT release_id, position, title, window_min_s, window_max_s, "
            "entered_at FROM now.phases");
        v10->exec(
            "INSERT INTO items SELECT id, release_id, phase, position, slug, title, description, "
            "state, state_note, owner_id, due_at, updated_at, escalated_at FROM now.items");
        v10->exec("INSERT INTO audit SELECT * FROM now.audit");
        v10->exec("DETACH DATABASE now");
    }
    storage::sqlite::store migrated(old.path());
    auto r = migrated.load_release(release_id);
    REQUIRE(r);
    CHECK(r->phases[0].left_by_force);
    CHECK_FALSE(r->phases[1].left_by_force);
}

TEST_CASE("messages queued before migration 20 are counted and sent in order after it",
          "[storage]") {
    temp_db db;
    {
        // Version 19 still has the index migration 20 drops: the queue as it left it.
        auto v19 = storage::sqlite::open_database(db.path(), 19);
        v19->exec(
            "INSERT INTO outbox (id, dedupe_key, channel_id, method, body, state, created_at) "
            "VALUES (1, 'a1', 'CA', 'chat.postMessage', '{}', 'sent', 1), "
            "(2, 'b1', 'CB', 'chat.postMessage', '{}', 'pending', 1), "
            "(3, 'a2', 'CA', 'chat.postMessage', '{}', 'pending', 1), "
            "(4, 'a3', 'CA', 'chat.postMessage', '{}', 'pending', 1), "
            "(5, 'b2', 'CB', 'chat.postMessage', '{}', 'failed', 1)");
        REQUIRE(v19->execAndGet("SELECT count(*) FROM sqlite_schema WHERE name = "
                                "'outbox_unsent'")
                    .getInt() == 1);
    }
    storage::sqlite::store migrated(db.path());
    {
        SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
        CHECK(raw.execAndGet("PRAGMA user_version").getInt() == storage::sqlite::schema_version());
        CHECK(raw.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name = 'outbox_unsent'")
                  .getInt() == 0);
    }
    CHECK(migrated.count_outbox(storage::outbox_state::pending) == 3);
    CHECK(migrated.count_outbox(storage::outbox_state::failed) == 1);
    // Each destination's oldest unsent message first, one per destination at a time.
    auto ids = [](const std::vector<storage::outbox_row>& rows) {
        std::vector<std::int64_t> out;
        for (const auto& r : rows) {
            out.push_back(r.id);
        }
        return out;
    };
    CHECK(ids(migrated.claim(10, 60, "test", 10)) == std::vector<std::int64_t>{2, 3});
    REQUIRE(migrated.mark_sent(3, "test", "1.0003", 11));
    CHECK(ids(migrated.claim(12, 60, "test", 10)) == std::vector<std::int64_t>{4});
    CHECK(migrated.count_outbox(storage::outbox_state::pending) == 2);  // sending counts
}

// The CHECK constraints on a state, read from the tables' text as SQLite keeps it.
std::string table_text(SQLite::Database& db, const std::string& table) {
    SQLite::Statement q(db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?");
    q.bind(1, table);
    REQUIRE(q.executeStep());
    return q.getColumn(0).getString();
}

// Whether running `sql` builds a temporary b-tree (EXPLAIN's OpenEphemeral), as `x IN (three
// or more constants)` in a CHECK constraint does each time.
bool builds_temporary_tree(SQLite::Database& db, const std::string& sql) {
    SQLite::Statement q(db, "EXPLAIN " + sql);
    while (q.executeStep()) {
        if (q.getColumn(1).getString() == "OpenEphemeral") {
            return true;
        }
    }
    return false;
}

// The error SQLite gives `sql`, or "" when it runs.
std::string refusal(SQLite::Database& db, const std::string& sql) {
    try {
        db.exec(sql);
        return "";
    } catch (const SQLite::Exception& e) {
        return e.what();
    }
}

TEST_CASE("after migration 21 a state is checked without a temporary table and as strictly",
          "[storage]") {
    temp_db db;
    {
        // Version 20: the constraints as `IN` lists, and rows under them.
        auto v20 = storage::sqlite::open_database(db.path(), 20);
        v20->exec(
            "INSERT INTO releases (id, channel_id, version, template_name, manager_id, status, "
            "current_phase, started_at) VALUES (1, 'C1', 'v1', 'standard', 'U1', 'active', 1, 1)");
        v20->exec(
            "INSERT INTO phases (release_id, position, title, window_min_s, window_max_s) "
            "VALUES (1, 1, 'Pre-release', 0, 0)");
        v20->exec(
            "INSERT INTO items (id, release_id, phase, position, slug, title, description, "
            "state, updated_at) VALUES (7, 1, 1, 1, 'tests', 'Tests pass', '', 'blocked', 1)");
        v20->exec(
            "INSERT INTO outbox (id, dedupe_key, channel_id, method, body, state, created_at) "
            "VALUES (3, 'k', 'C1', 'chat.postMessage', '{}', 'failed', 1)");
        v20->exec(
            "INSERT INTO checkpoints (release_id, number, offset_s, due_at) "
            "VALUES (1, 1, 3600, 3601)");
        REQUIRE(table_text(*v20, "items").find("state IN (") != std::string::npos);
        REQUIRE(builds_temporary_tree(*v20, "UPDATE items SET state = 'done' WHERE id = 7"));
    }
    storage::sqlite::store migrated(db.path());
    SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
    CHECK(raw.execAndGet("PRAGMA user_version").getInt() == storage::sqlite::schema_version());
    CHECK(raw.execAndGet("PRAGMA integrity_check").getString() == "ok");
    for (const char* table : {"releases", "items", "outbox", "checkpoints"}) {
        INFO(table);
        CHECK(table_text(raw, table).find(" IN (") == std::string::npos);
    }
    CHECK_FALSE(builds_temporary_tree(raw, "UPDATE items SET state = 'done' WHERE id = 7"));
    CHECK_FALSE(builds_temporary_tree(
        raw,
        "INSERT INTO outbox (dedupe_key, channel_id, method, body, created_at) "
        "VALUES ('k2', 'C1', 'chat.postMessage', '{}', 2)"));
    CHECK_FALSE(builds_temporary_tree(raw, "UPDATE releases SET status = 'finished' WHERE id = 1"));
    // The rows are as they were, and what was refused still is.
    CHECK(raw.execAndGet("SELECT state FROM items WHERE id = 7").getString() == "blocked");
    CHECK(raw.execAndGet("SELECT state FROM outbox WHERE id = 3").getString() == "failed");
    CHECK_THAT(refusal(raw, "UPDATE items SET state = 'later' WHERE id = 7"),
               Catch::Contains("CHECK constraint failed"));
    CHECK_THAT(refusal(raw, "UPDATE outbox SET state = 'lost' WHERE id = 3"),
               Catch::Contains("CHECK constraint failed"));
    CHECK_THAT(refusal(raw, "UPDATE releases SET status = 'paused' WHERE id = 1"),
               Catch::Contains("CHECK constraint failed"));
    CHECK_THAT(refusal(raw, "UPDATE checkpoints SET answer = 'fine' WHERE number = 1"),
               Catch::Contains("CHECK constraint failed"));
    // Every value the old lists held is still allowed.
    auto allowed = [&](const std::string& table, const std::string& column,
                       std::initializer_list<const char*> values, const std::string& where) {
        for (const char* value : values) {
            INFO(table << "." << column << " = " << value);
            CHECK(refusal(raw, "UPDATE " + table + " SET " + column + " = '" + value + "' WHERE " +
                                   where)
                      .empty());
        }
    };
    allowed("releases", "status", {"finished", "aborted", "active"}, "id = 1");
    allowed("items", "state", {"open", "done", "skipped", "blocked"}, "id = 7");
    allowed("outbox", "state", {"pending", "sending", "sent", "failed"}, "id = 3");
    allowed("checkpoints", "answer", {"healthy", "investigating", "rolled_back", "none"},
            "number = 1");
    // A new database has the same constraints.
    temp_db fresh;
    { storage::sqlite::store s(fresh.path()); }
    SQLite::Database created(fresh.path(), SQLite::OPEN_READONLY);
    for (const char* table : {"releases", "items", "outbox", "checkpoints"}) {
        INFO(table);
        CHECK(table_text(created, table) == table_text(raw, table));
    }
}

}  // namespace storage_migrations_test
