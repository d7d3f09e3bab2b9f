// Phase windows and pending handoffs as pure functions, driven with a chosen clock. An outbox
// stand-in keeps what was queued by key, as the real one does, so the tests read as what people
// are told, and how often.
#include "checklist/timers.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "checklist/duration.hpp"

using namespace relbot::checklist;
using namespace std::chrono_literals;

namespace {

epoch_seconds utc(const char* date, const char* time) {
    return *parse_utc_minutes(date, time);
}

item make_item(int phase, int position, std::string title, item_state state) {
    item i;
    i.id = phase * 10 + position;
    i.phase = phase;
    i.position = position;
    i.title = std::move(title);
    i.state = state;
    return i;
}

// Release 7 in C0REL, managed by U0BOSS, in phase 2 ("Soak", a 2-4 hour window) since `entered`.
release soaking_release(epoch_seconds entered) {
    release r;
    r.id = 7;
    r.channel = "C0REL";
    r.version = "v1.0";
    r.manager = "U0BOSS";
    r.started_at = entered - 3600;
    r.phases.push_back({1,
                        "Build",
                        std::nullopt,
                        r.started_at,
                        false,
                        {make_item(1, 1, "Compile", item_state::done)}});
    r.phases.push_back({2,
                        "Soak (2-4 hours)",
                        phase_window{2h, 4h},
                        entered,
                        false,
                        {make_item(2, 1, "Watch", item_state::open),
                         make_item(2, 2, "Graphs", item_state::done)}});
    r.phases.push_back({3,
                        "Done",
                        std::nullopt,
                        std::nullopt,
                        false,
                        {make_item(3, 1, "Close", item_state::open)}});
    r.current_phase = 2;
    return r;
}

// What the outbox sends: each key once, described as "DM U…: what" or "C…: what".
struct outbox {
    std::set<std::string> keys;

    std::vector<std::string> queue(const timer_plan& plan) {
        std::vector<std::string> told;
        for (const auto& n : plan.notices) {
            if (keys.insert(n.key).second) {
                told.push_back((n.direct ? "DM " : "") + n.to + ": " + what(n.kind));
            }
        }
        return told;
    }

    static std::string what(timer_kind k) {
        switch (k) {
            case timer_kind::window_open:
                return "the phase may be left";
            case timer_kind::window_over:
                return "the window is over";
            case timer_kind::handoff_pending:
                return "the handoff is not accepted";
        }
        return "?";
    }
};

using told = std::vector<std::string>;

}  // namespace

TEST_CASE("a window that has not ended tells no one and wakes the scheduler at its minimum",
          "[unit]") {
    auto entered = utc("2026-11-26", "10:00");
    auto r = soaking_release(entered);
    auto plan = plan_window_notices(r, entered + 3600);
    CHECK(plan.notices.empty());
    CHECK(plan.next == entered + 2 * 3600);
}

TEST_CASE("the manager hears once that the phase may be left, the channel once that it is over",
          "[unit]") {
    auto entered = utc("2026-11-26", "10:00");
    auto r = soaking_release(entered);
    outbox sent;
    auto at_min = plan_window_notices(r, entered + 2 * 3600);
    CHECK(sent.queue(at_min) == told{"DM U0BOSS: the phase may be left"});
    CHECK(at_min.next == entered + 4 * 3600);
    // Passes in between (or after a restart) plan the same message again: nothing new is sent.
    CHECK(sent.queue(plan_window_notices(r, entered + 2 * 3600 + 1)).empty());
    CHECK(sent.queue(plan_window_notices(r, entered + 3 * 3600)).empty());
    // The maximum passes with "Watch" still open: the channel is told, once.
    auto at_max = plan_window_notices(r, entered + 4 * 3600);
    CHECK(sent.queue(at_max) == told{"C0REL: the window is over"});
    CHECK_FALSE(at_max.next);  // nothing more to wait for
    CHECK(sent.queue(plan_window_notices(r, entered + 9 * 3600)).empty());
    CHECK(sent.keys == std::set<std::string>{"window-min:7:2", "window-max:7:2"});
}

TEST_CASE("after downtime past the whole window both window messages go out, once each", "[unit]") {
    auto entered = utc("2026-11-26", "10:00");
    auto r = soaking_release(entered);
    outbox sent;
    CHECK(sent.queue(plan_window_notices(r, entered + 30 * 3600)) ==
          told{"DM U0BOSS: the phase may be left", "C0REL: the window is over"});
    CHECK(sent.queue(plan_window_notices(r, entered + 31 * 3600)).empty());
}

TEST_CASE("a window over with every item settled is still announced in the channel", "[unit]") {
    // Today's rule: the message then says that everything in the phase is done or skipped.
    auto entered = utc("2026-11-26", "10:00");
    auto r = soaking_release(entered);
    r.phases[1].items[0].state = item_state::skipped;
    outbox sent;
    sent.queue(plan_window_notices(r, entered + 2 * 3600));
    CHECK(sent.queue(plan_window_notices(r, entered + 4 * 3600)) ==
          told{"C0REL: the window is over"});
}

TEST_CASE("a phase with no window, or not yet entered, has no window messages", "[unit]") {
    auto entered = utc("2026-11-26", "10:00");
    auto r = soaking_release(entered);
    r.current_phase = 3;  // "Done": no window
    auto plan = plan_window_notices(r, entered + 30 * 3600);
    CHECK(plan.notices.empty());
    CHECK_FALSE(plan.next);
    r.current_phase = 2;
    r.phases[1].entered_at.reset();
    plan = plan_window_notices(r, entered + 30 * 3600);
    CHECK(plan.notices.empty());
    CHECK_FALSE(plan.next);
}

TEST_CASE("each phase's window is told on its own", "[unit]") {
    auto entered = utc("2026-11-26", "10:00");
    auto r = soaking_release(entered);
    outbox sent;
    sent.queue(plan_window_notices(r, entered + 4 * 3600));
    // The next phase gets a window too: its own messages, counted from when it was entered.
    r.phases[2].window = phase_window{30min, 1h};
    r.phases[2].entered_at = entered + 5 * 3600;
    r.current_phase = 3;
    CHECK(sent.queue(plan_window_notices(r, entered + 5 * 3600 + 1800)) ==
          told{"DM U0BOSS: the phase may be left"});
    CHECK(sent.keys.contains("window-min:7:3"));
}

TEST_CASE("a handoff not accepted reminds the manager one interval later, once per interval",
          "[unit]") {
    auto handoff = utc("2026-11-26", "10:00");
    auto r = soaking_release(handoff - 3600);
    r.oncall = "U0ONCALL";
    r.handoff_at = handoff;
    outbox sent;
    auto before = plan_handoff_reminders(r, handoff + 4 * 3600 - 1, 4h);
    CHECK(sent.queue(before).empty());
    CHECK(before.next == handoff + 4 * 3600);
    auto first = plan_handoff_reminders(r, handoff + 4 * 3600, 4h);
    CHECK(sent.queue(first) == told{"DM U0BOSS: the handoff is not accepted"});
    CHECK(first.next == handoff + 8 * 3600);
    CHECK(sent.queue(plan_handoff_reminders(r, handoff + 7 * 3600, 4h)).empty());
    // The next slot: a second reminder.
    auto second = plan_handoff_reminders(r, handoff + 8 * 3600, 4h);
    CHECK(sent.queue(second) == told{"DM U0BOSS: the handoff is not accepted"});
    CHECK(second.next == handoff + 12 * 3600);
    CHECK(sent.keys ==
          std::set<std::string>{"handoff-pending:7:" + std::to_string(handoff) + ":0",
                                "handoff-pending:7:" + std::to_string(handoff) + ":1"});
}

TEST_CASE("after downtime a pending handoff is reminded once, in the latest slot", "[unit]") {
    auto handoff = utc("2026-11-26", "10:00");
    auto r = soaking_release(handoff - 3600);
    r.handoff_at = handoff;
    outbox sent;
    auto plan = plan_handoff_reminders(r, handoff + 34 * 3600, 4h);  // slot 7 of 0…7
    CHECK(sent.queue(plan) == told{"DM U0BOSS: the handoff is not accepted"});
    CHECK(sent.keys.contains("handoff-pending:7:" + std::to_string(handoff) + ":7"));
    CHECK(plan.next == handoff + 36 * 3600);
}

TEST_CASE("an accepted handoff, or none, reminds no one", "[unit]") {
    auto handoff = utc("2026-11-26", "10:00");
    auto r = soaking_release(handoff - 3600);
    auto none = plan_handoff_reminders(r, handoff + 9 * 3600, 4h);
    CHECK(none.notices.empty());
    CHECK_FALSE(none.next);
    r.handoff_at = handoff;
    r.handoff_accepted_at = handoff + 3600;
    auto accepted = plan_handoff_reminders(r, handoff + 9 * 3600, 4h);
    CHECK(accepted.notices.empty());
    CHECK_FALSE(accepted.next);
}

TEST_CASE("a new handoff starts its own reminders", "[unit]") {
    auto handoff = utc("2026-11-26", "10:00");
    auto r = soaking_release(handoff - 3600);
    r.handoff_at = handoff;
    outbox sent;
    sent.queue(plan_handoff_reminders(r, handoff + 4 * 3600, 4h));
    r.handoff_at = handoff + 5 * 3600;  // handed off again, to someone else
    CHECK(sent.queue(plan_handoff_reminders(r, handoff + 6 * 3600, 4h)).empty());
    CHECK(sent.queue(plan_handoff_reminders(r, handoff + 9 * 3600, 4h)) ==
          told{"DM U0BOSS: the handoff is not accepted"});
}

TEST_CASE("all timers of a release: window messages first, and the earliest next wake-up",
          "[unit]") {
    auto entered = utc("2026-11-26", "10:00");
    auto r = soaking_release(entered);
    r.handoff_at = entered + 1800;
    // 11:00: nothing yet; the window's minimum (12:00) comes before the handoff's (14:30).
    auto early = plan_timers(r, entered + 3600, 4h);
    CHECK(early.notices.empty());
    CHECK(early.next == entered + 2 * 3600);
    // 14:30: the window's minimum and maximum have passed and the handoff's first reminder is
    // due; the next moment is the handoff's second slot, 18:30.
    outbox sent;
    auto later = plan_timers(r, entered + 4 * 3600 + 1800, 4h);
    CHECK(sent.queue(later) == told{"DM U0BOSS: the phase may be left", "C0REL: the window is over",
                                    "DM U0BOSS: the handoff is not accepted"});
    CHECK(later.next == entered + 8 * 3600 + 1800);
    // Without any timer there is nothing to wake for.
    r.current_phase = 3;
    r.handoff_accepted_at = entered + 2 * 3600;
    CHECK_FALSE(plan_timers(r, entered + 3600, 4h).next);
}
