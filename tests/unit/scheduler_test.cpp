// The scheduler against a scripted Slack and a virtual clock: reminders are queued at the
// moment their item falls due (in virtual time), not during the owner's quiet hours, a wake
// ends its sleep, and users.info is asked once per person. The store is a real SQLite file.
#include "bot/scheduler.hpp"

#include <catch2/catch.hpp>
#include <functional>

#include "checklist/checkpoints.hpp"
#include "checklist/rules.hpp"
#include "checklist/template.hpp"
#include "storage/sqlite/store.hpp"
#include "support/scripted_slack.hpp"

namespace unit_scheduler_test {

using namespace relbot;
using checklist::epoch_seconds;

namespace {

constexpr epoch_seconds start_epoch = 1796119200;  // Tue 2026-12-01 10:00 UTC
constexpr epoch_seconds hour = 3600;

checklist::checklist_template standard_template() {
    auto t =
        checklist::parse_template("standard", "standard.md", checklist::standard_template_text());
    return std::get<checklist::checklist_template>(t);
}

// A scheduler (with a notifier that is woken but not run) on a fresh database, a virtual
// clock and a scripted Slack; one release managed by UBOSS in CREL, in its first phase
// ("Pre-Release Checks": quiet hours apply). Reminders every 4 h, quiet from 20:00 to 08:00.
// `checkpoints`: RELBOT_CHECKPOINTS (none by default).
struct harness {
    explicit harness(std::vector<std::chrono::seconds> checkpoints = {})
        : notify(bot::notifier_ports::of(store), slack, clock),
          schedule(bot::scheduler_ports::of(store),
                   notify,
                   slack,
                   checklist::reminder_rules{std::chrono::hours(4), 2, 20, 8},
                   clock,
                   checkpoints) {
        auto r =
            checklist::make_release(standard_template(), "CREL", "v1.0", "UBOSS", clock.epoch_s());
        store.insert_release(r);
        release_id = r.id;
    }
    ~harness() {
        if (started && !ended) {
            schedule.stop();
            test::run_until(
                ioc, clock, [this] { return ended; }, 60);
        }
    }

    void start() {
        started = true;
        bot::net::co_spawn(ioc, schedule.run(), [this](std::exception_ptr) { ended = true; });
    }

    // Item `index` of the first phase is owned by `owner` and due at `due`.
    void own(std::size_t index, const std::string& owner, epoch_seconds due) {
        auto r = *store.load_release(release_id);
        r.phases[0].items[index].owner = owner;
        r.phases[0].items[index].due_at = due;
        checklist::change_log log;
        log.items.push_back({0, index});
        auto tx = store.begin();
        store.save(r, log, "UBOSS", clock.epoch_s());
        tx->commit();
        schedule.wake();
    }

    // Changes the release as `change` says, saved as a command's change is.
    void change(const std::function<void(checklist::release&, checklist::change_log&)>& change) {
        auto r = *store.load_release(release_id);
        checklist::change_log log;
        change(r, log);
        auto tx = store.begin();
        store.save(r, log, "UBOSS", clock.epoch_s());
        tx->commit();
        schedule.wake();
    }

    // The outbox rows whose key begins with `prefix`.
    std::vector<storage::outbox_row> queued(const std::string& prefix) {
        std::vector<storage::outbox_row> out;
        for (auto& r : test::read_outbox(db.path())) {
            if (r.dedupe_key.starts_with(prefix)) {
                out.push_back(r);
            }
        }
        return out;
    }

    bool run_until(const std::function<bool()>& done, double limit_s) {
        return test::run_until(ioc, clock, done, limit_s);
    }
    void run_for(double seconds) { test::run_for(ioc, clock, seconds); }

    // How many times users.info was asked about `user`.
    int lookups_of(const std::string& user) const {
        int n = 0;
        for (const auto& c : slack.calls_of("users.info")) {
            n += c.args.value("user", "") == user ? 1 : 0;
        }
        return n;
    }

    test::temp_db db;
    storage::sqlite::store store{db.path()};  // the engine the bot runs on
    test::virtual_clock clock{start_epoch};
    test::scripted_slack slack{clock};
    bot::net::io_context ioc;
    bot::notifier notify;
    bot::scheduler schedule;
    std::int64_t release_id = 0;
    bool started = false;
    bool ended = false;
};

}  // namespace

TEST_CASE("a reminder is queued at the moment its item falls due, and not before") {
    harness h;
    h.own(0, "UOWN", start_epoch + 90 * 60);
    h.start();
    REQUIRE(h.run_until([&] { return !h.queued("reminder:").empty(); }, 6 * hour));

    auto rows = h.queued("reminder:");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].created_at == start_epoch + 90 * 60);
    CHECK(h.clock.epoch_s() == start_epoch + 90 * 60);
    CHECK(rows[0].to.stored() == "@UOWN");
    CHECK(rows[0].dedupe_key.starts_with("reminder:UOWN:"));
}

TEST_CASE("a reminder that falls in the owner's quiet hours waits for their morning") {
    harness h;
    h.slack.tz_offsets["UTOKYO"] = 9 * 3600;  // 11:30 UTC is 20:30 in Tokyo
    h.own(0, "UTOKYO", start_epoch + 90 * 60);
    h.own(1, "ULONDON", start_epoch + 90 * 60);
    h.start();
    REQUIRE(h.run_until([&] { return !h.queued("reminder:UTOKYO").empty(); }, 24 * hour));

    auto london = h.queued("reminder:ULONDON");
    auto tokyo = h.queued("reminder:UTOKYO");
    REQUIRE(tokyo.size() == 1);
    REQUIRE(london.size() == 3);  // 11:30, then every 4 hours: 15:30, 19:30 (it is 23:00)
    CHECK(london[0].created_at == start_epoch + 90 * 60);
    CHECK(tokyo[0].created_at == start_epoch + 13 * hour);  // 08:00 in Tokyo, 23:00 UTC
}

TEST_CASE("a wake ends the scheduler's sleep: an item due soon is reminded on time") {
    harness h;
    h.start();
    h.run_for(10);  // nothing due: the scheduler sleeps
    h.own(0, "UOWN", h.clock.epoch_s() + 100);
    REQUIRE(h.run_until([&] { return !h.queued("reminder:").empty(); }, 6 * hour));
    CHECK(h.queued("reminder:")[0].created_at == start_epoch + 110);
}

TEST_CASE("users.info is asked once per person, and a refused lookup again after an hour") {
    harness h;
    h.slack.rule = [](const test::recorded_call& c) -> std::optional<bot::api_result> {
        if (c.method == "users.info" && c.args.value("user", "") == "UFAIL") {
            return test::answer_error("user_not_found");
        }
        return std::nullopt;
    };
    h.own(0, "UOWN", start_epoch + 90 * 60);
    h.own(1, "UOWN", start_epoch + 2 * hour);
    h.own(2, "UFAIL", start_epoch + 90 * 60);
    h.start();
    h.run_for(1);
    CHECK(h.schedule.person_seen("UPAT"));  // typed a command
    CHECK_FALSE(h.schedule.person_seen("UPAT"));
    for (int i = 0; i < 11; ++i) {  // woken every 10 minutes, as commands would
        h.schedule.wake();
        h.run_for(600);
    }

    CHECK(h.lookups_of("UBOSS") == 1);
    CHECK(h.lookups_of("UOWN") == 1);
    CHECK(h.lookups_of("UPAT") == 1);
    CHECK(h.lookups_of("UFAIL") == 2);  // at the start, and once more after an hour
    CHECK(h.store.user_names().at("UOWN") == "name-UOWN");
}

namespace {

using namespace std::chrono_literals;

// Leaves the deployment phase (phase 2 of the standard template) at `at`.
void leave_deployment(harness& h, epoch_seconds at) {
    h.change([&](checklist::release& r, checklist::change_log& log) {
        REQUIRE_FALSE(checklist::advance_phase(r, at - 60, "test", log));
        REQUIRE_FALSE(checklist::advance_phase(r, at, "test", log));
    });
}

std::string key(const harness& h, const std::string& rest) {
    return "checkpoint:" + std::to_string(h.release_id) + ":" + rest;
}

}  // namespace

TEST_CASE("a due checkpoint is posted once to the channel and the manager, also after a restart",
          "[checkpoints]") {
    harness h({1h, 4h});
    leave_deployment(h, start_epoch);
    h.start();
    REQUIRE(h.run_until([&] { return !h.queued(key(h, "1")).empty(); }, 3 * hour));
    CHECK(h.clock.epoch_s() == start_epoch + hour);  // at the moment it fell due

    auto rows = h.queued(key(h, "1"));
    REQUIRE(rows.size() == 2);  // the channel post and the manager's DM
    CHECK(rows[0].dedupe_key == key(h, "1"));
    CHECK(rows[0].to.stored() == "CREL");
    CHECK(rows[0].body.find("Healthy") != std::string::npos);
    CHECK(rows[0].body.find("Roll back…") != std::string::npos);
    CHECK(rows[1].dedupe_key == key(h, "1:UBOSS"));
    CHECK(rows[1].to.stored() == "@UBOSS");
    CHECK(h.store.load_release(h.release_id)->checkpoints.at(0).posted_at == start_epoch + hour);
    h.run_for(60);
    CHECK(h.queued(key(h, "1")).size() == 2);
    CHECK(h.queued(key(h, "2")).empty());  // not due yet

    // Another scheduler on the same database (relbot restarted) posts nothing again.
    bot::notifier notify2(bot::notifier_ports::of(h.store), h.slack, h.clock);
    bot::scheduler again(bot::scheduler_ports::of(h.store), notify2, h.slack,
                         checklist::reminder_rules{}, h.clock, {1h, 4h});
    again.tick(h.clock.epoch_s());
    CHECK(test::read_outbox(h.db.path()).size() == 2);
}

TEST_CASE("checkpoints that fell due while relbot was down are posted once when it is back",
          "[checkpoints]") {
    harness h({1h, 4h, 24h});
    leave_deployment(h, start_epoch - 5 * hour);  // +1h and +4h passed while it was down
    // The on-call engineer accepted the handoff: they are asked too.
    h.change([&](checklist::release& r, checklist::change_log& log) {
        REQUIRE_FALSE(checklist::record_handoff(r, "UONCALL", "", start_epoch - hour, log));
        REQUIRE_FALSE(checklist::accept_handoff(r, {"UONCALL", false}, start_epoch - hour, log));
    });
    auto now = h.clock.epoch_s();
    h.schedule.tick(now);
    h.schedule.tick(now + 10);
    CHECK(h.queued(key(h, "1")).size() == 3);  // channel, manager, on-call
    CHECK(h.queued(key(h, "2")).size() == 3);
    CHECK(h.queued(key(h, "3")).empty());
    CHECK(h.queued(key(h, "2:UONCALL")).size() == 1);
}

TEST_CASE("an unanswered checkpoint is reminded once per interval until it is answered",
          "[checkpoints]") {
    harness h({1h, 48h});
    leave_deployment(h, start_epoch);
    auto due = start_epoch + hour;
    h.schedule.tick(due);
    REQUIRE(h.queued(key(h, "1")).size() == 2);
    std::string reminder = "checkpoint-reminder:" + std::to_string(h.release_id) + ":1:";
    CHECK(h.schedule.tick(due + 60) <= due + 4 * hour);  // it looks again by the reminder's time
    CHECK(h.queued(reminder).empty());

    h.schedule.tick(due + 4 * hour);
    h.schedule.tick(due + 4 * hour + 60);
    auto rows = h.queued(reminder);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].dedupe_key == reminder + "1:UBOSS");
    CHECK(rows[0].body.find("Investigating") != std::string::npos);

    h.change([&](checklist::release& r, checklist::change_log& log) {
        REQUIRE_FALSE(checklist::answer_checkpoint(r, 1, checklist::checkpoint_answer::healthy,
                                                   {"UBOSS", false}, due + 5 * hour, log));
    });
    h.schedule.tick(due + 8 * hour);
    CHECK(h.queued(reminder).size() == 1);  // answered: no more
}

TEST_CASE(
    "an unanswered checkpoint and a pending handoff are not reminded in the night but when it "
    "ends, as an overdue item is",
    "[checkpoints]") {
    harness h({1h, 48h});
    leave_deployment(h, start_epoch);  // Tuesday 10:00 UTC; UBOSS's zone unknown: UTC
    auto due = start_epoch + hour;     // 11:00
    h.schedule.tick(due);
    REQUIRE(h.queued(key(h, "1")).size() == 2);
    std::string reminder = "checkpoint-reminder:" + std::to_string(h.release_id) + ":1:";
    h.schedule.tick(due + 4 * hour);  // 15:00: slot 1
    REQUIRE(h.queued(reminder).size() == 1);
    // The handoff at 20:00, unaccepted: its reminders fall at 00:00 and 04:00 (quiet), 08:00.
    auto handoff = start_epoch + 10 * hour;
    h.change([&](checklist::release& r, checklist::change_log& log) {
        REQUIRE_FALSE(checklist::record_handoff(r, "UONCALL", "", handoff, log));
    });
    std::string pending = "handoff-pending:" + std::to_string(h.release_id) + ":";
    for (auto at : {due + 8 * hour, due + 12 * hour, handoff + 4 * hour, due + 16 * hour,
                    handoff + 8 * hour}) {
        h.schedule.tick(at);  // 19:00 (slot 2), 23:00, 00:00, 03:00, 04:00
    }
    auto rows = h.queued(reminder);
    REQUIRE(rows.size() == 2);  // 15:00 and 19:00; nothing at 23:00 or 03:00
    CHECK(rows[1].dedupe_key == reminder + "2:UBOSS");
    CHECK(h.queued(pending).empty());
    // Held, not used up: the reminder is not recorded as sent, and the pass asks to look
    // again when quiet time ends (08:00), not at the next slot.
    CHECK_FALSE(h.store.load_release(h.release_id)->checkpoints.at(0).last_reminded_at >
                due + 8 * hour);
    CHECK(h.schedule.tick(due + 20 * hour) <= handoff + 12 * hour);  // 07:00: still quiet
    CHECK(h.queued(reminder).size() == 2);
    // 08:00: both go out, in the slot then current.
    h.schedule.tick(handoff + 12 * hour);
    CHECK(h.queued(pending).size() == 1);
    rows = h.queued(reminder);
    REQUIRE(rows.size() == 3);
    CHECK(rows[2].dedupe_key == reminder + "5:UBOSS");
}

TEST_CASE("with checkpoints off none are planned", "[checkpoints]") {
    harness h;
    leave_deployment(h, start_epoch);
    h.schedule.tick(start_epoch + 2 * hour);
    CHECK(h.queued("checkpoint").empty());
    CHECK(h.store.load_release(h.release_id)->checkpoints.empty());
}

TEST_CASE("a snoozed item's reminder waits for the end of the snooze", "[checkpoints]") {
    harness h;
    h.own(0, "UOWN", start_epoch + 30 * 60);
    h.change([&](checklist::release& r, checklist::change_log& log) {
        REQUIRE_FALSE(checklist::snooze_item(r, {0, 0}, start_epoch + 2 * hour, {"UOWN", false},
                                             start_epoch, log));
    });
    h.start();
    REQUIRE(h.run_until([&] { return !h.queued("reminder:UOWN").empty(); }, 6 * hour));
    CHECK(h.queued("reminder:UOWN")[0].created_at == start_epoch + 2 * hour);
}

}  // namespace unit_scheduler_test
