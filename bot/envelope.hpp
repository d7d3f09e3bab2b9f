// Socket Mode frames as typed values. Pure: text in, variant out; never throws.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace relbot::bot {

struct hello_frame {
    int num_connections = 0;
    std::string host;  // debug_info.host
    long approximate_connection_time = 0;
};

struct disconnect_frame {
    std::string reason;  // warning, refresh_requested, link_disabled, too_many_websockets, …
};

struct slash_command_envelope {
    std::string envelope_id;
    int retry_attempt = 0;
    std::string team_id;
    std::string channel_id;
    std::string channel_name;  // without `#`; "directmessage" and the like outside channels
    std::string user_id;
    std::string command;
    std::string text;
    std::string response_url;
    std::string trigger_id;
};

struct events_api_envelope {
    std::string envelope_id;
    int retry_attempt = 0;
    std::string event_id;
    std::string event_type;  // the inner event's type
    nlohmann::json payload;
};

struct interactive_envelope {
    std::string envelope_id;
    std::string interaction_type;  // block_actions, view_submission, …
    nlohmann::json payload;
};

// An envelope of a type we do not handle: acknowledged and ignored.
struct other_envelope {
    std::string envelope_id;
    std::string type;
};

// Not JSON, or not the shape Slack documents. Acknowledged if it had an envelope_id.
struct malformed_frame {
    std::string reason;
    std::string envelope_id;
};

using frame = std::variant<hello_frame,
                           disconnect_frame,
                           slash_command_envelope,
                           events_api_envelope,
                           interactive_envelope,
                           other_envelope,
                           malformed_frame>;

frame parse_frame(std::string_view text);

// The envelope ID of a frame that must be acknowledged; nullopt for hello and disconnect.
std::optional<std::string> envelope_id_of(const frame& f);

// The key that recognises a redelivery: "event:<event_id>" for events, else
// "envelope:<envelope_id>". nullopt for frames that are not envelopes.
std::optional<std::string> dedupe_key_of(const frame& f);

// The envelope's `type` as Slack named it ("slash_commands", …), for logs.
std::string envelope_type_of(const frame& f);

// The envelope's retry_attempt (0 for a first delivery or where Slack does not say).
int retry_attempt_of(const frame& f);

// The start of an acknowledgement frame: `{"envelope_id":…,"payload":` when a payload follows
// (the frame then ends with the payload and "}"), else the whole frame.
std::string ack_head(std::string_view envelope_id, bool with_payload);

// The acknowledgement frame: {"envelope_id": …} plus `payload` when given.
std::string make_ack(std::string_view envelope_id, const std::string* payload_json);

}  // namespace relbot::bot
