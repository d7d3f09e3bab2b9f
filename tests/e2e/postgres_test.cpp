// relbot on PostgreSQL (RELBOT_DATABASE_URL), as an operator runs it: the real binary against
// the sandbox and a database in the throwaway cluster ctest starts (tests/pg_cluster.sh).
#include <catch2/catch.hpp>
#include <filesystem>

#include "storage/pg_database.hpp"
#include "storage/postgres/schema.hpp"
#include "support/http_probe.hpp"
#include "support/process.hpp"
#include "support/sandbox.hpp"
#include "support/stall_proxy.hpp"

namespace e2e_postgres_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

json ack_payload(sandbox& sim, const std::string& envelope_id) {
    auto ack = sim.wait_ack(envelope_id);
    REQUIRE(ack);
    REQUIRE(ack->contains("payload"));
    return (*ack)["payload"];
}

// The password part of postgresql://user:password@host:port/db.
std::string password_of(const std::string& url) {
    auto colon = url.find(':', url.find("//") + 2);
    auto at = url.find('@');
    REQUIRE(colon < at);
    return url.substr(colon + 1, at - colon - 1);
}

}  // namespace

TEST_CASE(
    "export reads a PostgreSQL database as it is: an empty one gets no tables, an older schema is "
    "not migrated",
    "[e2e][postgres]") {
    pg_database db;
    temp_dir dir;
    relbot::storage::postgres::connection pg(db.url());
    auto tables = [&] {
        return pg.exec("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()")
            .integer(0, 0);
    };
    REQUIRE(tables() == 0);
    int status = -1;
    std::string err;
    run_relbot({"export", "v1.0"}, dir, {{"RELBOT_DATABASE_URL", db.url()}}, status, &err);
    CHECK(status == 1);
    CHECK(contains(err, "holds no relbot data"));
    CHECK(tables() == 0);

    // One migration behind this relbot, as an older relbot left it.
    auto older = relbot::storage::postgres::schema_version() - 1;
    relbot::storage::postgres::migrate(pg, older);
    err.clear();
    run_relbot({"export", "v1.0"}, dir, {{"RELBOT_DATABASE_URL", db.url()}}, status, &err);
    CHECK(status == 1);
    CHECK(contains(err, "older than this relbot"));
    CHECK(pg.exec("SELECT version FROM relbot_schema").integer(0, 0) == older);
}

TEST_CASE(
    "migrate-to-postgres copies a SQLite database into an empty PostgreSQL one, once, and relbot "
    "goes on there",
    "[e2e][postgres]") {
    pg_database db;
    auto password = password_of(db.url());
    temp_dir dir;
    sandbox sim(dir);
    {
        bot relbot(dir, sim);  // SQLite, RELBOT_DB in dir
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        REQUIRE(sim.wait_ack(sim.slash_command("start v8.0")));
        REQUIRE(sim.wait_ack(sim.slash_command("check 1.1")));
        REQUIRE(sim.wait_ack(sim.slash_command("block 1.2 waiting for the vendor")));
        REQUIRE(sim.wait_ack(sim.slash_command("note 1.3 carried over")));
        REQUIRE(sim.wait_ack(sim.slash_command("start v1.0", "C0OTHER")));
        CHECK(relbot.stop() == 0);
    }
    int status = -1;
    std::string err;
    auto out =
        run_relbot({"migrate-to-postgres", db.url()}, dir, bot_environment(dir, sim), status, &err);
    INFO(out << err);
    CHECK(status == 0);
    CHECK(contains(out, "the same count in every table on both sides"));
    CHECK(contains(out, "releases"));
    CHECK_FALSE(contains(out + err, password));

    // Twice is refused: nothing is merged, nothing changes.
    relbot::storage::postgres::connection pg(db.url());
    auto audit_rows = pg.exec("SELECT COUNT(*) FROM audit").integer(0, 0);
    CHECK(audit_rows >= 4);
    std::string err2;
    run_relbot({"migrate-to-postgres", db.url()}, dir, bot_environment(dir, sim), status, &err2);
    CHECK(status == 1);
    CHECK(contains(err2, "already holds relbot data"));
    CHECK(pg.exec("SELECT COUNT(*) FROM audit").integer(0, 0) == audit_rows);

    // relbot on PostgreSQL has everything, and its new rows get new ids.
    bot again(dir, sim, {{"RELBOT_DATABASE_URL", db.url()}});
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    auto status_text = message_text(ack_payload(sim, sim.slash_command("status")));
    CHECK(contains(status_text, "v8.0"));
    CHECK(contains(status_text, "waiting for the vendor"));
    auto checked = message_text(ack_payload(sim, sim.slash_command("check 1.4")));
    CHECK(contains(checked, "1.4"));
    CHECK(pg.exec("SELECT COUNT(*) FROM audit").integer(0, 0) == audit_rows + 1);
    CHECK(contains(message_text(ack_payload(sim, sim.slash_command("status", "C0OTHER"))), "v1.0"));
    CHECK(again.stop() == 0);
}

TEST_CASE(
    "backup on PostgreSQL writes a SQLite file from one snapshot, which relbot reads and "
    "migrate-to-postgres restores",
    "[e2e][postgres]") {
    pg_database db;
    auto password = password_of(db.url());
    temp_dir dir;
    sandbox sim(dir);
    auto env = bot_environment(dir, sim);
    env["RELBOT_DATABASE_URL"] = db.url();
    auto file = dir.file("relbot-backup.db");
    {
        bot relbot(dir, sim, {{"RELBOT_DATABASE_URL", db.url()}});
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        REQUIRE(sim.wait_ack(sim.slash_command("start v9.0")));
        REQUIRE(sim.wait_ack(sim.slash_command("check 1.1")));
        REQUIRE(sim.wait_ack(sim.slash_command("block 1.2 waiting for the vendor")));
        // While the bot runs.
        int status = -1;
        std::string err;
        auto out = run_relbot({"backup", file}, dir, env, status, &err);
        INFO(out << err);
        CHECK(status == 0);
        CHECK(contains(out, "one snapshot"));
        CHECK_FALSE(contains(out + err, password));
        CHECK(relbot.stop() == 0);
    }
    REQUIRE(std::filesystem::exists(file));
    CHECK_FALSE(std::filesystem::exists(file + ".partial"));

    // The file is a relbot database: relbot reads the release from it.
    auto from_file = bot_environment(dir, sim);
    from_file["RELBOT_DB"] = file;
    int status = -1;
    auto report = run_relbot({"export", "v9.0"}, dir, from_file, status);
    CHECK(status == 0);
    CHECK(contains(report, "waiting for the vendor"));

    // Restored into an empty database: every table holds what the first one held.
    pg_database restored;
    std::string err;
    run_relbot({"migrate-to-postgres", restored.url()}, dir, from_file, status, &err);
    INFO(err);
    CHECK(status == 0);
    relbot::storage::postgres::connection a(db.url());
    relbot::storage::postgres::connection b(restored.url());
    for (const char* table : {"releases", "phases", "items", "audit", "outbox", "channels"}) {
        INFO(table);
        auto count = std::string("SELECT COUNT(*) FROM ") + table;
        CHECK(a.exec(count).integer(0, 0) == b.exec(count).integer(0, 0));
    }
    auto states =
        "SELECT string_agg(slug || '=' || state || ':' || state_note, ',' ORDER BY id) "
        "FROM items";
    CHECK(a.exec(states).text(0, 0) == b.exec(states).text(0, 0));

    // A backup that cannot be written says so and leaves nothing behind.
    std::string failed;
    auto nowhere = dir.file("no/such/folder/backup.db");
    run_relbot({"backup", nowhere}, dir, env, status, &failed);
    CHECK(status == 1);
    CHECK(contains(failed, "no backup was made"));
    CHECK_FALSE(contains(failed, password));
    CHECK_FALSE(std::filesystem::exists(nowhere + ".partial"));

    // A database a newer relbot has migrated would lose what this one does not know: refused.
    a.exec("UPDATE relbot_schema SET version = 99");
    auto newer = dir.file("newer.db");
    run_relbot({"backup", newer}, dir, env, status, &failed);
    CHECK(status == 1);
    CHECK(contains(failed, "has schema version 99, newer than this relbot"));
    CHECK_FALSE(std::filesystem::exists(newer));
    CHECK_FALSE(std::filesystem::exists(newer + ".partial"));
}

TEST_CASE(
    "a PostgreSQL server that stops answering costs each command a try-again within Slack's 3 s, "
    "/healthz says so, and relbot goes on by itself once it answers",
    "[e2e][postgres]") {
    pg_database db;
    // Between relbot and the server, a network that can stop passing bytes without a reset.
    stall_proxy network(db.port());
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim,
               {{"RELBOT_DATABASE_URL", db.url_via(network.port())},
                {"RELBOT_HEALTH_ADDR", "127.0.0.1:0"}});
    auto health = health_port(relbot);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(sim.wait_ack(sim.slash_command("start v7.0")));
    CHECK(http_get(health, "/healthz").status == 200);

    network.stall();
    // Each command is answered within Slack's 3 s (wait_ack's deadline), and says to try again:
    // the first waits out the bound on its connection, the next ones fail at once.
    for (int i = 0; i < 3; ++i) {
        INFO(i);
        auto text = message_text(ack_payload(sim, sim.slash_command("check 1.1")));
        CHECK(contains(text, "try the command again"));
    }
    // The operator's endpoint answers, and says the database does not.
    auto stalled = http_get(health, "/healthz");
    CHECK(stalled.status == 503);
    CHECK(contains(stalled.body, "did not answer"));
    CHECK_FALSE(contains(stalled.body, password_of(db.url())));

    network.resume();
    // relbot connects again by itself (after a pause of a few seconds: meanwhile a command is
    // still answered "try again" at once, without waiting on a new connection each time).
    REQUIRE(relbot.proc().wait_stderr("event=outbox.read_recovered", after(20s)));
    CHECK(http_get(health, "/healthz").status == 200);
    CHECK(contains(message_text(ack_payload(sim, sim.slash_command("check 1.1"))), "is done"));
    // Applied once: the attempts the server never answered were rolled back when their
    // connections ended.
    relbot::storage::postgres::connection pg(db.url());
    CHECK(pg.exec("SELECT COUNT(*) FROM audit WHERE action = 'item.checked'").integer(0, 0) == 1);
    CHECK(relbot.stop() == 0);
}

// relbot on PostgreSQL through a network that can stall, with a release started and its
// living status message (and its buttons) posted.
struct stallable_release {
    explicit stallable_release(const std::string& version)
        : network(db.port()),
          sim(dir),
          relbot(dir, sim, {{"RELBOT_DATABASE_URL", db.url_via(network.port())}}) {
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        REQUIRE(sim.wait_ack(sim.slash_command("start " + version)));
        REQUIRE(sim.wait_for([](const json& e) { return e.value("method", "") == "pins.add"; },
                             after(10s)));
    }
    // Whether `user` is told, within 10 s, an ephemeral message holding `words`.
    bool told(const std::string& user, const std::string& words) {
        return sim.wait_until(
            [&] {
                auto said = sim.last_ephemeral(user);
                return said && contains(message_text(*said), words);
            },
            after(10s));
    }
    pg_database db;
    stall_proxy network;
    temp_dir dir;
    sandbox sim;
    bot relbot;
};

TEST_CASE(
    "a click whose commit PostgreSQL never answers is acknowledged in time and told relbot cannot "
    "tell whether it was saved",
    "[e2e][postgres]") {
    stallable_release f("v8.0");
    [[maybe_unused]] auto& [db, network, dir, sim, relbot] = f;
    // The click's batch releases its savepoint with its COMMIT (a batch's inputs are in
    // savepoints `input_<n>`); the network stops right there, so nobody can tell whether the
    // server committed it.
    network.stall_when({"RELEASE SAVEPOINT input_", "COMMIT"});
    REQUIRE(sim.wait_ack(sim.click("U0MANAGER", "Remind owners")));
    CHECK(f.told("U0MANAGER", "cannot tell whether it was saved"));
    network.resume();
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "a click that waits behind a command PostgreSQL does not answer is acknowledged in time and "
    "told the database was busy",
    "[e2e][postgres]") {
    stallable_release f("v8.1");
    [[maybe_unused]] auto& [db, network, dir, sim, relbot] = f;
    network.stall();
    // The command holds the database strand until relbot gives up on the server (a little
    // after its deadline); the click behind it then fails at once (relbot does not wait on a
    // new connection for the next 2 s): its ack is bare, as a click's is, and the person is
    // told through the click's response_url.
    auto command = sim.slash_command("check 1.1");
    REQUIRE(sim.wait_ack(sim.click("U0MANAGER", "Remind owners")));
    CHECK(f.told("U0MANAGER", "busy right now and nothing was changed"));
    REQUIRE(sim.wait_ack(command));
    network.resume();
    REQUIRE(relbot.proc().wait_stderr("event=outbox.read_recovered", after(20s)));
    relbot::storage::postgres::connection pg(db.url());
    CHECK(pg.exec("SELECT COUNT(*) FROM audit WHERE action = 'remind.requested'").integer(0, 0) ==
          0);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("migrate-to-postgres without a SQLite database says so and copies nothing",
          "[e2e][postgres]") {
    pg_database db;
    temp_dir dir;
    sandbox sim(dir);
    int status = -1;
    std::string err;
    run_relbot({"migrate-to-postgres", db.url()}, dir, bot_environment(dir, sim), status, &err);
    CHECK(status == 1);
    CHECK(contains(err, "does not exist"));
    std::string usage_err;
    run_relbot({"migrate-to-postgres"}, dir, bot_environment(dir, sim), status, &usage_err);
    CHECK(status == 2);
    CHECK(contains(usage_err, "name the PostgreSQL database"));
}

TEST_CASE(
    "relbot on PostgreSQL keeps a release across a restart and never logs the password, also "
    "with a second process on the database",
    "[e2e][postgres]") {
    pg_database db;
    auto password = password_of(db.url());
    REQUIRE(password.size() >= 16);
    temp_dir dir;
    sandbox sim(dir);
    std::vector<std::string> logged;
    {
        bot relbot(dir, sim, {{"RELBOT_DATABASE_URL", db.url()}});
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        CHECK(contains(message_text(ack_payload(sim, sim.slash_command("start v7.0"))), "v7.0"));
        CHECK(contains(message_text(ack_payload(sim, sim.slash_command("check 1.1"))), "1.1"));

        // A second process on the database serves with the first (instances_test.cpp has
        // three): it starts, says hello, and its log names the database without the password.
        temp_dir other;
        bot second(other, sim, {{"RELBOT_DATABASE_URL", db.url()}});
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        CHECK(second.stop() == 0);
        for (const auto& line : second.proc().stderr_lines()) {
            CHECK_FALSE(contains(line, password));
        }
        CHECK(relbot.stop() == 0);
        logged = relbot.proc().stderr_lines();
    }
    bool named = false;
    for (const auto& line : logged) {
        CHECK_FALSE(contains(line, password));
        named =
            named || (contains(line, "startup") && contains(line, "PostgreSQL relbot@127.0.0.1:"));
    }
    CHECK(named);
    CHECK_FALSE(std::filesystem::exists(dir.file("relbot.db")));  // RELBOT_DB is ignored

    bot again(dir, sim, {{"RELBOT_DATABASE_URL", db.url()}});
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    auto status = message_text(ack_payload(sim, sim.slash_command("status")));
    CHECK(contains(status, "v7.0"));
    CHECK(contains(status, "1 done or skipped"));  // the check survived
    CHECK(again.stop() == 0);
}

TEST_CASE(
    "relbot goes on when PostgreSQL ends its sessions: the next command is applied on a new "
    "connection, nothing is lost",
    "[e2e][postgres]") {
    pg_database db;
    temp_dir dir;
    sandbox sim(dir);
    // By a host name, so the real binary connects again through its own lookup, off the
    // database strand (localhost may also give ::1, where the test cluster does not listen:
    // libpq tries the next address). libpq could look localhost up itself too: the storage
    // test "postgres: a host name is looked up off the database strand…" is the one that
    // fails if relbot's lookup is bypassed.
    auto url = db.url();
    url.replace(url.find("127.0.0.1"), 9, "localhost");
    bot relbot(dir, sim, {{"RELBOT_DATABASE_URL", url}});
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    CHECK(contains(message_text(ack_payload(sim, sim.slash_command("start v7.1"))), "v7.1"));
    relbot::storage::postgres::connection admin(db.url());
    auto sessions = [&] {
        return admin
            .exec(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                "application_name = 'relbot' AND pid <> pg_backend_pid()")
            .integer(0, 0);
    };
    REQUIRE(sessions() >= 1);
    // As a server restart or an operator's pg_terminate_backend does: every session of
    // relbot's on the database ends at once.
    for (int round = 0; round < 2; ++round) {
        admin.exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
            "current_database() AND application_name = 'relbot' AND pid <> pg_backend_pid()");
        auto item = "1." + std::to_string(round + 1);
        auto reply = message_text(ack_payload(sim, sim.slash_command("check " + item)));
        INFO(reply);
        CHECK(contains(reply, item));
        CHECK_FALSE(contains(reply, "try again"));
    }
    CHECK(sessions() >= 1);  // connected again
    auto status = message_text(ack_payload(sim, sim.slash_command("status")));
    CHECK(contains(status, "2 done or skipped"));
    CHECK(relbot.stop() == 0);
}

}  // namespace e2e_postgres_test
