// What relbot reads from the Web API's answers, in one place. Slack's JSON is outside input
// like any other: every reader takes any JSON value and never throws; a field that is absent
// or of another type than Slack documents reads as absent ("" / nullopt / empty). Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relbot::bot {

// The string at `key` of `obj`; "" when `obj` is not an object or the field is not a string.
std::string text_at(const nlohmann::json& obj, std::string_view key);

// chat.postMessage / chat.update: the message's `ts`.
std::string posted_ts(const nlohmann::json& body);

// conversations.open: the DM channel's id (`channel.id`).
std::string opened_channel(const nlohmann::json& body);

// One page of conversations.history: the messages that are objects, and where the next page
// starts ("" when there is none: `has_more` false or no cursor).
struct history_page {
    std::vector<nlohmann::json> messages;
    std::string next_cursor;
};
history_page read_history(nlohmann::json body);

// Whether a message of the history carries relbot's outbox key `key` in its metadata
// (event_type "relbot_outbox", event_payload.key).
bool carries_key(const nlohmann::json& message, std::string_view key);

// users.info: the person's offset from UTC in seconds (Slack's `tz_offset`; 0 when absent or
// not a whole number of seconds within ±26 hours), and the name relbot shows.
struct user_info {
    int tz_offset_s = 0;
    std::string display_name;
};
user_info read_user(const nlohmann::json& body);

// The name Slack shows for a users.info `user` object: the profile's display_name, else the
// real_name, else the username; "" when none is set.
std::string slack_display_name(const nlohmann::json& user);

}  // namespace relbot::bot
