// The item commands: check, uncheck, skip, block, unblock, note and assign.
#include <optional>
#include <type_traits>

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "commands/handlers.hpp"
#include "commands/refusals.hpp"

namespace relbot::commands::handlers {

using checklist::destination;
using checklist::escape_mrkdwn;
using checklist::item_pos;
using checklist::message_kind;

namespace {

// The shared shape of item commands: find the active release and the item, check who may,
// apply the rule, save, and confirm.
template <typename Apply, typename Confirm>
outcome item_command(const request& req,
                     context& ctx,
                     const std::string& name,
                     const std::string& ref,
                     std::string_view verb,
                     Apply apply,
                     Confirm confirm) {
    auto view = ctx.store.active_release_view(req.channel);
    if (!view) {
        return no_active(name);
    }
    auto found = find_item(*view, ref, name);
    if (auto* o = std::get_if<outcome>(&found)) {
        return std::move(*o);
    }
    auto pos = std::get<item_pos>(found);
    if (auto no =
            checklist::require_item_change(*view, item_at(*view, pos), actor_of(req, ctx), verb)) {
        return refuse(name, word_refusal(*view, *no));
    }
    auto finish = [&](auto& r) {
        checklist::change_log log;
        if (auto no = apply(r, pos, log)) {
            return refuse(name, word_refusal(r, *no));
        }
        auto audit_id = save(ctx, req, r, log);
        return done(name, render_text(confirm(r, item_at(r, pos), audit_id)));
    };
    // A transition that only reads the release (a note) works on the stored one; one that
    // changes it works on a copy, which save() stores.
    if constexpr (std::is_invocable_v<Apply, const checklist::release&, item_pos,
                                      checklist::change_log&>) {
        return finish(*view);
    } else {
        checklist::release r = *view;
        return finish(r);
    }
}

}  // namespace

outcome handle(const check_command& c, const request& req, context& ctx) {
    return item_command(
        req, ctx, "check", c.item, "check",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::check_item(r, p, c.note, log);
        },
        [&](const checklist::release& r, const checklist::item& it, std::int64_t) {
            return ":white_check_mark: " + it.label() + " is done." + gate_hint(r, req.now);
        });
}

outcome handle(const uncheck_command& c, const request& req, context& ctx) {
    return item_command(
        req, ctx, "uncheck", c.item, "uncheck",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::uncheck_item(r, p, log);
        },
        [&](const checklist::release&, const checklist::item& it, std::int64_t) {
            return ":white_large_square: " + it.label() + " is open again.";
        });
}

outcome handle(const skip_command& c, const request& req, context& ctx) {
    return item_command(
        req, ctx, "skip", c.item, "skip",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::skip_item(r, p, c.reason, log);
        },
        [&](const checklist::release& r, const checklist::item& it, std::int64_t) {
            return ":fast_forward: " + it.label() + " is skipped: _" + escape_mrkdwn(c.reason) +
                   "_" + gate_hint(r, req.now);
        });
}

outcome handle(const block_command& c, const request& req, context& ctx) {
    return item_command(
        req, ctx, "block", c.item, "block",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::block_item(r, p, c.reason, log);
        },
        [&](const checklist::release& r, const checklist::item& it, std::int64_t audit_id) {
            announce(ctx, r, "item-blocked:" + std::to_string(audit_id),
                     render_item_blocked(r, it, req.user), req.now);
            return ":no_entry: " + it.label() + " is blocked; I've told the channel.";
        });
}

outcome handle(const unblock_command& c, const request& req, context& ctx) {
    return item_command(
        req, ctx, "unblock", c.item, "unblock",
        [&](checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::unblock_item(r, p, log);
        },
        [&](const checklist::release&, const checklist::item& it, std::int64_t) {
            return ":white_large_square: " + it.label() + " is no longer blocked (open).";
        });
}

outcome handle(const note_command& c, const request& req, context& ctx) {
    return item_command(
        req, ctx, "note", c.item, "add a note to",
        [&](const checklist::release& r, item_pos p, checklist::change_log& log) {
            return checklist::note_item(r, p, c.text, log);
        },
        [&](const checklist::release&, const checklist::item& it, std::int64_t) {
            return ":memo: Noted on " + it.label() + ".";
        });
}

outcome handle(const assign_command& c, const request& req, context& ctx) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        return no_active("assign");
    }
    auto found = find_item(*r, c.item, "assign");
    if (auto* o = std::get_if<outcome>(&found)) {
        return std::move(*o);
    }
    if (auto no = checklist::require_manager(*r, actor_of(req, ctx), "assign items")) {
        return refuse("assign", word_refusal(*r, *no));
    }
    std::optional<checklist::epoch_seconds> due;
    if (c.due) {
        due = c.due->relative ? req.now + c.due->value : c.due->value;
        if (*due <= req.now) {
            return refuse("assign",
                          "That due time, " + checklist::format_utc(*due) +
                              ", has already passed. Give a time in the future, for example "
                              "`/release assign 2.3 @pat due 2h`.");
        }
    }
    auto pos = std::get<item_pos>(found);
    checklist::change_log log;
    if (auto no = checklist::assign_item(*r, pos, c.user, due, log)) {
        return refuse("assign", word_refusal(*r, *no));
    }
    auto audit_id = save(ctx, req, *r, log);
    const auto& it = item_at(*r, pos);
    if (c.user != req.user) {
        ctx.store.enqueue(
            {"assigned:" + std::to_string(audit_id), r->id, destination::direct(c.user),
             "chat.postMessage", dump_json(to_post_body(render_assignment(*r, it, req.user))),
             message_kind::dm},
            req.now);
    }
    return done("assign",
                render_text(":bust_in_silhouette: " + it.label() + " is now <@" + c.user + ">'s" +
                            (due ? ", due " + checklist::date_token(*due) : std::string()) + "."));
}

}  // namespace relbot::commands::handlers
