// The dispatch from the parsed variant to the decide functions (one per command, by family in
// decide_*.cpp), and the helpers they share. Each decide function reads the snapshot and the
// lookups, applies the rules of checklist/, and returns the change with its timeline rows, the
// messages it causes and the reply; it writes nothing.
#include "commands/router.hpp"

#include <algorithm>
#include <cassert>

#include "checklist/checkpoints.hpp"
#include "checklist/duration.hpp"
#include "checklist/item_ref.hpp"
#include "checklist/mrkdwn.hpp"
#include "checklist/rules.hpp"
#include "commands/decide.hpp"
#include "commands/parse.hpp"
#include "commands/refusals.hpp"

namespace relbot::commands {

std::vector<const checklist::freeze_window*> freeze_windows(const checklist::release& r,
                                                            const lookups& look) {
    std::vector<const checklist::freeze_window*> windows;
    if (const auto* t = look.templates().find(r.template_name)) {
        for (const auto& w : t->freezes) {
            windows.push_back(&w);
        }
    }
    for (const auto& w : look.settings().freezes) {
        windows.push_back(&w);
    }
    return windows;
}

deployment_outlook outlook_for(const checklist::release& r,
                               const lookups& look,
                               checklist::epoch_seconds now) {
    deployment_outlook out;
    auto deploy = checklist::deployment_phase(r);  // 0-based
    if (r.status != checklist::release_status::active || !deploy ||
        static_cast<std::size_t>(r.current_phase) > *deploy) {
        return out;  // no deployment phase, or it has been entered
    }
    out.frozen = checklist::active_freeze(freeze_windows(r, look), now);
    if (look.settings().one_deploy_at_a_time) {
        if (auto other = look.deploying_elsewhere(r.channel)) {
            out.waiting_for_version = other->first;
            out.waiting_for_channel = other->second;
        }
    }
    return out;
}

std::vector<checklist::release_history> finished_histories(const lookups& look,
                                                           std::string_view channel,
                                                           int count) {
    std::vector<checklist::release_history> out;
    // Newest first; enough to find `count` finished ones among aborted and active ones.
    for (const auto& s : look.list_releases(channel, std::min(500, count * 5 + 20))) {
        if (static_cast<int>(out.size()) == count) {
            break;
        }
        if (s.status != checklist::release_status::finished) {
            continue;
        }
        auto r = look.release(s.id);
        if (!r) {
            continue;
        }
        checklist::release_history h;
        h.audit = look.timeline(r->id);
        h.first_reminder = look.first_reminders(r->id);
        h.r = std::move(*r);
        out.push_back(std::move(h));
    }
    std::reverse(out.begin(), out.end());
    return out;
}

namespace decisions {

using checklist::escape_mrkdwn;
using checklist::item_pos;

decision refuse(std::string name, std::string_view text) {
    decision d;
    d.answer.reply = render_text(text);
    d.answer.name = std::move(name);
    d.answer.refused = true;
    return d;
}

decision done(std::string name, message reply, bool changed) {
    decision d;
    d.answer.reply = std::move(reply);
    d.answer.name = std::move(name);
    d.answer.changed = changed;
    return d;
}

decision no_active(std::string name) {
    return refuse(
        std::move(name),
        "There is no active release in this channel. Start one with `/release start <version>`.");
}

checklist::actor actor_of(const situation& s) {
    // A signal is believed because it is signed with the operator's secret; it only reaches
    // the item commands (check, note, block, unblock), which an admin may use on any item.
    return {s.req.user, s.req.way == way_in::signal || s.look.is_admin(s.req.user)};
}

std::optional<checklist::freeze_state> active_freeze_for(const checklist::release& r,
                                                         const situation& s) {
    return checklist::active_freeze(freeze_windows(r, s.look), s.req.now);
}

const checklist::item& item_at(const checklist::release& r, item_pos p) {
    return r.phases[p.phase].items[p.index];
}

std::variant<item_pos, decision> find_item(const checklist::release& r,
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

planned_message upload(checklist::destination to,
                       checklist::message_kind kind,
                       std::string body,
                       std::string key) {
    planned_message p;
    p.key_prefix = std::move(key);
    p.message.to = std::move(to);
    p.message.method = std::string(upload_method);
    p.message.body = std::move(body);
    p.message.kind = kind;
    return p;
}

planned_message upload(const checklist::release& r,
                       checklist::destination to,
                       checklist::message_kind kind,
                       std::string_view file,
                       std::string key,
                       const std::string& thread_of) {
    auto p = upload(std::move(to), kind, file_row_body(file, r.id, thread_of), std::move(key));
    p.message.release_id = r.id;
    return p;
}

planned_message post(const checklist::release& r,
                     checklist::destination to,
                     checklist::message_kind kind,
                     const message& m,
                     std::string key_prefix,
                     key_id completed_by,
                     std::string key_suffix) {
    planned_message p;
    p.key_prefix = std::move(key_prefix);
    p.completed_by = completed_by;
    p.key_suffix = std::move(key_suffix);
    if (r.id != 0) {
        p.message.release_id = r.id;
    }
    p.message.to = std::move(to);
    p.message.method = "chat.postMessage";
    p.message.body = post_body_json(m);
    p.message.kind = kind;
    return p;
}

std::vector<checklist::audit_entry> timeline_after(const checklist::release& r,
                                                   const checklist::change_log& log,
                                                   const situation& s) {
    auto out = s.look.timeline(r.id);
    for (const auto& e : log.events) {
        out.push_back({r.id, s.req.now, s.req.user, e.action, e.item_id, e.from, e.to, e.note});
    }
    return out;
}

std::string gate_hint(const checklist::release& r, checklist::epoch_seconds now) {
    auto g = checklist::current_gate(r, now);
    if (!g.holding.empty()) {
        return "";
    }
    if (g.opens_at) {
        return "\nEvery item of this phase is done or skipped; it can be left after " +
               checklist::date_token(*g.opens_at) + " (" +
               (g.last_phase ? "`/release finish`" : "`/release next`") + " then).";
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

decision decide(const usage_error& e, const situation&) {
    return refuse("bad_input", e.message);
}

}  // namespace decisions

decision decide(const command& parsed, const situation& s) {
    return std::visit([&](const auto& c) { return decisions::decide(c, s); }, parsed);
}

const slack::json_text& status_memo::ack_json(const std::shared_ptr<const checklist::release>& r,
                                              const deployment_outlook& outlook) {
    bool active = r->status == checklist::release_status::active;
    auto kept = active ? entries_.find(r->id) : entries_.end();
    auto* found = kept != entries_.end()                                     ? &kept->second
                  : !active && ended_.release && ended_.release->id == r->id ? &ended_
                                                                             : nullptr;
    if (found && (found->release == r || *found->release == *r) && found->outlook == outlook) {
        found->release = r;
        return found->ack_json;
    }
    if (!active) {
        entries_.erase(r->id);  // it ended since its last reply
    } else if (entries_.size() >= max_entries) {
        entries_.clear();
    }
    auto& e = active ? entries_[r->id] : ended_;
    e.release = r;
    e.outlook = outlook;
    e.ack_json = ack_payload_json(render_status(*r, outlook));
    return e.ack_json;
}

checklist::outbound_message planned_message::complete(std::int64_t release_id,
                                                      std::int64_t last_audit_id) const {
    auto m = message;
    m.dedupe_key = key_prefix;
    switch (completed_by) {
        case key_id::none:
            break;
        case key_id::release:
            assert(release_id != 0);
            m.dedupe_key += std::to_string(release_id);
            break;
        case key_id::last_audit:
            assert(last_audit_id != 0);
            m.dedupe_key += std::to_string(last_audit_id);
            break;
    }
    m.dedupe_key += key_suffix;
    if (!m.release_id && release_id != 0) {
        m.release_id = release_id;
    }
    return m;
}

bool may_write(const command& parsed) {
    return !(std::holds_alternative<help_command>(parsed) ||
             std::holds_alternative<status_command>(parsed) ||
             std::holds_alternative<list_command>(parsed) ||
             std::holds_alternative<usage_error>(parsed));
}

bool needs_release(const command& parsed) {
    return !(std::holds_alternative<help_command>(parsed) ||
             std::holds_alternative<list_command>(parsed) ||
             std::holds_alternative<stats_command>(parsed) ||
             std::holds_alternative<usage_error>(parsed));
}

}  // namespace relbot::commands
