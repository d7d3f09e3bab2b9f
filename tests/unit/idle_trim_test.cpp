// The heap is trimmed once the bot has been quiet for a while after work, never while work
// keeps coming, and again after the next work (a real io_context and timers; wide margins).
#include "bot/idle_trim.hpp"

#include <catch2/catch.hpp>
#include <functional>

namespace unit_idle_trim_test {

using namespace relbot::bot;
using namespace std::chrono_literals;

namespace {

// Runs `ioc` until `done()` holds, at most 10 s; false if it never did.
template <class Done>
bool run_until(net::io_context& ioc, Done done) {
    auto until = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < until) {
        ioc.restart();
        ioc.run_for(5ms);
    }
    return done();
}

}  // namespace

TEST_CASE("idle trim: once after the work stops, not while it goes on", "[unit][trim]") {
    net::io_context ioc;
    auto strand = net::make_strand(ioc);
    idle_trim trim(strand, 300ms);
    CHECK(trim.trims() == 0);

    // Work every 2 ms for 100 ms: a third of `quiet`, never a pause long enough to trim.
    net::steady_timer tick(strand);
    int ticks = 0;
    std::function<void()> work = [&] {
        trim.worked();
        if (++ticks < 50) {
            tick.expires_after(2ms);
            tick.async_wait([&](const boost::system::error_code&) { work(); });
        }
    };
    net::post(strand, work);
    REQUIRE(run_until(ioc, [&] { return ticks == 50; }));
    CHECK(trim.trims() == 0);

    // Quiet: trimmed once.
    REQUIRE(run_until(ioc, [&] { return trim.trims() == 1; }));

    // More work, then quiet again: one more.
    net::post(strand, [&] { trim.worked(); });
    REQUIRE(run_until(ioc, [&] { return trim.trims() == 2; }));
}

}  // namespace unit_idle_trim_test
