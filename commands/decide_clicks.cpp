// Clicks and modal submissions: each is checked against the release its control names (known,
// active, this channel's), then decided by the equivalent command's decide function, and the
// clicked message is brought up to date (see clicks.hpp).
#include <algorithm>

#include "checklist/checkpoints.hpp"
#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "commands/clicks.hpp"
#include "commands/decide.hpp"
#include "commands/refusals.hpp"
#include "commands/render/checkpoints.hpp"
#include "commands/render/controls.hpp"
#include "commands/render/views.hpp"
#include "commands/router.hpp"

namespace relbot::commands::decisions {

using checklist::destination;
using checklist::message_kind;
using controls::action;

namespace {

constexpr std::string_view bare_ack = "{}";

}  // namespace

bool is_dm(std::string_view channel) {
    return channel.starts_with('D');
}

// A message only the person who clicked sees: through the click's response_url when it has one
// (it lives 30 minutes, for five posts), else by DM (a click in App Home).
planned_message to_clicker(const std::string& user,
                           const std::string& response_url,
                           const message& m,
                           std::string key) {
    planned_message p;
    p.key_prefix = std::move(key);
    if (!response_url.empty()) {
        auto body = to_ack_payload(m);
        body["replace_original"] = false;
        p.message.to = destination::reply(response_url);
        p.message.method = "response_url";
        p.message.body = dump_json(body);
        p.message.kind = message_kind::reply_page;
    } else {
        p.message.to = destination::direct(user);
        p.message.body = post_body_json(m);
        p.message.kind = message_kind::dm;
    }
    return p;
}

// The decision's reply, moved to where a click's answer goes; the ack itself carries nothing.
decision answer_clicker(decision d,
                        const view_origin& o,
                        const std::string& user,
                        std::string_view key) {
    d.messages.push_back(
        to_clicker(user, o.response_url, d.answer.reply, "click:" + std::string(key) + ":reply"));
    d.answer.ack_json = std::string(bare_ack);
    return d;
}

// A refusal or a stale control, answered to the clicker only.
decision refuse_click(std::string name,
                      std::string_view text,
                      const view_origin& o,
                      const std::string& user,
                      std::string_view key) {
    return answer_clicker(refuse(std::move(name), text), o, user, key);
}

// "✅ Done by <@U1> at 2026-12-01 14:02 UTC" and the like: the line a DM's controls become.
std::string settled_line(action a, const std::string& user, checklist::epoch_seconds now) {
    std::string what;
    switch (a) {
        case action::item_done:
            what = ":white_check_mark: Done";
            break;
        case action::item_skip:
            what = ":fast_forward: Skipped";
            break;
        case action::item_block:
            what = ":no_entry: Blocked";
            break;
        case action::handoff_accept:
            what = ":handshake: Handoff accepted";
            break;
        case action::item_approve:
            what = ":ballot_box_with_check: Signed off";
            break;
        default:
            return {};
    }
    return what + " by <@" + user + "> at " + checklist::format_utc(now);
}

// After a change: the clicked message shows the new state. A DM is edited in place (its
// controls for the item become a line saying what happened); an ephemeral status reply is
// replaced by the status as it is now; the living status message follows by its usual path.
void update_clicked(decision& d,
                    action a,
                    const view_origin& o,
                    const nlohmann::json& blocks,
                    const std::string& text,
                    const situation& s,
                    std::string_view key) {
    auto line = settled_line(a, s.req.user, s.req.now);
    if (o.where == surface::message && is_dm(o.channel) && !o.message_ts.empty() && !line.empty() &&
        blocks.is_array() && !blocks.empty()) {
        auto settled = a == action::handoff_accept
                           ? settle_release_controls(blocks, line)
                           : settle_item_controls(blocks, o.target.item_id, line);
        planned_message p;
        p.key_prefix = "click:" + std::string(key) + ":update";
        p.message.release_id = o.target.release_id;
        p.message.to = destination::channel(o.channel);
        p.message.method = "chat.update";
        p.message.body = dump_json({{"ts", o.message_ts}, {"text", text}, {"blocks", settled}});
        p.message.kind = message_kind::dm;
        d.messages.push_back(std::move(p));
    }
    if (o.where == surface::ephemeral && !o.response_url.empty() && d.state) {
        auto body =
            to_ack_payload(render_status(*d.state, outlook_for(*d.state, s.look, s.req.now)));
        body["replace_original"] = true;
        planned_message p;
        p.key_prefix = "click:" + std::string(key) + ":status";
        p.message.release_id = o.target.release_id;
        p.message.to = destination::reply(o.response_url);
        p.message.method = "response_url";
        p.message.body = dump_json(body);
        p.message.kind = message_kind::reply_page;
        d.messages.push_back(std::move(p));
    }
}

// Why a control may not act on `s.active` at all, or nullopt: the release it names is unknown,
// belongs to another channel than the message clicked in, or has ended.
std::optional<std::string> stale_or_forged(const view_origin& o, const situation& s) {
    if (!s.active || s.active->id != o.target.release_id) {
        return "That button belongs to a release I don't know; nothing changed.";
    }
    const auto& r = *s.active;
    bool in_channel = !o.channel.empty() && !is_dm(o.channel);
    if (in_channel && o.channel != r.channel) {
        return "That button belongs to a release of another channel; nothing changed.";
    }
    if (r.status != checklist::release_status::active) {
        return "Release *" + checklist::escape_mrkdwn(r.version) + "* has already " +
               (r.status == checklist::release_status::aborted ? "been aborted" : "finished") +
               "; nothing changed.";
    }
    // Next phase or Finish (or the form one opened) drawn in a phase the release has left: a
    // second click, or another's move meanwhile, must not move it on again.
    if (o.target.phase != 0 && o.target.phase != r.current().position) {
        const auto* left =
            o.target.phase >= 1 && o.target.phase <= static_cast<int>(r.phases.size())
                ? &r.phases[static_cast<std::size_t>(o.target.phase - 1)]
                : nullptr;
        return "That button was for phase " + std::to_string(o.target.phase) +
               (left ? ", *" + checklist::escape_mrkdwn(left->title) + "*," : std::string()) +
               " and release *" + checklist::escape_mrkdwn(r.version) + "* is in phase " +
               std::to_string(r.current().position) + ", *" +
               checklist::escape_mrkdwn(r.current().title) + "*, now; nothing changed.";
    }
    return std::nullopt;
}

// The item a control names, or nullptr (an item of another release, or none).
const checklist::item* item_named(const checklist::release& r, std::int64_t item_id) {
    for (const auto& p : r.phases) {
        for (const auto& i : p.items) {
            if (i.id == item_id && item_id != 0) {
                return &i;
            }
        }
    }
    return nullptr;
}

// The modal a click opens, once the click is known to be allowed.
decision open_modal(nlohmann::json view, std::string name) {
    auto d = decisions::done(std::move(name), render_text(""), false);
    d.answer.open_view = std::move(view);
    d.answer.ack_json = std::string(bare_ack);
    return d;
}

// A command run only to see whether the rules would allow it (the result is never written).
bool allowed(const command& probe, const situation& s, decision& refusal) {
    auto d = commands::decide(probe, s);
    if (d.answer.refused) {
        refusal = std::move(d);
        return false;
    }
    return true;
}

}  // namespace relbot::commands::decisions

namespace relbot::commands {

request request_of_click(const click& c,
                         const snapshot& target,
                         checklist::epoch_seconds now,
                         const std::string& channel) {
    request r;
    r.team = c.team;
    r.channel = target ? target->channel : channel;
    r.user = c.user;
    r.now = now;
    r.way = way_in::click;
    return r;
}

namespace {

using controls::action;
using namespace decisions;

// The equivalent command, decided; the clicked message brought up to date; and the reply to
// the clicker where nothing else shows what happened (a refusal, a click in the channel).
decision run(const command& cmd, const click& c, const situation& s, std::string_view key) {
    auto d = commands::decide(cmd, s);
    auto o = c.origin();
    if (d.answer.refused || !d.answer.changed) {
        return answer_clicker(std::move(d), o, c.user, key);
    }
    auto before = d.messages.size();
    update_clicked(d, c.act, o, c.message_blocks, c.message_text, s, key);
    bool shown = d.messages.size() > before || o.where == surface::home;
    if (!shown) {
        return answer_clicker(std::move(d), o, c.user, key);
    }
    d.answer.ack_json = "{}";
    return d;
}

// Next phase or Finish: moves on when the gate is met; a manager facing a closed gate gets
// the modal that asks for the reason to move on by force.
decision next_or_force(const click& c, const situation& s, std::string_view key) {
    const auto& r = *s.active;
    bool finishing = c.act == action::release_finish;
    auto gate = checklist::current_gate(r, s.req.now);
    bool forcible = !checklist::require_manager(r, actor_of(s), "move on") && !gate.open() &&
                    (finishing ? gate.last_phase : !gate.last_phase);
    if (forcible) {
        auto o = c.origin();
        o.what = finishing ? "finish" : "next";
        checklist::refusal held;
        held.why = checklist::refused::gate_closed;
        held.action = finishing ? "finish the release" : "move to the next phase";
        held.held = gate;
        held.finishing = finishing;
        // What holds the phase (the form itself is the way to move on anyway).
        return open_modal(
            next_force_modal(r, gate_hold_words(r, held, way_in::click), o.to_metadata()),
            finishing ? "finish" : "next");
    }
    return finishing ? run(finish_command{}, c, s, key) : run(next_command{}, c, s, key);
}

// A modal for an item, opened only when the rules would let the clicker do what it asks.
decision item_modal(const click& c,
                    const situation& s,
                    const checklist::item& it,
                    std::string_view key) {
    auto o = c.origin();
    const auto& r = *s.active;
    auto ref = it.ref();
    decision no;
    switch (c.act) {
        case action::item_skip:
            return allowed(skip_command{ref, "?"}, s, no)
                       ? open_modal(skip_modal(it, r, o.to_metadata()), "skip")
                       : answer_clicker(std::move(no), o, c.user, key);
        case action::item_block:
            return allowed(block_command{ref, "?"}, s, no)
                       ? open_modal(block_modal(it, r, o.to_metadata()), "block")
                       : answer_clicker(std::move(no), o, c.user, key);
        case action::item_note:
            return allowed(note_command{ref, "?"}, s, no)
                       ? open_modal(note_modal(it, r, o.to_metadata()), "note")
                       : answer_clicker(std::move(no), o, c.user, key);
        case action::item_done: {
            // The evidence the policy asks for is given in the modal; probed with a stand-in.
            bool link = it.policy.evidence == checklist::evidence_kind::link;
            return allowed(check_command{ref, link ? "https://relbot.invalid/" : "?"}, s, no)
                       ? open_modal(check_modal(it, r, o.to_metadata()), "check")
                       : answer_clicker(std::move(no), o, c.user, key);
        }
        default:
            break;
    }
    if (auto refused = checklist::require_manager(r, actor_of(s), "assign items")) {
        return refuse_click("assign", word_refusal(r, *refused, way_in::click), o, c.user, key);
    }
    return open_modal(assign_modal(it, r, o.to_metadata()), "assign");
}

// Remind again (the escalation DM): the item's owner is reminded now, by the manager's hand.
decision remind_again(const click& c,
                      const situation& s,
                      const checklist::item& it,
                      std::string_view key) {
    const auto& r = *s.active;
    auto o = c.origin();
    if (auto no = checklist::require_manager(r, actor_of(s), "send reminders")) {
        return refuse_click("remind", word_refusal(r, *no, way_in::click), o, c.user, key);
    }
    if (it.owner.empty() ||
        !(it.state == checklist::item_state::open || it.state == checklist::item_state::blocked)) {
        return refuse_click(
            "remind",
            it.label() + (it.owner.empty() ? " has no owner to remind."
                                           : " is already settled; nobody to remind."),
            o, c.user, key);
    }
    if (auto lately = reminded_lately(s, "item.reminded", it.id)) {
        return answer_clicker(std::move(*lately), o, c.user, key);
    }
    auto d = done("remind", render_text(":bell: I've reminded <@" + it.owner + "> about " +
                                        it.label() + " again."));
    d.log.events.push_back({"item.reminded", it.id, "", it.owner, ""});
    d.state = s.active;
    d.messages.push_back(post(
        r, destination::direct(it.owner), message_kind::dm,
        render_owner_items(r, {&it},
                           ":bell: <@" + c.user + "> asks you again about this item of release *" +
                               checklist::escape_mrkdwn(r.version) + "*:"),
        "remind-again:", key_id::last_audit));
    return answer_clicker(std::move(d), o, c.user, key);
}

// Snooze (a DM's select): the owner's next reminder for the item moves to the chosen time
// (Tomorrow morning: 09:00 in their time zone); recorded in the timeline; the controls stay.
decision snooze(const click& c,
                const situation& s,
                const checklist::item& it,
                std::string_view key) {
    auto o = c.origin();
    auto r = std::make_shared<checklist::release>(*s.active);
    auto tz = s.look.time_zone_offset(it.owner.empty() ? c.user : it.owner).value_or(0);
    auto until = snooze_until(c.target.snooze, s.req.now, tz);
    auto pos = checklist::resolve_item(*r, it.ref());
    const auto* found = std::get_if<checklist::ref_found>(&pos);
    if (!until || !found) {
        return refuse_click("snooze", "That snooze is not one I know; nothing changed.", o, c.user,
                            key);
    }
    checklist::change_log log;
    if (auto no = checklist::snooze_item(*r, found->pos, *until, actor_of(s), s.req.now, log)) {
        return refuse_click("snooze", word_refusal(*r, *no, way_in::click), o, c.user, key);
    }
    auto d = done("snooze", render_text(":alarm_clock: " + it.label() + ": the next reminder " +
                                        "comes " + checklist::date_token(*until) + "."));
    d.state = std::move(r);
    d.log = std::move(log);
    return answer_clicker(std::move(d), o, c.user, key);
}

// Healthy or Investigating on a checkpoint: recorded (the last answer counts); Investigating
// holds the monitoring phase and is announced like a block; the clicked message shows the
// answer.
decision answer(const click& c,
                const situation& s,
                checklist::checkpoint_answer a,
                std::string_view key,
                const std::string& reason = {}) {
    auto o = c.origin();
    int n = c.target.checkpoint;
    auto r = std::make_shared<checklist::release>(*s.active);
    checklist::change_log log;
    if (auto no = checklist::answer_checkpoint(*r, n, a, actor_of(s), s.req.now, log, reason)) {
        return refuse_click("checkpoint", word_refusal(*r, *no, way_in::click), o, c.user, key);
    }
    const auto* cp = checklist::find_checkpoint(*r, n);
    auto label = cp ? checklist::checkpoint_label(*cp) : std::to_string(n);
    auto d = done("checkpoint", render_text(":stethoscope: Checkpoint " + label + ": " +
                                            checklist::answer_word(a) + ", recorded."));
    if (a == checklist::checkpoint_answer::investigating) {
        d.messages.push_back(post(*r, destination::channel(r->channel), message_kind::announcement,
                                  render_checkpoint_investigating(*r, n, c.user),
                                  "checkpoint-investigating:", key_id::last_audit));
    }
    if (a == checklist::checkpoint_answer::rolled_back) {
        d.messages.push_back(post(*r, destination::channel(r->channel), message_kind::announcement,
                                  render_rollback(*r, c.user, reason),
                                  "rollback:", key_id::last_audit));
    }
    // Every copy of the checkpoint (the channel post, the DMs to the manager and the on-call
    // engineer) shows the answer too, also when a reminder was clicked: the notifier finds
    // each by its outbox key ("ts_of") when it is sent, and one never posted is left alone.
    auto copy_key = "checkpoint:" + std::to_string(r->id) + ":" + std::to_string(n);
    auto shown_copy = render_checkpoint_answered(*r, n);
    auto update_copy = [&](destination to, message_kind kind, const std::string& of,
                           const std::string& suffix) {
        planned_message p;
        p.key_prefix = "checkpoint-shown:";
        p.completed_by = key_id::last_audit;
        p.key_suffix = suffix;
        p.message.release_id = r->id;
        p.message.to = std::move(to);
        p.message.method = "chat.update";
        p.message.body =
            dump_json({{"ts_of", of}, {"text", shown_copy.text}, {"blocks", shown_copy.blocks}});
        p.message.kind = kind;
        d.messages.push_back(std::move(p));
    };
    update_copy(destination::channel(r->channel), message_kind::announcement, copy_key, ":channel");
    auto people = checklist::checkpoint_people(*r);
    for (const auto& person : people) {
        update_copy(destination::direct(person), message_kind::dm, copy_key + ":" + person,
                    ":" + person);
    }
    if (o.where == surface::message && !o.channel.empty() && !o.message_ts.empty()) {
        planned_message p;
        p.key_prefix = "click:" + std::string(key) + ":update";
        p.message.release_id = r->id;
        // A DM is addressed as the copies' edits are (to the person), so the edits of one DM
        // go out in the order they were decided.
        p.message.to =
            is_dm(o.channel) ? destination::direct(c.user) : destination::channel(o.channel);
        p.message.method = "chat.update";
        nlohmann::json body = {
            {"ts", o.message_ts}, {"text", shown_copy.text}, {"blocks", shown_copy.blocks}};
        // The clicked message may be the copy that an edit above shows the same on, queued
        // before this one to the same destination: the channel's post for a click in the
        // release's channel, the clicker's own DM copy if they are still one of the
        // checkpoint's people. Decide cannot tell (the copies' ts are known once they are
        // sent); the notifier leaves this edit out when its ts is that copy's
        // ("unless_ts_of"). A copy this answer does not edit (an earlier on-call engineer's
        // DM) is never named, so a click there is edited as any message.
        std::optional<std::string> copy;
        if (is_dm(o.channel)) {
            if (std::find(people.begin(), people.end(), c.user) != people.end()) {
                copy = copy_key + ":" + c.user;
            }
        } else if (o.channel == r->channel) {
            copy = copy_key;
        }
        if (copy) {
            body["unless_ts_of"] = nlohmann::json::array({*copy});
        }
        p.message.body = dump_json(body);
        p.message.kind = is_dm(o.channel) ? message_kind::dm : message_kind::announcement;
        d.messages.push_back(std::move(p));
    }
    d.state = std::move(r);
    d.log = std::move(log);
    d.answer.ack_json = "{}";
    return d;
}

}  // namespace

decision decide_click(const click& c, const situation& s, std::string_view key) {
    auto o = c.origin();
    if (c.act == action::start_release) {
        return open_modal(start_modal(s.look.templates().names(), o.to_metadata(), ""), "start");
    }
    if (auto why = stale_or_forged(o, s)) {
        return refuse_click("stale", *why, o, c.user, key);
    }
    const auto& r = *s.active;
    const checklist::item* it = item_named(r, c.target.item_id);
    bool about_item = c.target.item_id != 0;
    if (about_item && !it) {
        return refuse_click("stale", "That item is not part of this release; nothing changed.", o,
                            c.user, key);
    }
    if (about_item) {
        switch (c.act) {
            case action::item_done:
                if (it->policy.evidence) {
                    return item_modal(c, s, *it, key);  // asks for the link or the note
                }
                return run(check_command{it->ref(), ""}, c, s, key);
            case action::item_approve:
                return run(approve_command{it->ref()}, c, s, key);
            case action::item_unblock:
                return run(unblock_command{it->ref()}, c, s, key);
            case action::item_skip:
            case action::item_block:
            case action::item_note:
            case action::item_assign:
                return item_modal(c, s, *it, key);
            case action::remind_again:
                return remind_again(c, s, *it, key);
            case action::item_snooze:
                return snooze(c, s, *it, key);
            default:
                break;
        }
    } else if (c.target.checkpoint != 0) {
        switch (c.act) {
            case action::checkpoint_healthy:
                return answer(c, s, checklist::checkpoint_answer::healthy, key);
            case action::checkpoint_investigating:
                return answer(c, s, checklist::checkpoint_answer::investigating, key);
            case action::checkpoint_roll_back:
                if (!checklist::may_answer_checkpoints(r, actor_of(s))) {
                    return refuse_click("checkpoint",
                                        "Only the release manager (<@" + r.manager +
                                            ">), an admin or the on-call engineer who accepted "
                                            "the handoff can answer a checkpoint.",
                                        o, c.user, key);
                }
                return open_modal(rollback_modal(r, c.target.checkpoint, o.to_metadata()),
                                  "rollback");
            default:
                break;
        }
    } else {
        switch (c.act) {
            case action::phase_next:
            case action::release_finish:
                return next_or_force(c, s, key);
            case action::remind_owners:
                return run(remind_command{}, c, s, key);
            case action::handoff_accept:
                return run(accept_command{}, c, s, key);
            default:
                break;
        }
    }
    return refuse_click("stale", "That button does not fit what it names; nothing changed.", o,
                        c.user, key);
}

decision decide_checkpoint_answer(const click& c,
                                  const situation& s,
                                  checklist::checkpoint_answer a,
                                  std::string_view key,
                                  const std::string& reason) {
    if (auto why = stale_or_forged(c.origin(), s)) {
        return refuse_click("stale", *why, c.origin(), c.user, key);
    }
    return answer(c, s, a, key, reason);
}

}  // namespace relbot::commands
