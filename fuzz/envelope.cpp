// Whole Socket Mode frames as Slack (or anyone on the socket) sends them. Properties: reading
// never throws; a frame that carries an envelope_id gets it back for its ack; the one-pass
// reader of slash commands agrees with a full JSON parse of the same text on every field
// relbot uses; a slash command's text and an interactive payload go on to their own readers
// (fuzz/command.cpp, fuzz/interaction.cpp cover those in depth).
#include "bot/envelope.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "commands/interaction.hpp"
#include "commands/parse.hpp"
#include "fuzz/fuzz.hpp"

using namespace relbot;
using nlohmann::json;

namespace {

// The string at `key` of `obj` as a full parse reads it; "" when absent or not a string.
std::string string_at(const json& obj, const char* key) {
    if (!obj.is_object()) {
        return {};
    }
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void agrees_with_full_parse(const bot::slash_command_envelope& s, const json& doc) {
    FUZZ_CHECK(s.envelope_id == string_at(doc, "envelope_id"));
    const auto& p = doc.at("payload");
    FUZZ_CHECK(s.channel_id == string_at(p, "channel_id"));
    FUZZ_CHECK(s.user_id == string_at(p, "user_id"));
    FUZZ_CHECK(s.team_id == string_at(p, "team_id"));
    FUZZ_CHECK(s.channel_name == string_at(p, "channel_name"));
    FUZZ_CHECK(s.command == string_at(p, "command"));
    FUZZ_CHECK(s.text == string_at(p, "text"));
    FUZZ_CHECK(s.response_url == string_at(p, "response_url"));
    FUZZ_CHECK(s.trigger_id == string_at(p, "trigger_id"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = fuzz::text_of(data, size);
    auto f = bot::parse_frame(text);
    auto id = bot::envelope_id_of(f);
    auto key = bot::dedupe_key_of(f);
    FUZZ_CHECK(!bot::envelope_type_of(f).empty() || std::holds_alternative<bot::other_envelope>(f));
    FUZZ_CHECK(id.has_value() == key.has_value() ||
               std::holds_alternative<bot::events_api_envelope>(f));

    auto doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        FUZZ_CHECK(std::holds_alternative<bot::malformed_frame>(f));
        FUZZ_CHECK(!id);
        return 0;
    }
    if (id) {
        FUZZ_CHECK(*id == string_at(doc, "envelope_id"));
    }
    if (auto* s = std::get_if<bot::slash_command_envelope>(&f)) {
        agrees_with_full_parse(*s, doc);
        (void)commands::parse_command(s->text);
    } else if (auto* i = std::get_if<bot::interactive_envelope>(&f)) {
        (void)commands::read_interaction(i->payload);
    }
    return 0;
}
