// Envelope parsing. Slack sends slash-command fields as strings; anything missing becomes "".
#include "bot/envelope.hpp"

namespace relbot::bot {
namespace {

using nlohmann::json;

std::string string_field(const json& obj, const char* key) {
    if (!obj.is_object()) {
        return {};
    }
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int int_field(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) {
        return 0;
    }
    if (it->is_number_integer()) {
        return it->get<int>();
    }
    if (it->is_string()) {
        try {
            return std::stoi(it->get<std::string>());
        } catch (const std::exception&) {
            return 0;  // not a number: treat as a first delivery
        }
    }
    return 0;
}

}  // namespace

frame parse_frame(std::string_view text) {
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return malformed_frame{"not a JSON object", {}};
    }
    auto type = string_field(j, "type");
    auto envelope_id = string_field(j, "envelope_id");

    if (type == "hello") {
        hello_frame h;
        h.num_connections = int_field(j, "num_connections");
        if (auto d = j.find("debug_info"); d != j.end() && d->is_object()) {
            h.host = string_field(*d, "host");
            h.approximate_connection_time = int_field(*d, "approximate_connection_time");
        }
        return h;
    }
    if (type == "disconnect") {
        return disconnect_frame{string_field(j, "reason")};
    }
    if (envelope_id.empty()) {
        return malformed_frame{"frame of type '" + type + "' has no envelope_id", {}};
    }
    auto payload = j.find("payload");
    bool has_payload = payload != j.end() && payload->is_object();

    if (type == "slash_commands") {
        if (!has_payload) {
            return malformed_frame{"slash_commands envelope without a payload object", envelope_id};
        }
        slash_command_envelope s;
        s.envelope_id = envelope_id;
        s.retry_attempt = int_field(j, "retry_attempt");
        s.team_id = string_field(*payload, "team_id");
        s.channel_id = string_field(*payload, "channel_id");
        s.user_id = string_field(*payload, "user_id");
        s.command = string_field(*payload, "command");
        s.text = string_field(*payload, "text");
        s.response_url = string_field(*payload, "response_url");
        s.trigger_id = string_field(*payload, "trigger_id");
        if (s.channel_id.empty() || s.user_id.empty()) {
            return malformed_frame{"slash command without channel_id or user_id", envelope_id};
        }
        return s;
    }
    if (type == "events_api") {
        if (!has_payload) {
            return malformed_frame{"events_api envelope without a payload object", envelope_id};
        }
        events_api_envelope e;
        e.envelope_id = envelope_id;
        e.retry_attempt = int_field(j, "retry_attempt");
        e.event_id = string_field(*payload, "event_id");
        if (auto ev = payload->find("event"); ev != payload->end() && ev->is_object()) {
            e.event_type = string_field(*ev, "type");
        }
        e.payload = std::move(*payload);
        return e;
    }
    if (type == "interactive") {
        if (!has_payload) {
            return malformed_frame{"interactive envelope without a payload object", envelope_id};
        }
        interactive_envelope i;
        i.envelope_id = envelope_id;
        i.interaction_type = string_field(*payload, "type");
        i.payload = std::move(*payload);
        return i;
    }
    return other_envelope{envelope_id, type};
}

std::optional<std::string> envelope_id_of(const frame& f) {
    return std::visit(
        [](const auto& v) -> std::optional<std::string> {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, hello_frame> || std::is_same_v<T, disconnect_frame>) {
                return std::nullopt;
            } else {
                if (v.envelope_id.empty()) {
                    return std::nullopt;
                }
                return v.envelope_id;
            }
        },
        f);
}

std::optional<std::string> dedupe_key_of(const frame& f) {
    if (const auto* e = std::get_if<events_api_envelope>(&f);
        e != nullptr && !e->event_id.empty()) {
        return "event:" + e->event_id;
    }
    if (auto id = envelope_id_of(f)) {
        return "envelope:" + *id;
    }
    return std::nullopt;
}

std::string envelope_type_of(const frame& f) {
    return std::visit(
        [](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, slash_command_envelope>) {
                return "slash_commands";
            } else if constexpr (std::is_same_v<T, events_api_envelope>) {
                return "events_api";
            } else if constexpr (std::is_same_v<T, interactive_envelope>) {
                return "interactive";
            } else if constexpr (std::is_same_v<T, other_envelope>) {
                return v.type;
            } else if constexpr (std::is_same_v<T, malformed_frame>) {
                return "malformed";
            } else if constexpr (std::is_same_v<T, hello_frame>) {
                return "hello";
            } else {
                return "disconnect";
            }
        },
        f);
}

int retry_attempt_of(const frame& f) {
    if (const auto* s = std::get_if<slash_command_envelope>(&f)) {
        return s->retry_attempt;
    }
    if (const auto* e = std::get_if<events_api_envelope>(&f)) {
        return e->retry_attempt;
    }
    return 0;
}

std::string make_ack(std::string_view envelope_id, const std::string* payload_json) {
    // Written by hand around the payload, which arrives serialized: the envelope ID first.
    std::string ack = "{\"envelope_id\":";
    ack += json(envelope_id).dump(-1, ' ', false, json::error_handler_t::replace);
    if (payload_json != nullptr) {
        ack += ",\"payload\":";
        ack += *payload_json;
    }
    ack += '}';
    return ack;
}

}  // namespace relbot::bot
