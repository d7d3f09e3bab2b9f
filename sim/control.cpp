// relbot-sim's control ops, given by its owner (a test, the demo, the benchmark): one table
// from op name to handler, one small member function per op. sim/main.cpp's --help lists them.
#include <array>
#include <iterator>

#include "sim/cast.hpp"
#include "sim/server_impl.hpp"

namespace relbot::sim {
namespace {

std::string default_user_name(const json& op) {
    const person* known = person_by_id(op.value("user_id", ""));
    return known ? std::string(known->name) : "demo";
}

}  // namespace

json slash_command_envelope(const std::string& envelope_id,
                            const json& op,
                            const std::string& base_url) {
    json payload = {{"token", "sim-verification-token"},
                    {"team_id", op.value("team_id", "T0SIM")},
                    {"team_domain", "sandbox"},
                    {"channel_id", op.value("channel_id", "C0DEMO")},
                    {"channel_name", op.value("channel_name", "release-demo")},
                    {"user_id", op.value("user_id", "U0DEMO")},
                    {"user_name", op.value("user_name", default_user_name(op))},
                    {"command", op.value("command", "/release")},
                    {"text", op.value("text", "")},
                    {"api_app_id", "A0SIM"},
                    {"is_enterprise_install", "false"},
                    {"response_url", base_url + "/hooks/commands/T0SIM/" + envelope_id},
                    {"trigger_id", op.value("trigger_id", "sim-trigger-" + envelope_id)}};
    json envelope = {{"envelope_id", envelope_id},
                     {"type", "slash_commands"},
                     {"accepts_response_payload", true},
                     {"payload", payload}};
    if (op.contains("retry_attempt")) {
        envelope["retry_attempt"] = op["retry_attempt"];
        envelope["retry_reason"] = op.value("retry_reason", "timeout");
    }
    return envelope;
}

std::span<const server::impl::op_entry> server::impl::op_table() {
    static constexpr std::array<op_entry, 20> table = {{
        {"slash_command", &impl::op_slash_command},
        {"send", &impl::op_send},
        {"disconnect", &impl::op_disconnect},
        {"drop", &impl::op_drop},
        {"silence", &impl::op_silence},
        {"set_user", &impl::op_set_user},
        {"delete_message", &impl::op_delete_message},
        {"spread", &impl::op_spread},
        {"hello_delay", &impl::op_hello_delay},
        {"fail", &impl::op_fail},
        {"calls", &impl::op_calls},
        {"connections", &impl::op_connections},
        {"click", &impl::op_click},
        {"submit", &impl::op_submit},
        {"home_opened", &impl::op_home_opened},
        {"expire_triggers", &impl::op_expire_triggers},
        {"view_of", &impl::op_view_of},
        {"messages", &impl::op_messages},
        {"close_view", &impl::op_close_view},
        {"trim", &impl::op_trim},
    }};
    return table;
}

void server::impl::control(const json& op) {
    auto name = op.value("op", "");
    for (const auto& entry : op_table()) {
        if (entry.name == name) {
            return (this->*entry.run)(op);
        }
    }
    std::string message = "unknown op; ops are ";
    for (const auto& entry : op_table()) {
        if (&entry != op_table().data()) {
            message += ", ";
        }
        message += entry.name;
    }
    op_error(op, std::move(message));
}

void server::impl::op_error(const json& op, std::string message) {
    json event = {{"event", "error"}, {"op", op.value("op", "")}, {"error", std::move(message)}};
    if (auto id = op.find("envelope_id"); id != op.end() && id->is_string()) {
        event["envelope_id"] = *id;  // whose op failed, when its owner named the envelope
    }
    emit(std::move(event));
}

void server::impl::op_slash_command(const json& op) {
    if (!op.contains("text") || !op["text"].is_string()) {
        return op_error(op, "slash_command needs \"text\"");
    }
    auto id = op.contains("envelope_id") ? op.value("envelope_id", "") : next_envelope_id();
    auto user = op.value("user_id", "U0DEMO");
    auto channel = op.value("channel_id", "C0DEMO");
    json with_trigger = op;
    with_trigger["trigger_id"] = issue_trigger(user);
    auto envelope = slash_command_envelope(id, with_trigger, base_url());
    // Its reply (in the ack or through the response_url) is an ephemeral message for the user.
    interactions[id] = {"slash", user, channel, "", json()};
    hooks["/hooks/commands/T0SIM/" + id] = {user, channel, "", false, 0};
    deliver(op, detail::dump(envelope));
}

void server::impl::op_send(const json& op) {
    if (!op.contains("frame")) {
        return op_error(op, "send needs \"frame\" (an object or a string)");
    }
    deliver(op,
            op["frame"].is_string() ? op["frame"].get<std::string>() : detail::dump(op["frame"]));
}

void server::impl::op_disconnect(const json& op) {
    auto conn = pick_connection(op);
    if (!conn) {
        return op_error(op, "no open connection");
    }
    conn->push(detail::dump({{"type", "disconnect"},
                             {"reason", op.value("reason", "refresh_requested")},
                             {"debug_info", {{"host", "relbot-sim"}}}}));
    emit({{"event", "disconnect_sent"},
          {"connection", conn->id},
          {"reason", op.value("reason", "refresh_requested")}});
}

// Closes TCP without a WebSocket close frame, as a network failure would.
void server::impl::op_drop(const json&) {
    for (auto& conn : connections) {
        beast::get_lowest_layer(conn->ws).close();
    }
}

void server::impl::op_silence(const json& op) {
    auto conn = pick_connection(op);
    if (!conn) {
        return op_error(op, "no open connection");
    }
    conn->silenced = true;
    // Abandon the pending read so that pings are no longer answered.
    boost::system::error_code ec;
    beast::get_lowest_layer(conn->ws).socket().cancel(ec);
    emit({{"event", "silenced"}, {"connection", conn->id}});
}

void server::impl::op_set_user(const json& op) {
    auto user = op.value("user", "");
    time_zones[user] = op.value("tz_offset", 0);
    emit({{"event", "user_set"}, {"user", user}, {"tz_offset", time_zones[user]}});
}

void server::impl::op_delete_message(const json& op) {
    auto channel = op.value("channel", "");
    auto ts = op.value("ts", "");
    auto ch = messages.find(channel);
    bool deleted = ch != messages.end() && ch->second.erase(ts) == 1;
    emit({{"event", "message_deleted"}, {"channel", channel}, {"ts", ts}, {"deleted", deleted}});
}

void server::impl::op_spread(const json& op) {
    spread = op.value("on", true);
    emit({{"event", "spread"}, {"on", spread}});
}

void server::impl::op_hello_delay(const json& op) {
    hello_delay_ms = op.value("ms", 0);
    emit({{"event", "hello_delay"}, {"ms", hello_delay_ms}});
}

void server::impl::op_fail(const json& op) {
    auto method = op.value("method", "");
    if (method.empty()) {
        return op_error(op, "fail needs \"method\"");
    }
    detail::injected_failure f;
    f.status = op.value("status", 200u);
    f.delay_ms = op.value("delay_ms", 0);
    f.error = op.value("error", f.status == 200 && f.delay_ms > 0 ? "" : "internal_error");
    f.retry_after = op.value("retry_after", 1);
    f.channel = op.value("channel", "");
    for (int i = 0, n = op.value("times", 1); i < n; ++i) {
        failures[method].push_back(f);
    }
    emit({{"event", "fail_armed"}, {"method", method}});
}

void server::impl::op_calls(const json& op) {
    auto method = op.value("method", "");
    json out = json::array();
    for (const auto& c : calls) {
        if (method.empty() || c["method"] == method) {
            out.push_back(c);
        }
    }
    emit({{"event", "calls"}, {"calls", out}});
}

void server::impl::op_connections(const json&) {
    json ids = json::array();
    for (const auto& c : connections) {
        ids.push_back(c->id);
    }
    emit({{"event", "connections"}, {"open", ids}});
}

// Forgets what a long run piles up (the soak's hours of traffic) and what no one can use any
// more: every recorded Web API call (the api_call events stay the record), and whatever is
// older than "keep_s" seconds (default 600): messages that are not pinned, ephemeral messages,
// clicks and submissions (no longer redeliverable), response_urls, triggers, the send times of
// envelopes never acknowledged, and modals no one has open. Counts what it dropped.
void server::impl::op_trim(const json& op) {
    auto keep = std::chrono::seconds(op.value("keep_s", 600));
    auto old = std::chrono::steady_clock::now() - keep;
    // Message timestamps are wall-clock microseconds ("1764590000.000123", see next_ts); with
    // ten digits of seconds they order as text.
    auto wall = std::chrono::duration_cast<std::chrono::microseconds>(
                    (std::chrono::system_clock::now() - keep).time_since_epoch())
                    .count();
    auto micros = std::to_string(wall % 1000000);
    auto cutoff =
        std::to_string(wall / 1000000) + "." + std::string(6 - micros.size(), '0') + micros;
    auto calls_dropped = calls.size();
    calls = json::array();
    std::size_t dropped_messages = 0;
    for (auto& [channel, list] : messages) {
        for (auto it = list.begin(); it != list.end() && it->first < cutoff;) {
            if (pins.contains({channel, it->first})) {
                ++it;
                continue;
            }
            it = list.erase(it);
            ++dropped_messages;
        }
    }
    std::size_t dropped_ephemerals = 0;
    for (auto& [user, list] : ephemerals) {
        auto end = list.lower_bound(cutoff);
        dropped_ephemerals += static_cast<std::size_t>(std::distance(list.begin(), end));
        list.erase(list.begin(), end);
    }
    auto dropped_interactions =
        std::erase_if(interactions, [&](const auto& kv) { return kv.second.sent < old; });
    auto dropped_hooks =
        std::erase_if(hooks, [&](const auto& kv) { return kv.second.given < old; });
    std::erase_if(triggers, [&](const auto& kv) { return kv.second.issued < old; });
    std::erase_if(sent_at, [&](const auto& kv) { return kv.second < old; });
    std::erase_if(views, [&](const auto& kv) {
        auto held = [&](const std::map<std::string, std::string>& of) {
            auto at = of.find(kv.second.user);
            return at != of.end() && at->second == kv.first;
        };
        return !held(modal_of) && !held(home_of);
    });
    emit({{"event", "trimmed"},
          {"calls", calls_dropped},
          {"messages", dropped_messages},
          {"ephemerals", dropped_ephemerals},
          {"interactions", dropped_interactions},
          {"hooks", dropped_hooks}});
}

// A fresh id for anything Slack makes unique (envelopes, triggers): this session's own random
// prefix and a counter, so a second sandbox session on the same database never reuses an id
// that relbot remembers as applied.
std::string server::impl::next_envelope_id() {
    return "sim-env-" + session + "-" + std::to_string(next_envelope++);
}

}  // namespace relbot::sim
