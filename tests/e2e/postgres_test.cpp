// relbot on PostgreSQL (RELBOT_DATABASE_URL), as an operator runs it: the real binary against
// the sandbox and a database in the throwaway cluster ctest starts (tests/pg_cluster.sh).
#include <catch2/catch.hpp>
#include <filesystem>

#include "storage/pg_database.hpp"
#include "support/sandbox.hpp"

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
        named = named || (contains(line, "startup") && contains(line, "PostgreSQL relbot@127.0.0.1:"));
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
