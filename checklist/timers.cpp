// Phase windows and pending handoffs: what to tell whom, and when to look again.
#include "checklist/timers.hpp"

#include <algorithm>

#include "checklist/reminders.hpp"

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

}  // namespace relbot::checklist
