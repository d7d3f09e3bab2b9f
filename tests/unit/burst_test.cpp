// When a burst is on (the dispatcher's view), and how long the notifier holds while it is:
// never longer than the limit, however long the envelopes keep coming (pure logic, made-up
// times).
#include "bot/burst.hpp"

#include <catch2/catch.hpp>

namespace unit_burst_test {

using namespace relbot::bot;
using namespace std::chrono_literals;

TEST_CASE("burst watch: envelopes waiting, or close together, or a batch's acks just handed over",
          "[unit][burst]") {
    burst_watch w;
    burst_time t{};
    CHECK_FALSE(w.on(t, false));
    CHECK(w.on(t, true));  // envelopes not yet taken

    // Envelopes that come alone (one every 5 ms, nothing waiting) are no burst, however many.
    for (int k = 0; k < 10; ++k) {
        w.arrived(t + k * 5ms, true);
        w.answered(t + k * 5ms + 1ms, 1);
        CHECK_FALSE(w.on(t + k * 5ms + 2ms, false));
    }

    // One close behind another: a burst, for 50 ms after it came.
    w.arrived(t + 100ms, false);
    CHECK(w.on(t + 149ms, false));
    CHECK_FALSE(w.on(t + 150ms, false));

    // A batch of several answered: on while its acks may still be being written.
    w.answered(t + 200ms, 64);
    CHECK(w.on(t + 249ms, false));
    CHECK_FALSE(w.on(t + 250ms, false));

    // An envelope stamped before a later batch's answer does not cut that window short.
    w.answered(t + 300ms, 2);
    w.arrived(t + 290ms, false);
    CHECK(w.on(t + 349ms, false));
}

TEST_CASE("burst hold: goes on at once when no burst is on", "[unit][burst]") {
    burst_hold hold(250ms);
    burst_time t{};
    CHECK(hold.go_on(false, t));
    CHECK(hold.go_on(false, t + 10ms));
}

TEST_CASE("burst hold: held while the burst is on, then goes on once it is over", "[unit][burst]") {
    burst_hold hold(250ms);
    burst_time t{};
    CHECK_FALSE(hold.go_on(true, t));
    CHECK_FALSE(hold.go_on(true, t + 10ms));
    CHECK_FALSE(hold.go_on(true, t + 200ms));
    CHECK(hold.go_on(false, t + 210ms));
}

TEST_CASE("burst hold: a burst that never ends holds a look no longer than the limit",
          "[unit][burst]") {
    burst_hold hold(250ms);
    burst_time t{};
    int went_on = 0;
    // A burst on at every look for 2 s, one look every 10 ms: each hold starts at the look
    // after one that went on and ends 250 ms later (at 250, 510, 770, … 1810 ms).
    for (auto at = 0ms; at < 2000ms; at += 10ms) {
        if (hold.go_on(true, t + at)) {
            ++went_on;
        }
    }
    CHECK(went_on == 7);
    CHECK_FALSE(hold.go_on(true, t + 2000ms));  // held again, from 1820 ms
}

TEST_CASE("burst hold: the limit counts from the first look held, not the last", "[unit][burst]") {
    burst_hold hold(250ms);
    burst_time t{};
    CHECK_FALSE(hold.go_on(true, t));
    CHECK(hold.go_on(false, t + 100ms));  // went on: the next hold starts afresh
    CHECK_FALSE(hold.go_on(true, t + 300ms));
    CHECK_FALSE(hold.go_on(true, t + 549ms));
    CHECK(hold.go_on(true, t + 550ms));
}

}  // namespace unit_burst_test
