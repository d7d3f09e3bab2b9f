// Monitoring checkpoints and snoozing (see checkpoints.hpp).
#include "checklist/checkpoints.hpp"

#include <algorithm>

#include "checklist/duration.hpp"
#include "checklist/reminders.hpp"

namespace relbot::checklist {
namespace {

checkpoint* find_mutable(release& r, int number) {
    for (auto& c : r.checkpoints) {
        if (c.number == number) {
            return &c;
        }
    }
    return nullptr;
}

}  // namespace

std::optional<std::size_t> deployment_phase(const release& r) {
    for (std::size_t p = 0; p < r.phases.size(); ++p) {
        if (is_deployment_phase(r.phases[p].title)) {
            return p;
        }
    }
    return std::nullopt;
}

std::optional<std::size_t> monitoring_phase(const release& r) {
    auto deploy = deployment_phase(r);
    if (!deploy) {
        return std::nullopt;
    }
    for (auto p = *deploy + 1; p < r.phases.size(); ++p) {
        if (r.phases[p].window) {
            return p;
        }
    }
    return std::nullopt;
}

std::optional<epoch_seconds> deployment_left_at(const release& r) {
    auto deploy = deployment_phase(r);
    if (!deploy || *deploy + 1 >= r.phases.size() ||
        static_cast<std::size_t>(r.current_phase - 1) <= *deploy) {
        return std::nullopt;
    }
    return r.phases[*deploy + 1].entered_at;
}

std::vector<checkpoint> plan_checkpoints(const release& r,
                                         const std::vector<std::chrono::seconds>& offsets,
                                         std::optional<epoch_seconds> deployed_at) {
    auto anchor = deployed_at ? deployed_at : deployment_left_at(r);
    if (offsets.empty() || !monitoring_phase(r) || !anchor) {
        return {};
    }
    std::vector<checkpoint> out;
    for (const auto& offset : offsets) {
        checkpoint c;
        c.number = static_cast<int>(out.size()) + 1;
        c.offset_s = offset.count();
        c.due_at = *anchor + offset.count();
        out.push_back(std::move(c));
    }
    return out;
}

bool create_checkpoints(release& r,
                        const std::vector<std::chrono::seconds>& offsets,
                        change_log& log,
                        std::optional<epoch_seconds> deployed_at) {
    if (!r.checkpoints.empty()) {
        return false;
    }
    r.checkpoints = plan_checkpoints(r, offsets, deployed_at);
    for (const auto& c : r.checkpoints) {
        log.checkpoints.push_back(c.number);
    }
    return !r.checkpoints.empty();
}

verdict record_deployment(release& r,
                          const std::vector<std::chrono::seconds>& offsets,
                          epoch_seconds now,
                          std::string note,
                          change_log& log) {
    if (r.status != release_status::active) {
        refusal no;
        no.why = refused::release_ended;
        no.action = "record the deployment";
        return no;
    }
    log.events.push_back({"release.deployed", std::nullopt, "", "", std::move(note)});
    create_checkpoints(r, offsets, log, now);
    return std::nullopt;
}

std::string checkpoint_label(const checkpoint& c) {
    auto s = c.offset_s;
    if (s > 0 && s % 3600 == 0) {
        return "+" + std::to_string(s / 3600) + "h";
    }
    if (s > 0 && s % 60 == 0) {
        return "+" + std::to_string(s / 60) + "m";
    }
    return "+" + std::to_string(s) + "s";
}

std::string answer_word(checkpoint_answer a) {
    switch (a) {
        case checkpoint_answer::none:
            return "no answer";
        case checkpoint_answer::healthy:
            return "Healthy";
        case checkpoint_answer::investigating:
            return "Investigating";
        case checkpoint_answer::rolled_back:
            return "Rolled back";
    }
    return "no answer";
}

const checkpoint* find_checkpoint(const release& r, int number) {
    for (const auto& c : r.checkpoints) {
        if (c.number == number) {
            return &c;
        }
    }
    return nullptr;
}

bool may_answer_checkpoints(const release& r, const actor& a) {
    return is_manager_or_admin(r, a) ||
           (!r.oncall.empty() && a.user == r.oncall && r.handoff_accepted_at.has_value());
}

verdict answer_checkpoint(release& r,
                          int number,
                          checkpoint_answer answer,
                          const actor& a,
                          epoch_seconds now,
                          change_log& log,
                          std::string reason) {
    constexpr std::string_view what = "answer the monitoring checkpoint";
    if (r.status != release_status::active) {
        return because(refused::release_ended, what, {}, number);
    }
    if (!may_answer_checkpoints(r, a)) {
        auto no = because(refused::not_checkpoint_answerer, what, r.manager, number);
        return no;
    }
    auto* c = find_mutable(r, number);
    if (c == nullptr || !c->posted_at || answer == checkpoint_answer::none) {
        return because(refused::checkpoint_not_posted, what, {}, number);
    }
    if (c->answer == answer) {
        return because(refused::checkpoint_already, what, c->answered_by, number);
    }
    auto from = c->answer;
    c->answer = answer;
    c->answered_by = a.user;
    c->answered_at = now;
    log.events.push_back({"checkpoint.answered", std::nullopt, std::string(to_string(from)),
                          std::string(to_string(answer)),
                          "Checkpoint " + checkpoint_label(*c) + ": " + answer_word(answer)});
    log.checkpoints.push_back(number);
    if (answer == checkpoint_answer::rolled_back) {
        return record_rollback(r, std::move(reason), log);
    }
    return std::nullopt;
}

std::optional<int> checkpoint_hold(const release& r) {
    std::optional<int> hold;
    for (const auto& c : r.checkpoints) {  // in number order
        if (c.answer == checkpoint_answer::investigating) {
            hold = hold.value_or(c.number);
        } else if (c.answer == checkpoint_answer::healthy ||
                   c.answer == checkpoint_answer::rolled_back) {
            hold.reset();  // ends every hold of this checkpoint and earlier ones
        }
    }
    return hold;
}

checkpoint_work checkpoints_due(const release& r,
                                epoch_seconds now,
                                std::chrono::seconds interval) {
    checkpoint_work work;
    if (r.status != release_status::active) {
        return work;
    }
    auto step = std::max<std::int64_t>(1, interval.count());
    auto later = [&](epoch_seconds t) { work.next = work.next ? std::min(*work.next, t) : t; };
    const checkpoint* latest = nullptr;
    for (const auto& c : r.checkpoints) {
        if (c.posted_at) {
            latest = &c;
        } else if (c.due_at <= now) {
            work.post.push_back(c.number);
        } else {
            later(c.due_at);
        }
    }
    // Only the latest posted checkpoint is reminded, while it has no answer and no later one
    // is being posted.
    if (latest == nullptr || !work.post.empty() || latest->answer != checkpoint_answer::none) {
        return work;
    }
    auto posted = *latest->posted_at;
    auto slot = (now - posted) / step;
    auto last = latest->last_reminded_at ? (*latest->last_reminded_at - posted) / step : 0;
    if (slot >= 1 && slot > last) {
        work.remind.push_back({latest->number, slot});
    }
    later(posted + (std::max(slot, last) + 1) * step);
    return work;
}

void mark_checkpoint_posted(release& r, int number, epoch_seconds now, change_log& log) {
    if (auto* c = find_mutable(r, number)) {
        c->posted_at = now;
        log.checkpoints.push_back(number);
    }
}

void mark_checkpoint_reminded(release& r, int number, epoch_seconds now, change_log& log) {
    if (auto* c = find_mutable(r, number)) {
        c->reminders += 1;
        c->last_reminded_at = now;
        log.checkpoints.push_back(number);
    }
}

std::vector<std::string> checkpoint_people(const release& r) {
    std::vector<std::string> out;
    if (!r.manager.empty()) {
        out.push_back(r.manager);
    }
    if (!r.oncall.empty() && r.handoff_accepted_at && r.oncall != r.manager) {
        out.push_back(r.oncall);
    }
    return out;
}

epoch_seconds snooze_until(snooze_length how, epoch_seconds now, int tz_offset_s) {
    switch (how) {
        case snooze_length::one_hour:
            return now + 3600;
        case snooze_length::four_hours:
            return now + 4 * 3600;
        case snooze_length::tomorrow_morning:
            break;
    }
    constexpr epoch_seconds day = 86400;
    auto local = now + tz_offset_s;
    auto midnight = (local >= 0 ? local / day : (local - day + 1) / day) * day;
    auto nine = midnight + 9 * 3600;
    if (nine <= local) {
        nine += day;
    }
    return nine - tz_offset_s;
}

verdict snooze_item(release& r,
                    item_pos p,
                    epoch_seconds until,
                    const actor& a,
                    epoch_seconds now,
                    change_log& log) {
    (void)now;
    auto& it = r.phases.at(p.phase).items.at(p.index);
    if (r.status != release_status::active) {
        return because(refused::release_ended, "snooze reminders");
    }
    if (auto no = require_item_change(r, it, a, "snooze the reminders of")) {
        return no;
    }
    if (it.state == item_state::done || it.state == item_state::skipped) {
        auto no = because(
            it.state == item_state::done ? refused::already_done : refused::already_skipped, {});
        no.item = p;
        return no;
    }
    it.snoozed_until = until;
    log.events.push_back({"item.snoozed", it.id, "", "until " + format_utc(until), ""});
    log.items.push_back(p);
    return std::nullopt;
}

}  // namespace relbot::checklist
