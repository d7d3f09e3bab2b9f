// relbot-sim's control ops that play a person's interactions: a click on a button or menu found
// by its label (block_actions), a modal submitted (view_submission), App Home opened
// (app_home_opened), triggers made stale, and the reads tests need (a user's open view, the
// messages a user sees). Each sends what Slack would send, shaped as in docs/SLACK.md
// ("Interactive payloads").
#include <algorithm>

#include "sim/cast.hpp"
#include "sim/interactive.hpp"
#include "sim/server_impl.hpp"

namespace relbot::sim {
namespace {

json user_object(const std::string& id) {
    const person* known = person_by_id(id);
    std::string name = known ? std::string(known->name) : "user-" + id;
    return {{"id", id}, {"username", name}, {"name", name}, {"team_id", "T0SIM"}};
}

std::string channel_name(const std::string& id) {
    if (id == demo_channel_id) {
        return std::string(demo_channel_name);
    }
    if (id.starts_with("D")) {
        return "directmessage";
    }
    std::string lower = id;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower;
}

json with_action_ts(json action, const std::string& ts) {
    action["action_ts"] = ts;
    return action;
}

}  // namespace

void server::impl::op_click(const json& op) {
    auto id = op.value("envelope_id", "");
    if (!id.empty() && interactions.contains(id)) {
        return redeliver(op, id);
    }
    if (id.empty() && op.contains("retry_attempt") && !last_click.empty()) {
        return redeliver(op, last_click);
    }
    if (op.contains("action_id")) {
        return click_by_id(op);
    }
    auto user = op.value("user_id", "");
    click_target target{op.value("label", ""), op.value("match", ""), op.value("option", "")};
    if (user.empty() || target.label.empty()) {
        return op_error(op, "click needs \"user_id\" and \"label\"");
    }
    std::vector<std::string> seen;
    for (const auto& p : places_of(user, op.value("in", ""), op.value("channel_id", ""))) {
        if (auto action = find_control(p.message->value("blocks", json::array()), target, seen)) {
            return send_click(op, p, *action);
        }
    }
    // Each label once, in the order first seen (a status message repeats Done on every item).
    std::vector<std::string> distinct;
    for (const auto& s : seen) {
        if (std::find(distinct.begin(), distinct.end(), s) == distinct.end()) {
            distinct.push_back(s);
        }
    }
    std::string labels;
    for (const auto& s : distinct) {
        labels += (labels.empty() ? "" : ", ") + s;
    }
    emit({{"event", "error"},
          {"op", "click"},
          {"envelope_id", id},
          {"error", "no control \"" + target.label + "\"" +
                        (target.match.empty() ? "" : " for \"" + target.match + "\"") +
                        (target.option.empty() ? "" : " with option \"" + target.option + "\"") +
                        " where " + user +
                        " can see it; labels seen: " + (labels.empty() ? "none" : labels)},
          {"labels", seen}});
}

// A click on one control known by id, on the message with `ts` (or the view `in` names): what
// the web page sends for a control it drew.
void server::impl::click_by_id(const json& op) {
    auto user = op.value("user_id", "");
    auto ts = op.value("ts", "");
    auto action_id = op.value("action_id", "");
    for (const auto& p : places_of(user, op.value("in", ""), op.value("channel_id", ""))) {
        if (p.ts != ts) {
            continue;
        }
        auto blocks = p.message->value("blocks", json::array());
        if (auto action = control_by_id(blocks, op.value("block_id", ""), action_id,
                                        op.value("option_value", ""))) {
            return send_click(op, p, *action);
        }
    }
    op_error(op, "no control " + action_id + " on that message for " + user +
                     " (it may have changed since it was drawn)");
}

// {"op":"close_view","user_id":"U1"}: the person closes their open modal (Cancel or ✕).
void server::impl::op_close_view(const json& op) {
    auto user = op.value("user_id", "");
    auto open = modal_of.find(user);
    if (open == modal_of.end()) {
        return op_error(op, "close_view: " + user + " has no open modal");
    }
    auto id = open->second;
    views.erase(id);
    modal_of.erase(open);
    emit({{"event", "view_closed"}, {"user_id", user}, {"view_id", id}, {"by", "user"}});
}

// Where `user` may click, newest first: channel messages (all channels, or `channel`), their
// DM with relbot, their ephemeral messages; or their Home tab or open modal when `in` says so.
std::vector<detail::place> server::impl::places_of(const std::string& user,
                                                   const std::string& in,
                                                   const std::string& channel) {
    std::vector<detail::place> places;
    auto add_messages = [&](const std::string& surface, const std::string& where,
                            const std::map<std::string, json>& list) {
        for (const auto& [ts, m] : list) {
            places.push_back({ts, surface, where, &m});
        }
    };
    if (in.empty() || in == "channel") {
        for (const auto& [id, list] : messages) {
            if (channel.empty() ? !id.starts_with("D") : id == channel) {
                add_messages("channel", id, list);
            }
        }
    }
    if (auto dm = messages.find(dm_channel_of(user));
        (in.empty() || in == "dm") && dm != messages.end()) {
        add_messages("dm", dm->first, dm->second);
    }
    if (in.empty() || in == "ephemeral") {
        for (const auto& [ts, m] : ephemerals[user]) {
            places.push_back({ts, "ephemeral", m.value("channel", ""), &m});
        }
    }
    for (const auto& [surface, of] : {std::pair{"home", &home_of}, std::pair{"modal", &modal_of}}) {
        if (auto v = of->find(user); in == surface && v != of->end() && views.contains(v->second)) {
            places.push_back({"", surface, "", &views[v->second].view});
        }
    }
    std::stable_sort(places.begin(), places.end(),
                     [](const detail::place& a, const detail::place& b) { return a.ts > b.ts; });
    return places;
}

// Sends the block_actions envelope for `action` clicked at `p`.
void server::impl::send_click(const json& op, const detail::place& p, const json& action) {
    auto user = op.value("user_id", "");
    auto payload = click_payload(op, action);
    bool view = p.surface == "home" || p.surface == "modal";
    if (view) {
        payload["container"] = {{"type", "view"}, {"view_id", p.message->value("id", "")}};
        payload["view"] = *p.message;
    } else {
        payload["container"] = {{"type", "message"},
                                {"message_ts", p.ts},
                                {"channel_id", p.channel},
                                {"is_ephemeral", p.surface == "ephemeral"}};
        payload["channel"] = {{"id", p.channel}, {"name", channel_name(p.channel)}};
        payload["message"] = *p.message;
        auto path = "/hooks/actions/T0SIM/" + session + "/" + std::to_string(next_hook++);
        hooks[path] = {user, p.channel, p.ts, p.surface == "ephemeral", 0};
        payload["response_url"] = base_url() + path;
    }
    auto envelope = interactive_envelope(op, std::move(payload), false);
    auto id = envelope["envelope_id"].get<std::string>();
    interactions[id] = {"click", user, p.channel, "", envelope};
    last_click = id;
    emit({{"event", "click_sent"},
          {"envelope_id", id},
          {"user_id", user},
          {"label", op.value("label", "")},
          {"surface", p.surface},
          {"action_id", action["action_id"]},
          {"trigger_id", payload["trigger_id"]}});
    deliver(op, detail::dump(envelope));
}

// What every interactive payload carries: its type, the app, who, and a fresh trigger.
json server::impl::interactive_payload(const std::string& type, const std::string& user) {
    return {{"type", type},
            {"token", "sim-verification-token"},
            {"api_app_id", "A0SIM"},
            {"team", {{"id", "T0SIM"}, {"domain", "sandbox"}}},
            {"user", user_object(user)},
            {"is_enterprise_install", false},
            {"trigger_id", issue_trigger(user)}};
}

// The Socket Mode envelope of an interactive payload, with the op's envelope_id or a new one.
json server::impl::interactive_envelope(const json& op, json payload, bool accepts_response) {
    auto id = op.value("envelope_id", "");
    return {{"envelope_id", id.empty() ? next_envelope_id() : id},
            {"type", "interactive"},
            {"accepts_response_payload", accepts_response},
            {"payload", std::move(payload)}};
}

// The payload of a block_actions click: the common part, no state, the action.
json server::impl::click_payload(const json& op, const json& action) {
    auto payload = interactive_payload("block_actions", op.value("user_id", ""));
    payload["state"] = {{"values", json::object()}};
    payload["actions"] = json::array({with_action_ts(action, next_ts())});
    return payload;
}

// The same envelope again, as Slack retries one it got no ack for in time.
void server::impl::redeliver(const json& op, const std::string& envelope_id) {
    auto envelope = interactions[envelope_id].envelope;
    envelope["retry_attempt"] = op.value("retry_attempt", 1);
    envelope["retry_reason"] = op.value("retry_reason", "timeout");
    emit({{"event", "click_sent"},
          {"envelope_id", envelope_id},
          {"user_id", interactions[envelope_id].user},
          {"redelivery", true}});
    deliver(op, detail::dump(envelope));
}

void server::impl::op_submit(const json& op) {
    auto user = op.value("user_id", "");
    auto open = modal_of.find(user);
    if (open == modal_of.end() || !views.contains(open->second)) {
        return op_error(op, "submit: " + user + " has no open modal");
    }
    auto view = views[open->second].view;
    std::string error;
    auto values = submission_values(view, op.value("values", json::object()), error);
    if (!error.empty()) {
        return op_error(op, "submit: " + error);
    }
    view["state"] = {{"values", values}};
    auto payload = interactive_payload("view_submission", user);
    payload["view"] = view;
    payload["response_urls"] = json::array();
    auto envelope = interactive_envelope(op, std::move(payload), true);
    auto id = envelope["envelope_id"].get<std::string>();
    interactions[id] = {"submit", user, "", open->second, envelope};
    emit({{"event", "submit_sent"},
          {"envelope_id", id},
          {"user_id", user},
          {"view_id", open->second},
          {"callback_id", view.value("callback_id", "")}});
    deliver(op, detail::dump(envelope));
}

void server::impl::op_home_opened(const json& op) {
    auto user = op.value("user_id", "");
    if (user.empty()) {
        return op_error(op, "home_opened needs \"user_id\"");
    }
    auto ts = next_ts();
    json event = {{"type", "app_home_opened"},
                  {"user", user},
                  {"channel", dm_channel_of(user)},
                  {"tab", "home"},
                  {"event_ts", ts}};
    if (auto home = home_of.find(user); home != home_of.end() && views.contains(home->second)) {
        event["view"] = views[home->second].view;
    }
    auto id = op.value("envelope_id", "");
    id = id.empty() ? next_envelope_id() : id;
    json envelope = {{"envelope_id", id},
                     {"type", "events_api"},
                     {"accepts_response_payload", false},
                     {"retry_attempt", 0},
                     {"retry_reason", ""},
                     {"payload",
                      {{"token", "sim-verification-token"},
                       {"team_id", "T0SIM"},
                       {"api_app_id", "A0SIM"},
                       {"event", event},
                       {"type", "event_callback"},
                       {"event_id", "Ev" + session + std::to_string(next_envelope++)},
                       {"event_time", std::stoll(ts.substr(0, ts.find('.')))}}}};
    emit({{"event", "home_opened"}, {"envelope_id", id}, {"user_id", user}});
    deliver(op, detail::dump(envelope));
}

// Every trigger handed out so far counts as older than Slack's 3 s, without waiting for it;
// with "from_now": true, every trigger handed out later too (a bot that is always too slow).
void server::impl::op_expire_triggers(const json& op) {
    for (auto& [id, t] : triggers) {
        t.issued = std::chrono::steady_clock::time_point{};
    }
    triggers_born_expired = op.value("from_now", false);
    emit({{"event", "triggers_expired"}, {"count", triggers.size()}});
}

// {"op":"view_of","user_id":"U1","kind":"modal"|"home"} → {"event":"view", "view": … or null}
void server::impl::op_view_of(const json& op) {
    auto user = op.value("user_id", "");
    auto kind = op.value("kind", "modal");
    const auto& of = kind == "home" ? home_of : modal_of;
    json view;
    if (auto v = of.find(user); v != of.end() && views.contains(v->second)) {
        view = views[v->second].view;
    }
    emit({{"event", "view"}, {"user_id", user}, {"kind", kind}, {"view", view}});
}

// {"op":"messages","user_id":"U1","in":"dm"|"ephemeral"|"channel","channel_id":"C1"} →
// {"event":"messages","messages":[…]}, oldest first, as the sandbox holds them now.
void server::impl::op_messages(const json& op) {
    auto user = op.value("user_id", "");
    auto in = op.value("in", "dm");
    json list = json::array();
    const std::map<std::string, json>* source = nullptr;
    if (in == "ephemeral") {
        source = &ephemerals[user];
    } else {
        auto channel = in == "dm" ? dm_channel_of(user) : op.value("channel_id", "");
        auto ch = messages.find(channel);
        source = ch == messages.end() ? nullptr : &ch->second;
    }
    for (const auto& [ts, m] : source ? *source : std::map<std::string, json>()) {
        list.push_back(m);
    }
    emit({{"event", "messages"}, {"user_id", user}, {"in", in}, {"messages", list}});
}

}  // namespace relbot::sim
