// The notifier goes on at once unless envelopes are waiting, and is never held longer than the
// limit, however long the envelopes keep coming (pure logic, a made-up clock).
#include "bot/wake_gate.hpp"

#include <catch2/catch.hpp>

namespace unit_wake_gate_test {

using namespace relbot::bot;
using namespace std::chrono_literals;

TEST_CASE("wake gate: woken at once when nothing waits", "[unit][wake]") {
    wake_gate gate(250ms);
    wake_gate::time_point t{};
    CHECK(gate.wake_now(false, t));
    CHECK(gate.wake_now(false, t + 10ms));
    CHECK(gate.held() == 0);
}

TEST_CASE("wake gate: held while envelopes wait, then woken once they are taken", "[unit][wake]") {
    wake_gate gate(250ms);
    wake_gate::time_point t{};
    CHECK_FALSE(gate.wake_now(true, t));
    CHECK_FALSE(gate.wake_now(true, t + 10ms));
    CHECK_FALSE(gate.wake_now(true, t + 200ms));
    CHECK(gate.wake_now(false, t + 210ms));
    CHECK(gate.held() == 3);
}

TEST_CASE("wake gate: a burst that never ends holds a wake no longer than the limit",
          "[unit][wake]") {
    wake_gate gate(250ms);
    wake_gate::time_point t{};
    int woken = 0;
    // Envelopes wait at every look for 2 s, one look every 10 ms: each hold starts at the
    // look after a wake and ends 250 ms later (at 250, 510, 770, … 1810 ms).
    for (auto at = 0ms; at < 2000ms; at += 10ms) {
        if (gate.wake_now(true, t + at)) {
            ++woken;
        }
    }
    CHECK(woken == 7);
    // Each wake starts a new hold: the look right after one is held again.
    CHECK_FALSE(gate.wake_now(true, t + 2000ms));
}

TEST_CASE("wake gate: the limit counts from the first wake held, not the last", "[unit][wake]") {
    wake_gate gate(250ms);
    wake_gate::time_point t{};
    CHECK_FALSE(gate.wake_now(true, t));
    CHECK(gate.wake_now(false, t + 100ms));  // woken: the next hold starts afresh
    CHECK_FALSE(gate.wake_now(true, t + 300ms));
    CHECK_FALSE(gate.wake_now(true, t + 549ms));
    CHECK(gate.wake_now(true, t + 550ms));
}

}  // namespace unit_wake_gate_test
