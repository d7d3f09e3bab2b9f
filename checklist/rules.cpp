// Release rules: permissions, item state machine, phase gate, ending a release.
#include "checklist/rules.hpp"

#include <algorithm>

#include "checklist/checkpoints.hpp"
#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"

namespace relbot::checklist {

refusal because(refused why, std::string_view action, std::string who, int checkpoint) {
    refusal no{why, std::string(action)};
    no.who = std::move(who);
    no.checkpoint = checkpoint;
    return no;
}

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

// Where `it` (an item of `r`) is.
std::optional<item_pos> position_of(const release& r, const item& it) {
    for (std::size_t p = 0; p < r.phases.size(); ++p) {
        for (std::size_t i = 0; i < r.phases[p].items.size(); ++i) {
            if (&r.phases[p].items[i] == &it) {
                return item_pos{p, i};
            }
        }
    }
    return std::nullopt;
}

// The same refusal, asked by `finish` rather than `next`.
refusal finishing(refusal no) {
    no.finishing = true;
    return no;
}

// The same refusal, with what holds the gate.
refusal held_by(const gate& g, refusal no) {
    no.held = g;
    return no;
}

// A refusal about the state of the item at `p`.
refusal about(refused why, item_pos p) {
    auto no = because(why, {});
    no.item = p;
    return no;
}

}  // namespace

bool is_manager_or_admin(const release& r, const actor& a) {
    return a.admin || a.user == r.manager;
}

verdict require_manager(const release& r, const actor& a, std::string_view what) {
    if (is_manager_or_admin(r, a)) {
        return std::nullopt;
    }
    return because(refused::not_manager, what, r.manager);
}

verdict require_item_change(const release& r,
                            const item& it,
                            const actor& a,
                            std::string_view what) {
    if (is_manager_or_admin(r, a) || (!it.owner.empty() && it.owner == a.user)) {
        return std::nullopt;
    }
    auto no = because(refused::not_item_changer, what, r.manager);
    no.item = position_of(r, it);
    return no;
}

verdict check_item(release& r, item_pos p, std::string note, change_log& log) {
    auto& it = at(r, p);
    if (it.state == item_state::done) {
        return about(refused::already_done, p);
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
    it.approvals.clear();
    it.forced = false;
    record(log, p, it, "item.checked", from, std::move(note));
    return std::nullopt;
}

verdict uncheck_item(release& r, item_pos p, change_log& log) {
    auto& it = at(r, p);
    if (it.state == item_state::open) {
        return about(refused::already_open, p);
    }
    if (it.state == item_state::blocked) {
        return about(refused::blocked_not_done, p);
    }
    auto from = it.state;
    it.state = item_state::open;
    it.state_note.clear();
    it.forced = false;
    // Sign-offs were on this check: they go with it (counted in the timeline).
    auto withdrawn = it.approvals.size();
    it.approvals.clear();
    record(log, p, it, "item.unchecked", from,
           withdrawn == 0 ? "" : "withdrew " + plural(withdrawn, "sign-off"));
    // Open again, an item owned through a role is its holder's now: it kept who settled it
    // while it was settled (a hand-over moves only open items).
    if (!it.owner_role.empty()) {
        auto holder = role_holder(r, it.owner_role);
        if (!holder.empty() && holder != it.owner) {
            log.events.push_back(
                {"item.assigned", it.id, it.owner, holder, "role " + it.owner_role});
            it.owner = holder;
            it.snoozed_until.reset();
        }
    }
    return std::nullopt;
}

verdict skip_item(release& r, item_pos p, std::string reason, change_log& log) {
    auto& it = at(r, p);
    if (it.state == item_state::skipped) {
        return about(refused::already_skipped, p);
    }
    if (it.state == item_state::done) {
        return about(refused::done_not_skippable, p);
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
        return about(refused::settled_not_blockable, p);
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
        return about(refused::not_blocked, p);
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
    // The same owner and due time change nothing, unless the item is owned through a role:
    // then the assignment detaches it from the role (contract: "even to the role's holder").
    if (it.owner == owner && it.due_at == due && it.owner_role.empty()) {
        auto no = about(refused::same_owner, p);
        no.with_due = due.has_value();
        return no;
    }
    auto from = it.owner;
    if (it.owner != owner) {
        it.snoozed_until.reset();  // the snooze was the previous owner's (contract: Snooze)
    }
    it.owner = owner;
    it.due_at = due;
    it.owner_role.clear();  // assigned to a person: no longer moves with a role
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
        } else if (s == item_state::done && sign_offs_missing(cur.items[i]) > 0) {
            g.awaiting_sign_off.push_back({static_cast<std::size_t>(r.current_phase - 1), i});
        }
    }
    if (cur.window && cur.entered_at) {
        auto opens = *cur.entered_at + cur.window->min.count();
        if (now < opens) {
            g.opens_at = opens;
        }
    }
    if (auto window = monitoring_phase(r);
        window && *window == static_cast<std::size_t>(r.current_phase - 1)) {
        g.checkpoint_hold = checkpoint_hold(r);
    }
    return g;
}

verdict advance_phase(release& r,
                      epoch_seconds now,
                      const std::string& force_reason,
                      change_log& log) {
    auto g = current_gate(r, now);
    if (g.last_phase) {
        return because(refused::last_phase, "move to the next phase");
    }
    if (!g.open() && force_reason.empty()) {
        return held_by(g, because(refused::gate_closed, "move to the next phase"));
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
        return because(refused::no_handoff, "accept the handoff");
    }
    if (a.user != r.oncall) {
        return because(refused::not_oncall, "accept the handoff", r.oncall);
    }
    if (r.handoff_accepted_at) {
        return because(refused::handoff_already_accepted, "accept the handoff", r.oncall);
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
            it.snoozed_until.reset();  // the snooze was the previous owner's
            it.owner_role.clear();
            log.items.push_back({phase, i});
        }
    }
    return std::nullopt;
}

namespace {

// Items still owned through `role` and not settled go to `user`, its new holder (listed in
// `moved`). A done or skipped item keeps its owner: who was responsible when it was settled.
void move_role_items(release& r,
                     const std::string& role,
                     const std::string& user,
                     change_log& log,
                     std::vector<item_pos>& moved) {
    for (std::size_t ph = 0; ph < r.phases.size(); ++ph) {
        for (std::size_t i = 0; i < r.phases[ph].items.size(); ++i) {
            auto& it = r.phases[ph].items[i];
            bool settled = it.state == item_state::done || it.state == item_state::skipped;
            if (it.owner_role == role && it.owner != user && !settled) {
                log.events.push_back({"item.assigned", it.id, it.owner, user, "role " + role});
                it.owner = user;
                it.snoozed_until.reset();  // a snooze was the previous owner's
                log.items.push_back({ph, i});
                moved.push_back({ph, i});
            }
        }
    }
}

}  // namespace

verdict transfer_manager(release& r,
                         std::string user,
                         change_log& log,
                         std::vector<item_pos>& moved) {
    if (r.manager == user) {
        return because(refused::already_manager, "hand the release over", user);
    }
    log.events.push_back({"release.manager_changed", std::nullopt, r.manager, user, ""});
    r.manager = user;
    log.release = true;
    // `owner: manager` items follow the release manager, as other roles' items follow theirs.
    move_role_items(r, "manager", user, log, moved);
    return std::nullopt;
}

verdict finish_release(release& r,
                       epoch_seconds now,
                       const std::string& force_reason,
                       change_log& log) {
    auto g = current_gate(r, now);
    if (force_reason.empty() && !g.last_phase) {
        return finishing(because(refused::not_in_last_phase, "finish the release"));
    }
    if (force_reason.empty() && !g.open()) {
        return held_by(g, finishing(because(refused::gate_closed, "finish the release")));
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

int sign_offs_missing(const item& it) {
    if (!it.policy.sign_off) {
        return 0;
    }
    return std::max(0, it.policy.sign_off->count - static_cast<int>(it.approvals.size()));
}

std::string sign_off_asked(const release& r, const item& it) {
    if (it.state != item_state::done || sign_offs_missing(it) == 0) {
        return {};
    }
    const auto& role = it.policy.sign_off->role;
    auto asked =
        role.empty() ? (it.state_by == r.manager ? it.owner : r.manager) : role_holder(r, role);
    // Nobody is asked for what they cannot give: their own check, or a second sign-off.
    bool signed_already = std::any_of(it.approvals.begin(), it.approvals.end(),
                                      [&](const approval& a) { return a.user == asked; });
    return asked == it.state_by || signed_already ? std::string() : asked;
}

verdict require_evidence(const release& r, item_pos p, std::string_view note) {
    const auto& it = r.phases.at(p.phase).items.at(p.index);
    if (!it.policy.evidence) {
        return std::nullopt;
    }
    bool ok = *it.policy.evidence == evidence_kind::link
                  ? note.find("https://") != std::string_view::npos ||
                        note.find("http://") != std::string_view::npos
                  : note.find_first_not_of(" \t") != std::string_view::npos;
    if (ok) {
        return std::nullopt;
    }
    return about(refused::evidence_missing, p);
}

verdict approve_item(release& r, item_pos p, const actor& a, epoch_seconds now, change_log& log) {
    auto& it = at(r, p);
    if (!it.policy.sign_off) {
        return about(refused::no_sign_off, p);
    }
    if (it.state != item_state::done) {
        return about(refused::not_checked, p);
    }
    if (a.user == it.state_by) {
        return about(refused::own_check, p);
    }
    for (const auto& given : it.approvals) {
        if (given.user == a.user) {
            return about(refused::already_approved, p);
        }
    }
    if (sign_offs_missing(it) == 0) {
        return about(refused::signed_off, p);
    }
    if (const auto& role = it.policy.sign_off->role; !role.empty() && !a.admin) {
        auto holder = role_holder(r, role);
        if (holder != a.user) {
            auto no = about(holder.empty() ? refused::no_role_holder : refused::not_approver, p);
            no.who = holder;
            no.role = role;
            return no;
        }
    }
    it.approvals.push_back({a.user, now});
    log.events.push_back(
        {"item.approved", it.id, "", a.user,
         std::to_string(it.approvals.size()) + " of " + std::to_string(it.policy.sign_off->count)});
    log.items.push_back(p);
    return std::nullopt;
}

verdict set_role(release& r,
                 const std::string& role,
                 const std::string& user,
                 change_log& log,
                 std::vector<item_pos>& moved) {
    if (role == "manager") {
        auto no = because(refused::manager_role, "give the manager role");
        no.role = role;
        return no;
    }
    auto before = role_holder(r, role);
    if (before == user) {
        auto no = because(refused::same_role_holder, "give the role", user);
        no.role = role;
        return no;
    }
    r.roles[role] = user;
    log.release = true;
    log.events.push_back({"release.role", std::nullopt, before, user, role});
    move_role_items(r, role, user, log, moved);
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
