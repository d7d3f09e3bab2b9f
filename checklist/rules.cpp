// Release rules: permissions, item state machine, phase gate, ending a release.
#include "checklist/rules.hpp"

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"

namespace relbot::checklist {
namespace {

item& at(release& r, item_pos p) {
    return r.phases[p.phase].items[p.index];
}

void record(change_log& log,
            item_pos p,
            const item& it,
            std::string action,
            item_state from,
            std::string note) {
    log.events.push_back({std::move(action), it.id, std::string(to_string(from)),
                          std::string(to_string(it.state)), std::move(note)});
    log.items.push_back(p);
}

std::string holding_list(const release& r, const gate& g) {
    std::string out;
    for (const auto& p : g.holding) {
        const auto& it = r.phases[p.phase].items[p.index];
        out += "\n• " + it.label() + " — " + std::string(to_string(it.state));
        if (it.state == item_state::blocked && !it.state_note.empty()) {
            out += " (" + escape_mrkdwn(it.state_note) + ")";
        }
        out += it.owner.empty() ? ", no owner" : ", <@" + it.owner + ">";
    }
    return out;
}

// Why the current phase cannot be left, with what to do about it.
refusal gate_refusal(const release& r, const gate& g, std::string_view force_command) {
    const auto& cur = r.current();
    std::string msg = "Phase " + std::to_string(cur.position) + ", *" + escape_mrkdwn(cur.title) +
                      "*, cannot be left yet.";
    if (!g.holding.empty()) {
        msg += " " + plural(g.holding.size(), "item is", "items are") +
               " not done or skipped:" + holding_list(r, g);
    }
    if (g.opens_at) {
        msg += "\nIts window keeps it open until " + date_token(*g.opens_at) + ".";
    }
    msg += "\nThe release manager or an admin can move on anyway with `/release " +
           std::string(force_command) + " force <reason>`.";
    return refusal{std::move(msg)};
}

}  // namespace

bool is_manager_or_admin(const release& r, const actor& a) {
    return a.admin || a.user == r.manager;
}

verdict require_manager(const release& r, const actor& a, std::string_view what) {
    if (is_manager_or_admin(r, a)) {
        return std::nullopt;
    }
    return refusal{"Only the release manager (<@" + r.manager + ">) or an admin can " +
                   std::string(what) + "."};
}

verdict require_item_change(const release& r,
                            const item& it,
                            const actor& a,
                            std::string_view what) {
    if (is_manager_or_admin(r, a) || (!it.owner.empty() && it.owner == a.user)) {
        return std::nullopt;
    }
    std::string who = "the release manager (<@" + r.manager + ">), an admin";
    who += it.owner.empty() ? std::string(" or the item's owner (it has none yet)")
                            : " or the item's owner (<@" + it.owner + ">)";
    return refusal{"Only " + who + " can " + std::string(what) + " " + it.label() + "."};
}

verdict check_item(release& r, item_pos p, std::string note, change_log& log) {
    auto& it = at(r, p);
    if (it.state == item_state::done) {
        return refusal{it.label() + " is already done."};
    }
    auto from = it.state;
    if (from == item_state::blocked) {
        // Checking a blocked item clears the block and marks it done: both go in the timeline.
        it.state = item_state::open;
        log.events.push_back({"item.unblocked", it.id, "blocked", "open", "cleared by check"});
        from = item_state::open;
    }
    it.state = item_state::done;
    it.state_note = note;
    record(log, p, it, "item.checked", from, std::move(note));
    return std::nullopt;
}

verdict uncheck_item(release& r, item_pos p, change_log& log) {
    auto& it = at(r, p);
    if (it.state == item_state::open) {
        return refusal{it.label() + " is already open."};
    }
    if (it.state == item_state::blocked) {
        return refusal{it.label() +
                       " is blocked, not done. Clear the block with `/release unblock " + it.ref() +
                       "`."};
    }
    auto from = it.state;
    it.state = item_state::open;
    it.state_note.clear();
    record(log, p, it, "item.unchecked", from, "");
    return std::nullopt;
}

verdict skip_item(release& r, item_pos p, std::string reason, change_log& log) {
    auto& it = at(r, p);
    if (it.state == item_state::skipped) {
        return refusal{it.label() + " is already skipped."};
    }
    if (it.state == item_state::done) {
        return refusal{it.label() + " is done. Uncheck it first with `/release uncheck " +
                       it.ref() + "` if it should be skipped instead."};
    }
    auto from = it.state;
    it.state = item_state::skipped;
    it.state_note = reason;
    record(log, p, it, "item.skipped", from, std::move(reason));
    return std::nullopt;
}

verdict block_item(release& r, item_pos p, std::string reason, change_log& log) {
    auto& it = at(r, p);
    if (it.state == item_state::done || it.state == item_state::skipped) {
        return refusal{it.label() + " is " + std::string(to_string(it.state)) +
                       ". Uncheck it first with `/release uncheck " + it.ref() + "` to block it."};
    }
    auto from = it.state;  // blocked again: the new reason replaces the old, both recorded
    it.state = item_state::blocked;
    it.state_note = reason;
    record(log, p, it, "item.blocked", from, std::move(reason));
    return std::nullopt;
}

verdict unblock_item(release& r, item_pos p, change_log& log) {
    auto& it = at(r, p);
    if (it.state != item_state::blocked) {
        return refusal{it.label() + " is not blocked (it is " + std::string(to_string(it.state)) +
                       ")."};
    }
    it.state = item_state::open;
    it.state_note.clear();
    record(log, p, it, "item.unblocked", item_state::blocked, "");
    return std::nullopt;
}

verdict note_item(const release& r, item_pos p, std::string text, change_log& log) {
    const auto& it = r.phases.at(p.phase).items.at(p.index);
    log.events.push_back({"item.noted", it.id, std::string(to_string(it.state)),
                          std::string(to_string(it.state)), std::move(text)});
    return std::nullopt;
}

verdict assign_item(
    release& r, item_pos p, std::string owner, std::optional<epoch_seconds> due, change_log& log) {
    auto& it = at(r, p);
    if (it.owner == owner && it.due_at == due) {
        return refusal{it.label() + " already has that owner" +
                       std::string(due ? " and due time." : ".")};
    }
    auto from = it.owner;
    it.owner = owner;
    it.due_at = due;
    log.events.push_back({"item.assigned", it.id, from, std::move(owner),
                          due ? "due " + format_utc(*due) : std::string()});
    log.items.push_back(p);
    return std::nullopt;
}

gate current_gate(const release& r, epoch_seconds now) {
    gate g;
    const auto& cur = r.current();
    g.last_phase = static_cast<std::size_t>(r.current_phase) == r.phases.size();
    for (std::size_t i = 0; i < cur.items.size(); ++i) {
        auto s = cur.items[i].state;
        if (s == item_state::open || s == item_state::blocked) {
            g.holding.push_back({static_cast<std::size_t>(r.current_phase - 1), i});
        }
    }
    if (cur.window && cur.entered_at) {
        auto opens = *cur.entered_at + cur.window->min.count();
        if (now < opens) {
            g.opens_at = opens;
        }
    }
    return g;
}

verdict advance_phase(release& r,
                      epoch_seconds now,
                      const std::string& force_reason,
                      change_log& log) {
    auto g = current_gate(r, now);
    if (g.last_phase) {
        return refusal{"This is the last phase. End the release with `/release finish`."};
    }
    if (!g.open() && force_reason.empty()) {
        return gate_refusal(r, g, "next");
    }
    auto& left = r.phases[static_cast<std::size_t>(r.current_phase - 1)];
    if (!force_reason.empty()) {
        log.events.push_back({"phase.forced", std::nullopt, left.title,
                              r.phases[r.current_phase].title, force_reason});
        left.left_by_force = true;
        log.phases.push_back(static_cast<std::size_t>(r.current_phase - 1));
    }
    log.events.push_back({"phase.completed", std::nullopt, "", left.title, ""});
    r.current_phase += 1;
    auto& entered = r.phases[static_cast<std::size_t>(r.current_phase - 1)];
    entered.entered_at = now;
    log.events.push_back({"phase.entered", std::nullopt, left.title, entered.title, ""});
    log.phases.push_back(static_cast<std::size_t>(r.current_phase - 1));
    log.release = true;
    return std::nullopt;
}

verdict record_rollback(release& r, std::string reason, change_log& log) {
    (void)r;
    log.events.push_back({"release.rollback", std::nullopt, "", "", std::move(reason)});
    return std::nullopt;
}

verdict record_handoff(
    release& r, std::string oncall, std::string pm, epoch_seconds now, change_log& log) {
    r.oncall = oncall;
    r.pm = pm;
    r.handoff_at = now;
    r.handoff_accepted_at.reset();  // a new handoff must be accepted again
    log.events.push_back(
        {"release.handoff", std::nullopt, "", oncall, pm.empty() ? "" : "pm " + pm});
    log.release = true;
    return std::nullopt;
}

verdict accept_handoff(release& r, const actor& a, epoch_seconds now, change_log& log) {
    if (r.oncall.empty()) {
        return refusal{
            "There is no handoff to accept yet; the release manager starts one with "
            "`/release handoff @on-call [@product-manager]`."};
    }
    if (a.user != r.oncall) {
        return refusal{"Only <@" + r.oncall +
                       ">, the on-call engineer named in the handoff, can accept it."};
    }
    if (r.handoff_accepted_at) {
        return refusal{"You accepted this handoff already."};
    }
    r.handoff_accepted_at = now;
    log.events.push_back({"release.handoff_accepted", std::nullopt, r.manager, a.user, ""});
    log.release = true;
    auto phase = static_cast<std::size_t>(r.current_phase - 1);
    for (std::size_t i = 0; i < r.phases[phase].items.size(); ++i) {
        auto& it = r.phases[phase].items[i];
        if ((it.state == item_state::open || it.state == item_state::blocked) &&
            it.owner != a.user) {
            log.events.push_back({"item.assigned", it.id, it.owner, a.user, "handoff accepted"});
            it.owner = a.user;
            log.items.push_back({phase, i});
        }
    }
    return std::nullopt;
}

verdict transfer_manager(release& r, std::string user, change_log& log) {
    if (r.manager == user) {
        return refusal{"<@" + user + "> is already the release manager."};
    }
    log.events.push_back({"release.manager_changed", std::nullopt, r.manager, user, ""});
    r.manager = std::move(user);
    log.release = true;
    return std::nullopt;
}

verdict finish_release(release& r,
                       epoch_seconds now,
                       const std::string& force_reason,
                       change_log& log) {
    auto g = current_gate(r, now);
    if (force_reason.empty() && !g.last_phase) {
        return refusal{"The release is in phase " + std::to_string(r.current_phase) + " of " +
                       std::to_string(r.phases.size()) +
                       "; it finishes from the last phase. Use `/release next` to move on, or "
                       "`/release finish force <reason>` to end it now."};
    }
    if (force_reason.empty() && !g.open()) {
        return gate_refusal(r, g, "finish");
    }
    if (!force_reason.empty()) {
        log.events.push_back(
            {"release.forced_finish", std::nullopt, r.current().title, "finished", force_reason});
        r.phases[static_cast<std::size_t>(r.current_phase - 1)].left_by_force = true;
        log.phases.push_back(static_cast<std::size_t>(r.current_phase - 1));
    }
    r.status = release_status::finished;
    r.ended_at = now;
    log.events.push_back({"release.finished", std::nullopt, "active", "finished", ""});
    log.release = true;
    return std::nullopt;
}

verdict abort_release(release& r, epoch_seconds now, std::string reason, change_log& log) {
    r.status = release_status::aborted;
    r.ended_at = now;
    log.events.push_back({"release.aborted", std::nullopt, "active", "aborted", std::move(reason)});
    log.release = true;
    return std::nullopt;
}

}  // namespace relbot::checklist
