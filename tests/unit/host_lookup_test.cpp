// PostgreSQL host names looked up off the database strand (storage/postgres/host_lookup.hpp):
// which hosts are names, how their addresses are handed to libpq, and a lookup that does not
// answer is given up on in time while the thread that waits for it keeps saying so.
#include "storage/postgres/host_lookup.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace unit_host_lookup_test {

using namespace relbot::storage::postgres;
using namespace std::chrono_literals;

namespace {

// Holds a lookup until the test opens it.
struct gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    int asked = 0;
};

}  // namespace

TEST_CASE("only host names are looked up: not addresses, sockets, or hosts given hostaddr",
          "[postgres]") {
    CHECK(names_to_look_up({"db.internal", "", ""}) == std::vector<std::string>{"db.internal"});
    CHECK(names_to_look_up({"10.0.0.5,db-b,/run/postgresql,::1,@abstract", "", "5432"}) ==
          std::vector<std::string>{"db-b"});
    CHECK(names_to_look_up({"db.internal", "10.0.0.5", ""}).empty());
    CHECK(names_to_look_up({"", "", ""}).empty());
}

TEST_CASE("a name's addresses go to libpq as hostaddr beside the name, each with its port",
          "[postgres]") {
    // One port for all: it stays one.
    auto one = with_addresses({"db.internal", "", "5433"}, {{"10.0.0.1", "fd00::1"}});
    CHECK(one.host == "db.internal,db.internal");
    CHECK(one.hostaddr == "10.0.0.1,fd00::1");
    CHECK(one.port == "5433");
    // A port per host: each address of a name keeps the name's port; an address or a socket
    // folder keeps its entry with an empty hostaddr (libpq then uses the host as given).
    auto many = with_addresses({"a,10.0.0.9,/run/pg,b", "", "1,2,3,4"},
                               {{"10.0.0.1"}, {"10.0.0.2", "10.0.0.3"}});
    CHECK(many.host == "a,10.0.0.9,/run/pg,b,b");
    CHECK(many.hostaddr == "10.0.0.1,,,10.0.0.2,10.0.0.3");
    CHECK(many.port == "1,2,3,4,4");
    // A name with no address is left out, with its port, as libpq skips a name it cannot look
    // up; none left: an empty host.
    auto some = with_addresses({"a,b", "", "1,2"}, {{}, {"10.0.0.2"}});
    CHECK(some.host == "b");
    CHECK(some.hostaddr == "10.0.0.2");
    CHECK(some.port == "2");
    CHECK(with_addresses({"a", "", ""}, {{}}).host.empty());
    // An address or a socket folder beside a name with none is still there to try.
    CHECK(with_addresses({"gone,10.0.0.5", "", ""}, {{}}).host == "10.0.0.5");
    CHECK(with_addresses({"/run/postgresql,gone", "", ""}, {{}}).host == "/run/postgresql");
}

TEST_CASE("a name that does not resolve leaves the others usable; none resolving says why",
          "[postgres]") {
    auto look_up = [](const std::string& name) -> std::vector<std::string> {
        if (name == "gone") {
            throw std::runtime_error("could not look up the host name \"gone\"");
        }
        return {"10.0.0.7"};
    };
    auto found = look_up_now({"gone", "db-b"}, look_up);
    CHECK(found.addresses == std::vector<std::vector<std::string>>{{}, {"10.0.0.7"}});
    CHECK(found.errors[0] == "could not look up the host name \"gone\"");
    CHECK(with_addresses({"gone,db-b", "", "5432"}, found.addresses).host == "db-b");
    CHECK(look_up_now({"gone"}, look_up).first_error() ==
          "could not look up the host name \"gone\"");
}

TEST_CASE("the system's lookup gives a name's addresses and names one that has none",
          "[postgres]") {
    auto local = system_lookup("localhost");
    CHECK_FALSE(local.empty());
    CHECK(std::find(local.begin(), local.end(), "127.0.0.1") != local.end());
    // A label longer than DNS allows (63 bytes): refused by the resolver library itself, with
    // no query on the network (a resolver may answer for any name, even .invalid ones).
    auto too_long = std::string(70, 'a') + ".example";
    CHECK_THROWS_WITH(system_lookup(too_long),
                      Catch::Contains("could not look up the host name \"" + too_long + "\""));
}

TEST_CASE(
    "a lookup that does not answer is given up on at the deadline, saying it waits meanwhile; "
    "its answer is there for the next wait",
    "[postgres]") {
    auto g = std::make_shared<gate>();
    background_lookup lookup({"db.internal"}, [g](const std::string& name) {
        std::unique_lock lock(g->mutex);
        ++g->asked;
        g->cv.wait(lock, [&] { return g->open; });
        return std::vector<std::string>{name == "db.internal" ? "10.0.0.1" : "?"};
    });
    int waits = 0;
    CHECK_FALSE(lookup.wait_until(std::chrono::steady_clock::now() + 200ms, [&] { ++waits; }));
    CHECK_FALSE(lookup.done());
    CHECK(waits >= 1);  // every 25 ms: the bot's second thread answers Slack meanwhile
    {
        std::lock_guard lock(g->mutex);
        g->open = true;
        g->cv.notify_all();
    }
    auto found = lookup.wait_until(std::chrono::steady_clock::now() + 10s, [] {});
    REQUIRE(found);
    CHECK(found->addresses == std::vector<std::vector<std::string>>{{"10.0.0.1"}});
    CHECK(lookup.done());
    std::lock_guard lock(g->mutex);
    CHECK(g->asked == 1);  // one lookup, waited for twice
}

TEST_CASE(
    "names are looked up side by side: one that hangs does not hold the others' answers back; "
    "a lookup given up on may outlive its owner",
    "[postgres]") {
    auto g = std::make_shared<gate>();
    {
        background_lookup both({"slow", "fast"}, [g](const std::string& name) {
            if (name == "slow") {
                std::unique_lock lock(g->mutex);
                g->cv.wait(lock, [&] { return g->open; });
            }
            return std::vector<std::string>{name == "fast" ? "10.0.0.2" : "10.0.0.1"};
        });
        CHECK_FALSE(both.wait_until(std::chrono::steady_clock::now() + 50ms, [] {}));
        {
            std::lock_guard lock(g->mutex);
            g->open = true;
            g->cv.notify_all();
        }
        auto found = both.wait_until(std::chrono::steady_clock::now() + 10s, [] {});
        REQUIRE(found);
        CHECK(found->addresses ==
              std::vector<std::vector<std::string>>{{"10.0.0.1"}, {"10.0.0.2"}});
    }
    background_lookup failing(
        {"nowhere.invalid"}, [](const std::string& name) -> std::vector<std::string> {
            throw std::runtime_error("could not look up the host name \"" + name + "\"");
        });
    auto failed = failing.wait_until(std::chrono::steady_clock::now() + 10s, [] {});
    REQUIRE(failed);
    CHECK_THAT(failed->first_error(), Catch::Contains("nowhere.invalid"));

    // Dropped while its thread still waits: the thread finishes later, alone.
    g = std::make_shared<gate>();
    auto finished = std::make_shared<std::promise<void>>();
    auto done = finished->get_future();
    {
        background_lookup abandoned({"slow"}, [g, finished](const std::string&) {
            {
                std::unique_lock lock(g->mutex);
                g->cv.wait(lock, [&] { return g->open; });
            }
            finished->set_value();
            return std::vector<std::string>{"10.0.0.1"};
        });
        CHECK_FALSE(abandoned.wait_until(std::chrono::steady_clock::now() + 50ms, [] {}));
    }
    {
        std::lock_guard lock(g->mutex);
        g->open = true;
        g->cv.notify_all();
    }
    CHECK(done.wait_for(10s) == std::future_status::ready);
}

}  // namespace unit_host_lookup_test
