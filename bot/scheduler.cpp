// Reminder scheduling: decide with checklist/reminders and checklist/timers, record and queue
// in one transaction.
#include "bot/scheduler.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "bot/slack_answers.hpp"
#include "checklist/checkpoints.hpp"
#include "checklist/rules.hpp"
#include "checklist/timers.hpp"
#include "commands/render.hpp"
#include "commands/render/checkpoints.hpp"
#include "commands/render/wording.hpp"

namespace relbot::bot {

using checklist::destination;
using checklist::message_kind;

namespace {

using owner_reminders =
    std::map<std::string, std::vector<std::pair<checklist::reminder_candidate, std::int64_t>>>;
using manager_escalations = std::map<std::string, std::vector<checklist::reminder_candidate>>;

std::vector<checklist::reminder_input> reminder_inputs(
    storage::directory& people, const std::vector<checklist::reminder_candidate>& candidates) {
    std::vector<checklist::reminder_input> inputs;
    for (const auto& c : candidates) {
        inputs.push_back({c.owner, c.manager, c.due_at, c.last_slot, c.reminders_since_change,
                          c.escalated, c.deployment_phase,
                          people.time_zone_offset(c.owner).value_or(0),  // unknown: UTC
                          c.last_sent_at, c.snoozed_until});
    }
    return inputs;
}

owner_reminders reminders_by_owner(const std::vector<checklist::reminder_candidate>& candidates,
                                   const checklist::reminder_plan& plan) {
    owner_reminders by_owner;
    for (const auto& [owner, picks] : plan.remind) {
        for (const auto& [index, slot] : picks) {
            by_owner[owner].push_back({candidates[index], slot});
        }
    }
    return by_owner;
}

manager_escalations escalations_by_manager(
    const std::vector<checklist::reminder_candidate>& candidates,
    const checklist::reminder_plan& plan) {
    manager_escalations escalate;
    for (const auto& [manager, picks] : plan.escalate) {
        for (auto index : picks) {
            escalate[manager].push_back(candidates[index]);
        }
    }
    return escalate;
}

std::string render_timer(const checklist::timer_notice& n, const checklist::release& r) {
    const auto* it = commands::find_item(r, n.item_id);  // null for n.item_id 0
    switch (n.kind) {
        case checklist::timer_kind::sign_off_pending:
            return it ? commands::post_body_json(
                            commands::render_sign_off_request(r, *it, it->state_by, true))
                      : std::string();
        case checklist::timer_kind::sign_off_escalated:
            return it ? commands::post_body_json(commands::render_sign_off_escalation(
                            r, *it, checklist::sign_off_asked(r, *it)))
                      : std::string();
        case checklist::timer_kind::window_open:
            return commands::post_body_json(commands::render_window_open(r));
        case checklist::timer_kind::window_over:
            return commands::post_body_json(commands::render_window_over(r));
        case checklist::timer_kind::handoff_pending:
            return commands::post_body_json(commands::render_handoff_pending(r));
    }
    return {};
}

// When `user`'s quiet hours or weekend end, if they are in them at `now` (in their time zone,
// UTC when unknown; the release's deployment phase lifts them): a reminder that repeats every
// interval (a pending handoff, an unanswered checkpoint) waits until then, as an overdue
// item's does. nullopt: they may be reminded now.
std::optional<checklist::epoch_seconds> quiet_until(const scheduler_ports& ports,
                                                    const std::string& user,
                                                    const checklist::release& r,
                                                    checklist::epoch_seconds now,
                                                    const checklist::reminder_rules& rules) {
    auto tz = ports.people.time_zone_offset(user).value_or(0);
    bool deploying = checklist::is_deployment_phase(r.current().title);
    auto allowed = checklist::allowed_at(now, tz, rules, deploying);
    return allowed > now ? std::optional(allowed) : std::nullopt;
}

// Phase windows, pending handoffs and pending sign-offs, as checklist::plan_timers and
// plan_sign_off_reminders decide them. Their keys make each message once-only, so a pass that
// comes again (or after a restart) queues nothing new; after downtime only the latest reminder
// goes out. Brings `next` forward to the next timer due; true if anything new was queued.
bool queue_timers(const scheduler_ports& ports,
                  const std::vector<std::int64_t>& timed,
                  checklist::epoch_seconds now,
                  const checklist::reminder_rules& rules,
                  checklist::epoch_seconds& next) {
    bool queued = false;
    auto tz = [&](const std::string& user) {
        return ports.people.time_zone_offset(user).value_or(0);  // unknown: UTC
    };
    // Not sent in quiet time: the pass at its end (`next`) sends the slot then current.
    auto quiet_for = [&](const std::string& user, const checklist::release& r) {
        auto until = quiet_until(ports, user, r, now, rules);
        if (until) {
            next = std::min(next, *until);
        }
        return until.has_value();
    };
    for (auto id : timed) {
        auto r = ports.releases.load_release(id);
        if (!r) {
            continue;
        }
        auto plan = checklist::plan_timers(*r, now, rules.interval);
        auto sign_offs = checklist::plan_sign_off_reminders(*r, now, rules, tz);
        for (auto& n : sign_offs.notices) {
            plan.notices.push_back(std::move(n));
        }
        if (sign_offs.next) {
            next = std::min(next, *sign_offs.next);
        }
        for (const auto& n : plan.notices) {
            if (n.kind == checklist::timer_kind::handoff_pending && quiet_for(n.to, *r)) {
                continue;
            }
            auto body = render_timer(n, *r);
            if (body.empty()) {
                continue;
            }
            queued |= ports.outbox.enqueue(
                {n.key, r->id, n.direct ? destination::direct(n.to) : destination::channel(n.to),
                 "chat.postMessage", std::move(body),
                 n.direct ? message_kind::dm : message_kind::announcement},
                now);
        }
        if (plan.next) {
            next = std::min(next, *plan.next);
        }
    }
    return queued;
}

// One DM per owner with all of their due items; each item's slot recorded.
void queue_reminders(const scheduler_ports& ports,
                     const owner_reminders& by_owner,
                     checklist::epoch_seconds now) {
    for (const auto& [owner, items] : by_owner) {
        std::vector<checklist::reminder_candidate> list;
        std::string key = "reminder:" + owner;
        for (const auto& [c, slot] : items) {
            ports.reminders.record_reminder(c.item_id, c.due_at, slot, now);
            // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) about
            // `":" + std::to_string(…)` once inlined in a Release build.
            key.append(":").append(std::to_string(c.item_id));
            key.append(".").append(std::to_string(c.due_at));
            key.append(".").append(std::to_string(slot));
            list.push_back(c);
        }
        ports.outbox.enqueue(
            {key, list.front().release_id, destination::direct(owner), "chat.postMessage",
             commands::post_body_json(commands::render_reminder(list)), message_kind::dm},
            now);
        log_info("reminder.queued")
            .kv("owner", owner)
            .kv("items", static_cast<long long>(list.size()));
    }
}

// One DM per manager with the items reminders did not move; each marked escalated.
void queue_escalations(const scheduler_ports& ports,
                       const manager_escalations& escalate,
                       checklist::epoch_seconds now) {
    for (const auto& [manager, items] : escalate) {
        std::string key = "escalation:" + manager;
        for (const auto& c : items) {
            ports.reminders.mark_escalated(c.item_id, now);
            key.append(":").append(std::to_string(c.item_id));
            key.append(".").append(std::to_string(now));
        }
        ports.outbox.enqueue(
            {key, items.front().release_id, destination::direct(manager), "chat.postMessage",
             commands::post_body_json(commands::render_escalation(items)), message_kind::dm},
            now);
        log_info("reminder.escalated")
            .kv("manager", manager)
            .kv("items", static_cast<long long>(items.size()));
    }
}

// What one pass does to one release's monitoring checkpoints: plans them once the deployment
// phase was left, marks the ones due as posted and the unanswered one due a reminder as
// reminded (into `r` and `log`); the work says which messages that calls for.
checklist::checkpoint_work checkpoint_pass(checklist::release& r,
                                           const std::vector<std::chrono::seconds>& offsets,
                                           checklist::epoch_seconds now,
                                           std::chrono::seconds interval,
                                           checklist::change_log& log) {
    checklist::create_checkpoints(r, offsets, log);
    auto work = checklist::checkpoints_due(r, now, interval);
    for (auto n : work.post) {
        checklist::mark_checkpoint_posted(r, n, now, log);
    }
    for (const auto& [n, slot] : work.remind) {
        checklist::mark_checkpoint_reminded(r, n, now, log);
    }
    return work;
}

// The releases whose checkpoints have something to write at `now`; brings `next` forward to
// the next checkpoint moment of the others. Reads only.
std::vector<std::int64_t> checkpoint_releases_due(const scheduler_ports& ports,
                                                  const std::vector<std::chrono::seconds>& offsets,
                                                  checklist::epoch_seconds now,
                                                  std::chrono::seconds interval,
                                                  checklist::epoch_seconds& next) {
    std::vector<std::int64_t> due;
    for (auto id : ports.reminders.checkpoint_releases()) {
        auto r = ports.releases.load_release(id);
        if (!r) {
            continue;
        }
        checklist::change_log log;
        auto work = checkpoint_pass(*r, offsets, now, interval, log);
        if (!log.checkpoints.empty()) {
            due.push_back(id);
        } else if (work.next) {
            next = std::min(next, *work.next);
        }
    }
    return due;
}

void queue_json(const scheduler_ports& ports,
                const std::string& key,
                const checklist::release& r,
                destination to,
                const commands::message& m,
                message_kind kind,
                checklist::epoch_seconds now) {
    ports.outbox.enqueue(
        {key, r.id, std::move(to), "chat.postMessage", commands::post_body_json(m), kind}, now);
}

// Plans, posts and reminds the checkpoints of the releases `due` (inside the unit of work):
// the channel post "checkpoint:<release>:<n>" and DMs "checkpoint:<release>:<n>:<user>" when
// one falls due, reminders "checkpoint-reminder:<release>:<n>:<slot>:<user>"; the outbox
// queues each key once, so a pass after a restart sends nothing twice. Brings `next` forward.
void queue_checkpoints(const scheduler_ports& ports,
                       const std::vector<std::int64_t>& due,
                       const std::vector<std::chrono::seconds>& offsets,
                       checklist::epoch_seconds now,
                       const checklist::reminder_rules& rules,
                       checklist::epoch_seconds& next) {
    auto interval = rules.interval;
    for (auto id : due) {
        auto r = ports.releases.load_release(id);
        if (!r) {
            continue;
        }
        checklist::change_log log;
        auto before = r->checkpoints;  // as they were before this pass marked anything
        auto work = checkpoint_pass(*r, offsets, now, interval, log);
        auto prefix = "checkpoint:" + std::to_string(r->id) + ":";
        for (auto n : work.post) {
            auto key = prefix + std::to_string(n);
            queue_json(ports, key, *r, destination::channel(r->channel),
                       commands::render_checkpoint_post(*r, n), message_kind::announcement, now);
            for (const auto& user : checklist::checkpoint_people(*r)) {
                queue_json(ports, key + ":" + user, *r, destination::direct(user),
                           commands::render_checkpoint_dm(*r, n), message_kind::dm, now);
            }
            log_info("checkpoint.posted").kv("release", r->id).kv("checkpoint", n);
        }
        for (const auto& [n, slot] : work.remind) {
            int sent = 0;
            bool held = false;
            for (const auto& user : checklist::checkpoint_people(*r)) {
                // As an overdue item: not at night nor at the weekend; when that ends.
                if (auto until = quiet_until(ports, user, *r, now, rules)) {
                    next = std::min(next, *until);
                    held = true;
                    continue;
                }
                std::string key = "checkpoint-reminder:" + std::to_string(r->id);
                key.append(":").append(std::to_string(n)).append(":").append(std::to_string(slot));
                key.append(":").append(user);
                queue_json(ports, key, *r, destination::direct(user),
                           commands::render_checkpoint_reminder(*r, n), message_kind::dm, now);
                ++sent;
            }
            if (sent == 0 && held) {
                // Nobody could be told now: the reminder is not used up, and goes out when
                // the quiet time ends (the slot then current).
                auto held_one = [n = n](const checklist::checkpoint& c) { return c.number == n; };
                auto now_c = std::find_if(r->checkpoints.begin(), r->checkpoints.end(), held_one);
                auto was = std::find_if(before.begin(), before.end(), held_one);
                if (now_c != r->checkpoints.end() && was != before.end()) {
                    now_c->last_reminded_at = was->last_reminded_at;
                    now_c->reminders = was->reminders;
                }
                continue;
            }
            log_info("checkpoint.reminded").kv("release", r->id).kv("checkpoint", n);
        }
        ports.releases.save(*r, log, "", now);
        if (work.next) {
            next = std::min(next, *work.next);
        }
    }
}

}  // namespace

scheduler_ports scheduler_ports::of(storage::engine& e) {
    return {e.reminders(), e.people(),  e.releases(), e.outbox(),
            e.work(),      e.applied(), e.status(),   e.shared()};
}

scheduler::scheduler(scheduler_ports ports,
                     notifier& notify,
                     slack_api& api,
                     checklist::reminder_rules rules,
                     clock& time,
                     std::vector<std::chrono::seconds> checkpoints)
    : ports_(ports),
      notify_(notify),
      api_(api),
      rules_(rules),
      clock_(time),
      checkpoints_(std::move(checkpoints)) {}

bool scheduler::person_seen(const std::string& user) {
    if (user.empty() || !seen_.insert(user).second) {
        return false;
    }
    names_wanted_.insert(user);
    return true;
}

std::set<std::string> scheduler::people_to_look_up(checklist::epoch_seconds now) {
    constexpr checklist::epoch_seconds day = 86400;  // people move and rename; look again daily
    std::set<std::string> users;
    for (auto& user : ports_.people.owners_needing_time_zone(now, day)) {
        users.insert(std::move(user));
    }
    for (auto& user : ports_.people.people_needing_name(now, day)) {
        users.insert(std::move(user));
    }
    for (const auto& user : std::exchange(names_wanted_, {})) {
        if (!ports_.people.name_looked_up(user, now, day)) {
            users.insert(user);
        }
    }
    return users;
}

net::awaitable<void> scheduler::refresh_people() {
    auto now = clock_.epoch_s();
    constexpr checklist::epoch_seconds retry_after = 3600;
    for (const auto& user : people_to_look_up(now)) {
        // A lookup Slack refused (no users:read scope, an unknown user) is tried again in an
        // hour, not on every pass.
        if (auto f = lookup_failed_.find(user);
            f != lookup_failed_.end() && now - f->second < retry_after) {
            continue;
        }
        std::map<std::string, std::string> args = {{"user", user}};
        auto r = co_await api_.call_form("users.info", std::move(args), token_kind::bot);
        if (!r.ok()) {
            // Quiet hours fall back to UTC, and the export shows the ID, for this person for
            // now; people of active releases are looked up again after retry_after.
            log_warn("users.info_failed").kv("user", user).kv("error", r.error);
            lookup_failed_[user] = now;
            continue;
        }
        lookup_failed_.erase(user);
        auto info = read_user(r.body);
        ports_.people.remember_user(user, info.tz_offset_s, info.display_name, clock_.epoch_s());
        log_info("user.looked_up").kv("user", user);  // once a day per person at most
    }
}

void scheduler::wake() {
    woken_ = true;
    if (alarm_) {
        alarm_->ring();
    }
}

void scheduler::stop() {
    stopping_ = true;
    wake();
}

checklist::epoch_seconds scheduler::tick(checklist::epoch_seconds now) {
    // On a shared store, one pass at a time across the instances, each reading what the pass
    // before it committed: a slot, an escalation or a checkpoint is decided by one of them.
    // (One process: the reads need no lock, and a pass with nothing to write takes none.)
    std::unique_ptr<storage::write_transaction> tx;
    if (ports_.shared) {
        tx = ports_.work.begin();
        ports_.reminders.serialize_ticks();
    }
    auto candidates = ports_.reminders.reminder_candidates();
    auto plan = checklist::plan_reminders(reminder_inputs(ports_.people, candidates), now, rules_);
    auto next = plan.next;
    auto by_owner = reminders_by_owner(candidates, plan);
    auto escalate = escalations_by_manager(candidates, plan);
    auto timed = ports_.reminders.timed_releases();
    auto checkpointed = checkpoint_releases_due(ports_, checkpoints_, now, rules_.interval, next);
    bool freeze_changed = !freezes_.empty() && now >= freeze_change_at_;
    if (freeze_changed) {
        auto change = checklist::next_freeze_change(freezes_, now);
        freeze_change_at_ = change ? *change : std::numeric_limits<checklist::epoch_seconds>::max();
    }
    if (!freezes_.empty()) {
        next = std::min(next, freeze_change_at_);
    }
    // Once after a start, every active release's living status message is brought up to date:
    // one lost with a crash is sent, and one that is gone (a restored backup, a sandbox started
    // afresh on its old database) is posted again, with its buttons.
    bool refresh = !statuses_refreshed_;
    if (timed.empty() && by_owner.empty() && escalate.empty() && checkpointed.empty() &&
        !freeze_changed && !refresh) {
        return next;  // nothing to write (a shared store's unit ends unwritten)
    }
    if (!tx) {
        tx = ports_.work.begin();
    }
    if (freeze_changed) {
        ports_.status.statuses_behind(0, 0);  // "frozen until …" appears or goes
    } else if (refresh) {
        // The newest releases' only: a start does not hold up the changes people make behind
        // a long queue of chat.update calls (50 a minute).
        ports_.status.statuses_behind(0, refresh_at_start);
    }
    bool queued = queue_timers(ports_, timed, now, rules_, next) || freeze_changed || refresh;
    queue_checkpoints(ports_, checkpointed, checkpoints_, now, rules_, next);
    queued |= !checkpointed.empty();
    bool reminding = !by_owner.empty() || !escalate.empty();
    if (reminding) {
        queue_reminders(ports_, by_owner, now);
        queue_escalations(ports_, escalate, now);
    }
    tx->commit();
    statuses_refreshed_ = true;
    if (!reminding) {
        if (queued) {
            notify_.wake();
        }
        return next;
    }
    auto& m = process_metrics();
    m.reminders.add({"reminder"}, static_cast<double>(by_owner.size()));
    m.reminders.add({"escalation"}, static_cast<double>(escalate.size()));
    notify_.wake();
    return std::min(next, now + 1);
}

checklist::epoch_seconds scheduler::housekeep_and_tick(checklist::epoch_seconds now) {
    // Keep the redelivery record to a week (a scan of that week); at most once an hour.
    if (now >= next_prune_) {
        auto removed = ports_.applied.forget_applied_before(now - 7 * 86400);
        if (removed > 0) {
            log_info("envelopes.pruned").kv("removed", removed);
        }
        next_prune_ = now + 3600;
    }
    return tick(now);
}

net::awaitable<void> scheduler::run() {
    auto ex = co_await net::this_coro::executor;
    alarm_ = clock_.make_alarm(ex);
    while (!stopping_) {
        woken_ = false;
        auto now = clock_.epoch_s();
        checklist::epoch_seconds next = now + 60;
        try {
            co_await refresh_people();
        } catch (const std::exception& e) {
            log_error("scheduler.people_failed").kv("error", e.what());
        }
        try {
            next = housekeep_and_tick(now);
        } catch (const std::exception& e) {
            log_error("scheduler.failed").kv("error", e.what());
        }
        if (woken_) {
            continue;
        }
        auto wait = std::max<checklist::epoch_seconds>(1, next - clock_.epoch_s());
        co_await alarm_->wait_until(clock_.steady_now() + std::chrono::seconds(wait));
        // ended early by wake() or stop(): look again
    }
}

}  // namespace relbot::bot
