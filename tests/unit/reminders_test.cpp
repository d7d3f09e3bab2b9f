// Reminder timing as pure functions: slots, catch-up, quiet hours across time zones, weekends,
// and the deployment exception.
#include "checklist/reminders.hpp"

#include <catch2/catch.hpp>

#include "checklist/duration.hpp"

namespace unit_reminders_test {

using namespace relbot::checklist;

namespace {

epoch_seconds utc(const char* date, const char* time) {
    return *parse_utc_minutes(date, time);
}

}  // namespace

TEST_CASE("reminder slots: one per interval from the due time, only the latest after downtime",
          "[unit]") {
    auto due = utc("2026-11-26", "10:00");
    std::chrono::seconds interval = std::chrono::hours(4);
    CHECK_FALSE(due_slot(due, due - 1, interval));
    CHECK(due_slot(due, due, interval) == 0);
    CHECK(due_slot(due, due + 4 * 3600 - 1, interval) == 0);
    CHECK(due_slot(due, due + 4 * 3600, interval) == 1);
    CHECK(due_slot(due, due + 30 * 3600, interval) == 7);  // after a long outage: slot 7, once
    CHECK(slot_time(due, 2, interval) == due + 8 * 3600);
}

TEST_CASE("quiet hours are the owner's own, and the deployment phase lifts them", "[unit]") {
    reminder_rules rules;                            // 20-8
    auto thu_noon_utc = utc("2026-11-26", "12:00");  // a Thursday
    CHECK(allowed_at(thu_noon_utc, 0, rules, false) == thu_noon_utc);
    // In Tokyo (UTC+9) it is 21:00: quiet until 08:00 local, which is 23:00 UTC.
    CHECK(allowed_at(thu_noon_utc, 9 * 3600, rules, false) == utc("2026-11-26", "23:00"));
    // In Los Angeles (UTC-8) it is 04:00: quiet until 08:00 local, 16:00 UTC.
    CHECK(allowed_at(thu_noon_utc, -8 * 3600, rules, false) == utc("2026-11-26", "16:00"));
    CHECK(allowed_at(thu_noon_utc, 9 * 3600, rules, true) == thu_noon_utc);
    reminder_rules none{std::chrono::hours(4), 2, 0, 0};
    CHECK(allowed_at(utc("2026-11-26", "03:00"), 0, none, false) == utc("2026-11-26", "03:00"));
}

TEST_CASE("no reminders on the owner's weekend: they go out on Monday morning", "[unit]") {
    reminder_rules rules;
    auto sat = utc("2026-11-28", "11:00");
    CHECK(allowed_at(sat, 0, rules, false) == utc("2026-11-30", "08:00"));
    // Friday 23:00 UTC is already Saturday in Tokyo.
    CHECK(allowed_at(utc("2026-11-27", "23:30"), 9 * 3600, rules, false) ==
          utc("2026-11-29", "23:00"));
    CHECK(allowed_at(sat, 0, rules, true) == sat);
    reminder_rules off{std::chrono::hours(4), 2, 0, 0};
    CHECK(allowed_at(sat, 0, off, false) == sat);  // quiet time off: weekends too
}

TEST_CASE("deployment phases are recognised by their title", "[unit]") {
    CHECK(is_deployment_phase("Deployment Steps"));
    CHECK(is_deployment_phase("Deploy to production"));
    CHECK_FALSE(is_deployment_phase("Post-Release Verification"));
}

TEST_CASE("the plan groups one owner's due items into one reminder and escalates after enough",
          "[unit]") {
    reminder_rules rules{std::chrono::seconds(100), 2, 0, 0};
    auto now = utc("2026-11-26", "12:00");
    std::vector<reminder_input> items = {
        {"UA", "UM", now - 250, std::nullopt, 0, false, false, 0,
         std::nullopt},  // slot 2, never reminded
        {"UA", "UM", now - 10, std::nullopt, 0, false, false, 0, std::nullopt},  // slot 0
        {"UB", "UM", now - 150, 1, 1, false, false, 0, now - 50},  // slot 1 already sent
        {"UB", "UM", now + 40, std::nullopt, 0, false, false, 0, std::nullopt},  // not due yet
        {"UC", "UN", now - 100, 0, 1, false, false, 0, now - 100},  // slot 1 due: 2nd reminder
        {"UD", "UN", now - 500, 5, 5, true, false, 0, now},         // escalated already
    };
    auto plan = plan_reminders(items, now, rules);
    REQUIRE(plan.remind.size() == 2);
    CHECK(plan.remind["UA"] == std::vector<std::pair<std::size_t, std::int64_t>>{{0, 2}, {1, 0}});
    CHECK(plan.remind["UC"] == std::vector<std::pair<std::size_t, std::int64_t>>{{4, 1}});
    CHECK_FALSE(plan.remind.contains("UB"));  // nothing new for UB
    // UC reaches 2 reminders with no change: their manager hears once; UD was escalated before.
    CHECK(plan.escalate.size() == 1);
    CHECK(plan.escalate["UN"] == std::vector<std::size_t>{4});
    CHECK(plan.next == now + 40);  // UB's second item falls due first
}

TEST_CASE("the plan holds a night owner's reminder until their morning, except while deploying",
          "[unit]") {
    reminder_rules rules;                   // 20-8
    auto now = utc("2026-11-26", "12:00");  // 21:00 in Tokyo
    std::vector<reminder_input> items = {
        {"UT", "UM", now - 60, std::nullopt, 0, false, false, 9 * 3600, std::nullopt}};
    auto plan = plan_reminders(items, now, rules);
    CHECK(plan.remind.empty());
    CHECK(plan.next > now);
    // Still nothing at 07:59 Tokyo time; at 08:00 it goes out.
    CHECK(plan_reminders(items, utc("2026-11-26", "22:59"), rules).remind.empty());
    CHECK(plan_reminders(items, utc("2026-11-26", "23:00"), rules).remind.size() == 1);
    items[0].deployment_phase = true;
    CHECK(plan_reminders(items, now, rules).remind.size() == 1);
}

TEST_CASE("after downtime the plan sends the latest slot once, not each missed one", "[unit]") {
    reminder_rules rules{std::chrono::seconds(60), 5, 0, 0};
    auto now = utc("2026-11-26", "12:00");
    std::vector<reminder_input> items = {
        {"UA", "UM", now - 3600, 2, 3, false, false, 0, now - 3000}};
    auto plan = plan_reminders(items, now, rules);
    REQUIRE(plan.remind["UA"].size() == 1);
    CHECK(plan.remind["UA"][0].second == 60);
    CHECK(plan.next == now + 60);
}

TEST_CASE(
    "an owner is reminded again one interval after the previous reminder, even after quiet hours",
    "[unit]") {
    reminder_rules rules{std::chrono::hours(4), 5, 20, 8};
    auto due = utc("2026-11-26", "19:00");
    // Slot 0 went out at 19:00; slots at 23:00 … 07:00 fell in quiet hours; slot 3 went out at
    // 08:00.
    reminder_input item{"UA", "UM", due, 3, 2, false, false, 0, utc("2026-11-27", "08:00")};
    // Slot 4 is due at 11:00 by the clock of due times, but the interval counts from 08:00.
    CHECK(plan_reminders({item}, utc("2026-11-27", "11:00"), rules).remind.empty());
    CHECK(plan_reminders({item}, utc("2026-11-27", "11:00"), rules).next ==
          utc("2026-11-27", "12:00"));
    CHECK(plan_reminders({item}, utc("2026-11-27", "12:00"), rules).remind.size() == 1);
}

TEST_CASE("a snoozed item is not reminded (nor escalated) until the snooze ends, then at once",
          "[unit]") {
    reminder_rules rules{std::chrono::hours(4), 2, 0, 0};
    auto due = utc("2026-11-26", "10:00");
    // Reminded at 10:00 (slot 0, the second reminder without a change), then snoozed at 10:30
    // for an hour.
    reminder_input item{"UA", "UM", due, 0, 1, false, false, 0, due};
    item.snoozed_until = utc("2026-11-26", "11:30");
    auto during = plan_reminders({item}, utc("2026-11-26", "11:29"), rules);
    CHECK(during.remind.empty());
    CHECK(during.escalate.empty());
    CHECK(during.next == utc("2026-11-26", "11:30"));
    // At 11:30 the owner hears again, though slot 0 was sent and slot 1 is not due until 14:00.
    auto after = plan_reminders({item}, utc("2026-11-26", "11:30"), rules);
    REQUIRE(after.remind["UA"].size() == 1);
    CHECK(after.remind["UA"][0].second == 1);  // a new slot: a new once-only key
    CHECK(after.escalate.size() == 1);         // the second reminder without a change
    // Reminded at 11:30 (slot 1 recorded): the next one follows the interval again.
    item.last_slot = 1;
    item.last_sent_at = utc("2026-11-26", "11:30");
    CHECK(plan_reminders({item}, utc("2026-11-26", "14:00"), rules).remind.empty());
    CHECK(plan_reminders({item}, utc("2026-11-26", "18:00"), rules).remind.size() == 1);

    // A snooze that ends after the due time holds the first reminder back too.
    reminder_input fresh{"UB", "UM", due, std::nullopt, 0, false, false, 0, std::nullopt};
    fresh.snoozed_until = utc("2026-11-27", "09:00");
    CHECK(plan_reminders({fresh}, utc("2026-11-26", "10:00"), rules).remind.empty());
    CHECK(plan_reminders({fresh}, utc("2026-11-27", "09:00"), rules).remind.size() == 1);
}

TEST_CASE("an overdue item whose own reminder is minutes away goes with its owner's reminder now",
          "[unit]") {
    reminder_rules rules{std::chrono::hours(4), 3, 0, 0};
    auto a_due = utc("2026-11-26", "14:00");
    auto b_due = utc("2026-11-26", "14:05");
    // Each was reminded at its own first slot.
    reminder_input a{"UA", "UM", a_due, 0, 1, false, false, 0, a_due};
    reminder_input b{"UA", "UM", b_due, 0, 1, false, false, 0, b_due};
    // At 18:00 A's second slot is due; B's is five minutes away: one DM for both, B in its slot 1.
    auto at_18 = plan_reminders({a, b}, utc("2026-11-26", "18:00"), rules);
    REQUIRE(at_18.remind.size() == 1);
    CHECK(at_18.remind["UA"] == std::vector<std::pair<std::size_t, std::int64_t>>{{0, 1}, {1, 1}});
    // Recorded so, B is not reminded again at 18:05, and from then on both keep A's times.
    b.last_slot = 1;
    b.last_sent_at = utc("2026-11-26", "18:00");
    a.last_slot = 1;
    a.last_sent_at = utc("2026-11-26", "18:00");
    a.reminders_since_change = b.reminders_since_change = 2;
    CHECK(plan_reminders({a, b}, utc("2026-11-26", "18:05"), rules).remind.empty());
    auto at_22 = plan_reminders({a, b}, utc("2026-11-26", "22:00"), rules);
    CHECK(at_22.remind["UA"] == std::vector<std::pair<std::size_t, std::int64_t>>{{0, 2}, {1, 2}});
    // The third reminder without a change: the manager hears of both, the rider included.
    CHECK(at_22.escalate["UM"] == std::vector<std::size_t>{0, 1});

    // Not an item due further off than 15 minutes, another owner's, one not yet due, or one
    // whose snooze is not over.
    reminder_input later{"UA",  "UM", utc("2026-11-26", "14:30"), 0, 1, false,
                         false, 0,    utc("2026-11-26", "14:30")};
    reminder_input other{"UB", "UM", b_due, 0, 1, false, false, 0, b_due};
    reminder_input not_due{
        "UA", "UM", utc("2026-11-26", "18:05"), std::nullopt, 0, false, false, 0, std::nullopt};
    reminder_input snoozed = b;
    snoozed.last_slot = 0;
    snoozed.last_sent_at = b_due;
    snoozed.snoozed_until = utc("2026-11-26", "18:04");
    a.last_slot = 0;
    a.last_sent_at = a_due;
    a.reminders_since_change = 1;
    auto alone =
        plan_reminders({a, later, other, not_due, snoozed}, utc("2026-11-26", "18:00"), rules);
    CHECK(alone.remind["UA"] == std::vector<std::pair<std::size_t, std::int64_t>>{{0, 1}});
    CHECK_FALSE(alone.remind.contains("UB"));
    CHECK(alone.escalate.empty());

    // With a short interval the window is a quarter of it: 2 minutes of an 8-minute interval.
    reminder_rules brisk{std::chrono::minutes(8), 3, 0, 0};
    reminder_input c{"UA", "UM", a_due, 0, 1, false, false, 0, a_due};
    reminder_input d{"UA", "UM", a_due + 150, 0, 1, false, false, 0, a_due + 150};
    CHECK(plan_reminders({c, d}, a_due + 480, brisk).remind["UA"].size() == 1);
    d.due_at = a_due + 120;
    d.last_sent_at = a_due + 120;
    CHECK(plan_reminders({c, d}, a_due + 480, brisk).remind["UA"].size() == 2);
}

TEST_CASE("a rider keeps its own quiet time and its own interval", "[unit]") {
    reminder_rules rules{std::chrono::hours(4), 5, 20, 8};  // quiet 20-8, UTC owners
    auto thu = [](const char* time) { return utc("2026-11-26", time); };
    // 23:00: an item in the deployment phase (quiet time lifted) is reminded; a rider outside
    // it stays in its quiet time, one in the deployment phase goes along.
    reminder_input anchor{"UA", "UM", thu("19:00"), 0, 1, false, true, 0, thu("19:00")};
    reminder_input quiet{"UA", "UM", thu("19:05"), 0, 1, false, false, 0, thu("19:05")};
    reminder_input deploying{"UA", "UM", thu("19:05"), 0, 1, false, true, 0, thu("19:05")};
    auto night = plan_reminders({anchor, quiet, deploying}, thu("23:00"), rules);
    CHECK(night.remind["UA"] == std::vector<std::pair<std::size_t, std::int64_t>>{{0, 1}, {2, 1}});
    // Nor at 07:50, ten minutes before its quiet time ends, though its own reminder (07:55,
    // held to 08:00) is within the window: it goes at 08:00, not in its quiet time.
    reminder_input dawn{"UA", "UM", utc("2026-11-27", "03:50"), 0, 1, false,
                        true, 0,    utc("2026-11-27", "03:50")};
    reminder_input sleeper{"UA",  "UM", utc("2026-11-27", "03:55"), 0, 1, false,
                           false, 0,    utc("2026-11-27", "03:55")};
    auto at_0750 = plan_reminders({dawn, sleeper}, utc("2026-11-27", "07:50"), rules);
    CHECK(at_0750.remind["UA"] == std::vector<std::pair<std::size_t, std::int64_t>>{{0, 1}});

    // A rider whose own next reminder quiet time pushes past the window does not go: at 19:50
    // an item due at 15:50 is reminded, and one due at 16:00, whose slot would be 20:00, would
    // really go at 08:00.
    reminder_input evening{"UA", "UM", thu("15:50"), 0, 1, false, false, 0, thu("15:50")};
    reminder_input late{"UA", "UM", thu("16:00"), 0, 1, false, false, 0, thu("16:00")};
    auto at_1950 = plan_reminders({evening, late}, thu("19:50"), rules);
    CHECK(at_1950.remind["UA"] == std::vector<std::pair<std::size_t, std::int64_t>>{{0, 1}});

    // The interval counts from the rider's last reminder: one whose 06:05 slot went out at 08:00
    // (after quiet time) is next due at 12:00, and does not ride with a reminder at 10:00.
    reminder_input morning{"UA",  "UM", utc("2026-11-27", "02:00"), 1, 1, false,
                           false, 0,    utc("2026-11-27", "06:00")};
    reminder_input pushed{
        "UA", "UM", thu("22:05"), 2, 1, false, false, 0, utc("2026-11-27", "08:00")};
    auto at_10 = plan_reminders({morning, pushed}, utc("2026-11-27", "10:00"), rules);
    CHECK(at_10.remind["UA"] == std::vector<std::pair<std::size_t, std::int64_t>>{{0, 2}});
}

}  // namespace unit_reminders_test
