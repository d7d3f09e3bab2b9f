// The release's lifecycle: start, next, rollback, handoff, accept, manager, finish, abort and
// remind.
#include <map>
#include <type_traits>

#include "checklist/checkpoints.hpp"
#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "commands/decide.hpp"
#include "commands/refusals.hpp"
#include "commands/router.hpp"

namespace relbot::commands::decisions {

using checklist::destination;
using checklist::escape_mrkdwn;
using checklist::message_kind;

namespace {

template <typename Command>
decision end_release(const Command& c, const situation& s, const std::string& name) {
    if (!s.active) {
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
            *s.active, actor_of(s), is_abort ? "abort the release" : "finish the release")) {
        return refuse(name, word_refusal(*s.active, *no, s.req.way));
    }
    auto r = std::make_shared<checklist::release>(*s.active);
    checklist::change_log log;
    checklist::verdict v;
    if constexpr (is_abort) {
        v = checklist::abort_release(*r, s.req.now, reason, log);
    } else {
        v = checklist::finish_release(*r, s.req.now, reason, log);
    }
    if (v) {
        return refuse(name, word_refusal(*r, *v, s.req.way));
    }
    auto d = done(
        name,
        render_text(
            std::string(is_abort ? ":octagonal_sign: Release *" : ":checkered_flag: Release *") +
            escape_mrkdwn(r->version) + "* " + (is_abort ? "aborted" : "finished") +
            ". The summary is posted in the channel; `/release report` has the full report."));
    d.messages.push_back(
        post(*r, destination::channel(r->channel), message_kind::announcement,
             render_release_ended(*r, timeline_after(*r, log, s), s.req.user, reason),
             "release-ended:" + std::to_string(r->id)));
    // The timeline picture, right after the summary, in its thread.
    d.messages.push_back(upload(*r, destination::channel(r->channel), message_kind::announcement,
                                file_timeline, "release-timeline:" + std::to_string(r->id),
                                "release-ended:" + std::to_string(r->id)));
    d.state = std::move(r);
    d.log = std::move(log);
    return d;
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

// " Roles: qa <@U1>, oncall <@U2> (carried over from v1.1). Nobody holds pm: …" for the start
// reply; "" when the template names no roles and none are held.
std::string roles_sentence(const checklist::release& r, const std::string& carried_from) {
    std::string out;
    for (const auto& [role, user] : r.roles) {
        out += (out.empty() ? " Roles: " : ", ") + escape_mrkdwn(role) + " <@" + user + ">";
    }
    if (!out.empty()) {
        out += carried_from.empty() ? "."
                                    : " (the ones not given carried over from *" +
                                          escape_mrkdwn(carried_from) + "*).";
    }
    auto unheld = checklist::unheld_roles(r);
    for (std::size_t i = 0; i < unheld.size(); ++i) {
        out += (i == 0 ? " Nobody holds " : ", ") + escape_mrkdwn(unheld[i]);
    }
    if (!unheld.empty()) {
        out += ": items owned through it have no owner; `/release role " +
               escape_mrkdwn(unheld.front()) + " @person` gives it to someone.";
    }
    return out;
}

// What keeps `r` (its gate met) out of its deployment phase when `next` would enter it: a
// freeze window covering now, or another channel's release deploying (with
// RELBOT_ONE_DEPLOY_AT_A_TIME). Nullopt when nothing does, or `next` does not enter it.
checklist::verdict deployment_hold(const checklist::release& r, const situation& s) {
    auto deploy = checklist::deployment_phase(r);
    if (!deploy || *deploy != static_cast<std::size_t>(r.current_phase)) {
        return std::nullopt;  // the next phase is not the deployment phase
    }
    std::optional<std::pair<std::string, std::string>> other;  // version, channel
    if (s.look.settings().one_deploy_at_a_time) {
        other = s.look.deploying_elsewhere(r.channel);
    }
    if (auto f = active_freeze_for(r, s)) {
        checklist::refusal no{checklist::refused::frozen, "enter the deployment phase"};
        no.until = f->until;
        no.reason = f->reason;
        no.since = f->since;
        if (other) {  // both hold it: a forced move passes both, so both are named
            no.also_deploying_version = other->first;
            no.also_deploying_channel = other->second;
        }
        return no;
    }
    if (other) {
        checklist::refusal no{checklist::refused::deploying_elsewhere,
                              "enter the deployment phase"};
        no.reason = other->first;
        no.who = other->second;  // the channel
        return no;
    }
    return std::nullopt;
}

// The template `name` names, or the refusal that lists the templates there are.
std::variant<const checklist::checklist_template*, decision> find_template(const std::string& name,
                                                                           const situation& s) {
    if (const auto* tpl = s.look.templates().find(name)) {
        return tpl;
    }
    std::string names;
    for (const auto& n : s.look.templates().names()) {
        names += (names.empty() ? "`" : ", `") + escape_mrkdwn(n) + "`";
    }
    return refuse("start", "There is no template called `" + escape_mrkdwn(name) +
                               "`. Templates: " + names + ".");
}

}  // namespace

decision decide(const start_command& c, const situation& s) {
    auto tpl = find_template(c.template_name, s);
    if (auto* d = std::get_if<decision>(&tpl)) {
        return std::move(*d);
    }
    if (const auto& active = s.active) {
        return refuse(
            "start",
            "Release *" + escape_mrkdwn(active->version) +
                "* is already active in this channel (release manager <@" + active->manager +
                ">). One release runs per channel at a time; see it with `/release status`, "
                "end it with `/release finish` or `/release abort <reason>`.");
    }
    const auto& req = s.req;
    // Roles given now, else the ones the channel's most recent release held when it ended.
    std::map<std::string, std::string> roles(c.roles.begin(), c.roles.end());
    std::string carried_from;  // the release whose roles filled the ones not given
    if (auto previous = s.look.latest_release(req.channel)) {
        for (const auto& [role, user] : previous->roles) {
            if (roles.emplace(role, user).second) {
                carried_from = previous->version;
            }
        }
    }
    auto r = checklist::make_release(*std::get<const checklist::checklist_template*>(tpl),
                                     req.channel, c.version, req.user, req.now, roles);
    std::string note = "template " + r.template_name;
    if (!r.roles.empty()) {
        note += ", roles " + checklist::write_roles(r.roles);
    }
    if (!c.owners_from.empty()) {
        auto earlier = s.look.release_by_version(req.channel, c.owners_from);
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
    auto d = done("start",
                  render_text(":white_check_mark: Started release *" + escape_mrkdwn(r.version) +
                              "* with the `" + escape_mrkdwn(r.template_name) +
                              "` template: " + checklist::plural(r.phases.size(), "phase") + ", " +
                              checklist::plural(r.item_count(), "item") +
                              (c.owners_from.empty()
                                   ? ""
                                   : " (" + escape_mrkdwn(note.substr(note.find(',') + 2)) + ")") +
                              ". You are the release manager. I've announced it in the channel; "
                              "`/release status` shows the checklist." +
                              roles_sentence(r, carried_from)));
    d.log.events.push_back({"release.started", std::nullopt, "", "active", note});
    d.log.events.push_back({"phase.entered", std::nullopt, "", r.phases.front().title, ""});
    d.messages.push_back(post(r, destination::channel(r.channel), message_kind::announcement,
                              render_release_started(r), "release-started:", key_id::release));
    // The living status message: posted once, then updated in place after every change.
    d.messages.push_back(post(r, destination::channel(r.channel), message_kind::status,
                              render_status(r, outlook_for(r, s.look, s.req.now)),
                              "status:", key_id::release));
    // Items owned through a role have owners from the start: each gets the phase-start DM.
    for (const auto& [owner, items] : open_items_by_owner(r)) {
        d.messages.push_back(
            post(r, destination::direct(owner), message_kind::dm,
                 render_owner_items(r, items,
                                    ":arrow_forward: Release *" + escape_mrkdwn(r.version) +
                                        "* has started; phase 1, *" +
                                        escape_mrkdwn(r.phases.front().title) + "*. Yours in it:"),
                 "phase-owner:", key_id::release, ":1:" + owner));
    }
    d.insert = std::move(r);
    return d;
}

decision decide(const next_command& c, const situation& s) {
    if (!s.active) {
        return no_active("next");
    }
    auto what =
        c.force_reason.empty() ? "move to the next phase" : "force the move to the next phase";
    if (auto no = checklist::require_manager(*s.active, actor_of(s), what)) {
        return refuse("next", word_refusal(*s.active, *no, s.req.way));
    }
    auto r = std::make_shared<checklist::release>(*s.active);
    checklist::change_log log;
    if (auto no = checklist::advance_phase(*r, s.req.now, c.force_reason, log)) {
        return refuse("next", word_refusal(*r, *no, s.req.way));
    }
    // The gate was met (what is still open comes first); unless forced, a freeze or another
    // channel's deployment may still hold the release out of its deployment phase.
    if (c.force_reason.empty()) {
        if (auto no = deployment_hold(*s.active, s)) {
            return refuse("next", word_refusal(*s.active, *no, s.req.way));
        }
    }
    auto phase = std::to_string(r->current_phase);
    auto of_phases = "Phase " + phase + " of " + std::to_string(r->phases.size()) + ", *" +
                     escape_mrkdwn(r->current().title) + "*";
    auto d = done("next",
                  render_text(":arrow_forward: " + of_phases + ", has begun" +
                              (c.force_reason.empty() ? "" : " (forced; the reason is recorded)") +
                              ". I've announced it in the channel."));
    // Each owner of an item in the new phase gets one DM with all their items in it.
    auto id = std::to_string(r->id);
    for (const auto& [owner, items] : open_items_by_owner(*r)) {
        d.messages.push_back(
            post(*r, destination::direct(owner), message_kind::dm,
                 render_owner_items(*r, items,
                                    ":arrow_forward: " + of_phases + ", of release *" +
                                        escape_mrkdwn(r->version) + "* has begun. Yours in it:"),
                 "phase-owner:" + id + ":" + phase + ":" + owner));
    }
    d.messages.push_back(post(*r, destination::channel(r->channel), message_kind::announcement,
                              render_phase_entered(*r, s.req.user, c.force_reason),
                              "phase-entered:" + id + ":" + phase));
    d.state = std::move(r);
    d.log = std::move(log);
    return d;
}

decision decide(const rollback_command& c, const situation& s) {
    if (!s.active) {
        return no_active("rollback");
    }
    if (auto no =
            checklist::require_manager(*s.active, actor_of(s), "record a rollback decision")) {
        return refuse("rollback", word_refusal(*s.active, *no, s.req.way));
    }
    auto r = std::make_shared<checklist::release>(*s.active);
    auto d = done(
        "rollback",
        render_text(":rotating_light: Rollback decision recorded and announced in the channel."));
    // It never refuses today.
    checklist::record_rollback(*r, c.reason, d.log);
    d.messages.push_back(post(*r, destination::channel(r->channel), message_kind::announcement,
                              render_rollback(*r, s.req.user, c.reason),
                              "rollback:", key_id::last_audit));
    d.state = std::move(r);
    return d;
}

decision decide(const handoff_command& typed, const situation& s) {
    if (!s.active) {
        return no_active("handoff");
    }
    if (auto no = checklist::require_manager(*s.active, actor_of(s), "hand the release off")) {
        return refuse("handoff", word_refusal(*s.active, *no, s.req.way));
    }
    // Without people named, the holders of the `oncall` and `pm` roles.
    auto c = typed;
    if (c.oncall.empty()) {
        c.oncall = checklist::role_holder(*s.active, "oncall");
        c.pm = checklist::role_holder(*s.active, "pm");
        if (c.oncall.empty()) {
            return refuse("handoff",
                          "Nobody holds the `oncall` role in this release. Name the on-call "
                          "engineer: `/release handoff @on-call [@product-manager]`, or give "
                          "the role with `/release role oncall @person`.");
        }
    }
    auto r = std::make_shared<checklist::release>(*s.active);
    auto d = done("handoff", render_text(":handshake: Handoff to <@" + c.oncall + ">" +
                                         (c.pm.empty() ? std::string() : " and <@" + c.pm + ">") +
                                         " recorded; the briefing is posted in the channel."));
    // It never refuses today.
    checklist::record_handoff(*r, c.oncall, c.pm, s.req.now, d.log);
    auto briefing = render_handoff(*r, timeline_after(*r, d.log, s), s.req.user);
    // "briefing": the notifier adds a link to the status message when it sends these.
    d.messages.push_back(post(*r, destination::channel(r->channel), message_kind::briefing,
                              briefing, "handoff:", key_id::last_audit));
    // The same briefing by DM to each person named.
    for (const auto& person : {c.oncall, c.pm}) {
        if (!person.empty()) {
            d.messages.push_back(
                post(*r, destination::direct(person), message_kind::briefing_dm,
                     person == c.oncall ? render_handoff_dm(*r, briefing) : briefing,
                     "handoff-dm:", key_id::last_audit, ":" + person));
        }
    }
    d.state = std::move(r);
    return d;
}

decision decide(const accept_command&, const situation& s) {
    if (!s.active) {
        return no_active("accept");
    }
    auto r = std::make_shared<checklist::release>(*s.active);
    checklist::change_log log;
    if (auto no = checklist::accept_handoff(*r, actor_of(s), s.req.now, log)) {
        return refuse("accept", word_refusal(*r, *no, s.req.way));
    }
    auto taken = static_cast<int>(log.items.size());
    auto phase = "phase " + std::to_string(r->current().position);
    auto d =
        done("accept",
             render_text(
                 ":handshake: Handoff accepted. " +
                 (taken == 0 ? "Phase " + std::to_string(r->current().position) +
                                   " has no open items left to take over."
                             : "You now own " +
                                   checklist::plural(static_cast<std::size_t>(taken), "open item") +
                                   " of " + phase + "; `/release status` shows them.")));
    d.messages.push_back(post(*r, destination::channel(r->channel), message_kind::announcement,
                              render_handoff_accepted(*r, taken),
                              "handoff-accepted:", key_id::last_audit));
    d.state = std::move(r);
    d.log = std::move(log);
    return d;
}

decision decide(const manager_command& c, const situation& s) {
    if (!s.active) {
        return no_active("manager");
    }
    if (auto no = checklist::require_manager(*s.active, actor_of(s),
                                             "hand over the release-manager role")) {
        return refuse("manager", word_refusal(*s.active, *no, s.req.way));
    }
    auto r = std::make_shared<checklist::release>(*s.active);
    auto previous = r->manager;
    checklist::change_log log;
    std::vector<checklist::item_pos> moved;
    if (auto no = checklist::transfer_manager(*r, c.user, log, moved)) {
        return refuse("manager", word_refusal(*r, *no, s.req.way));
    }
    // Sign-offs the release manager owes that are now the new one's to give (the old one's, and
    // one the old manager checked himself): the new manager is asked.
    std::vector<const checklist::item*> awaited;
    if (c.user != s.req.user) {
        for (std::size_t i = 0; i < r->current().items.size(); ++i) {
            const auto& it = r->current().items[i];
            const auto& was = s.active->current().items[i];
            if (checklist::sign_off_asked(*r, it) == c.user &&
                checklist::sign_off_asked(*s.active, was) != c.user) {
                awaited.push_back(&it);
            }
        }
    }
    auto told =
        render_text(":crown: <@" + c.user + "> is now the release manager of *" +
                    escape_mrkdwn(r->version) + "* (was <@" + previous + ">)" +
                    (moved.empty() ? "."
                                   : "; " + checklist::plural(moved.size(), "item") +
                                         " the template gives the release manager moved to them.") +
                    (awaited.empty() ? ""
                                     : " I've asked them for the " +
                                           checklist::plural(awaited.size(), "sign-off") +
                                           " the release manager owes."));
    // The reply is the asker's, as every reply is (contract: ephemeral unless stated); the
    // channel is told by an announcement.
    auto d = done("manager", told);
    d.messages.push_back(post(*r, destination::channel(r->channel), message_kind::announcement,
                              std::move(told), "manager:", key_id::last_audit));
    // The new manager is told directly (unless they made themselves manager), with what is
    // theirs now: the phase gate, the checkpoints and escalations come to them from here on.
    if (c.user == s.req.user) {
        d.state = std::move(r);
        d.log = std::move(log);
        return d;
    }
    std::vector<const checklist::item*> items;
    for (auto p : moved) {
        items.push_back(&item_at(*r, p));
    }
    auto phase = r->current_phase;
    d.messages.push_back(post(
        *r, destination::direct(c.user), message_kind::dm,
        render_owner_items(*r, items,
                           ":crown: <@" + s.req.user + "> made you the release manager of *" +
                               escape_mrkdwn(r->version) + "* (it is in phase " +
                               std::to_string(phase) + ", *" + escape_mrkdwn(r->current().title) +
                               "*): moving it on, the monitoring checkpoints and escalations of "
                               "overdue items come to you now." +
                               (items.empty() ? "" : " Yours as release manager:")),
        "manager-given:", key_id::last_audit, ":" + c.user));
    for (const auto* it : awaited) {
        d.messages.push_back(post(*r, destination::direct(c.user), message_kind::dm,
                                  render_sign_off_request(*r, *it, it->state_by), "sign-off-ask:",
                                  key_id::last_audit, ":" + c.user + ":" + std::to_string(it->id)));
    }
    d.state = std::move(r);
    d.log = std::move(log);
    return d;
}

decision decide(const finish_command& c, const situation& s) {
    return end_release(c, s, "finish");
}

decision decide(const abort_command& c, const situation& s) {
    return end_release(c, s, "abort");
}

decision decide(const role_command& c, const situation& s) {
    if (!s.active) {
        return no_active("role");
    }
    if (auto no = checklist::require_manager(*s.active, actor_of(s), "give roles")) {
        return refuse("role", word_refusal(*s.active, *no, s.req.way));
    }
    auto r = std::make_shared<checklist::release>(*s.active);
    checklist::change_log log;
    std::vector<checklist::item_pos> moved;
    if (auto no = checklist::set_role(*r, c.role, c.user, log, moved)) {
        return refuse("role", word_refusal(*r, *no, s.req.way));
    }
    // Sign-offs of this role awaited now: the new holder is asked, as the old one was.
    std::vector<const checklist::item*> awaited;
    for (const auto& it : r->current().items) {
        if (it.policy.sign_off && it.policy.sign_off->role == c.role &&
            checklist::sign_off_asked(*r, it) == c.user) {
            awaited.push_back(&it);
        }
    }
    auto d = done(
        "role", render_text(":busts_in_silhouette: <@" + c.user + "> now holds the " +
                            escape_mrkdwn(c.role) + " role in *" + escape_mrkdwn(r->version) + "*" +
                            (moved.empty() ? "."
                                           : "; " + checklist::plural(moved.size(), "item") +
                                                 " owned through it moved to "
                                                 "them, and I've told them.") +
                            (awaited.empty() ? ""
                                             : " I've asked them for the " +
                                                   checklist::plural(awaited.size(), "sign-off") +
                                                   " the role owes.")));
    for (const auto* it : awaited) {
        d.messages.push_back(post(*r, destination::direct(c.user), message_kind::dm,
                                  render_sign_off_request(*r, *it, it->state_by), "sign-off-ask:",
                                  key_id::last_audit, ":" + c.user + ":" + std::to_string(it->id)));
    }
    if (!moved.empty()) {
        std::vector<const checklist::item*> items;
        for (auto p : moved) {
            items.push_back(&item_at(*r, p));
        }
        d.messages.push_back(
            post(*r, destination::direct(c.user), message_kind::dm,
                 render_owner_items(*r, items,
                                    ":busts_in_silhouette: <@" + s.req.user + "> gave you the " +
                                        escape_mrkdwn(c.role) + " role in release *" +
                                        escape_mrkdwn(r->version) + "*. Yours through it:"),
                 "role-owner:", key_id::last_audit, ":" + c.user));
    }
    d.state = std::move(r);
    d.log = std::move(log);
    return d;
}

std::optional<decision> reminded_lately(const situation& s,
                                        std::string_view action,
                                        std::optional<std::int64_t> item_id) {
    // The latest such request that reminded someone, unless what it reminded of has changed
    // since: a new phase, or an item given to someone (whom it did not remind).
    std::optional<checklist::audit_entry> last;
    for (auto& e : s.look.timeline(s.active->id)) {
        if (e.action == action && (!item_id || e.item_id == item_id)) {
            bool reminded_nobody = e.action == "remind.requested" && e.to_state == "0";
            last = reminded_nobody ? std::nullopt : std::optional(std::move(e));
        } else if (last && (e.action == "phase.entered" ||
                            (e.action == "item.assigned" && (!item_id || e.item_id == item_id)))) {
            last.reset();
        }
    }
    constexpr auto pause = std::chrono::duration_cast<std::chrono::seconds>(remind_pause).count();
    if (!last || s.req.now - last->at >= pause) {
        return std::nullopt;
    }
    return refuse("remind", ":bell: <@" + last->actor + "> asked for " +
                                (item_id ? "that reminder " : "reminders ") +
                                checklist::date_token(last->at) + "; " +
                                (item_id ? "the owner has it" : "the owners have their DMs") +
                                ". Ask again from " + checklist::date_token(last->at + pause) +
                                " if need be.");
}

decision decide(const remind_command&, const situation& s) {
    if (!s.active) {
        return no_active("remind");
    }
    const auto& r = *s.active;
    if (auto no = checklist::require_manager(r, actor_of(s), "send reminders")) {
        return refuse("remind", word_refusal(r, *no, s.req.way));
    }
    // A click of Remind owners a moment after someone else's (a double click, two people at
    // once) DMs nobody twice (contract: clicking twice is harmless); the typed command reminds
    // now, as it says.
    if (s.req.way == way_in::click) {
        if (auto lately = reminded_lately(s, "remind.requested", std::nullopt)) {
            return std::move(*lately);
        }
    }
    auto owners = open_items_by_owner(r);
    int unowned = 0;
    for (const auto& i : r.current().items) {
        unowned += i.owner.empty() && (i.state == checklist::item_state::open ||
                                       i.state == checklist::item_state::blocked)
                       ? 1
                       : 0;
    }
    std::string msg =
        owners.empty()
            ? "No open item of this phase has an owner to remind."
            : ":bell: Reminded " + checklist::plural(owners.size(), "person", "people") + " by DM:";
    std::vector<planned_message> dms;
    for (const auto& [owner, items] : owners) {
        msg += " <@" + owner + ">";
        dms.push_back(
            post(r, destination::direct(owner), message_kind::dm,
                 render_owner_items(r, items,
                                    ":bell: <@" + s.req.user +
                                        "> asks you to look at your open items of *" +
                                        escape_mrkdwn(r.current().title) + "* in release *" +
                                        escape_mrkdwn(r.version) + "*:"),
                 "remind:", key_id::last_audit, ":" + owner));
    }
    msg += owners.empty() ? "" : ".";
    if (unowned > 0) {
        msg += "\n" +
               checklist::plural(static_cast<std::size_t>(unowned), "open item has",
                                 "open items have") +
               " no owner: `/release assign <item> @person`.";
    }
    auto d = done("remind", render_text(msg));
    // Only the timeline grows: the snapshot is the state.
    d.log.events.push_back(
        {"remind.requested", std::nullopt, "", std::to_string(owners.size()), ""});
    d.state = s.active;
    d.messages = std::move(dms);
    return d;
}

}  // namespace relbot::commands::decisions
