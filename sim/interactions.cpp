// relbot-sim's side of interactivity that relbot calls: views.open / views.update /
// views.publish, chat.postEphemeral, the triggers they need, posts to the response_urls the
// sandbox gave out, and what acks of interactive envelopes say (a slash command's reply is an
// ephemeral message; a view_submission's ack closes the modal, shows errors or replaces it).
#include "sim/server_impl.hpp"
#include "slack/block_kit.hpp"

namespace relbot::sim {
namespace {

constexpr auto trigger_life = std::chrono::seconds(3);
constexpr int max_hook_posts = 5;

json error_answer(const std::string& error, const std::string& why = {}) {
    json out = {{"ok", false}, {"error", error}};
    if (!why.empty()) {
        // As Slack explains a refused view or message: a warning and the messages.
        out["warning"] = "invalid_" + std::string(error == "invalid_arguments" ? "view" : "blocks");
        out["response_metadata"] = {{"messages", json::array({"[ERROR] " + why})}};
    }
    return out;
}

// A view argument: an object, or JSON text (a form-encoded call).
json view_arg(const json& args) {
    auto v = args.find("view");
    if (v == args.end()) {
        return json();
    }
    if (v->is_string()) {
        auto parsed = json::parse(v->get<std::string>(), nullptr, false);
        return parsed.is_discarded() ? json() : parsed;
    }
    return *v;
}

}  // namespace

std::string server::impl::issue_trigger(const std::string& user) {
    auto id = std::to_string(next_trigger++) + "." + session + ".sim-trigger";
    triggers[id] = {user,
                    triggers_born_expired ? std::chrono::steady_clock::time_point{}
                                          : std::chrono::steady_clock::now(),
                    false};
    return id;
}

std::string server::impl::trigger_error(const std::string& id) const {
    auto it = triggers.find(id);
    if (it == triggers.end()) {
        return "invalid_trigger_id";
    }
    if (it->second.used) {
        return "exchanged_trigger_id";
    }
    if (std::chrono::steady_clock::now() - it->second.issued > trigger_life) {
        return "expired_trigger_id";
    }
    return "";
}

json server::impl::views_open(const call_context& call) {
    auto trigger_id = call.str("trigger_id");
    if (auto err = trigger_error(trigger_id); !err.empty()) {
        return error_answer(err);
    }
    auto view = view_arg(call.args);
    if (auto why = slack::view_violation(view); !why.empty() || view.value("type", "") != "modal") {
        return error_answer("invalid_arguments", why.empty() ? "the view is not a modal" : why);
    }
    auto& t = triggers[trigger_id];
    t.used = true;
    auto id = "V0SIM" + std::to_string(next_view++);
    view["id"] = id;
    view["team_id"] = "T0SIM";
    view["app_id"] = "A0SIM";
    view["bot_id"] = "B0BOT";
    view["root_view_id"] = id;
    view["hash"] = std::to_string(next_hash++) + ".sim";
    view["state"] = {{"values", json::object()}};
    views[id] = {t.user, view};
    modal_of[t.user] = id;
    emit({{"event", "view_opened"}, {"user_id", t.user}, {"view_id", id}, {"view", view}});
    return {{"ok", true}, {"view", view}};
}

json server::impl::views_update(const call_context& call) {
    auto it = views.find(call.str("view_id"));
    if (it == views.end()) {
        return error_answer("not_found");
    }
    auto view = view_arg(call.args);
    if (auto why = slack::view_violation(view); !why.empty()) {
        return error_answer("invalid_arguments", why);
    }
    if (auto hash = call.str("hash"); !hash.empty() && hash != it->second.view.value("hash", "")) {
        return error_answer("hash_conflict");
    }
    for (const char* keep : {"id", "team_id", "app_id", "bot_id", "root_view_id", "state"}) {
        view[keep] = it->second.view[keep];
    }
    view["hash"] = std::to_string(next_hash++) + ".sim";
    it->second.view = view;
    emit({{"event", "view_updated"},
          {"user_id", it->second.user},
          {"view_id", it->first},
          {"view", view}});
    return {{"ok", true}, {"view", view}};
}

json server::impl::views_publish(const call_context& call) {
    auto user = call.str("user_id");
    if (user.empty()) {
        return error_answer("invalid_arguments", "user_id is required");
    }
    auto view = view_arg(call.args);
    if (auto why = slack::view_violation(view); !why.empty() || view.value("type", "") != "home") {
        return error_answer("invalid_arguments", why.empty() ? "the view is not a home view" : why);
    }
    auto& id = home_of[user];
    if (id.empty()) {
        id = "V0SIM" + std::to_string(next_view++);
    }
    view["id"] = id;
    view["team_id"] = "T0SIM";
    view["app_id"] = "A0SIM";
    view["bot_id"] = "B0BOT";
    view["hash"] = std::to_string(next_hash++) + ".sim";
    view["state"] = {{"values", json::object()}};
    views[id] = {user, view};
    emit({{"event", "home_published"}, {"user_id", user}, {"view_id", id}, {"view", view}});
    return {{"ok", true}, {"view", view}};
}

json server::impl::chat_post_ephemeral(const call_context& call) {
    auto channel = call.str("channel");
    auto user = call.str("user");
    if (channel.empty()) {
        return error_answer("channel_not_found");
    }
    if (user.empty()) {
        return error_answer("user_not_found");
    }
    auto blocks = call.args.find("blocks");
    bool has_blocks = blocks != call.args.end() && blocks->is_array() && !blocks->empty();
    if (call.str("text").empty() && !has_blocks) {
        return error_answer("no_text");
    }
    json body = {{"text", call.str("text")}};
    if (has_blocks) {
        std::string why;
        if (auto err = detail::blocks_error(*blocks, why); !err.empty()) {
            return error_answer(err, why);
        }
        body["blocks"] = *blocks;
    }
    auto ts = store_ephemeral(user, channel, body);
    return {{"ok", true}, {"message_ts", ts}};
}

std::string server::impl::store_ephemeral(const std::string& user,
                                          const std::string& channel,
                                          json body) {
    auto ts = next_ts();
    json message = {{"type", "message"},    {"ts", ts},
                    {"channel", channel},   {"user", user},
                    {"is_ephemeral", true}, {"text", body.value("text", "")}};
    if (body.contains("blocks")) {
        message["blocks"] = body["blocks"];
    }
    ephemerals[user][ts] = message;
    emit({{"event", "ephemeral_posted"},
          {"user_id", user},
          {"channel", channel},
          {"message", message}});
    return ts;
}

// --- response_url posts ---------------------------------------------------------------------

std::pair<http::status, std::string> server::impl::apply_hook(const std::string& path,
                                                              const json& body) {
    auto it = hooks.find(path);
    if (it == hooks.end() || !body.is_object()) {
        return {http::status::ok, "ok"};  // not one of ours to follow: accepted, as before
    }
    auto& h = it->second;
    if (++h.posts > max_hook_posts) {
        return {http::status::not_found, "used_url"};
    }
    auto blocks = body.find("blocks");
    if (blocks != body.end()) {
        std::string why;
        if (auto err = detail::blocks_error(*blocks, why); !err.empty()) {
            return {http::status::bad_request, "invalid_blocks"};
        }
    }
    auto* original = h.ts.empty()  ? nullptr
                     : h.ephemeral ? &ephemerals[h.user]
                                   : &messages[h.channel];
    // Slack's examples write "true" as a string; JSON booleans are accepted too.
    auto flag = [&](const char* key) {
        auto v = body.find(key);
        return v != body.end() && (*v == true || *v == "true");
    };
    bool replace = flag("replace_original");
    bool remove = flag("delete_original");
    if (original != nullptr && (replace || remove) && !original->contains(h.ts)) {
        return {http::status::not_found, "message_not_found"};
    }
    if (original != nullptr && remove) {
        original->erase(h.ts);
        emit({{"event", "message_deleted"},
              {"channel", h.channel},
              {"ts", h.ts},
              {"deleted", true}});
        if (!body.contains("text") && blocks == body.end()) {
            return {http::status::ok, "ok"};
        }
    } else if (original != nullptr && replace) {
        auto& message = (*original)[h.ts];
        message["text"] = body.value("text", "");
        message.erase("blocks");
        if (blocks != body.end()) {
            message["blocks"] = *blocks;
        }
        emit({{"event", "message_updated"},
              {"channel", h.channel},
              {"ts", h.ts},
              {"ephemeral", h.ephemeral},
              {"user_id", h.user},
              {"message", message}});
        return {http::status::ok, "ok"};
    }
    if (body.value("response_type", "") != "in_channel") {
        store_ephemeral(h.user, h.channel, body);
    }
    return {http::status::ok, "ok"};
}

// --- acks -----------------------------------------------------------------------------------

void server::impl::after_ack(const std::string& envelope_id, const json& payload) {
    auto it = interactions.find(envelope_id);
    if (it == interactions.end()) {
        return;
    }
    auto sent = it->second;
    if (sent.kind == "submit") {
        return after_submission_ack(sent, payload);
    }
    if (sent.kind == "slash" && payload.is_object() &&
        (payload.contains("text") || payload.contains("blocks")) &&
        payload.value("response_type", "") != "in_channel") {
        // Slack shows a slash command's reply to the one who typed it only.
        store_ephemeral(sent.user, sent.channel, payload);
    }
    if (sent.kind == "slash") {
        interactions.erase(it);
    }
}

void server::impl::after_submission_ack(const detail::interaction& sent, const json& payload) {
    auto action = payload.is_object() ? payload.value("response_action", "") : "";
    auto open = modal_of.find(sent.user);
    bool still_open = open != modal_of.end() && open->second == sent.view_id;
    if (action == "errors") {
        if (still_open) {
            views[sent.view_id].errors = payload.value("errors", json::object());
        }
        emit({{"event", "view_errors"},
              {"user_id", sent.user},
              {"view_id", sent.view_id},
              {"errors", payload.value("errors", json::object())}});
        return;
    }
    if ((action == "update" || action == "push") && still_open) {
        auto view = payload.value("view", json());
        if (auto why = slack::view_violation(view); !why.empty()) {
            emit({{"event", "error"}, {"op", "submit"}, {"error", "response_action view: " + why}});
            return;
        }
        for (const char* keep : {"id", "team_id", "app_id", "bot_id", "root_view_id", "state"}) {
            view[keep] = views[sent.view_id].view[keep];
        }
        views[sent.view_id].view = view;
        views[sent.view_id].errors = json::object();
        emit({{"event", "view_updated"},
              {"user_id", sent.user},
              {"view_id", sent.view_id},
              {"view", view}});
        return;
    }
    if (still_open) {
        modal_of.erase(open);
        views.erase(sent.view_id);
    }
    emit({{"event", "view_closed"}, {"user_id", sent.user}, {"view_id", sent.view_id}});
}

}  // namespace relbot::sim
