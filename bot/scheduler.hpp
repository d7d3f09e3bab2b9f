// The scheduler: reminds owners of overdue items (grouped per owner, once per slot, outside
// their quiet hours, not while snoozed), and tells the release manager about items reminders
// did not move; plans, posts and reminds monitoring checkpoints (checklist/checkpoints.hpp).
// Sleeps (on its clock) until the next due moment; woken after every committed change. Looks
// people up through the slack_api port. Loop thread only.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bot/clock.hpp"
#include "bot/net.hpp"
#include "bot/notifier.hpp"
#include "bot/slack_port.hpp"
#include "checklist/freeze.hpp"
#include "checklist/reminders.hpp"
#include "storage/open.hpp"
#include "storage/ports.hpp"

namespace relbot::bot {

// The storage ports the scheduler uses; each must outlive it.
struct scheduler_ports {
    storage::reminder_log& reminders;
    storage::directory& people;
    storage::release_repository& releases;
    storage::outbox_queue& outbox;
    storage::unit_of_work& work;
    storage::applied_envelopes& applied;  // pruned once an hour
    storage::status_board& status;        // status messages behind when a freeze begins or ends
    // Several instances share the store: each pass takes the scheduler's lock first
    // (reminder_log::serialize_ticks) and reads inside its unit of work.
    bool shared = false;
    static scheduler_ports of(storage::engine& e);
};

class scheduler {
public:
    // `notify`, `api` and `time` must outlive the scheduler. `checkpoints`: the offsets of the
    // monitoring checkpoints from when the deployment phase is left (RELBOT_CHECKPOINTS); empty:
    // none are planned (those planned already are still posted and reminded).
    scheduler(scheduler_ports ports,
              notifier& notify,
              slack_api& api,
              checklist::reminder_rules rules,
              clock& time,
              std::vector<std::chrono::seconds> checkpoints = {});

    net::awaitable<void> run();
    void wake();
    void stop();

    // Does one pass at `now`: queues what is due, returns when to look again. Public so that the
    // scheduling can be driven with a chosen clock.
    checklist::epoch_seconds tick(checklist::epoch_seconds now);

    // The freeze windows of the templates and RELBOT_FREEZE (each must outlive the scheduler):
    // when one begins or ends, every active release's status message is brought up to date
    // (it says "frozen until …"), and once at the first pass.
    void watch_freezes(std::vector<const checklist::freeze_window*> windows) {
        freezes_ = std::move(windows);
    }

    // Someone typed a command: their name is looked up on the next pass unless it is known.
    // True the first time this process sees them (the caller then wakes the scheduler).
    bool person_seen(const std::string& user);

private:
    // Looks up (users.info) the people whose time zone (owners who may be reminded soon) or
    // name (people of active releases, and whoever typed a command) is unknown or a day old,
    // once per person: one call gives both.
    net::awaitable<void> refresh_people();
    // The people to look up now: who needs a time zone or a name, and who typed a command.
    std::set<std::string> people_to_look_up(checklist::epoch_seconds now);
    // Prunes the redelivery record (at most once an hour) and ticks; returns when to look again.
    checklist::epoch_seconds housekeep_and_tick(checklist::epoch_seconds now);

    scheduler_ports ports_;
    notifier& notify_;
    slack_api& api_;
    checklist::reminder_rules rules_;
    clock& clock_;
    std::vector<std::chrono::seconds> checkpoints_;
    std::unique_ptr<alarm> alarm_;
    bool woken_ = false;
    bool stopping_ = false;
    checklist::epoch_seconds next_prune_ = 0;
    std::set<std::string> seen_;          // people who typed a command since the start
    std::set<std::string> names_wanted_;  // of those, the ones to look up on the next pass
    std::map<std::string, checklist::epoch_seconds> lookup_failed_;  // users.info refused, when
    std::vector<const checklist::freeze_window*> freezes_;
    checklist::epoch_seconds freeze_change_at_ = 0;  // the next window to begin or end
    bool statuses_refreshed_ = false;  // the status messages were brought up to date after start
    static constexpr int refresh_at_start = 20;  // releases whose status message a start refreshes
};

}  // namespace relbot::bot
