// The store on real SQLite files: reopening, atomic commands, constraints, the
// outbox and applied envelopes; and the router's transactions end to end through the store.
#include "storage/sqlite/store.hpp"

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "commands/apply.hpp"
#include "fixture.hpp"
#include "storage/sqlite/checkpointer.hpp"

using namespace relbot;
using relbot::test::count;
using relbot::test::reply_text;
using relbot::test::router_fixture;
using relbot::test::temp_db;

TEST_CASE("timeline ids are unique across releases and in order within each", "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    REQUIRE(f.run("start v1.0", "C1").changed);
    REQUIRE(f.run("start v2.0", "C2").changed);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(f.run("note 1.1 one " + std::to_string(i), "C1").changed);
        REQUIRE(f.run("note 1.1 two " + std::to_string(i), "C2").changed);
    }
    SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("SELECT count(DISTINCT id) = count(*) FROM audit").getInt() == 1);
    for (const char* channel : {"C1", "C2"}) {
        auto id = f.store.active_release_view(channel)->id;
        auto timeline = f.store.audit_for(id);
        REQUIRE(timeline.size() == 5);
        CHECK(timeline[2].note == (std::string(channel) == "C1" ? "one 0" : "two 0"));
        CHECK(timeline[4].note.ends_with(" 2"));
    }
}

TEST_CASE("a started release survives closing and reopening the database", "[storage]") {
    temp_db db;
    {
        router_fixture f(db.path());
        auto out = f.run("start v1.0");
        CHECK(out.changed);
        CHECK_FALSE(out.refused);
    }
    storage::sqlite::store reopened(db.path());
    auto r = reopened.active_release("C1");
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

    auto audit = reopened.audit_for(r->id);
    REQUIRE(audit.size() == 2);
    CHECK(audit[0].action == "release.started");
    CHECK(audit[0].actor == "U1");
    CHECK(audit[1].action == "phase.entered");

    // What a claimer is handed: the announcement first (the status message goes to the same
    // channel after it).
    auto outbox = reopened.claim(1795669300, 60, "test", 10);
    REQUIRE(outbox.size() == 1);
    CHECK(outbox[0].dedupe_key == "release-started:" + std::to_string(r->id));
    CHECK(outbox[0].to == checklist::destination::channel("C1"));
    CHECK(outbox[0].state == storage::outbox_state::sending);
    reopened.mark_sent(outbox[0].id, "test", "1.1", 1795669301);
    auto status = reopened.claim(1795669300, 60, "test", 10);
    REQUIRE(status.size() == 1);
    CHECK(status[0].dedupe_key == "status:" + std::to_string(r->id));
    CHECK(status[0].kind == checklist::message_kind::status);
    CHECK(outbox[0].body.find("v1.0") != std::string::npos);
}

TEST_CASE("a failure in the middle of a command leaves nothing behind", "[storage]") {
    temp_db db;
    {
        storage::sqlite::store s(db.path());
        checklist::template_library lib;
        auto r = checklist::make_release(*lib.find("standard"), "C1", "v1.0", "U1", 100);
        try {
            storage::sqlite::store::transaction tx(s);
            s.insert_release(r);
            s.append_audit({r.id, 100, "U1", "release.started", std::nullopt, "", "active", ""});
            s.enqueue({"release-started:x", r.id, checklist::destination::channel("C1"),
                       "chat.postMessage", "{}", checklist::message_kind::announcement},
                      100);
            throw std::runtime_error("crash half-way");
        } catch (const std::runtime_error&) {
            // expected: the transaction's destructor rolled everything back
        }
        CHECK_FALSE(s.active_release("C1"));
    }
    for (const char* table : {"releases", "phases", "items", "audit", "outbox"}) {
        CHECK(count(db.path(), table) == 0);
    }
}

TEST_CASE("one active release per channel, and channels run side by side", "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    CHECK(f.run("start v1.0").changed);

    auto refused = f.run("start v2.0");
    CHECK(refused.refused);
    CHECK_FALSE(refused.changed);
    CHECK(reply_text(refused).find("already active") != std::string::npos);
    CHECK(count(db.path(), "releases") == 1);

    CHECK(f.run("start v2.0", "C2").changed);
    CHECK(f.store.active_release("C1")->version == "v1.0");
    CHECK(f.store.active_release("C2")->version == "v2.0");

    // The store itself refuses a second active release even if a caller skipped the check.
    checklist::template_library lib;
    auto dup = checklist::make_release(*lib.find("standard"), "C1", "v3", "U1", 0);
    storage::sqlite::store::transaction tx(f.store);
    CHECK_THROWS_AS(f.store.insert_release(dup), storage::duplicate_release);
}

TEST_CASE("bad input and unknown templates change nothing", "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    auto unknown = f.run("start v1 template nope");
    CHECK(unknown.refused);
    CHECK(reply_text(unknown).find("`standard`") != std::string::npos);
    auto bad = f.run("start");
    CHECK(bad.refused);
    auto status = f.run("status");
    CHECK(status.refused);
    CHECK(reply_text(status).find("no active release") != std::string::npos);
    for (const char* table : {"releases", "audit", "outbox"}) {
        CHECK(count(db.path(), table) == 0);
    }
}

TEST_CASE("the outbox never queues the same key twice and records delivery", "[storage]") {
    temp_db db;
    storage::sqlite::store s(db.path());
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
    temp_db db;
    storage::sqlite::store s(db.path());
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

TEST_CASE("an applied envelope's reply is kept for its redelivery", "[storage]") {
    temp_db db;
    {
        storage::sqlite::store s(db.path());
        CHECK_FALSE(s.applied_reply("envelope:e1"));
        storage::sqlite::store::transaction tx(s);
        s.record_applied("envelope:e1", R"({"text":"done"})", 5);
        tx.commit();
    }
    storage::sqlite::store s(db.path());
    CHECK(s.applied_reply("envelope:e1") == R"({"text":"done"})");
}

TEST_CASE("a database locked by another process gives busy_error, not a hang", "[storage]") {
    temp_db db;
    storage::sqlite::store s(db.path());
    SQLite::Database other(db.path(), SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    CHECK_THROWS_AS(storage::sqlite::store::transaction(s), storage::busy_error);
    other.exec("ROLLBACK");
    storage::sqlite::store::transaction tx(s);
    tx.commit();
}

namespace {

// Every row of every table, as text: "exactly as before" means this is unchanged.
std::string dump_all(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    std::string out;
    for (const char* table :
         {"releases", "phases", "items", "audit", "outbox", "applied_envelopes"}) {
        SQLite::Statement q(db, std::string("SELECT * FROM ") + table + " ORDER BY 1");
        out += std::string("## ") + table + "\n";
        while (q.executeStep()) {
            for (int c = 0; c < q.getColumnCount(); ++c) {
                out += q.getColumn(c).isNull() ? "NULL" : q.getColumn(c).getString();
                out += "|";
            }
            out += "\n";
        }
    }
    return out;
}

}  // namespace

TEST_CASE("an exception in the middle of any command leaves the database exactly as before",
          "[storage]") {
    temp_db db;
    router_fixture f(db.path());
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
    for (const char* trigger :
         {"BEFORE INSERT ON audit", "AFTER INSERT ON audit", "BEFORE INSERT ON outbox"}) {
        for (const auto& text :
             std::string(trigger).find("outbox") != std::string::npos ? announcing : all) {
            INFO(trigger << " / " << text);
            if (text == "start v2") {
                // `start` only works in a channel without an active release.
                REQUIRE(f.run("start v2", "C9").changed);
                REQUIRE(f.run("abort reset", "C9").changed);
            }
            auto before = dump_all(db.path());
            {
                SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
                raw.exec(std::string("CREATE TRIGGER inject ") + trigger +
                         " BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
            }
            auto channel = text == "start v2" ? "C9" : "C1";
            CHECK_THROWS(f.run(text, channel));
            {
                SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
                raw.exec("DROP TRIGGER inject");
            }
            CHECK(dump_all(db.path()) == before);
        }
    }
    // Without the failure, each of them does change the database.
    for (const auto& text : all) {
        INFO(text);
        auto channel = text == "start v2" ? "C9" : "C1";
        storage::sqlite::store::transaction tx(f.store);
        commands::context ctx{f.store, f.templates, f.admins};
        auto out = commands::route({"T1", channel, "U1", text, 1795669235, "", ""}, ctx);
        CHECK(out.changed);
        // Not committed: the next command starts from the same state.
    }
}

TEST_CASE("owners-from copies the owners of items with the same slug from an earlier release here",
          "[storage]") {
    temp_db db;
    router_fixture f(db.path());
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
    auto r = f.store.active_release("C1");
    REQUIRE(r);
    CHECK(r->phases[0].items[0].owner == "U7");
    CHECK(r->phases[2].items[0].owner == "U8");
    CHECK_FALSE(r->phases[2].items[0].due_at);  // owners are copied, due times are not
    CHECK(r->phases[0].items[1].owner.empty());

    // Another channel's releases are not a source.
    CHECK(f.run("start v3 owners-from v1", "C2").refused);
}

TEST_CASE("list shows the channel's releases newest first", "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    REQUIRE(f.run("start v1").changed);
    REQUIRE(f.run("finish force done").changed);
    REQUIRE(f.run("start v2").changed);
    auto releases = f.store.list_releases("C1", 10);
    REQUIRE(releases.size() == 2);
    CHECK(releases[0].version == "v2");
    CHECK(releases[0].status == checklist::release_status::active);
    CHECK(releases[0].current_phase_title == "Pre-Release Checks");
    CHECK(releases[0].phase_count == 6);
    CHECK(releases[1].status == checklist::release_status::finished);
    auto text = f.run("list").reply.text;
    CHECK(text.find("2") != std::string::npos);
    CHECK(f.store.list_releases("C2", 10).empty());
}

TEST_CASE("every cause of a message has its own dedupe key, so none is dropped as a duplicate",
          "[storage]") {
    temp_db db;
    router_fixture f(db.path());
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

    SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
    auto rows = raw.execAndGet("SELECT COUNT(*) FROM outbox").getInt();
    auto distinct = raw.execAndGet("SELECT COUNT(DISTINCT dedupe_key) FROM outbox").getInt();
    CHECK(rows == distinct);
    // 2 starts × (announcement + status) + 3 blocks + 2 rollbacks + 1 phase + 2 handoffs (each
    // posted and sent by DM) + 1 end
    CHECK(rows == 4 + 3 + 2 + 1 + 2 * 2 + 1);
    CHECK(raw.execAndGet("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'item-blocked:%'")
              .getInt() == 3);
}

TEST_CASE("applied envelopes older than the cut-off are forgotten, newer ones kept", "[storage]") {
    temp_db db;
    storage::sqlite::store s(db.path());
    {
        storage::sqlite::store::transaction tx(s);
        CHECK(s.record_applied("envelope:old", "{}", 100));
        CHECK(s.record_applied("envelope:new", "{}", 1000));
        // Recorded once: a second record changes nothing, and says so.
        CHECK_FALSE(s.record_applied("envelope:new", R"({"text":"second"})", 2000));
        CHECK(s.applied_reply("envelope:new") == "{}");
        tx.commit();
    }
    CHECK(s.forget_applied_before(500) == 1);
    CHECK_FALSE(s.applied_reply("envelope:old"));
    CHECK(s.applied_reply("envelope:new"));
    CHECK(s.forget_applied_before(500) == 0);
}

TEST_CASE("the checkpointer moves the log into the database file, and the log is reused, not grown",
          "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    // As relbot runs: only the engine's checkpointer moves the log.
    f.store.start_housekeeping(std::chrono::milliseconds(5));
    REQUIRE(f.store.checkpoints() != nullptr);
    const auto& checkpoints = *f.store.checkpoints();
    auto wal_bytes = [&] { return std::filesystem::file_size(db.path() + "-wal"); };
    auto write_notes = [&](int n) {
        for (int i = 0; i < n; ++i) {
            REQUIRE(f.run("note 1.1 written while the log is checkpointed " + std::to_string(i))
                        .changed);
        }
    };

    REQUIRE(f.run("start v1.0").changed);
    write_notes(60);
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

TEST_CASE("a commit says whether it changed more than the timeline", "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    REQUIRE(f.run("start v1.0").changed);
    CHECK(f.store.last_commit_changed_state());  // a release, an announcement, a status message
    REQUIRE(f.run("note 1.1 waiting on the DBA").changed);
    CHECK_FALSE(f.store.last_commit_changed_state());  // one audit row: nothing to announce
    REQUIRE(f.run("check 1.1").changed);
    CHECK(f.store.last_commit_changed_state());  // the item, and the status message is behind
    {
        storage::sqlite::store::transaction tx(f.store);
        f.store.record_applied("event:Ev1", "{}", 1000);
        tx.commit();
    }
    CHECK_FALSE(f.store.last_commit_changed_state());
    {
        // Any other table counts, whatever its kind (users is a WITHOUT ROWID table).
        storage::sqlite::store::transaction tx(f.store);
        f.store.remember_user("U1", 3600, "Pat Lee", 1000);
        tx.commit();
    }
    CHECK(f.store.last_commit_changed_state());
}

TEST_CASE(
    "a commit by another program is seen by the next write at once, and by reads within "
    "the recheck interval",
    "[storage]") {
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
    temp_db db;
    router_fixture f(db.path());
    REQUIRE(f.run("start v1.0", "C1", "U1").changed);
    REQUIRE(f.run("assign 1.1 <@U2>", "C1", "U1").changed);
    REQUIRE(f.run("handoff <@U3> <@U4>", "C1", "U1").changed);
    auto wanted = f.store.people_needing_name(1000, 86400);
    std::sort(wanted.begin(), wanted.end());
    CHECK(wanted == std::vector<std::string>{"U1", "U2", "U3", "U4"});

    // A time zone looked up before names were kept (migration 10) does not count as a name.
    {
        SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
        raw.exec("INSERT INTO users (user_id, tz_offset, fetched_at) VALUES ('U1', 3600, 1000)");
    }
    CHECK_FALSE(f.store.name_looked_up("U1", 1000, 86400));
    f.store.remember_user("U1", 3600, "Pat Lee", 1000);
    f.store.remember_user("U2", 0, "", 1000);  // users.info gave no name: the ID is shown
    CHECK(f.store.name_looked_up("U1", 1000, 86400));
    CHECK(f.store.name_looked_up("U2", 1000, 86400));
    CHECK_FALSE(f.store.name_looked_up("U3", 1000, 86400));
    wanted = f.store.people_needing_name(1000, 86400);
    std::sort(wanted.begin(), wanted.end());
    CHECK(wanted == std::vector<std::string>{"U3", "U4"});
    CHECK(f.store.user_names() == std::unordered_map<std::string, std::string>{{"U1", "Pat Lee"}});
    CHECK(f.store.time_zone_offset("U1") == 3600);
    // A day later, everyone is looked up again.
    CHECK(f.store.people_needing_name(1000 + 86401, 86400).size() == 4);
}

TEST_CASE("the people of a release that ended within the day are still looked up for a name",
          "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    REQUIRE(f.run("start v1.0", "C1", "U1").changed);
    REQUIRE(f.run("assign 1.1 <@U2>", "C1", "U1").changed);
    REQUIRE(f.run("abort changed our minds", "C1", "U1").changed);
    SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
    auto ended = raw.execAndGet("SELECT ended_at FROM releases").getInt64();
    auto wanted = f.store.people_needing_name(ended + 60, 86400);
    std::sort(wanted.begin(), wanted.end());
    CHECK(wanted == std::vector<std::string>{"U1", "U2"});  // for the report and export
    CHECK(f.store.people_needing_name(ended + 86401, 86400).empty());
}

TEST_CASE("a slash command's channel name is remembered, and a rename replaces it", "[storage]") {
    temp_db db;
    router_fixture f(db.path());
    CHECK(f.store.channel_name("C1").empty());
    {
        storage::sqlite::store::transaction tx(f.store);
        commands::context ctx{f.store, f.templates, f.admins};
        commands::route({"T1", "C1", "U1", "start v1.0", 1795669235, "", "release-demo"}, ctx);
        tx.commit();
    }
    CHECK(f.store.channel_name("C1") == "release-demo");
    {
        storage::sqlite::store::transaction tx(f.store);
        commands::context ctx{f.store, f.templates, f.admins};
        commands::route({"T1", "C1", "U1", "note 1.1 renamed", 1795669240, "", "releases"}, ctx);
        tx.commit();
    }
    CHECK(f.store.channel_name("C1") == "releases");
    CHECK(count(db.path(), "channels") == 1);
}
