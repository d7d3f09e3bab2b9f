// relbot-sim's Web API methods: one table from method name to answer, one small member
// function per method. Authentication, injected failures and the api_call event are the HTTP
// dispatch's (server.cpp); these only answer.
#include <algorithm>
#include <array>

#include "sim/cast.hpp"
#include "sim/server_impl.hpp"
#include "slack/block_kit.hpp"

namespace relbot::sim {
namespace {

json error_answer(const std::string& error, const std::string& why = {}) {
    json out = {{"ok", false}, {"error", error}};
    if (!why.empty()) {
        out["response_metadata"] = {{"messages", json::array({"[ERROR] " + why})}};
    }
    return out;
}

}  // namespace

namespace detail {

std::string blocks_error(const json& blocks, std::string& why) {
    why = slack::message_violation(blocks);
    if (why.empty()) {
        return "";
    }
    if (!blocks.is_array()) {
        return "invalid_blocks_format";
    }
    return slack::blocks_text_size(blocks) > slack::max_message_text ? "msg_blocks_too_long"
                                                                     : "invalid_blocks";
}

}  // namespace detail

std::string server::impl::call_context::str(const char* key) const {
    auto it = args.find(key);
    return it != args.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::span<const server::impl::method_entry> server::impl::method_table() {
    static constexpr std::array<method_entry, 17> table = {{
        {"apps.connections.open", &impl::apps_connections_open},
        {"auth.test", &impl::auth_test},
        {"chat.postMessage", &impl::chat_post_message},
        {"chat.update", &impl::chat_update},
        {"chat.getPermalink", &impl::chat_get_permalink},
        {"users.info", &impl::users_info},
        {"pins.add", &impl::pins_add},
        {"pins.remove", &impl::pins_remove},
        {"conversations.history", &impl::conversations_history},
        {"conversations.open", &impl::conversations_open},
        {"views.open", &impl::views_open},
        {"views.update", &impl::views_update},
        {"views.publish", &impl::views_publish},
        {"chat.postEphemeral", &impl::chat_post_ephemeral},
        {"files.getUploadURLExternal", &impl::files_get_upload_url_external},
        {"files.completeUploadExternal", &impl::files_complete_upload_external},
        {"files.list", &impl::files_list},
    }};
    return table;
}

json server::impl::call_method(const std::string& method, const json& args) {
    const call_context call{method, args};
    for (const auto& entry : method_table()) {
        if (entry.name == method) {
            return (this->*entry.answer)(call);
        }
    }
    return error_answer("unknown_method");
}

json server::impl::apps_connections_open(const call_context&) {
    auto ticket = "sim-ticket-" + std::to_string(next_ticket++);
    tickets.insert(ticket);
    return {{"ok", true},
            {"url", "wss://localhost:" + std::to_string(acceptor.local_endpoint().port()) +
                        "/link/?ticket=" + ticket + "&app_id=A0SIM"}};
}

json server::impl::auth_test(const call_context&) {
    return {{"ok", true},         {"url", "https://sandbox.slack.com/"},
            {"team", "Sandbox"},  {"user", "relbot"},
            {"team_id", "T0SIM"}, {"user_id", "U0BOT"},
            {"bot_id", "B0BOT"},  {"is_enterprise_install", false}};
}

json server::impl::chat_post_message(const call_context& call) {
    auto channel = call.str("channel");
    if (channel.empty()) {
        return error_answer("channel_not_found");
    }
    auto blocks = call.args.find("blocks");
    bool has_blocks = blocks != call.args.end() && blocks->is_array() && !blocks->empty();
    if (call.str("text").empty() && !has_blocks) {
        return error_answer("no_text");
    }
    if (has_blocks) {
        std::string why;
        if (auto err = detail::blocks_error(*blocks, why); !err.empty()) {
            return error_answer(err, why);
        }
    }
    if (call.str("text").size() > 40000) {
        return error_answer("msg_too_long");
    }
    if (channel.starts_with("U") || channel.starts_with("W")) {
        channel = dm_channel_of(channel);
    }
    if (!within_pace(channel)) {
        return error_answer("ratelimited");
    }
    auto ts = next_ts();
    json message = {
        {"type", "message"}, {"ts", ts}, {"bot_id", "B0BOT"}, {"text", call.str("text")}};
    if (has_blocks) {
        message["blocks"] = *blocks;
    }
    if (auto m = call.args.find("metadata"); m != call.args.end()) {
        message["metadata"] = *m;
    }
    messages[channel][ts] = message;
    return {{"ok", true}, {"channel", channel}, {"ts", ts}, {"message", message}};
}

// About one message a second per channel, with a short burst tolerated: more than five in one
// second is refused with a 429, as Slack does.
bool server::impl::within_pace(const std::string& channel) {
    auto now = std::chrono::steady_clock::now();
    auto& recent = channel_posts[channel];
    while (!recent.empty() && now - recent.front() >= std::chrono::seconds(1)) {
        recent.pop_front();
    }
    if (recent.size() >= 5) {
        paced_out = true;
        return false;
    }
    recent.push_back(now);
    return true;
}

json server::impl::chat_update(const call_context& call) {
    auto channel = call.str("channel");
    if (channel.starts_with("U") || channel.starts_with("W")) {
        channel = dm_channel_of(channel);  // as chat.postMessage stores a DM
    }
    auto ts = call.str("ts");
    if (call.str("text").size() > 4000) {
        return error_answer("msg_too_long");
    }
    auto blocks = call.args.find("blocks");
    if (blocks != call.args.end()) {
        std::string why;
        if (auto err = detail::blocks_error(*blocks, why); !err.empty()) {
            return error_answer(err, why);
        }
    }
    auto ch = messages.find(channel);
    if (ch == messages.end() || !ch->second.contains(ts)) {
        return error_answer("message_not_found");
    }
    auto& message = ch->second[ts];
    message["text"] = call.str("text");
    if (blocks != call.args.end()) {
        message["blocks"] = *blocks;
    }
    // As Slack marks a message edited (clients show "(edited)").
    message["edited"] = {{"user", "B0BOT"}, {"ts", next_ts()}};
    emit({{"event", "message_updated"},
          {"channel", channel},
          {"ts", ts},
          {"ephemeral", false},
          {"message", message}});
    return {{"ok", true}, {"channel", channel}, {"ts", ts}, {"text", call.str("text")}};
}

json server::impl::chat_get_permalink(const call_context& call) {
    auto channel = call.str("channel");
    auto ts = call.str("message_ts");
    auto ch = messages.find(channel);
    if (ch == messages.end() || !ch->second.contains(ts)) {
        return error_answer("message_not_found");
    }
    std::string digits;
    for (char c : ts) {
        if (c != '.') {
            digits.push_back(c);
        }
    }
    return {{"ok", true},
            {"channel", channel},
            {"permalink", "https://sandbox.slack.com/archives/" + channel + "/p" + digits}};
}

json server::impl::users_info(const call_context& call) {
    auto user = call.str("user");
    if (user.empty()) {
        return error_answer("user_not_found");
    }
    auto tz = time_zones.find(user);
    int offset = tz == time_zones.end() ? 0 : tz->second;
    // The cast has names; anyone else gets a made-up handle, as a guest would.
    const person* known = person_by_id(user);
    std::string name = known ? std::string(known->name) : "user-" + user;
    std::string real_name = known ? std::string(known->real_name) : name;
    return {{"ok", true},
            {"user",
             {{"id", user},
              {"name", name},
              {"real_name", real_name},
              {"profile", {{"display_name", name}, {"real_name", real_name}}},
              {"tz", offset == 0 ? "UTC" : "Etc/Sim"},
              {"tz_offset", offset},
              {"is_bot", false},
              {"deleted", false}}}};
}

json server::impl::pins_add(const call_context& call) {
    auto channel = call.str("channel");
    auto ts = call.str("timestamp");
    auto ch = messages.find(channel);
    if (ch == messages.end() || !ch->second.contains(ts)) {
        return error_answer("message_not_found");
    }
    if (!pins.insert({channel, ts}).second) {
        return error_answer("already_pinned");
    }
    return {{"ok", true}};
}

json server::impl::pins_remove(const call_context& call) {
    auto channel = call.str("channel");
    auto ts = call.str("timestamp");
    auto ch = messages.find(channel);
    if (ch == messages.end() || !ch->second.contains(ts)) {
        return error_answer("message_not_found");
    }
    if (pins.erase({channel, ts}) == 0) {
        return error_answer("no_pin");
    }
    return {{"ok", true}};
}

json server::impl::conversations_history(const call_context& call) {
    auto ch = messages.find(call.str("channel"));
    if (ch == messages.end()) {
        return {{"ok", true}, {"messages", json::array()}, {"has_more", false}};
    }
    auto oldest = call.str("oldest");
    const auto& args = call.args;
    bool all_metadata =
        call.str("include_all_metadata") == "true" ||
        (args.contains("include_all_metadata") && args["include_all_metadata"] == true);
    std::size_t limit = 100;
    if (auto l = call.str("limit"); !l.empty()) {
        limit = std::clamp<std::size_t>(std::stoul(l), 1, 999);
    }
    std::size_t offset = call.str("cursor").empty() ? 0 : std::stoul(call.str("cursor"));
    json list = json::array();
    std::size_t index = 0;
    for (auto it = ch->second.rbegin(); it != ch->second.rend(); ++it) {  // newest first
        if (!oldest.empty() && it->first <= oldest) {
            continue;
        }
        if (index++ < offset) {
            continue;
        }
        if (list.size() == limit) {
            return {{"ok", true},
                    {"messages", list},
                    {"has_more", true},
                    {"response_metadata", {{"next_cursor", std::to_string(offset + limit)}}}};
        }
        auto m = it->second;
        if (m.contains("metadata") && !all_metadata) {
            m["metadata"] = {{"event_type", m["metadata"].value("event_type", "")}};
        }
        list.push_back(m);
    }
    return {{"ok", true}, {"messages", list}, {"has_more", false}};
}

json server::impl::conversations_open(const call_context& call) {
    auto users = call.str("users");
    if (users.empty()) {
        return error_answer("users_list_not_supplied");
    }
    if (users.find(',') != std::string::npos) {
        return error_answer("not_implemented_in_sim");
    }
    return {{"ok", true}, {"channel", {{"id", dm_channel_of(users)}}}};
}

// Message timestamps are unique and increasing across sandbox sessions too, as Slack's are:
// the wall clock in microseconds, moved on by one when two messages share one.
std::string server::impl::next_ts() {
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    last_ts_us = std::max<long long>(now, last_ts_us + 1);
    auto micros = std::to_string(last_ts_us % 1000000);
    return std::to_string(last_ts_us / 1000000) + "." + std::string(6 - micros.size(), '0') +
           micros;
}

}  // namespace relbot::sim
