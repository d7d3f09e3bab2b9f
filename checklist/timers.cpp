// Phase windows and pending handoffs: what to tell whom, and when to look again.
#include "checklist/timers.hpp"

#include <algorithm>

#include "checklist/reminders.hpp"
#include "checklist/rules.hpp"

namespace relbot::checklist {

namespace {

// "<prefix><release>:<phase>", appended piece by piece (GCC 12 warns, -Wrestrict, a false
// positive, about `":" + std::to_string(…)` once inlined in a Release build).
std::string phase_key(const char* prefix, const release& r) {
    std::string key = prefix;
    key.append(std::to_string(r.id)).append(":").append(std::to_string(r.current().position));
    return key;
}

void wake_at(timer_plan& plan, epoch_seconds at) {
    plan.next = plan.next ? std::min(*plan.next, at) : at;
}

}  // namespace

timer_plan plan_window_notices(const release& r, epoch_seconds now) {
    timer_plan plan;
    const auto& p = r.current();
    if (!p.window || !p.entered_at) {
        return plan;
    }
    auto min_at = *p.entered_at + p.window->min.count();
    auto max_at = *p.entered_at + p.window->max.count();
    if (now >= min_at) {
        plan.notices.push_back(
            {timer_kind::window_open, phase_key("window-min:", r), r.manager, true});
    } else {
        wake_at(plan, min_at);
    }
    if (now >= max_at) {
        plan.notices.push_back(
            {timer_kind::window_over, phase_key("window-max:", r), r.channel, false});
    } else {
        wake_at(plan, max_at);
    }
    return plan;
}

timer_plan plan_handoff_reminders(const release& r,
                                  epoch_seconds now,
                                  std::chrono::seconds interval) {
    timer_plan plan;
    if (!r.handoff_at || r.handoff_accepted_at) {
        return plan;
    }
    auto first = *r.handoff_at + interval.count();
    auto slot = due_slot(first, now, interval);
    if (!slot) {
        wake_at(plan, first);
        return plan;
    }
    std::string key = "handoff-pending:";
    key.append(std::to_string(r.id)).append(":").append(std::to_string(*r.handoff_at));
    key.append(":").append(std::to_string(*slot));
    plan.notices.push_back({timer_kind::handoff_pending, std::move(key), r.manager, true});
    wake_at(plan, slot_time(first, *slot + 1, interval));
    return plan;
}

timer_plan plan_timers(const release& r, epoch_seconds now, std::chrono::seconds interval) {
    auto plan = plan_window_notices(r, now);
    auto handoff = plan_handoff_reminders(r, now, interval);
    for (auto& n : handoff.notices) {
        plan.notices.push_back(std::move(n));
    }
    if (handoff.next) {
        wake_at(plan, *handoff.next);
    }
    return plan;
}

timer_plan plan_sign_off_reminders(const release& r,
                                   epoch_seconds now,
                                   const reminder_rules& rules,
                                   const std::function<int(const std::string&)>& tz_offset_s) {
    timer_plan plan;
    if (r.status != release_status::active) {
        return plan;
    }
    bool deployment = is_deployment_phase(r.current().title);
    for (const auto& it : r.current().items) {
        auto asked = sign_off_asked(r, it);
        if (asked.empty() || !it.state_at) {
            continue;
        }
        auto since = *it.state_at;
        for (const auto& a : it.approvals) {
            since = std::max(since, a.at);
        }
        auto first = since + rules.interval.count();
        auto slot = due_slot(first, now, rules.interval);
        if (!slot) {
            wake_at(plan, first);
            continue;
        }
        wake_at(plan, slot_time(first, *slot + 1, rules.interval));
        auto tz = tz_offset_s(asked);
        auto allowed = allowed_at(now, tz, rules, deployment);
        if (allowed > now) {
            wake_at(plan, allowed);  // their quiet hours: the latest slot goes out after them
            continue;
        }
        std::string key = "sign-off-reminder:";
        key.append(std::to_string(r.id)).append(":").append(std::to_string(it.id));
        key.append(":").append(std::to_string(since));
        auto escalation = "sign-off-escalation:" + key.substr(key.find(':') + 1);
        key.append(":").append(std::to_string(*slot));
        plan.notices.push_back({timer_kind::sign_off_pending, std::move(key), asked, true, it.id});
        // The reminders already sent: the earlier slots outside their quiet hours (the most
        // recent thousand slots looked at: a bound for tiny intervals over long waits).
        int reminded = 0;
        for (std::int64_t k = std::max<std::int64_t>(0, *slot - 1000);
             k < *slot && reminded < rules.escalate_after; ++k) {
            auto t = slot_time(first, k, rules.interval);
            reminded += allowed_at(t, tz, rules, deployment) == t ? 1 : 0;
        }
        if (reminded >= rules.escalate_after && !r.manager.empty() && asked != r.manager) {
            plan.notices.push_back(
                {timer_kind::sign_off_escalated, std::move(escalation), r.manager, true, it.id});
        }
    }
    return plan;
}

}  // namespace relbot::checklist
