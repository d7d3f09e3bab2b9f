// The release's lifecycle: start, next, rollback, handoff, accept, manager, finish, abort and
// remind.
#include <map>
#include <type_traits>

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "commands/handlers.hpp"
#include "commands/refusals.hpp"

namespace relbot::commands::handlers {

using checklist::destination;
using checklist::escape_mrkdwn;
using checklist::message_kind;

namespace {

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

// Gives the items of `to` the owners the items of the same slug have in `from`; returns how
// many items got one.
int copy_owners(const checklist::release& from, checklist::release& to) {
    std::map<std::string, std::string> owners;
    for (const auto& p : from.phases) {
        for (const auto& i : p.items) {
            if (!i.owner.empty()) {
                owners[i.slug] = i.owner;
            }
        }
    }
    int copied = 0;
    for (auto& p : to.phases) {
        for (auto& i : p.items) {
            if (auto it = owners.find(i.slug); it != owners.end()) {
                i.owner = it->second;
                ++copied;
            }
        }
    }
    return copied;
}

}  // namespace

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
        int copied = copy_owners(*earlier, r);
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

outcome handle(const finish_command& c, const request& req, context& ctx) {
    return end_release(c, req, ctx, "finish");
}

outcome handle(const abort_command& c, const request& req, context& ctx) {
    return end_release(c, req, ctx, "abort");
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

}  // namespace relbot::commands::handlers
