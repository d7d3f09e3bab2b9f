#include "bot/slack_answers.hpp"

#include <utility>

namespace relbot::bot {

using nlohmann::json;

namespace {

// The member `key` of `obj` when `obj` is an object and has it; nullptr otherwise.
const json* member(const json& obj, std::string_view key) {
    if (!obj.is_object()) {
        return nullptr;
    }
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

}  // namespace

std::string text_at(const json& obj, std::string_view key) {
    const auto* v = member(obj, key);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::string posted_ts(const json& body) {
    return text_at(body, "ts");
}

std::string opened_channel(const json& body) {
    const auto* channel = member(body, "channel");
    return channel == nullptr ? std::string() : text_at(*channel, "id");
}

history_page read_history(json body) {
    history_page page;
    if (auto* messages = member(body, "messages"); messages != nullptr && messages->is_array()) {
        for (auto& m : body["messages"]) {
            if (m.is_object()) {
                page.messages.push_back(std::move(m));
            }
        }
    }
    const auto* more = member(body, "has_more");
    if (more != nullptr && more->is_boolean() && more->get<bool>()) {
        if (const auto* meta = member(body, "response_metadata")) {
            page.next_cursor = text_at(*meta, "next_cursor");
        }
    }
    return page;
}

bool carries_key(const json& message, std::string_view key) {
    const auto* meta = member(message, "metadata");
    if (meta == nullptr || text_at(*meta, "event_type") != "relbot_outbox") {
        return false;
    }
    const auto* payload = member(*meta, "event_payload");
    return payload != nullptr && text_at(*payload, "key") == key;
}

user_info read_user(const json& body) {
    user_info info;
    const auto* user = member(body, "user");
    if (user == nullptr) {
        return info;
    }
    constexpr long long max_offset_s = 26 * 3600;  // UTC-12 to UTC+14, with room
    if (const auto* tz = member(*user, "tz_offset"); tz != nullptr && tz->is_number_integer()) {
        auto s = tz->get<long long>();
        if (s >= -max_offset_s && s <= max_offset_s) {
            info.tz_offset_s = static_cast<int>(s);
        }
    }
    info.display_name = slack_display_name(*user);
    return info;
}

std::string slack_display_name(const json& user) {
    if (const auto* p = member(user, "profile")) {
        if (auto name = text_at(*p, "display_name"); !name.empty()) {
            return name;
        }
    }
    if (auto name = text_at(user, "real_name"); !name.empty()) {
        return name;
    }
    return text_at(user, "name");
}

}  // namespace relbot::bot
