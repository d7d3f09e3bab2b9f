// Pieces of release text shared by the renderers.
#include "commands/render/wording.hpp"

#include "checklist/mrkdwn.hpp"
#include "checklist/rules.hpp"
#include "commands/render/blocks.hpp"

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;

std::string state_icon(checklist::item_state s) {
    switch (s) {
        case checklist::item_state::open:
            return ":white_large_square:";
        case checklist::item_state::done:
            return ":white_check_mark:";
        case checklist::item_state::skipped:
            return ":fast_forward:";
        case checklist::item_state::blocked:
            return ":no_entry:";
    }
    return ":white_large_square:";
}

}  // namespace

std::string item_line(const checklist::item& i) {
    // Checked but not yet counted done: it waits for its sign-offs, which it says first, in the
    // contract's words ("2.4 ✅ awaiting 1 sign-off"; the ref in code format, as on every line).
    auto awaited = i.state == checklist::item_state::done && i.policy.sign_off
                       ? checklist::sign_offs_missing(i)
                       : 0;
    std::string line =
        awaited > 0 ? ":hourglass_flowing_sand: `" + i.ref() + "` ✅ awaiting " +
                          checklist::plural(static_cast<std::size_t>(awaited), "sign-off") +
                          " · *" + escape_mrkdwn(i.title) + "*  " + mention(i.owner, "_unowned_")
                    : state_icon(i.state) + " `" + i.ref() + "` *" + escape_mrkdwn(i.title) +
                          "*  " + mention(i.owner, "_unowned_");
    if (i.due_at) {
        line += " · due " + checklist::date_token(*i.due_at);
    }
    bool settled =
        i.state == checklist::item_state::done || i.state == checklist::item_state::skipped;
    if (settled && !i.state_by.empty()) {
        line += " · by " + mention(i.state_by);
    }
    if (i.state == checklist::item_state::done && i.forced) {
        line += " (forced)";
    }
    // Release policy: sign-offs given and awaited; what an open item needs to be checked.
    if (i.state == checklist::item_state::done && i.policy.sign_off) {
        std::string names;
        for (const auto& a : i.approvals) {
            names +=
                (names.empty() ? "" : ", ") + mention(a.user) + " " + checklist::date_token(a.at);
        }
        if (!names.empty()) {
            line += " · signed off by " + names;
        }
    }
    if (is_unsettled(i)) {
        if (i.policy.auto_ci) {
            line += " · checked by CI";
        } else if (i.policy.evidence) {
            line += i.policy.evidence == checklist::evidence_kind::link ? " · needs a link"
                                                                        : " · needs a note";
        }
    }
    if (!i.state_note.empty() && i.state != checklist::item_state::done) {
        line += " · _" + escape_mrkdwn(checklist::truncate_utf8(i.state_note, 300)) + "_";
    }
    return line;
}

bool is_unsettled(const checklist::item& i) {
    return i.state == checklist::item_state::open || i.state == checklist::item_state::blocked;
}

std::string human_duration(checklist::epoch_seconds s) {
    if (s < 0) {
        s = 0;
    }
    if (s < 60) {
        return std::to_string(s) + "s";
    }
    auto d = s / 86400;
    auto h = s % 86400 / 3600;
    auto m = s % 3600 / 60;
    std::string out;
    if (d > 0) {
        out += std::to_string(d) + "d ";
    }
    if (h > 0 || d > 0) {
        out += std::to_string(h) + "h ";
    }
    if (d == 0) {
        out += std::to_string(m) + "m";
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    return out;
}

const checklist::item* find_item(const checklist::release& r, std::optional<std::int64_t> id) {
    if (!id) {
        return nullptr;
    }
    for (const auto& p : r.phases) {
        for (const auto& i : p.items) {
            if (i.id == *id) {
                return &i;
            }
        }
    }
    return nullptr;
}

std::string status_word(const checklist::release& r) {
    return r.status == checklist::release_status::active ? std::string("in progress")
                                                         : std::string(to_string(r.status));
}

std::string phase_timing(const checklist::release& r, const checklist::phase& p) {
    if (!p.entered_at) {
        return "not reached";
    }
    std::optional<checklist::epoch_seconds> left;
    auto index = static_cast<std::size_t>(p.position);
    if (index < r.phases.size() && r.phases[index].entered_at) {
        left = r.phases[index].entered_at;
    } else if (r.ended_at && p.position == r.current_phase) {
        left = r.ended_at;
    }
    return left ? human_duration(*left - *p.entered_at)
                : "since " + checklist::date_token(*p.entered_at);
}

std::string summary_line(const checklist::release& r) {
    std::string s = "Release manager " + mention(r.manager) + " · template `" +
                    escape_mrkdwn(r.template_name) + "` · started " +
                    checklist::date_token(r.started_at);
    if (r.ended_at) {
        s += " · " + status_word(r) + " " + checklist::date_token(*r.ended_at) + " (" +
             human_duration(*r.ended_at - r.started_at) + ")";
    } else {
        s += " · in progress, phase " + std::to_string(r.current_phase) + " of " +
             std::to_string(r.phases.size());
    }
    return s;
}

void add_list(std::vector<std::string>& lines,
              const std::string& title,
              const std::vector<std::string>& items) {
    lines.push_back("*" + title + "*" + (items.empty() ? ": none" : ""));
    for (const auto& i : items) {
        lines.push_back("• " + i);
    }
}

}  // namespace relbot::commands
