#include "checklist/timeline.hpp"

#include <algorithm>
#include <map>

#include "checklist/checkpoints.hpp"

namespace relbot::checklist {
namespace {

std::int64_t median(std::vector<std::int64_t> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    auto n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<reason_count> top_reasons(const std::map<std::string, int>& counts) {
    std::vector<reason_count> out;
    for (const auto& [reason, n] : counts) {
        out.push_back({reason, n});
    }
    std::stable_sort(out.begin(), out.end(), [](const reason_count& a, const reason_count& b) {
        return a.count > b.count;
    });
    if (out.size() > 3) {
        out.resize(3);
    }
    return out;
}

// When each phase (by position) was entered, from the rows, with the stored entered_at as the
// fallback (releases started before the rows said it).
std::vector<std::optional<epoch_seconds>> entered_times(const release& r,
                                                        const std::vector<audit_entry>& audit) {
    std::vector<std::optional<epoch_seconds>> entered(r.phases.size());
    if (!r.phases.empty()) {
        entered[0] = r.started_at;
    }
    std::size_t next = 1;
    for (const auto& e : audit) {
        if (e.action == "phase.entered" && !e.from_state.empty() && next < r.phases.size()) {
            entered[next++] = e.at;  // phases are entered in order, one `next` at a time
        }
    }
    for (std::size_t k = 0; k < r.phases.size(); ++k) {
        if (!entered[k] && r.phases[k].entered_at) {
            entered[k] = r.phases[k].entered_at;
        }
    }
    return entered;
}

}  // namespace

timeline_model build_timeline(const release& r,
                              const std::vector<audit_entry>& audit,
                              epoch_seconds now,
                              const std::string& channel_name) {
    timeline_model m;
    m.version = r.version;
    m.channel = channel_name.empty() ? r.channel : "#" + channel_name;
    m.status = r.status;
    auto end = r.ended_at ? *r.ended_at : std::max(now, r.started_at);
    m.span = {r.started_at, end};

    auto entered = entered_times(r, audit);
    for (std::size_t k = 0; k < r.phases.size(); ++k) {
        const auto& p = r.phases[k];
        timeline_phase row{p.position, p.title, std::nullopt, p.left_by_force,
                           p.position == r.current_phase};
        if (entered[k] && p.position <= r.current_phase) {
            auto left = p.position < r.current_phase && k + 1 < entered.size() && entered[k + 1]
                            ? *entered[k + 1]
                            : end;
            row.span = time_span{*entered[k], std::max(*entered[k], left)};
        }
        m.phases.push_back(std::move(row));
    }

    // Blocked spans: from item.blocked to the next row that takes the item out of blocked.
    std::map<std::int64_t, std::vector<time_span>> blocked;
    std::map<std::int64_t, epoch_seconds> since;
    for (const auto& e : audit) {
        if (e.action == "item.noted") {
            ++m.notes;
        }
        if (e.item_id) {
            auto id = *e.item_id;
            if (e.action == "item.blocked" && !since.contains(id)) {
                since[id] = e.at;
            } else if (e.from_state == "blocked" && e.to_state != "blocked" &&
                       since.contains(id)) {  // a note on a blocked item leaves it blocked
                blocked[id].push_back({since[id], std::max(since[id], e.at)});
                since.erase(id);
            }
            continue;
        }
        if (e.action == "phase.forced" || e.action == "release.forced_finish") {
            m.marks.push_back({timeline_mark_kind::forced, e.at, e.note});
        } else if (e.action == "release.rollback") {
            m.marks.push_back({timeline_mark_kind::rollback, e.at, e.note});
        } else if (e.action == "release.deployed") {
            m.marks.push_back({timeline_mark_kind::deployed, e.at, e.note});
            if (!m.deployed_at) {
                m.deployed_at = e.at;
            }
        }
    }
    for (const auto& [id, from] : since) {
        blocked[id].push_back({from, std::max(from, end)});  // still blocked
    }
    for (const auto& p : r.phases) {
        for (const auto& i : p.items) {
            if (auto b = blocked.find(i.id); b != blocked.end() && i.id != 0) {
                m.items.push_back({i.ref(), i.title, b->second});
            }
        }
    }
    std::stable_sort(m.marks.begin(), m.marks.end(),
                     [](const timeline_mark& a, const timeline_mark& b) { return a.at < b.at; });

    // The deployment line: when the deployment phase was left, unless a signal said earlier.
    if (auto deploy = deployment_phase(r); deploy && *deploy + 1 < r.phases.size()) {
        if (auto left = entered[*deploy + 1]; left && (!m.deployed_at || *left < *m.deployed_at)) {
            m.deployed_at = *left;
        }
    }
    for (const auto& c : r.checkpoints) {
        m.checkpoints.push_back({c.number, c.due_at, c.answer, c.answered_at});
    }
    return m;
}

trend_model build_trends(const std::vector<release_history>& finished,
                         const std::string& channel_name) {
    trend_model t;
    std::map<std::string, int> skip_reasons;
    std::map<std::string, int> forced_reasons;
    std::vector<std::int64_t> reminder_to_done;
    for (const auto& h : finished) {
        const auto& r = h.r;
        if (r.status != release_status::finished) {
            continue;
        }
        if (t.channel.empty()) {
            t.channel = channel_name.empty() ? r.channel : "#" + channel_name;
        }
        auto model = build_timeline(r, h.audit, r.ended_at.value_or(r.started_at));
        trend_release tr{r.version, r.ended_at.value_or(r.started_at), {}, 0, 0, {}};
        for (const auto& p : model.phases) {
            tr.phase_seconds.push_back(p.span ? p.span->to - p.span->from : 0);
            tr.phase_reached.push_back(p.span.has_value());
        }
        for (const auto& e : h.audit) {
            if (e.action == "item.skipped") {
                ++tr.skips;
                ++skip_reasons[e.note.empty() ? "(no reason)" : e.note];
            } else if (e.action == "phase.forced" || e.action == "release.forced_finish") {
                ++tr.forced;
                ++forced_reasons[e.note.empty() ? "(no reason)" : e.note];
            } else if (e.action == "item.checked" && e.item_id) {
                if (auto first = h.first_reminder.find(*e.item_id);
                    first != h.first_reminder.end() && e.at >= first->second) {
                    reminder_to_done.push_back(e.at - first->second);
                }
            }
        }
        for (const auto& c : r.checkpoints) {
            switch (c.answer) {
                case checkpoint_answer::healthy:
                    ++t.healthy;
                    break;
                case checkpoint_answer::investigating:
                    ++t.investigating;
                    break;
                case checkpoint_answer::rolled_back:
                    ++t.rolled_back;
                    break;
                case checkpoint_answer::none:
                    // Unanswered only if it was asked: one never posted (the release ended
                    // before it was due) is not a question left open.
                    t.unanswered += c.posted_at ? 1 : 0;
                    break;
            }
        }
        t.phase_titles.clear();
        for (const auto& p : r.phases) {
            t.phase_titles.push_back(p.title);
        }
        t.releases.push_back(std::move(tr));
    }
    if (t.releases.empty()) {
        return t;
    }
    for (std::size_t k = 0; k < t.phase_titles.size(); ++k) {
        std::vector<std::int64_t> times;
        for (const auto& tr : t.releases) {
            if (k < tr.phase_seconds.size() && k < tr.phase_reached.size() && tr.phase_reached[k]) {
                times.push_back(tr.phase_seconds[k]);
            }
        }
        t.median_phase_seconds.push_back(times.empty() ? -1 : median(times));
    }
    int skips = 0;
    int forced = 0;
    for (const auto& tr : t.releases) {
        skips += tr.skips;
        forced += tr.forced;
    }
    t.skips_per_release = static_cast<double>(skips) / static_cast<double>(t.releases.size());
    t.forced_per_release = static_cast<double>(forced) / static_cast<double>(t.releases.size());
    t.skip_reasons = top_reasons(skip_reasons);
    t.forced_reasons = top_reasons(forced_reasons);
    if (!reminder_to_done.empty()) {
        t.median_reminder_to_done = median(reminder_to_done);
    }
    return t;
}

}  // namespace relbot::checklist
