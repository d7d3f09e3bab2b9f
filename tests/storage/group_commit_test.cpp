// Group commit as the bot runs it (bot/app.cpp's dispatcher): one unit of work for a batch of
// inputs, each applied through the shell in a savepoint of its own, then one commit, then the
// acknowledgements. On both engines (a SQLite file and a PostgreSQL database, engines.hpp):
// what a failing input leaves, what a crash between the commit and the acks leaves, and the
// order of each channel's inputs within a batch.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include "checklist/rules.hpp"
#include "checklist/template.hpp"
#include "commands/apply.hpp"
#include "engines.hpp"

namespace storage_group_commit_test {

using namespace relbot;

namespace {

constexpr checklist::epoch_seconds t0 = 1795669235;

commands::request typed(const std::string& text, const std::string& channel) {
    return {"T1", channel, "U1", text, t0, "", ""};
}

// A batch: begin, apply each, commit, as the dispatcher does (a batch of commands without a
// savepoint each, when asked).
struct batch {
    explicit batch(storage::engine& e, bool without_savepoints = false)
        : tx(without_savepoints ? e.work().begin_without_savepoints(deadline())
                                : e.work().begin_until(deadline())) {}
    static storage::lock_deadline deadline() {
        return std::chrono::steady_clock::now() + std::chrono::seconds(2);
    }
    std::unique_ptr<storage::write_transaction> tx;
};

const checklist::item& item_1_1(const checklist::release& r) {
    return r.phases.at(0).items.at(0);
}

struct bot_like {
    explicit bot_like(const test::fresh_store& fresh)
        : connection(fresh.connect()),
          store(connection->engine()),
          shell(store, templates, admins) {}
    commands::applied run(const std::string& text,
                          const std::string& channel,
                          const std::string& envelope) {
        return shell.apply_command(typed(text, channel), "envelope:" + envelope);
    }
    // A release in C1 (v1.0) and one in C2 (v2.0), each started in a transaction of its own.
    void start_two() {
        run("start v1.0", "C1", "s1");
        run("start v2.0", "C2", "s2");
    }
    // An input in `channel` that makes `change` to its active release and saves it, does
    // `more` with the release's id, then throws "the input broke halfway" (its savepoint rolls
    // back alone).
    void fail_in(const std::string& channel,
                 const std::string& envelope,
                 const std::function<void(checklist::release&, checklist::change_log&)>& change,
                 const std::string& channel_name = "",
                 const std::function<void(std::int64_t)>& more = {}) {
        commands::input in;
        in.channel = channel;
        in.channel_name = channel_name;
        in.actor = "U1";
        in.now = t0;
        in.applied_key = "envelope:" + envelope;
        auto failing = [&](const commands::snapshot& active, const commands::lookups&) {
            auto r = *active;
            checklist::change_log log;
            change(r, log);
            store.releases().save(r, log, "U1", t0);
            if (more) {
                more(r.id);
            }
            throw std::runtime_error("the input broke halfway");
            return commands::decision{};
        };
        CHECK_THROWS_WITH(shell.apply(in, failing), "the input broke halfway");
    }
    // The same in C2, checking its 1.1.
    void fail_in_c2(const std::string& envelope,
                    const std::string& channel_name = "",
                    const std::function<void(std::int64_t)>& more = {}) {
        fail_in(
            "C2", envelope,
            [](checklist::release& r, checklist::change_log& log) {
                checklist::check_item(r, {0, 0}, "", log);
            },
            channel_name, more);
    }
    checklist::template_library templates;
    std::vector<std::string> admins;
    std::unique_ptr<test::store_connection> connection;
    storage::engine& store;
    commands::shell shell;
};

}  // namespace

TEST_CASE("a batch in which one input fails keeps the others and leaves nothing of the failed one",
          "[storage][group-commit]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    bot_like bot(db);
    bot.start_two();

    {
        batch b(bot.store);
        auto first = bot.run("check 1.1", "C1", "e1");
        CHECK(first.changed);
        // The second input changes C2's release (and its channel's name, written first),
        // writes a timeline row, queues a message, then fails: its savepoint rolls back alone.
        bot.fail_in_c2("e2", "renamed", [&](std::int64_t release) {
            bot.store.audit().append_audit(
                {release, t0, "U1", "item.noted", std::nullopt, "", "", "rolled back"});
            bot.store.outbox().enqueue(
                {"failed-input-message", release, checklist::destination::channel("C2"),
                 "chat.postMessage", R"({"text":"never"})", checklist::message_kind::announcement},
                t0);
        });
        // What the failed input staged is gone from the engine's view already.
        CHECK(item_1_1(*bot.store.releases().active_release("C2")).state ==
              checklist::item_state::open);
        auto third = bot.run("note 1.2 after the failure", "C1", "e3");
        CHECK(third.changed);
        // The engine does not believe what was rolled back: the name is written again, and
        // C2's next timeline row takes the id the rolled-back one had.
        auto renamed = typed("note 1.2 renamed", "C2");
        renamed.channel_name = "renamed";
        CHECK(bot.shell.apply_command(renamed, "envelope:e4").changed);
        b.tx->commit();
    }

    // The same engine (its cache) and a fresh one (the store itself) agree.
    auto fresh = db.connect();
    for (auto* e : {&bot.store, &fresh->engine()}) {
        auto c1 = e->releases().active_release("C1");
        REQUIRE(c1);
        CHECK(item_1_1(*c1).state == checklist::item_state::done);
        auto c2 = e->releases().active_release("C2");
        REQUIRE(c2);
        CHECK(item_1_1(*c2).state == checklist::item_state::open);
    }
    CHECK(db.scalar("SELECT COUNT(*) FROM outbox WHERE dedupe_key = 'failed-input-message'") == 0);
    CHECK(db.scalar("SELECT COUNT(*) FROM applied_envelopes WHERE key = 'envelope:e2'") == 0);
    CHECK(db.scalar("SELECT COUNT(*) FROM applied_envelopes WHERE key IN "
                    "('envelope:e1', 'envelope:e3')") == 2);
    CHECK(db.scalar("SELECT COUNT(*) FROM audit WHERE note = 'after the failure'") == 1);
    CHECK(db.scalar("SELECT COUNT(*) FROM audit WHERE note = 'rolled back'") == 0);
    CHECK(db.scalar("SELECT COUNT(*) FROM channels WHERE channel_id = 'C2' AND name = "
                    "'renamed'") == 1);
    // The failed envelope, delivered again, is applied as new (it was never recorded).
    auto again = bot.run("check 1.1", "C2", "e2");
    CHECK_FALSE(again.redelivered);
    CHECK(again.changed);
}

TEST_CASE(
    "a crash between a batch's commit and its acks loses nothing and redeliveries get "
    "their first replies",
    "[storage][group-commit]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    std::vector<std::string> first_replies;
    long long audit_rows = 0;
    {
        bot_like bot(db);
        bot.run("start v1.0", "C1", "s1");
        batch b(bot.store);
        first_replies.push_back(bot.run("check 1.1", "C1", "e1").ack_json);
        first_replies.push_back(bot.run("note 1.2 kept", "C1", "e2").ack_json);
        first_replies.push_back(bot.run("status", "C1", "e3").ack_json);
        b.tx->commit();
        audit_rows = db.scalar("SELECT COUNT(*) FROM audit");
        // The process dies here: no ack was written; the engine is not closed cleanly.
    }
    bot_like restarted(db);
    batch b(restarted.store);
    auto e1 = restarted.run("check 1.1", "C1", "e1");
    auto e2 = restarted.run("note 1.2 kept", "C1", "e2");
    b.tx->commit();
    CHECK(e1.redelivered);
    CHECK(e1.ack_json == first_replies[0]);
    CHECK(e2.redelivered);
    CHECK(e2.ack_json == first_replies[1]);
    // Plain replies were recorded as their text alone (a JSON string, not the whole payload).
    CHECK(db.scalar("SELECT COUNT(*) FROM applied_envelopes WHERE key IN ('envelope:e1', "
                    "'envelope:e2') AND reply LIKE '\"%'") == 2);
    CHECK(db.scalar("SELECT COUNT(*) FROM audit") == audit_rows);
    auto c1 = restarted.store.releases().active_release("C1");
    REQUIRE(c1);
    CHECK(item_1_1(*c1).state == checklist::item_state::done);
}

TEST_CASE(
    "a batch begun without savepoints is spoiled by an input undone after it wrote, and applied "
    "again with them gives what savepoints give",
    "[storage][group-commit]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    bot_like bot(db);
    bot.start_two();
    std::vector<std::string> replies;
    {
        auto tx = batch(bot.store, true).tx;
        replies.push_back(bot.run("check 1.1", "C1", "e1").ack_json);
        // An input that fails before it writes anything leaves nothing to undo.
        bot.fail_in(
            "C2", "e0", [](checklist::release&, checklist::change_log&) {}, "");
        CHECK_FALSE(bot.store.work().spoiled());
        bot.fail_in_c2("e2");
        if (kind == test::engine_kind::sqlite) {
            // Its writes are still in the unit: it must not be committed.
            CHECK(bot.store.work().spoiled());
            CHECK_THROWS(tx->commit());
        } else {
            CHECK_FALSE(bot.store.work().spoiled());  // PostgreSQL keeps its savepoints
        }
        if (bot.store.work().spoiled()) {
            tx.reset();  // the whole try rolled back
            CHECK(item_1_1(*bot.store.releases().active_release("C1")).state ==
                  checklist::item_state::open);
            replies.clear();
            tx = batch(bot.store).tx;
            replies.push_back(bot.run("check 1.1", "C1", "e1").ack_json);
            bot.fail_in_c2("e2");
            CHECK_FALSE(bot.store.work().spoiled());
        }
        replies.push_back(bot.run("note 1.2 after the failure", "C1", "e3").ack_json);
        tx->commit();
    }
    CHECK_FALSE(bot.store.work().spoiled());  // until the unit ends, not after
    auto fresh = db.connect();
    for (auto* e : {&bot.store, &fresh->engine()}) {
        CHECK(item_1_1(*e->releases().active_release("C1")).state == checklist::item_state::done);
        CHECK(item_1_1(*e->releases().active_release("C2")).state == checklist::item_state::open);
    }
    CHECK(db.scalar("SELECT COUNT(*) FROM applied_envelopes WHERE key IN ('envelope:e1', "
                    "'envelope:e3')") == 2);
    CHECK(db.scalar("SELECT COUNT(*) FROM applied_envelopes WHERE key = 'envelope:e2'") == 0);
    // A redelivery within a unit without savepoints: the first applies, the second's second
    // run spoils the unit (SQLite), and applied again each gets what it got the first time.
    {
        auto tx = batch(bot.store, true).tx;
        auto first = bot.run("note 1.3 once", "C1", "e5");
        auto again = bot.run("note 1.3 once", "C1", "e5");
        CHECK(again.redelivered);
        CHECK(again.ack_json == first.ack_json);
        // Its second run wrote the note again before it found its record.
        CHECK(bot.store.work().spoiled() == (kind == test::engine_kind::sqlite));
        if (bot.store.work().spoiled()) {
            tx.reset();
            tx = batch(bot.store).tx;
            CHECK_FALSE(bot.run("note 1.3 once", "C1", "e5").redelivered);
            CHECK(bot.run("note 1.3 once", "C1", "e5").redelivered);
        }
        tx->commit();
    }
    CHECK(db.scalar("SELECT COUNT(*) FROM audit WHERE note = 'once'") == 1);
}

// The dispatcher's own order (writes in arrival order, reads after the batch's commit) is
// checked end to end in connection_test.cpp; this is the store's part: savepoints one after
// another in one transaction see each other's writes and keep their order.
TEST_CASE("inputs applied one after another in one batch see each other's writes in order",
          "[storage][group-commit]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    bot_like bot(db);
    bot.start_two();
    batch b(bot.store);
    bot.run("check 1.1", "C1", "a1");
    bot.run("note 1.1 first", "C2", "b1");
    auto seen = bot.run("status", "C1", "a2");  // sees the check before it, in the same batch
    bot.run("uncheck 1.1", "C1", "a3");
    bot.run("note 1.1 second", "C2", "b2");
    b.tx->commit();

    CHECK(seen.ack_json.str().find(":white_check_mark:") != std::string::npos);
    auto c1 = bot.store.releases().active_release("C1");
    REQUIRE(c1);
    CHECK(item_1_1(*c1).state == checklist::item_state::open);  // check, then uncheck
    // C2's notes in the order they were applied.
    CHECK(db.scalar("SELECT COUNT(*) FROM audit a JOIN audit b ON a.release_id = b.release_id "
                    "WHERE a.note = 'first' AND b.note = 'second' AND a.id < b.id") == 1);
}

TEST_CASE(
    "a batch marks a release's status message behind once, even when the input that first "
    "changed the release was rolled back",
    "[storage][group-commit]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    bot_like bot(db);
    bot.start_two();
    auto behind = [&] {
        return db.scalar(
            "SELECT status_version - status_sent_version FROM releases WHERE channel_id = 'C2'");
    };
    auto before = behind();

    {
        batch b(bot.store);
        // The first change to C2's release marks its status message behind, then fails: its
        // savepoint takes the mark back with the rest.
        bot.fail_in_c2("f1");
        // The next changes to it mark it again, and once is enough however many there are.
        CHECK(bot.run("block 1.2 waiting on a vendor", "C2", "f2").changed);
        CHECK(bot.run("unblock 1.2", "C2", "f3").changed);
        CHECK(bot.run("check 1.3", "C2", "f4").changed);
        b.tx->commit();
    }
    CHECK(behind() > before);
    auto fresh = db.connect();
    auto c2 = fresh->engine().releases().active_release("C2");
    REQUIRE(c2);
    CHECK(c2->phases.at(0).items.at(0).state == checklist::item_state::open);
    CHECK(c2->phases.at(0).items.at(2).state == checklist::item_state::done);

    // Sent (the notifier caught up), then one more batch: behind again.
    db.exec("UPDATE releases SET status_sent_version = status_version WHERE channel_id = 'C2'");
    REQUIRE(behind() == 0);
    {
        batch b(bot.store);
        CHECK(bot.run("note 1.3 a note changes only the timeline", "C2", "f5").changed);
        CHECK(bot.run("uncheck 1.3", "C2", "f6").changed);
        b.tx->commit();
    }
    CHECK(behind() > 0);
}

TEST_CASE(
    "in one batch, the inputs after an abort and a new start in a channel act on the new "
    "release, also after an input that ended it was rolled back, and the next batch too",
    "[storage][group-commit]") {
    auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
    INFO(test::name_of(kind));
    test::fresh_store db(kind);
    bot_like bot(db);
    bot.start_two();
    {
        batch b(bot.store);
        CHECK(bot.run("abort the build is broken", "C1", "e1").changed);
        CHECK(bot.run("start v1.1", "C1", "e2").changed);
        CHECK(bot.run("check 1.1", "C1", "e3").changed);
        // An input that aborts v1.1 and then breaks: rolled back alone, v1.1 stays active.
        bot.fail_in(
            "C1", "e4",
            [](checklist::release& r, checklist::change_log& log) {
                r.status = checklist::release_status::aborted;
                log.release = true;
            },
            "",
            [&](std::int64_t) {
                // Aborted, in what the batch sees, until the input fails.
                REQUIRE_FALSE(bot.store.releases().active_release("C1"));
            });
        CHECK(bot.run("check 1.2", "C1", "e5").changed);
        b.tx->commit();
    }
    // What the bot's next command starts from: v1.1, active, as committed.
    auto view = bot.store.releases().active_release_view("C1");
    REQUIRE(view);
    CHECK(view->version == "v1.1");
    CHECK(view->status == checklist::release_status::active);
    CHECK(view->phases.at(0).items.at(1).state == checklist::item_state::done);
    // The next batch, on the connection that wrote, and another connection, see v1.1 with both
    // checks.
    {
        batch b(bot.store);
        CHECK(bot.run("check 1.3", "C1", "e6").changed);
        b.tx->commit();
    }
    auto fresh = db.connect();
    for (auto* e : {&bot.store, &fresh->engine()}) {
        auto c1 = e->releases().active_release("C1");
        REQUIRE(c1);
        CHECK(c1->version == "v1.1");
        for (int i = 0; i < 3; ++i) {
            CHECK(c1->phases.at(0).items.at(i).state == checklist::item_state::done);
        }
    }
    CHECK(db.scalar("SELECT COUNT(*) FROM releases WHERE channel_id = 'C1' AND status = "
                    "'aborted' AND version = 'v1.0'") == 1);
}

// PostgreSQL locks each release by itself, so an input in the middle of a batch can wait for
// another instance's lock (SQLite's one write lock is had before the batch's first input). The
// dispatcher gives each input the batch's deadline: an input still held back then is refused
// ("try again") at once, even when the unit as a whole was begun with a later one, so a batch
// stuck behind another instance's lock is answered by its first command's deadline, not one
// lock timeout later per input.
TEST_CASE(
    "on PostgreSQL, an input that another instance's lock holds back past its deadline is "
    "refused while the lock is still held, and the batch's other inputs are kept",
    "[storage][group-commit]") {
    test::fresh_store db(test::engine_kind::postgres);
    bot_like holder(db);
    holder.start_two();
    bot_like bot(db);
    // Another instance's batch holds C2's release.
    auto held = holder.store.work().begin();
    REQUIRE(holder.run("check 1.1", "C2", "h1").changed);

    std::promise<std::string> outcome;
    std::jthread second([&] {
        try {
            auto tx = bot.store.work().begin_until(std::chrono::steady_clock::now() +
                                                   std::chrono::seconds(60));
            std::string what = bot.run("check 1.1", "C1", "b1").changed ? "kept" : "unchanged";
            bot.shell.give_up_at(std::chrono::steady_clock::now());
            try {
                bot.run("check 1.2", "C2", "b2");
                what += ", applied";
            } catch (const storage::busy_error&) {
                what += ", busy";
            }
            bot.shell.give_up_at(std::nullopt);
            tx->commit();
            outcome.set_value(what);
        } catch (const std::exception& e) {
            outcome.set_value(std::string("failed: ") + e.what());
        }
    });
    auto answer = outcome.get_future();
    // Not refused by then: it waits for the lock, which is let go so that it can go on.
    bool while_held = answer.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
    held->commit();
    CHECK(while_held);
    CHECK(answer.get() == "kept, busy");
    second.join();

    auto fresh = db.connect();
    auto c1 = fresh->engine().releases().active_release("C1");
    auto c2 = fresh->engine().releases().active_release("C2");
    REQUIRE(c1);
    REQUIRE(c2);
    CHECK(item_1_1(*c1).state == checklist::item_state::done);
    CHECK(item_1_1(*c2).state == checklist::item_state::done);  // the holder's
    CHECK(c2->phases.at(0).items.at(1).state == checklist::item_state::open);
    CHECK(db.scalar("SELECT COUNT(*) FROM applied_envelopes WHERE key = 'envelope:b2'") == 0);
    CHECK(db.scalar("SELECT COUNT(*) FROM applied_envelopes WHERE key = 'envelope:b1'") == 1);
}

}  // namespace storage_group_commit_test
