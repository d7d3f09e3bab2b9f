// Envelope parsing. Slack sends slash-command fields as strings; anything missing becomes "".
#include "bot/envelope.hpp"

#include <span>

#include "slack/json_write.hpp"

namespace relbot::bot {
namespace {

using nlohmann::json;

// A scalar as the frame had it: a string, an integer, or something else (absent, null, a
// bool, a float, an object or an array), which every field treats as missing.
struct scalar {
    enum class kind { none, string, integer } is = kind::none;
    std::string text;
    long long integer = 0;

    // Slack sends these fields as strings; anything else becomes "".
    std::string as_string() && { return is == kind::string ? std::move(text) : std::string(); }
    // An integer, or a string of one; anything else is 0 (for retry_attempt: a first delivery).
    int as_int() const {
        if (is == kind::integer) {
            return static_cast<int>(integer);
        }
        if (is == kind::string) {
            try {
                return std::stoi(text);
            } catch (const std::exception&) {
                return 0;
            }
        }
        return 0;
    }
};

// The fields relbot reads from a frame, taken in one pass over the text without building a
// document (the frame's other fields, and everything deeper, are skipped). A key that
// appears twice counts the second time, as a parsed document would have it.
struct frame_fields {
    bool object = false;  // the frame is a JSON object
    scalar type, envelope_id, retry_attempt, num_connections, reason;
    bool has_payload = false;  // `payload` is an object
    scalar team_id, channel_id, channel_name, user_id, command, text, response_url, trigger_id;
    bool has_debug_info = false;
    scalar host, approximate_connection_time;
};

// The fields read at each level: the frame itself, its `payload`, its `debug_info`.
struct named_field {
    std::string_view name;
    scalar frame_fields::*member;
};
constexpr named_field top_fields[] = {{"type", &frame_fields::type},
                                      {"envelope_id", &frame_fields::envelope_id},
                                      {"retry_attempt", &frame_fields::retry_attempt},
                                      {"num_connections", &frame_fields::num_connections},
                                      {"reason", &frame_fields::reason}};
constexpr named_field payload_fields[] = {
    {"team_id", &frame_fields::team_id},           {"channel_id", &frame_fields::channel_id},
    {"channel_name", &frame_fields::channel_name}, {"user_id", &frame_fields::user_id},
    {"command", &frame_fields::command},           {"text", &frame_fields::text},
    {"response_url", &frame_fields::response_url}, {"trigger_id", &frame_fields::trigger_id}};
constexpr named_field debug_fields[] = {
    {"host", &frame_fields::host},
    {"approximate_connection_time", &frame_fields::approximate_connection_time}};

// nlohmann's SAX interface: called once per token.
class frame_reader {
public:
    explicit frame_reader(frame_fields& out) : out_(out) {}

    bool null() { return leaf(); }
    bool boolean(bool) { return leaf(); }
    bool number_integer(json::number_integer_t v) { return integer(v); }
    bool number_unsigned(json::number_unsigned_t v) { return integer(static_cast<long long>(v)); }
    bool number_float(json::number_float_t, const json::string_t&) { return leaf(); }
    bool binary(json::binary_t&) { return leaf(); }
    bool string(json::string_t& v) {
        if (target_ != nullptr) {
            target_->is = scalar::kind::string;
            target_->text = std::move(v);
        }
        return leaf();
    }
    bool start_object(std::size_t) {
        if (depth_ == 0) {
            out_.object = true;
        } else if (depth_ == 1 && scope_key_ == scope::payload) {
            out_.has_payload = true;
            opened_ = scope::payload;
        } else if (depth_ == 1 && scope_key_ == scope::debug_info) {
            out_.has_debug_info = true;
            opened_ = scope::debug_info;
        }
        return open();
    }
    bool end_object() { return close(); }
    bool start_array(std::size_t) { return open(); }
    bool end_array() { return close(); }
    // Only ever inside an object; at depth 1, the frame itself.
    bool key(json::string_t& k) {
        target_ = nullptr;
        if (depth_ == 1) {
            scope_key_ = scope::none;
            if (k == "payload") {
                scope_key_ = scope::payload;
                forget_payload();
            } else if (k == "debug_info") {
                scope_key_ = scope::debug_info;
                out_.has_debug_info = false;
                for (const auto& f : debug_fields) {
                    out_.*f.member = {};
                }
            } else {
                target_ = field_named(top_fields, k);
            }
        } else if (depth_ == 2 && opened_ == scope::payload) {
            target_ = field_named(payload_fields, k);
        } else if (depth_ == 2 && opened_ == scope::debug_info) {
            target_ = field_named(debug_fields, k);
        }
        if (target_ != nullptr) {
            *target_ = {};  // a repeated key: the last one counts, whatever it is
        }
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
        return false;
    }

private:
    enum class scope { none, payload, debug_info };

    bool leaf() {
        target_ = nullptr;
        return true;
    }
    bool integer(long long v) {
        if (target_ != nullptr) {
            target_->is = scalar::kind::integer;
            target_->integer = v;
        }
        return leaf();
    }
    bool open() {
        target_ = nullptr;  // a container is not a scalar: the field stays missing
        ++depth_;
        return true;
    }
    bool close() {
        target_ = nullptr;
        if (depth_ == 2) {
            opened_ = scope::none;
        }
        --depth_;
        return true;
    }
    void forget_payload() {
        out_.has_payload = false;
        for (const auto& f : payload_fields) {
            out_.*f.member = {};
        }
    }
    scalar* field_named(std::span<const named_field> fields, std::string_view k) {
        for (const auto& f : fields) {
            if (f.name == k) {
                return &(out_.*f.member);
            }
        }
        return nullptr;
    }

    frame_fields& out_;
    int depth_ = 0;                  // containers open
    scope scope_key_ = scope::none;  // the top-level key whose value comes next
    scope opened_ = scope::none;     // the object at depth 2, if it is one we read
    scalar* target_ = nullptr;       // where the next scalar goes, if anywhere
};

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

// Events and interactions are handed on with their whole payload, so they are parsed into a
// document.
frame parse_with_payload(std::string_view text, const std::string& type, std::string envelope_id) {
    auto j = json::parse(text, nullptr, false);
    auto payload = j.find("payload");
    if (type == "events_api") {
        events_api_envelope e;
        e.envelope_id = std::move(envelope_id);
        e.retry_attempt = int_field(j, "retry_attempt");
        e.event_id = string_field(*payload, "event_id");
        if (auto ev = payload->find("event"); ev != payload->end() && ev->is_object()) {
            e.event_type = string_field(*ev, "type");
        }
        e.payload = std::move(*payload);
        return e;
    }
    interactive_envelope i;
    i.envelope_id = std::move(envelope_id);
    i.interaction_type = string_field(*payload, "type");
    i.payload = std::move(*payload);
    return i;
}

}  // namespace

frame parse_frame(std::string_view text) {
    // The frames that arrive most (slash commands) are read in one pass over the text into
    // the fields relbot uses; a parsed document (a node and an allocation per field) is
    // built only for events and interactions, which carry their payload on.
    frame_fields f;
    frame_reader reader(f);
    if (!json::sax_parse(text, &reader) || !f.object) {
        return malformed_frame{"not a JSON object", {}};
    }
    auto type = std::move(f.type).as_string();
    auto envelope_id = std::move(f.envelope_id).as_string();

    if (type == "hello") {
        hello_frame h;
        h.num_connections = f.num_connections.as_int();
        h.host = std::move(f.host).as_string();
        h.approximate_connection_time = f.approximate_connection_time.as_int();
        return h;
    }
    if (type == "disconnect") {
        return disconnect_frame{std::move(f.reason).as_string()};
    }
    if (envelope_id.empty()) {
        return malformed_frame{"frame of type '" + type + "' has no envelope_id", {}};
    }
    bool wants_payload = type == "slash_commands" || type == "events_api" || type == "interactive";
    if (wants_payload && !f.has_payload) {
        return malformed_frame{type + " envelope without a payload object", envelope_id};
    }
    if (type == "slash_commands") {
        slash_command_envelope s;
        s.envelope_id = std::move(envelope_id);
        s.retry_attempt = f.retry_attempt.as_int();
        s.team_id = std::move(f.team_id).as_string();
        s.channel_id = std::move(f.channel_id).as_string();
        s.channel_name = std::move(f.channel_name).as_string();
        s.user_id = std::move(f.user_id).as_string();
        s.command = std::move(f.command).as_string();
        s.text = std::move(f.text).as_string();
        s.response_url = std::move(f.response_url).as_string();
        s.trigger_id = std::move(f.trigger_id).as_string();
        if (s.channel_id.empty() || s.user_id.empty()) {
            return malformed_frame{"slash command without channel_id or user_id", s.envelope_id};
        }
        return s;
    }
    if (wants_payload) {
        return parse_with_payload(text, type, std::move(envelope_id));
    }
    return other_envelope{std::move(envelope_id), type};
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

std::string ack_head(std::string_view envelope_id, bool with_payload) {
    // Written by hand around the payload, which arrives serialized: the envelope ID first.
    std::string head = "{\"envelope_id\":";
    slack::append_json_string(head, envelope_id);
    head += with_payload ? ",\"payload\":" : "}";
    return head;
}

std::string make_ack(std::string_view envelope_id, const std::string* payload_json) {
    auto ack = ack_head(envelope_id, payload_json != nullptr);
    if (payload_json != nullptr) {
        ack += *payload_json;
        ack += '}';
    }
    return ack;
}

}  // namespace relbot::bot
