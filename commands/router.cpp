// The dispatch from the parsed variant to the handlers (one function per command, by family in
// handlers_*.cpp), and the helpers they share. Each handler loads what it needs, applies the
// rules of checklist/, saves the change log with its audit rows, queues the announcements it
// causes, and words the reply.
#include "commands/router.hpp"

#include <algorithm>

#include "checklist/duration.hpp"
#include "checklist/item_ref.hpp"
#include "checklist/mrkdwn.hpp"
#include "checklist/rules.hpp"
#include "commands/handlers.hpp"
#include "commands/parse.hpp"
#include "commands/refusals.hpp"

namespace relbot::commands {

namespace handlers {

using checklist::destination;
using checklist::escape_mrkdwn;
using checklist::item_pos;
using checklist::message_kind;

outcome refuse(std::string name, std::string_view text) {
    outcome o;
    o.reply = render_text(text);
    o.name = std::move(name);
    o.refused = true;
    return o;
}

outcome done(std::string name, message reply, bool changed) {
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

outcome handle(const usage_error& e, const request&, context&) {
    return refuse("bad_input", e.message);
}

}  // namespace handlers

outcome route(const command& parsed, const request& req, context& ctx) {
    if (!req.channel_name.empty() && may_write(parsed)) {
        // In the caller's write transaction; it writes only when the name is new or changed.
        ctx.store.remember_channel_name(req.channel, req.channel_name);
    }
    auto out = std::visit([&](const auto& c) { return handlers::handle(c, req, ctx); }, parsed);
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
