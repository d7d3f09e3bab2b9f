// The controls' vocabulary: what a button carries comes back as written, and nothing else is
// read as a target.
#include "commands/controls.hpp"

#include <catch2/catch.hpp>

namespace unit_controls_test {

using namespace relbot::commands::controls;

TEST_CASE("a control's value is read back as the release, item, checkpoint and snooze it names",
          "[controls]") {
    for (const auto& t :
         {target{42, 0, 0, snooze_for::none}, target{42, 317, 0, snooze_for::none},
          target{7, 0, 3, snooze_for::none}, target{9, 11, 0, snooze_for::tomorrow_morning},
          target{9, 11, 0, snooze_for::one_hour}, target{7, 0, 0, snooze_for::none, 3}}) {
        auto back = decode(encode(t));
        REQUIRE(back);
        CHECK(*back == t);
    }
    CHECK(encode({42, 317, 0, snooze_for::four_hours}) == "r42.i317.s4h");
    CHECK(encode({42, 0, 0, snooze_for::none, 2}) == "r42.p2");
}

TEST_CASE("a forged or foreign value is not a target", "[controls]") {
    for (auto v : {"",
                   "r",
                   "r0",
                   "r-1",
                   "42",
                   "i3.r4",
                   "r4.r5",
                   "r4.i3.i5",
                   "r4.i3.c2",
                   "r4.s1h",
                   "r4.i3.sforever",
                   "r4.i3x",
                   "r4..i3",
                   "r4.i",
                   "rr4",
                   "r99999999999999999999",
                   "r4.c2000",
                   "r4.p0",
                   "r4.p2.i3",
                   "r4.i3.p2",
                   "r4.c1.p2",
                   "r4.p1.p2",
                   "r4.p2000"}) {
        INFO(v);
        CHECK_FALSE(decode(v));
    }
}

TEST_CASE("an action id names its action with or without an item's discriminator", "[controls]") {
    CHECK(action_id(action::item_done, 42) == "item.done:42");
    CHECK(parse_action_id("item.done:42") == action::item_done);
    CHECK(parse_action_id(action_id(action::start_release)) == action::start_release);
    CHECK_FALSE(parse_action_id("item.explode:1"));
    CHECK(parse_modal(to_string(modal::next_force)) == modal::next_force);
    CHECK_FALSE(parse_modal("skipper"));
}

}  // namespace unit_controls_test
