// The PostgreSQL engine's foundations against a real server (tests/pg_cluster.sh): the schema
// is created and migrated once however many instances start together, a database newer than
// the binary is refused naming both versions, and a connection error never shows the password.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pg_database.hpp"
#include "storage/postgres/connection.hpp"
#include "storage/postgres/schema.hpp"
#include "storage/postgres/session.hpp"
#include "support/stall_proxy.hpp"

namespace storage_postgres_schema_test {

using namespace relbot;
using storage::postgres::connection;
using storage::postgres::pg_error;

namespace {

long long count_of(connection& db, const std::string& sql) {
    return db.exec(sql).integer(0, 0);
}

}  // namespace

TEST_CASE("postgres: a new database is migrated to the current schema, and again changes nothing",
          "[storage][postgres]") {
    test::pg_database fresh;
    connection db(fresh.url());
    CHECK(storage::postgres::migrate(db) == 0);
    CHECK(count_of(db, "SELECT version FROM relbot_schema") == storage::postgres::schema_version());
    for (const char* table : {"releases", "phases", "items", "audit", "outbox", "applied_envelopes",
                              "dm_channels", "reminders", "users", "channels", "checkpoints"}) {
        INFO(table);
        CHECK(count_of(db, std::string("SELECT count(*) FROM ") + table) == 0);
    }
    CHECK(storage::postgres::migrate(db) == storage::postgres::schema_version());
    CHECK(count_of(db, "SELECT count(*) FROM relbot_schema") == 1);
}

TEST_CASE("postgres: instances starting together migrate once, the others wait and find it done",
          "[storage][postgres]") {
    test::pg_database fresh;
    constexpr int instances = 4;
    std::vector<int> found(instances, -1);
    std::mutex mutex;
    std::vector<std::string> failures;
    {
        std::vector<std::jthread> starting;
        for (int i = 0; i < instances; ++i) {
            starting.emplace_back([&, i] {
                try {
                    connection db(fresh.url());
                    found[static_cast<std::size_t>(i)] = storage::postgres::migrate(db);
                } catch (const std::exception& e) {
                    std::lock_guard lock(mutex);
                    failures.emplace_back(e.what());
                }
            });
        }
    }
    CHECK(failures == std::vector<std::string>{});
    // Exactly one found an empty database; the others found it migrated.
    CHECK(std::count(found.begin(), found.end(), 0) == 1);
    CHECK(std::count(found.begin(), found.end(), storage::postgres::schema_version()) ==
          instances - 1);
    connection db(fresh.url());
    CHECK(count_of(db, "SELECT count(*) FROM relbot_schema") == 1);
}

TEST_CASE("postgres: a database newer than this relbot is refused, naming both versions",
          "[storage][postgres]") {
    test::pg_database fresh;
    connection db(fresh.url());
    storage::postgres::migrate(db);
    auto newer = storage::postgres::schema_version() + 1;
    db.exec("UPDATE relbot_schema SET version = $1", {newer});
    try {
        storage::postgres::migrate(db);
        FAIL("migrate accepted a newer schema");
    } catch (const std::runtime_error& e) {
        std::string message = e.what();
        CHECK(message.find("schema version " + std::to_string(newer)) != std::string::npos);
        CHECK(message.find("this relbot (" + std::to_string(storage::postgres::schema_version()) +
                           ")") != std::string::npos);
    }
    // Nothing was changed, and the lock was given back: another instance is not kept waiting.
    CHECK(count_of(db, "SELECT version FROM relbot_schema") == newer);
    connection other(fresh.url());
    CHECK(other.exec("SELECT pg_try_advisory_lock($1)", {storage::postgres::migration_lock_key})
              .text(0, 0) == "t");
}

TEST_CASE("postgres: a failed connection names the server and never the password",
          "[storage][postgres]") {
    test::pg_database fresh;
    auto url = fresh.url();
    // postgresql://relbot:<password>@127.0.0.1:<port>/<name>
    auto colon = url.find(':', url.find("//") + 2);
    auto at = url.find('@');
    REQUIRE(colon < at);
    auto password = url.substr(colon + 1, at - colon - 1);
    REQUIRE(password.size() >= 16);
    auto wrong = url.substr(0, colon + 1) + "not-" + password + url.substr(at);
    try {
        connection db(wrong);
        FAIL("connected with a wrong password");
    } catch (const pg_error& e) {
        std::string message = e.what();
        INFO(message);
        CHECK(message.find("relbot@127.0.0.1:") != std::string::npos);
        CHECK(message.find("/" + fresh.name()) != std::string::npos);
        CHECK(message.find("password authentication failed") != std::string::npos);
        CHECK(message.find(password) == std::string::npos);
    }
    CHECK(storage::postgres::describe_url(url).find(password) == std::string::npos);
    CHECK(storage::postgres::describe_url("host=db.internal port=6432 user=rb password=s3cret "
                                          "dbname=relbot") == "rb@db.internal:6432/relbot");
    CHECK(storage::postgres::describe_url("postgresql://u:p@[") ==
          "(unreadable connection string)");
}

TEST_CASE("postgres: a statement's error carries its SQLSTATE", "[storage][postgres]") {
    test::pg_database fresh;
    connection db(fresh.url());
    storage::postgres::migrate(db);
    db.exec("INSERT INTO channels (channel_id, name) VALUES ($1, $2)", {"C1", "releases"});
    try {
        db.exec("INSERT INTO channels (channel_id, name) VALUES ($1, $2)", {"C1", "again"});
        FAIL("a duplicate key was accepted");
    } catch (const pg_error& e) {
        CHECK(e.unique_violation());
        CHECK_FALSE(e.retryable());
    }
    CHECK(db.exec("SELECT name FROM channels WHERE channel_id = $1", {"C1"}).text(0, 0) ==
          "releases");
}

TEST_CASE(
    "postgres: a server that stops answering fails a unit within the bound: busy with nothing "
    "kept before its commit, unknown at its commit (the server may still commit it)",
    "[storage][postgres]") {
    using namespace std::chrono_literals;
    test::pg_database fresh;
    connection admin(fresh.url());
    admin.exec("CREATE TABLE t (n integer)");
    test::stall_proxy proxy(fresh.port());
    storage::postgres::session s(fresh.url_via(proxy.port()));
    s.db().bound_waits(800ms, 0ms, 600ms);
    auto rows = [&](int n) {
        return count_of(admin, "SELECT count(*) FROM t WHERE n = " + std::to_string(n));
    };
    // Waits (bounded) until the server has ended every session through the proxy: the ones
    // relbot gave up on end when the server reads their end.
    auto only_admin_left = [&] {
        auto until = std::chrono::steady_clock::now() + 10s;
        while (count_of(admin, "SELECT count(*) FROM pg_stat_activity WHERE datname = '" +
                                   fresh.name() +
                                   "' AND backend_type = 'client backend' AND pid <> "
                                   "pg_backend_pid()") > 0) {
            REQUIRE(std::chrono::steady_clock::now() < until);  // each look is a round trip
        }
    };

    // Before the commit: the unit's first statements go unanswered.
    {
        auto tx = s.begin_until(std::chrono::steady_clock::now() + 1s);
        proxy.stall();
        try {
            s.db().exec("INSERT INTO t VALUES (1)");
            FAIL("a statement the server never answered succeeded");
        } catch (const pg_error& e) {
            CHECK(e.unanswered());
            CHECK_FALSE(e.maybe_kept());
            CHECK(std::string(e.what()).find("did not answer") != std::string::npos);
        }
        CHECK_FALSE(s.db().healthy());
        // The rest of the unit fails at once, as busy: the connection is gone.
        CHECK_THROWS_AS(s.busy_as_busy([&] { return s.db().exec("SELECT 1"); }),
                        storage::busy_error);
    }  // rolled back (quietly: the connection is gone)
    proxy.resume();
    only_admin_left();
    CHECK(rows(1) == 0);  // never sent again on a new connection

    // At the commit: whether it was kept is unknown, and it was (the server read the COMMIT
    // once the network passed bytes again).
    {
        auto tx = s.begin_until(std::chrono::steady_clock::now() + 1s);
        s.db().exec("INSERT INTO t VALUES (2)");  // a new connection: the server answers again
        proxy.stall();
        CHECK_THROWS_AS(tx->commit(), storage::outcome_unknown);
    }
    proxy.resume();
    only_admin_left();
    CHECK(rows(2) == 1);

    // A connection that breaks once the COMMIT went out: unknown too (the server may have run
    // it), where one that breaks before it is not.
    {
        auto tx = s.begin_until(std::chrono::steady_clock::now() + 1s);
        s.db().exec("INSERT INTO t VALUES (3)");
        proxy.cut();
        CHECK_THROWS_AS(tx->commit(), storage::outcome_unknown);
    }
    proxy.uncut();
    s.db().exec("SELECT 1");  // connected again
    {
        auto tx = s.begin_until(std::chrono::steady_clock::now() + 1s);
        proxy.cut();
        try {
            s.db().exec("INSERT INTO t VALUES (4)");
            FAIL("a statement on a broken connection succeeded");
        } catch (const pg_error& e) {
            CHECK_FALSE(e.maybe_kept());
        }
    }
    proxy.uncut();
    only_admin_left();
    CHECK(rows(4) == 0);

    // After a wait given up, statements fail at once for the pause, even if the server has
    // come back meanwhile.
    s.db().bound_waits(800ms, 1h, 600ms);
    s.db().exec("SELECT 1");
    proxy.stall();
    CHECK_THROWS_AS(s.db().exec("SELECT 1"), pg_error);
    proxy.resume();
    try {
        s.db().exec("SELECT 1");
        FAIL("a new connection was made within the pause");
    } catch (const pg_error& e) {
        CHECK(e.unanswered());
        CHECK(std::string(e.what()).find("a moment ago") != std::string::npos);
    }
}

TEST_CASE(
    "postgres: a statement the network stops taking is given up within the bound, as one the "
    "server does not answer, not when TCP gives up",
    "[storage][postgres]") {
    using namespace std::chrono_literals;
    test::pg_database fresh;
    test::stall_proxy proxy(fresh.port());
    connection c(fresh.url_via(proxy.port()));
    c.bound_waits(800ms, 0ms, 600ms);
    CHECK(c.exec("SELECT 1").integer(0, 0) == 1);
    proxy.stall();
    // Far more than the sockets between relbot and the stalled proxy hold: sending it would
    // block (until TCP's 20 s user timeout) if the connection were blocking.
    std::string big(16 * 1024 * 1024, 'x');
    try {
        c.exec("SELECT length($1)", {big});
        FAIL("a statement the network never took succeeded");
    } catch (const pg_error& e) {
        INFO(e.what());
        CHECK(e.unanswered());
        CHECK(std::string(e.what()).find("the network to take the statements") !=
              std::string::npos);
    }
    CHECK_FALSE(c.healthy());
    proxy.resume();
    CHECK(c.exec("SELECT length($1)", {std::string("abc")}).integer(0, 0) == 3);  // again
}

TEST_CASE(
    "postgres: a host name is looked up off the database strand: a lookup that does not answer "
    "fails the reconnection within the bound, and the next one connects by its addresses",
    "[storage][postgres]") {
    using namespace std::chrono_literals;
    test::pg_database fresh;
    test::stall_proxy proxy(fresh.port());
    // A name no resolver knows (RFC 6761): the connection is made only by the addresses relbot
    // looked up itself, never by libpq's own lookup.
    auto url = fresh.url_via(proxy.port());
    url.replace(url.find("127.0.0.1"), 9, "relbot-db.invalid");
    struct gate {
        std::mutex mutex;
        std::condition_variable cv;
        bool open = false;
        int asked = 0;
        std::vector<std::string> names;  // asked for, in order
    };
    auto g = std::make_shared<gate>();
    auto look_up = [g](const std::string& name) {
        std::unique_lock lock(g->mutex);
        g->names.push_back(name);
        if (++g->asked > 1) {  // the first, at the start, answers at once
            g->cv.wait(lock, [&] { return g->open; });
        }
        // The proxy listens on IPv4 only: ::1 is refused, and libpq tries the next address.
        return std::vector<std::string>{"::1", "127.0.0.1"};
    };
    connection c(url, 0, look_up);
    c.bound_waits(800ms, 0ms, 600ms);
    int waits = 0;
    c.before_waiting([&] { ++waits; });
    CHECK(c.exec("SELECT 1").integer(0, 0) == 1);

    proxy.cut();
    CHECK_THROWS_AS(c.exec("SELECT 1"), pg_error);
    proxy.uncut();
    // Connecting again: the lookup does not answer. The statement fails within the bound (as a
    // server that does not answer: "try again"), and the thread said it was waiting meanwhile.
    waits = 0;
    try {
        c.exec("SELECT 1");
        FAIL("a connection was made without the host name's addresses");
    } catch (const pg_error& e) {
        INFO(e.what());
        CHECK(e.unanswered());
        CHECK(std::string(e.what()).find("was not looked up in time") != std::string::npos);
    }
    CHECK(waits >= 1);
    CHECK(c.reconnects() == 0);
    {
        std::lock_guard lock(g->mutex);
        g->open = true;
        g->cv.notify_all();
    }
    // The next statement connects with that lookup's answer (one lookup, not one per attempt).
    CHECK(c.exec("SELECT 1").integer(0, 0) == 1);
    CHECK(c.reconnects() == 1);
    std::lock_guard lock(g->mutex);
    CHECK(g->asked == 2);
    CHECK(g->names == std::vector<std::string>{"relbot-db.invalid", "relbot-db.invalid"});
}

TEST_CASE("postgres: without bounds (the tools), connecting again looks the host name up again",
          "[storage][postgres]") {
    test::pg_database fresh;
    test::stall_proxy proxy(fresh.port());
    auto url = fresh.url_via(proxy.port());
    url.replace(url.find("127.0.0.1"), 9, "relbot-db.invalid");
    int asked = 0;  // this thread only: nothing waits without bounds
    connection c(url, 0, [&](const std::string&) {
        ++asked;
        return std::vector<std::string>{"127.0.0.1"};
    });
    CHECK(asked == 1);
    proxy.cut();
    CHECK_THROWS_AS(c.exec("SELECT 1"), pg_error);
    proxy.uncut();
    // A failover moves the name: the addresses found at the start are not reused.
    CHECK(c.exec("SELECT 1").integer(0, 0) == 1);
    CHECK(c.reconnects() == 1);
    CHECK(asked == 2);
}

}  // namespace storage_postgres_schema_test
