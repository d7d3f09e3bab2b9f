// Phase windows and pending handoffs as pure functions, driven with a chosen clock. An outbox
// stand-in keeps what was queued by key, as the real one does, so the tests read as what people
// are told, and how often.
#include "checklist/timers.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "checklist/duration.hpp"

namespace unit_timers_test {

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
            case timer_kind::sign_off_pending:
                return "a sign-off is awaited";
            case timer_kind::sign_off_escalated:
                return "a sign-off is still missing";
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

namespace {

// Release 7 in its "Soak" phase, whose "Graphs" item (2.2) needs one sign-off of the qa role
// (held by U0QA) and was checked by U0DEV at `checked`.
release awaiting_sign_off(epoch_seconds checked) {
    auto r = soaking_release(checked - 600);
    r.roles = {{"qa", "U0QA"}};
    auto& graphs = r.phases[1].items[1];
    graphs.policy.sign_off = sign_off_rule{1, "qa"};
    graphs.state_by = "U0DEV";
    graphs.state_at = checked;
    return r;
}

reminder_rules hourly() {
    reminder_rules rules;
    rules.interval = 1h;
    rules.escalate_after = 2;
    rules.quiet_from_hour = 20;
    rules.quiet_to_hour = 8;
    return rules;
}

int utc_everywhere(const std::string&) {
    return 0;
}

}  // namespace

TEST_CASE("the person asked for a sign-off is reminded each interval, then the manager hears once",
          "[unit][policy]") {
    auto checked = utc("2026-11-26", "10:00");  // a Thursday
    auto r = awaiting_sign_off(checked);
    auto rules = hourly();
    outbox sent;
    // Not before one interval has passed since the check.
    auto early = plan_sign_off_reminders(r, checked + 1800, rules, utc_everywhere);
    CHECK(early.notices.empty());
    CHECK(early.next == checked + 3600);
    CHECK(sent.queue(plan_sign_off_reminders(r, checked + 3600, rules, utc_everywhere)) ==
          told{"DM U0QA: a sign-off is awaited"});
    // A pass later in the same slot sends nothing new; the next slot reminds again.
    CHECK(sent.queue(plan_sign_off_reminders(r, checked + 5400, rules, utc_everywhere)).empty());
    CHECK(sent.queue(plan_sign_off_reminders(r, checked + 7200, rules, utc_everywhere)) ==
          told{"DM U0QA: a sign-off is awaited"});
    // Two reminders went unanswered: the third slot tells the manager too, once.
    CHECK(sent.queue(plan_sign_off_reminders(r, checked + 3 * 3600, rules, utc_everywhere)) ==
          told{"DM U0QA: a sign-off is awaited", "DM U0BOSS: a sign-off is still missing"});
    CHECK(sent.queue(plan_sign_off_reminders(r, checked + 4 * 3600, rules, utc_everywhere)) ==
          told{"DM U0QA: a sign-off is awaited"});
}

TEST_CASE("sign-off reminders stop once it is signed off, unchecked, or the phase is left",
          "[unit][policy]") {
    auto checked = utc("2026-11-26", "10:00");
    auto rules = hourly();
    auto later = checked + 2 * 3600;
    auto r = awaiting_sign_off(checked);
    r.phases[1].items[1].approvals.push_back({"U0QA", checked + 60});
    CHECK(plan_sign_off_reminders(r, later, rules, utc_everywhere).notices.empty());

    auto open_again = awaiting_sign_off(checked);
    open_again.phases[1].items[1].state = item_state::open;
    CHECK(plan_sign_off_reminders(open_again, later, rules, utc_everywhere).notices.empty());

    auto moved_on = awaiting_sign_off(checked);
    moved_on.current_phase = 3;
    CHECK(plan_sign_off_reminders(moved_on, later, rules, utc_everywhere).notices.empty());

    // Nobody holds the role: nobody to remind (status names the unheld role instead).
    auto unheld = awaiting_sign_off(checked);
    unheld.roles.clear();
    CHECK(plan_sign_off_reminders(unheld, later, rules, utc_everywhere).notices.empty());
}

TEST_CASE("a sign-off of two counts its reminders from the latest sign-off", "[unit][policy]") {
    auto checked = utc("2026-11-26", "10:00");
    auto r = awaiting_sign_off(checked);
    auto& graphs = r.phases[1].items[1];
    graphs.policy.sign_off = sign_off_rule{2, ""};  // anyone but the checker; the manager asked
    graphs.approvals.push_back({"U0SOMEONE", checked + 1800});
    auto rules = hourly();
    CHECK(plan_sign_off_reminders(r, checked + 3600, rules, utc_everywhere).notices.empty());
    auto plan = plan_sign_off_reminders(r, checked + 1800 + 3600, rules, utc_everywhere);
    REQUIRE(plan.notices.size() == 1);
    CHECK(plan.notices[0].to == "U0BOSS");
    CHECK(plan.notices[0].item_id == graphs.id);
    CHECK(plan.notices[0].key == "sign-off-reminder:7:22:" + std::to_string(checked + 1800) + ":0");

    // Once the manager has signed off too, they are not asked for a sign-off they cannot give
    // again (the second one is anyone else's).
    graphs.policy.sign_off = sign_off_rule{3, ""};
    graphs.approvals.push_back({"U0BOSS", checked + 1900});
    CHECK(plan_sign_off_reminders(r, checked + 1900 + 3 * 3600, rules, utc_everywhere)
              .notices.empty());
}

TEST_CASE("a sign-off reminder waits for the end of the asked person's quiet hours",
          "[unit][policy]") {
    auto checked = utc("2026-11-26", "18:30");  // 19:30 in Berlin (UTC+1 in November)
    auto r = awaiting_sign_off(checked);
    auto rules = hourly();
    auto berlin = [](const std::string&) { return 3600; };
    // 20:30 local: quiet. The scheduler wakes at 08:00 local, and the reminder goes out then.
    auto quiet = plan_sign_off_reminders(r, checked + 3600, rules, berlin);
    CHECK(quiet.notices.empty());
    auto morning = utc("2026-11-27", "07:00");  // 08:00 in Berlin
    CHECK(quiet.next <= morning);
    auto plan = plan_sign_off_reminders(r, morning, rules, berlin);
    REQUIRE(plan.notices.size() == 1);
    CHECK(plan.notices[0].kind == timer_kind::sign_off_pending);
    // In the deployment phase quiet hours do not apply.
    auto deploying = awaiting_sign_off(checked);
    deploying.phases[1].title = "Deploy to production";
    CHECK(plan_sign_off_reminders(deploying, checked + 3600, rules, berlin).notices.size() == 1);
}

}  // namespace unit_timers_test
