// The handlers: one function per command, dispatched from the parsed variant. Each loads what
// it needs, applies the rules of checklist/, saves the change log with its audit rows, queues
// the announcements it causes, and words the reply.
#include "commands/router.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <type_traits>

#include "checklist/duration.hpp"
#include "checklist/item_ref.hpp"
#include "checklist/mrkdwn.hpp"
#include "checklist/rules.hpp"
#include "commands/parse.hpp"
#include "commands/refusals.hpp"

namespace relbot::commands {

using checklist::destination;
using checklist::message_kind;
namespace {

using checklist::escape_mrkdwn;
using checklist::item_pos;

constexpr int list_limit = 10;

outcome refuse(std::string name, std::string_view text) {
    outcome o;
    o.reply = render_text(text);
    o.name = std::move(name);
    o.refused = true;
    return o;
}

outcome done(std::string name, message reply, bool changed = true) {
    outcome o;
    o.reply = std::move(reply);
    o.name = std::move(name);
    o.changed = changed;
    return o;
}

outcome no_active(std::string name) {
    return refuse(
        std::move(name),
        "There is no active release in this channel. Start one with `/release start <version>`.");
}

checklist::actor actor_of(const request& req, const context& ctx) {
    return {req.user,
            std::find(ctx.admins.begin(), ctx.admins.end(), req.user) != ctx.admins.end()};
}

const checklist::item& item_at(const checklist::release& r, item_pos p) {
    return r.phases[p.phase].items[p.index];
}

// The item `ref` names, or the reply that says why not (with candidates or the closest).
std::variant<item_pos, outcome> find_item(const checklist::release& r,
                                          const std::string& ref,
                                          const std::string& name) {
    auto result = checklist::resolve_item(r, ref);
    if (const auto* found = std::get_if<checklist::ref_found>(&result)) {
        return found->pos;
    }
    auto list = [&](const std::vector<item_pos>& ps) {
        std::string out;
        for (const auto& p : ps) {
            out += "\n• " + r.phases[p.phase].items[p.index].label() + " (`" +
                   r.phases[p.phase].items[p.index].slug + "`)";
        }
        return out;
    };
    auto quoted = escape_mrkdwn(checklist::truncate_utf8(ref, 60));
    if (const auto* amb = std::get_if<checklist::ref_ambiguous>(&result)) {
        return refuse(name, "`" + quoted + "` matches " +
                                checklist::plural(amb->candidates.size(), "item") +
                                "; use more of the name, or the number:" + list(amb->candidates));
    }
    const auto& unknown = std::get<checklist::ref_unknown>(result);
    std::string msg =
        "There is no item `" + quoted + "` in release *" + escape_mrkdwn(r.version) + "*.";
    if (!unknown.closest.empty()) {
        msg += " Did you mean:" + list(unknown.closest);
    }
    msg +=
        "\nName an item by its number (`2.3`) or its name (`smoke-tests`); `/release status` lists "
        "them.";
    return refuse(name, msg);
}

void announce(context& ctx,
              const checklist::release& r,
              const std::string& key,
              const message& m,
              checklist::epoch_seconds now) {
    ctx.store.enqueue({key, r.id, destination::channel(r.channel), "chat.postMessage",
                       dump_json(to_post_body(m)), message_kind::announcement},
                      now);
}

std::int64_t save(context& ctx,
                  const request& req,
                  const checklist::release& r,
                  const checklist::change_log& log) {
    return ctx.store.save(r, log, req.user, req.now);
}

// A sentence about the gate after an item changed: says when the phase can be left.
std::string gate_hint(const checklist::release& r, checklist::epoch_seconds now) {
    auto g = checklist::current_gate(r, now);
    if (!g.holding.empty()) {
        return "";
    }
    if (g.opens_at) {
        return "\nEvery item of this phase is done or skipped; its window ends " +
               checklist::date_token(*g.opens_at) + ".";
    }
    return g.last_phase
               ? "\nEvery item of the last phase is done or skipped: `/release finish` ends the "
                 "release."
               : "\nEvery item of this phase is done or skipped: `/release next` moves on.";
}

// The open (or blocked) items of the current phase, by owner.
std::map<std::string, std::vector<const checklist::item*>> open_items_by_owner(
    const checklist::release& r) {
    std::map<std::string, std::vector<const checklist::item*>> out;
    for (const auto& i : r.current().items) {
        if (!i.owner.empty() &&
            (i.state == checklist::item_state::open || i.state == checklist::item_state::blocked)) {
            out[i.owner].push_back(&i);
        }
    }
    return out;
}

// --- handlers --------------------------------------------------------------------------------

outcome handle(const help_command&, const request&, context&) {
    return done("help", render_help(), false);
}

outcome handle(const status_command&, const request& req, context& ctx) {
    auto r = ctx.store.active_release_view(req.channel);
    if (!r) {
        return no_active("status");
    }
    if (ctx.statuses != nullptr) {
        outcome o;
        o.name = "status";
        o.ack_json = ctx.statuses->ack_json(r);
        return o;
    }
    return done("status", render_status(*r), false);
}

outcome handle(const list_command&, const request& req, context& ctx) {
    return done("list", render_list(ctx.store.list_releases(req.channel, list_limit)), false);
}

outcome handle(const start_command& c, const request& req, context& ctx) {
    const auto* tpl = ctx.templates.find(c.template_name);
    if (tpl == nullptr) {
        std::string names;
        for (const auto& n : ctx.templates.names()) {
            names += (names.empty() ? "`" : ", `") + escape_mrkdwn(n) + "`";
        }
        return refuse("start", "There is no template called `" + escape_mrkdwn(c.template_name) +
                                   "`. Templates: " + names + ".");
    }
    if (auto active = ctx.store.active_release(req.channel)) {
        return refuse(
            "start",
            "Release *" + escape_mrkdwn(active->version) +
                "* is already active in this channel (release manager <@" + active->manager +
                ">). One release runs per channel at a time; see it with `/release status`, "
                "end it with `/release finish` or `/release abort <reason>`.");
    }
    auto r = checklist::make_release(*tpl, req.channel, c.version, req.user, req.now);
    std::string note = "template " + r.template_name;
    if (!c.owners_from.empty()) {
        auto earlier = ctx.store.release_by_version(req.channel, c.owners_from);
        if (!earlier) {
            return refuse("start",
                          "There is no release *" + escape_mrkdwn(c.owners_from) +
                              "* in this channel to copy owners from; `/release list` shows the "
                              "releases here.");
        }
        std::map<std::string, std::string> owners;
        for (const auto& p : earlier->phases) {
            for (const auto& i : p.items) {
                if (!i.owner.empty()) {
                    owners[i.slug] = i.owner;
                }
            }
        }
        int copied = 0;
        for (auto& p : r.phases) {
            for (auto& i : p.items) {
                if (auto it = owners.find(i.slug); it != owners.end()) {
                    i.owner = it->second;
                    ++copied;
                }
            }
        }
        note += ", owners of " + checklist::plural(static_cast<std::size_t>(copied), "item") +
                " from " + c.owners_from;
    }
    ctx.store.insert_release(r);
    ctx.store.append_audit(
        {r.id, req.now, req.user, "release.started", std::nullopt, "", "active", note});
    ctx.store.append_audit(
        {r.id, req.now, req.user, "phase.entered", std::nullopt, "", r.phases.front().title, ""});
    announce(ctx, r, "release-started:" + std::to_string(r.id), render_release_started(r), req.now);
    // The living status message: posted once, then updated in place after every change.
    ctx.store.enqueue(
        {"status:" + std::to_string(r.id), r.id, destination::channel(r.channel),
         "chat.postMessage", dump_json(to_post_body(render_status(r))), message_kind::status},
        req.now);

    return done("start",
                render_text(":white_check_mark: Started release *" + escape_mrkdwn(r.version) +
                            "* with the `" + escape_mrkdwn(r.template_name) +
                            "` template: " + checklist::plural(r.phases.size(), "phase") + ", " +
                            checklist::plural(r.item_count(), "item") +
                            (c.owners_from.empty()
                                 ? ""
                                 : " (" + escape_mrkdwn(note.substr(note.find(',') + 2)) + ")") +
                            ". You are the release manager. I've announced it in the channel; "
                            "`/release status` shows the checklist."));
}

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

outcome handle(const next_command& c, const request& req, context& ctx) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        return no_active("next");
    }
    auto what =
        c.force_reason.empty() ? "move to the next phase" : "force the move to the next phase";
    if (auto no = checklist::require_manager(*r, actor_of(req, ctx), what)) {
        return refuse("next", word_refusal(*r, *no));
    }
    checklist::change_log log;
    if (auto no = checklist::advance_phase(*r, req.now, c.force_reason, log)) {
        return refuse("next", word_refusal(*r, *no));
    }
    save(ctx, req, *r, log);
    // Each owner of an item in the new phase gets one DM with all their items in it.
    for (const auto& [owner, items] : open_items_by_owner(*r)) {
        ctx.store.enqueue(
            {"phase-owner:" + std::to_string(r->id) + ":" + std::to_string(r->current_phase) + ":" +
                 owner,
             r->id, destination::direct(owner), "chat.postMessage",
             dump_json(to_post_body(render_owner_items(
                 *r, items,
                 ":arrow_forward: Phase " + std::to_string(r->current_phase) + " of " +
                     std::to_string(r->phases.size()) + ", *" + escape_mrkdwn(r->current().title) +
                     "*, of release *" + escape_mrkdwn(r->version) + "* has begun. Yours in it:"))),
             message_kind::dm},
            req.now);
    }
    announce(ctx, *r,
             "phase-entered:" + std::to_string(r->id) + ":" + std::to_string(r->current_phase),
             render_phase_entered(*r, req.user, c.force_reason), req.now);
    return done("next",
                render_text(":arrow_forward: Phase " + std::to_string(r->current_phase) + " of " +
                            std::to_string(r->phases.size()) + ", *" +
                            escape_mrkdwn(r->current().title) + "*, has begun" +
                            (c.force_reason.empty() ? "" : " (forced; the reason is recorded)") +
                            ". I've announced it in the channel."));
}

outcome handle(const rollback_command& c, const request& req, context& ctx) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        return no_active("rollback");
    }
    if (auto no =
            checklist::require_manager(*r, actor_of(req, ctx), "record a rollback decision")) {
        return refuse("rollback", word_refusal(*r, *no));
    }
    checklist::change_log log;
    checklist::record_rollback(*r, c.reason, log);
    auto id = save(ctx, req, *r, log);
    announce(ctx, *r, "rollback:" + std::to_string(id), render_rollback(*r, req.user, c.reason),
             req.now);
    return done(
        "rollback",
        render_text(":rotating_light: Rollback decision recorded and announced in the channel."));
}

outcome handle(const handoff_command& c, const request& req, context& ctx) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        return no_active("handoff");
    }
    if (auto no = checklist::require_manager(*r, actor_of(req, ctx), "hand the release off")) {
        return refuse("handoff", word_refusal(*r, *no));
    }
    checklist::change_log log;
    checklist::record_handoff(*r, c.oncall, c.pm, req.now, log);
    auto id = save(ctx, req, *r, log);
    auto briefing = render_handoff(*r, ctx.store.audit_for(r->id), req.user);
    // "briefing": the notifier adds a link to the status message when it sends these.
    ctx.store.enqueue(
        {"handoff:" + std::to_string(id), r->id, destination::channel(r->channel),
         "chat.postMessage", dump_json(to_post_body(briefing)), message_kind::briefing},
        req.now);
    // The same briefing by DM to each person named.
    for (const auto& person : {c.oncall, c.pm}) {
        if (!person.empty()) {
            ctx.store.enqueue({"handoff-dm:" + std::to_string(id) + ":" + person, r->id,
                               destination::direct(person), "chat.postMessage",
                               dump_json(to_post_body(briefing)), message_kind::briefing_dm},
                              req.now);
        }
    }
    return done("handoff", render_text(":handshake: Handoff to <@" + c.oncall + ">" +
                                       (c.pm.empty() ? std::string() : " and <@" + c.pm + ">") +
                                       " recorded; the briefing is posted in the channel."));
}

outcome handle(const accept_command&, const request& req, context& ctx) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        return no_active("accept");
    }
    checklist::change_log log;
    if (auto no = checklist::accept_handoff(*r, actor_of(req, ctx), req.now, log)) {
        return refuse("accept", word_refusal(*r, *no));
    }
    auto taken = static_cast<int>(log.items.size());
    auto id = save(ctx, req, *r, log);
    announce(ctx, *r, "handoff-accepted:" + std::to_string(id), render_handoff_accepted(*r, taken),
             req.now);
    return done("accept",
                render_text(":handshake: Handoff accepted. You now own " +
                            checklist::plural(static_cast<std::size_t>(taken), "open item") +
                            "; `/release status` shows them."));
}

outcome handle(const manager_command& c, const request& req, context& ctx) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        return no_active("manager");
    }
    if (auto no = checklist::require_manager(*r, actor_of(req, ctx),
                                             "hand over the release-manager role")) {
        return refuse("manager", word_refusal(*r, *no));
    }
    auto previous = r->manager;
    checklist::change_log log;
    if (auto no = checklist::transfer_manager(*r, c.user, log)) {
        return refuse("manager", word_refusal(*r, *no));
    }
    save(ctx, req, *r, log);
    auto o =
        done("manager", render_text(":crown: <@" + c.user + "> is now the release manager of *" +
                                    escape_mrkdwn(r->version) + "* (was <@" + previous + ">)."));
    o.in_channel = true;  // the new manager and the channel should see it
    return o;
}

template <typename Command>
outcome end_release(const Command& c, const request& req, context& ctx, const std::string& name) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        return no_active(name);
    }
    constexpr bool is_abort = std::is_same_v<Command, abort_command>;
    std::string reason;
    if constexpr (is_abort) {
        reason = c.reason;
    } else {
        reason = c.force_reason;
    }
    if (auto no = checklist::require_manager(
            *r, actor_of(req, ctx), is_abort ? "abort the release" : "finish the release")) {
        return refuse(name, word_refusal(*r, *no));
    }
    checklist::change_log log;
    checklist::verdict v;
    if constexpr (is_abort) {
        v = checklist::abort_release(*r, req.now, reason, log);
    } else {
        v = checklist::finish_release(*r, req.now, reason, log);
    }
    if (v) {
        return refuse(name, word_refusal(*r, *v));
    }
    save(ctx, req, *r, log);
    announce(ctx, *r, "release-ended:" + std::to_string(r->id),
             render_release_ended(*r, ctx.store.audit_for(r->id), req.user, reason), req.now);
    return done(
        name,
        render_text(
            std::string(is_abort ? ":octagonal_sign: Release *" : ":checkered_flag: Release *") +
            escape_mrkdwn(r->version) + "* " + (is_abort ? "aborted" : "finished") +
            ". The summary is posted in the channel; `/release report` has the full report."));
}

outcome handle(const finish_command& c, const request& req, context& ctx) {
    return end_release(c, req, ctx, "finish");
}

outcome handle(const abort_command& c, const request& req, context& ctx) {
    return end_release(c, req, ctx, "abort");
}

outcome handle(const report_command& c, const request& req, context& ctx) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        r = ctx.store.latest_release(req.channel);
    }
    if (!r) {
        return refuse("report", "There are no releases in this channel to report on.");
    }
    auto audit = ctx.store.audit_for(r->id);
    auto pages = c.markdown
                     ? render_report_markdown(*r, audit, max_reply_messages, ctx.store.user_names())
                     : render_report(*r, audit, max_reply_messages);
    // The first page is the acknowledgement; the rest follow through response_url, in order.
    bool changed = false;
    if (pages.size() > 1 && !req.response_url.empty()) {
        for (std::size_t i = 1; i < pages.size(); ++i) {
            auto body = to_ack_payload(pages[i]);
            // The key must not hold the URL itself (it is a credential, and keys are logged).
            auto url_id = std::to_string(std::hash<std::string>{}(req.response_url));
            ctx.store.enqueue({"report-page:" + url_id + ":" + std::to_string(i), r->id,
                               destination::reply(req.response_url), "response_url",
                               dump_json(body), message_kind::reply_page},
                              req.now);
        }
        changed = true;
    }
    return done("report", std::move(pages.front()), changed);
}

outcome handle(const remind_command&, const request& req, context& ctx) {
    auto r = ctx.store.active_release(req.channel);
    if (!r) {
        return no_active("remind");
    }
    if (auto no = checklist::require_manager(*r, actor_of(req, ctx), "send reminders")) {
        return refuse("remind", word_refusal(*r, *no));
    }
    auto owners = open_items_by_owner(*r);
    int unowned = 0;
    for (const auto& i : r->current().items) {
        unowned += i.owner.empty() && (i.state == checklist::item_state::open ||
                                       i.state == checklist::item_state::blocked)
                       ? 1
                       : 0;
    }
    checklist::change_log log;
    log.events.push_back({"remind.requested", std::nullopt, "", std::to_string(owners.size()), ""});
    auto id = save(ctx, req, *r, log);
    std::string people;
    for (const auto& [owner, items] : owners) {
        people += " <@" + owner + ">";
        ctx.store.enqueue(
            {"remind:" + std::to_string(id) + ":" + owner, r->id, destination::direct(owner),
             "chat.postMessage",
             dump_json(to_post_body(render_owner_items(
                 *r, items,
                 ":bell: <@" + req.user + "> asks you to look at your open items of *" +
                     escape_mrkdwn(r->current().title) + "* in release *" +
                     escape_mrkdwn(r->version) + "*:"))),
             message_kind::dm},
            req.now);
    }
    std::string msg = owners.empty() ? "No open item of this phase has an owner to remind."
                                     : ":bell: Reminded " +
                                           checklist::plural(owners.size(), "person", "people") +
                                           " by DM:" + people + ".";
    if (unowned > 0) {
        msg += "\n" +
               checklist::plural(static_cast<std::size_t>(unowned), "open item has",
                                 "open items have") +
               " no owner: `/release assign <item> @person`.";
    }
    return done("remind", render_text(msg));
}

outcome handle(const usage_error& e, const request&, context&) {
    return refuse("bad_input", e.message);
}

}  // namespace

outcome route(const command& parsed, const request& req, context& ctx) {
    if (!req.channel_name.empty() && may_write(parsed)) {
        // In the caller's write transaction; it writes only when the name is new or changed.
        ctx.store.remember_channel_name(req.channel, req.channel_name);
    }
    auto out = std::visit([&](const auto& c) { return handle(c, req, ctx); }, parsed);
    if (out.ack_json.empty()) {
        out.ack_json = dump_json(to_ack_payload(out.reply, out.in_channel));
    }
    return out;
}

const std::string& status_memo::ack_json(const std::shared_ptr<const checklist::release>& r) {
    if (auto it = entries_.find(r->id); it != entries_.end()) {
        auto& e = it->second;
        if (e.release == r || *e.release == *r) {
            e.release = r;
            return e.ack_json;
        }
    }
    if (entries_.size() >= max_entries) {
        entries_.clear();
    }
    auto& e = entries_[r->id];
    e.release = r;
    e.ack_json = dump_json(to_ack_payload(render_status(*r)));
    return e.ack_json;
}

outcome route(const request& req, context& ctx) {
    return route(parse_command(req.text), req, ctx);
}

bool may_write(const command& parsed) {
    return !(std::holds_alternative<help_command>(parsed) ||
             std::holds_alternative<status_command>(parsed) ||
             std::holds_alternative<list_command>(parsed) ||
             std::holds_alternative<usage_error>(parsed));
}

}  // namespace relbot::commands
