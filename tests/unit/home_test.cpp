// App Home's timing as a pure function: a person's own open or click is answered at once (or
// 1 s after the last publish), a change follows at most once every 10 s.
#include "bot/home.hpp"

#include <catch2/catch.hpp>

namespace unit_home_test {

using relbot::bot::home_publisher;
using namespace std::chrono_literals;

TEST_CASE("App Home: a click is published at once, a change waits out the 10 s pause",
          "[unit][home]") {
    relbot::bot::steady_time t{100s};
    // Never published: nothing to wait for.
    CHECK(home_publisher::pause_before(std::nullopt, t, false) == 0s);
    CHECK(home_publisher::pause_before(std::nullopt, t, true) == 0s);
    // Published 2 s ago: a click (or opening the tab) goes out now; a change waits 8 s more.
    CHECK(home_publisher::pause_before(t - 2s, t, true) == 0s);
    CHECK(home_publisher::pause_before(t - 2s, t, false) == 8s);
    // Published 300 ms ago: even a click waits out the rest of a second.
    CHECK(home_publisher::pause_before(t - 300ms, t, true) == 700ms);
    // Published 10 s ago or more: nothing waits.
    CHECK(home_publisher::pause_before(t - 10s, t, false) == 0s);
    CHECK(home_publisher::pause_before(t - 1h, t, false) == 0s);
}

}  // namespace unit_home_test
