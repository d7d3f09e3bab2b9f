// Monitoring checkpoints and snoozes on both engines (a SQLite file and a PostgreSQL database,
// engines.hpp), with the same test code: saved by save() for what the change log names, read
// back with the release (also from the cached view, and by a new connection). And, SQLite's
// alone, a file of schema version 12 migrated with its releases intact.
#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "checklist/checkpoints.hpp"
#include "engines.hpp"
#include "fixture.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/sqlite/store.hpp"

namespace storage_checkpoints_store_test {

using namespace relbot;
using namespace std::chrono_literals;
using relbot::test::engine_router;
using relbot::test::router_fixture;
using relbot::test::temp_db;

namespace {

constexpr std::int64_t now = 1795669235;

// Forces the channel's release out of its deployment phase (from phase 1 to phase 3).
void leave_deployment(engine_router& f) {
    REQUIRE(f.run("next force a").changed);
    REQUIRE(f.run("next force b").changed);
}

// Loads the active release, applies `change`, saves it in a transaction of its own.
template <typename Change>
checklist::release change(storage::engine& s, Change&& change) {
    auto r = *s.releases().load_release(s.releases().active_release_view("C1")->id);
    checklist::change_log log;
    change(r, log);
    auto tx = s.work().begin();
    s.releases().save(r, log, "U1", now + 7200);
    tx->commit();
    return r;
}

}  // namespace

TEST_CASE("checkpoints and a snooze are saved and read back with the release", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    std::int64_t id = 0;
    checklist::release saved;
    {
        engine_router f(db);
        REQUIRE(f.run("start v1.0").changed);
        leave_deployment(f);
        saved = change(f.store, [](checklist::release& r, checklist::change_log& log) {
            REQUIRE(checklist::create_checkpoints(r, {1h, 4h}, log));
            checklist::mark_checkpoint_posted(r, 1, now + 3600, log);
            checklist::mark_checkpoint_reminded(r, 1, now + 5 * 3600, log);
            REQUIRE_FALSE(checklist::answer_checkpoint(r, 1,
                                                       checklist::checkpoint_answer::investigating,
                                                       {"U1", false}, now + 6 * 3600, log));
            REQUIRE_FALSE(checklist::snooze_item(r, {2, 0}, now + 9000, {"U1", false}, now, log));
        });
        id = saved.id;
        // The cached view has them too.
        auto view = f.store.releases().active_release_view("C1");
        REQUIRE(view);
        CHECK(view->checkpoints == saved.checkpoints);
        CHECK(view->phases[2].items[0].snoozed_until == now + 9000);
        auto timeline = f.store.audit().audit_for(id);
        CHECK(std::any_of(timeline.begin(), timeline.end(), [](const auto& e) {
            return e.action == "checkpoint.answered" && e.note == "Checkpoint +1h: Investigating";
        }));
        CHECK(std::any_of(timeline.begin(), timeline.end(),
                          [](const auto& e) { return e.action == "item.snoozed"; }));
    }
    auto reopened = db.connect();
    auto r = reopened->releases().load_release(id);
    REQUIRE(r);
    REQUIRE(r->checkpoints.size() == 2);
    CHECK(r->checkpoints == saved.checkpoints);
    const auto& c = r->checkpoints[0];
    CHECK(c.number == 1);
    CHECK(c.offset_s == 3600);
    CHECK(c.posted_at == now + 3600);
    CHECK(c.answer == checklist::checkpoint_answer::investigating);
    CHECK(c.answered_by == "U1");
    CHECK(c.answered_at == now + 6 * 3600);
    CHECK(c.reminders == 1);
    CHECK(c.last_reminded_at == now + 5 * 3600);
    CHECK_FALSE(r->checkpoints[1].posted_at);
    CHECK(r->phases[2].items[0].snoozed_until == now + 9000);
    CHECK(checklist::current_gate(*r, now).checkpoint_hold == std::nullopt);  // not in phase 5

    // A later answer replaces the row's answer, not adds one.
    change(reopened->engine(), [](checklist::release& rel, checklist::change_log& log) {
        REQUIRE_FALSE(checklist::answer_checkpoint(rel, 1, checklist::checkpoint_answer::healthy,
                                                   {"U1", false}, now + 7 * 3600, log));
    });
    CHECK(db.scalar("SELECT COUNT(*) FROM checkpoints") == 2);
    CHECK(db.rows("SELECT answer FROM checkpoints WHERE number = 1") == "healthy|\n");
    CHECK(reopened->reminders().checkpoint_releases() == std::vector<std::int64_t>{id});
}

TEST_CASE("releases past their deployment phase are the ones the scheduler looks at", "[storage]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    engine_router f(db);
    auto& reminders = f.store.reminders();
    REQUIRE(f.run("start v1.0").changed);
    CHECK(reminders.checkpoint_releases().empty());
    REQUIRE(f.run("next force a").changed);  // in "Deployment Steps"
    CHECK(reminders.checkpoint_releases().empty());
    REQUIRE(f.run("next force b").changed);  // past it
    CHECK(reminders.checkpoint_releases().size() == 1);
    REQUIRE(f.run("abort done").changed);
    CHECK(reminders.checkpoint_releases().empty());
}

TEST_CASE("a database of schema version 12 is migrated to 13 with its releases intact",
          "[storage]") {
    // SQLite only: a SQLite file's own migrations (PostgreSQL's schema has none of these).
    temp_db db;
    std::int64_t id = 0;
    {
        router_fixture f(db.path());
        REQUIRE(f.run("start v1.0").changed);
        REQUIRE(f.run("assign 1.1 <@U2>").changed);
        id = f.store.active_release_view("C1")->id;
    }
    temp_db old;
    {
        auto v12 = storage::sqlite::open_database(old.path(), 12);
        CHECK_FALSE(v12->tableExists("checkpoints"));
        v12->exec("ATTACH DATABASE '" + db.path() + "' AS now");
        v12->exec(
            "INSERT INTO releases SELECT id, channel_id, version, template_name, manager_id, "
            "status, current_phase, started_at, ended_at, oncall_id, pm_id, handoff_at, "
            "status_ts, status_version, status_sent_version, status_updated_ms, "
            "handoff_accepted_at FROM now.releases");
        v12->exec("INSERT INTO phases SELECT * FROM now.phases");
        v12->exec(
            "INSERT INTO items SELECT id, release_id, phase, position, slug, title, description, "
            "state, state_note, owner_id, due_at, updated_at, escalated_at FROM now.items");
        v12->exec("INSERT INTO audit SELECT * FROM now.audit");
        v12->exec("DETACH DATABASE now");
    }
    storage::sqlite::store migrated(old.path());
    {
        SQLite::Database raw(old.path(), SQLite::OPEN_READONLY);
        CHECK(raw.execAndGet("PRAGMA user_version").getInt() == storage::sqlite::schema_version());
        CHECK(raw.tableExists("checkpoints"));
    }
    auto r = migrated.load_release(id);
    REQUIRE(r);
    CHECK(r->version == "v1.0");
    CHECK(r->phases[0].items[0].owner == "U2");
    CHECK_FALSE(r->phases[0].items[0].snoozed_until);
    CHECK(r->checkpoints.empty());
}

}  // namespace storage_checkpoints_store_test
