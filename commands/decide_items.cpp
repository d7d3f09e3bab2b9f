// The item commands: check, uncheck, skip, block, unblock, note and assign.
#include <cstdlib>
#include <optional>
#include <type_traits>

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "commands/decide.hpp"
#include "commands/refusals.hpp"

namespace relbot::commands::decisions {

using checklist::destination;
using checklist::escape_mrkdwn;
using checklist::item_pos;
using checklist::message_kind;

namespace {

// The shared shape of item commands: find the item in the active release, check who may,
// apply the rule, and confirm. `confirm` words the reply and may add messages.
template <typename Apply, typename Confirm>
decision item_command(const situation& s,
                      const std::string& name,
                      const std::string& ref,
                      std::string_view verb,
                      Apply apply,
                      Confirm confirm) {
    if (!s.active) {
        return no_active(name);
    }
    const auto& view = *s.active;
    auto found = find_item(view, ref, name);
    if (auto* d = std::get_if<decision>(&found)) {
        return std::move(*d);
    }
    auto pos = std::get<item_pos>(found);
    if (auto no = checklist::require_item_change(view, item_at(view, pos), actor_of(s), verb)) {
        return refuse(name, word_refusal(view, *no, s.req.way));
    }
    // A transition that only reads the release (a note) leaves the snapshot as the state; one
    // that changes it works on a copy.
    checklist::change_log log;
    checklist::verdict no;
    std::shared_ptr<const checklist::release> after;
    if constexpr (std::is_invocable_v<Apply, const checklist::release&, item_pos,
                                      checklist::change_log&>) {
        no = apply(view, pos, log);
        after = s.active;
    } else {
        auto r = std::make_shared<checklist::release>(view);
        no = apply(*r, pos, log);
        auto& it = r->phases.at(pos.phase).items.at(pos.index);
        // Who settled or blocked it; an item open again is nobody's doing.
        bool open = it.state == checklist::item_state::open;
        it.state_by = open ? std::string() : s.req.user;
        it.state_at = open ? std::nullopt : std::optional<checklist::epoch_seconds>(s.req.now);
        after = std::move(r);
    }
    if (no) {
        return refuse(name, word_refusal(*after, *no, s.req.way));
    }
    std::vector<planned_message> messages;
    auto d = done(name, render_text(confirm(*after, item_at(*after, pos), messages)));
    d.state = std::move(after);
    d.log = std::move(log);
    d.messages = std::move(messages);
    return d;
}

using planned = std::vector<planned_message>;

}  // namespace

decision decide(const check_command& c, const situation& s) {
    std::string note = c.note;
    return item_command(
        s, "check", c.item, "check",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) -> checklist::verdict {
            // An `auto: ci` item is checked by a signal; a person's check of it is refused
            // unless the release manager or an admin forces it (`check <item> force <reason>`).
            bool forced = false;
            if (item_at(r, p).policy.auto_ci && s.req.way != way_in::signal) {
                auto reason = checklist::trim(
                    std::string_view(note).substr(note.starts_with("force ") ? 6 : note.size()));
                bool may_force = checklist::is_manager_or_admin(r, actor_of(s));
                if (may_force && reason.empty() && checklist::trim(note) == "force") {
                    return checklist::refusal{checklist::refused::force_needs_reason, "check", p,
                                              r.manager};
                }
                if (reason.empty() || !may_force) {
                    return checklist::refusal{checklist::refused::ci_only, "check", p, r.manager};
                }
                note = std::string(reason);
                forced = true;
            }
            if (auto no = checklist::require_evidence(r, p, note)) {
                return no;
            }
            auto v = checklist::check_item(r, p, note, log);
            r.phases[p.phase].items[p.index].forced = forced && !v;
            return v;
        },
        [&](const checklist::release& r, const checklist::item& it, planned& messages) {
            auto missing = checklist::sign_offs_missing(it);
            if (missing == 0) {
                return ":white_check_mark: " + it.label() + " is done." + gate_hint(r, s.req.now);
            }
            const auto& role = it.policy.sign_off->role;
            auto asked = checklist::sign_off_asked(r, it);
            std::string who;
            if (!asked.empty()) {
                messages.push_back(post(r, destination::direct(asked), message_kind::dm,
                                        render_sign_off_request(r, it, s.req.user),
                                        "sign-off-ask:", key_id::last_audit, ":" + asked));
                who = " I've asked <@" + asked + ">.";
            } else if (!role.empty()) {
                who = " Nobody holds the " + role + " role: `/release role " + role +
                      " @person` gives it to someone.";
            } else {
                // Nobody to ask by DM (the manager checked an item without an owner): say who
                // can give it, so it does not wait unnoticed.
                who = " Anyone but you can sign it off with `/release approve " + it.ref() + "`.";
            }
            return ":white_check_mark: " + it.label() + " is checked, awaiting " +
                   checklist::plural(static_cast<std::size_t>(missing), "sign-off") + "." + who;
        });
}

decision decide(const approve_command& c, const situation& s) {
    if (!s.active) {
        return no_active("approve");
    }
    const auto& view = *s.active;
    auto found = find_item(view, c.item, "approve");
    if (auto* d = std::get_if<decision>(&found)) {
        return std::move(*d);
    }
    auto pos = std::get<item_pos>(found);
    auto r = std::make_shared<checklist::release>(view);
    checklist::change_log log;
    if (auto no = checklist::approve_item(*r, pos, actor_of(s), s.req.now, log)) {
        return refuse("approve", word_refusal(*r, *no, s.req.way));
    }
    const auto& it = item_at(*r, pos);
    auto missing = checklist::sign_offs_missing(it);
    auto d = done(
        "approve",
        render_text(":ballot_box_with_check: You signed off " + it.label() + "." +
                    (missing == 0
                         ? " It counts as done now." + gate_hint(*r, s.req.now)
                         : " It still needs " +
                               checklist::plural(static_cast<std::size_t>(missing), "sign-off") +
                               ".")));
    d.state = std::move(r);
    d.log = std::move(log);
    return d;
}

decision decide(const uncheck_command& c, const situation& s) {
    return item_command(
        s, "uncheck", c.item, "uncheck",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::uncheck_item(r, p, log);
        },
        [&](const checklist::release&, const checklist::item& it, planned&) {
            return ":white_large_square: " + it.label() + " is open again.";
        });
}

decision decide(const skip_command& c, const situation& s) {
    return item_command(
        s, "skip", c.item, "skip",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::skip_item(r, p, c.reason, log);
        },
        [&](const checklist::release& r, const checklist::item& it, planned&) {
            return ":fast_forward: " + it.label() + " is skipped: _" + escape_mrkdwn(c.reason) +
                   "_" + gate_hint(r, s.req.now);
        });
}

decision decide(const block_command& c, const situation& s) {
    return item_command(
        s, "block", c.item, "block",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::block_item(r, p, c.reason, log);
        },
        [&](const checklist::release& r, const checklist::item& it, planned& messages) {
            messages.push_back(post(r, destination::channel(r.channel), message_kind::announcement,
                                    render_item_blocked(r, it, s.req.user),
                                    "item-blocked:", key_id::last_audit));
            return ":no_entry: " + it.label() + " is blocked; I've told the channel.";
        });
}

decision decide(const unblock_command& c, const situation& s) {
    return item_command(
        s, "unblock", c.item, "unblock",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::unblock_item(r, p, log);
        },
        [&](const checklist::release&, const checklist::item& it, planned&) {
            return ":white_large_square: " + it.label() + " is no longer blocked (open).";
        });
}

decision decide(const note_command& c, const situation& s) {
    return item_command(
        s, "note", c.item, "add a note to",
        [&](const checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::note_item(r, p, c.text, log);
        },
        [&](const checklist::release&, const checklist::item& it, planned&) {
            return ":memo: Noted on " + it.label() + ".";
        });
}

decision decide(const assign_command& c, const situation& s) {
    if (!s.active) {
        return no_active("assign");
    }
    const auto& view = *s.active;
    auto found = find_item(view, c.item, "assign");
    if (auto* d = std::get_if<decision>(&found)) {
        return std::move(*d);
    }
    if (auto no = checklist::require_manager(view, actor_of(s), "assign items")) {
        return refuse("assign", word_refusal(view, *no, s.req.way));
    }
    const auto now = s.req.now;
    std::optional<checklist::epoch_seconds> due;
    if (c.due) {
        due = c.due->relative ? now + c.due->value : c.due->value;
        // The item's own due time, given back unchanged (the Assign… form shows it), is kept
        // even once it has passed: only the owner changes.
        // (to the minute: the form's picker shows minutes).
        const auto& had = item_at(view, std::get<item_pos>(found)).due_at;
        bool kept = !c.due->relative && had && std::abs(*had - *due) < 60;
        if (kept) {
            due = had;
        }
        if (*due <= now && !kept) {
            return refuse("assign",
                          "That due time, " + checklist::format_utc(*due) +
                              ", has already passed. Give a time in the future, for example "
                              "`/release assign 2.3 @pat due 2h`.");
        }
    }
    auto pos = std::get<item_pos>(found);
    auto r = std::make_shared<checklist::release>(view);
    checklist::change_log log;
    if (auto no = checklist::assign_item(*r, pos, c.user, due, log)) {
        return refuse("assign", word_refusal(*r, *no, s.req.way));
    }
    const auto& it = item_at(*r, pos);
    // `assign` without `due` leaves the item without one: said, since its reminders end too.
    const auto& before = item_at(view, pos);
    std::string dropped;
    if (!due && before.due_at) {
        dropped = " It has no due time any more (it was due " +
                  checklist::date_token(*before.due_at) + "), so nobody is reminded of it; `" +
                  "/release assign " + it.ref() + " @name due 2h` sets one.";
    }
    std::string detached;
    if (!before.owner_role.empty()) {
        detached = " It no longer moves with the " + before.owner_role + " role.";
    }
    auto d = done("assign",
                  render_text(":bust_in_silhouette: " + it.label() + " is now <@" + c.user + ">'s" +
                              (due ? ", due " + checklist::date_token(*due) : std::string()) + "." +
                              detached + dropped));
    // The owner gets the assignment DM with its buttons, also a manager who assigns to
    // themselves (contract: "sets the owner (DM to the owner)").
    d.messages.push_back(post(*r, destination::direct(c.user), message_kind::dm,
                              render_assignment(*r, it, s.req.user),
                              "assigned:", key_id::last_audit));
    d.state = std::move(r);
    d.log = std::move(log);
    return d;
}

}  // namespace relbot::commands::decisions
