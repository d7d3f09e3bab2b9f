// Socket Mode frames (fixtures in the shape of Slack's documentation), acks, redelivery keys,
// backoff and log redaction: the pure parts of bot/.
#include "bot/envelope.hpp"

#include <catch2/catch.hpp>

#include "bot/backoff.hpp"
#include "bot/log.hpp"

namespace unit_envelope_test {

using namespace relbot::bot;
using nlohmann::json;

TEST_CASE("hello and disconnect frames are recognised", "[unit]") {
    auto f =
        parse_frame(R"({"type":"hello","num_connections":2,"connection_info":{"app_id":"A0123"},
        "debug_info":{"host":"applink-7","build_number":54,"approximate_connection_time":18060}})");
    REQUIRE(std::holds_alternative<hello_frame>(f));
    CHECK(std::get<hello_frame>(f).num_connections == 2);
    CHECK(std::get<hello_frame>(f).host == "applink-7");
    CHECK(std::get<hello_frame>(f).approximate_connection_time == 18060);
    CHECK_FALSE(envelope_id_of(f));

    f = parse_frame(
        R"({"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"applink-7"}})");
    REQUIRE(std::holds_alternative<disconnect_frame>(f));
    CHECK(std::get<disconnect_frame>(f).reason == "refresh_requested");
    CHECK_FALSE(dedupe_key_of(f));
}

TEST_CASE("a slash command envelope carries every field as Slack sends it", "[unit]") {
    auto f = parse_frame(
        R"({"envelope_id":"6a1e-1","type":"slash_commands","accepts_response_payload":true,
        "payload":{"token":"x","team_id":"T0001","team_domain":"acme","channel_id":"C0123ABCD",
        "channel_name":"releases","user_id":"U0456EFGH","user_name":"jdoe","command":"/release",
        "text":"assign 2.3 <@U0789IJKL|pat> due 2h","api_app_id":"A0123","is_enterprise_install":"false",
        "response_url":"https://hooks.slack.com/commands/T0001/1234/abcd","trigger_id":"1234.5678.abcdef"}})");
    REQUIRE(std::holds_alternative<slash_command_envelope>(f));
    const auto& s = std::get<slash_command_envelope>(f);
    CHECK(s.envelope_id == "6a1e-1");
    CHECK(s.retry_attempt == 0);
    CHECK(s.team_id == "T0001");
    CHECK(s.channel_id == "C0123ABCD");
    CHECK(s.channel_name == "releases");
    CHECK(s.user_id == "U0456EFGH");
    CHECK(s.command == "/release");
    CHECK(s.text == "assign 2.3 <@U0789IJKL|pat> due 2h");
    CHECK(s.response_url == "https://hooks.slack.com/commands/T0001/1234/abcd");
    CHECK(dedupe_key_of(f) == "envelope:6a1e-1");
}

TEST_CASE("events are deduplicated by event_id, not by envelope_id", "[unit]") {
    auto f =
        parse_frame(R"({"envelope_id":"e-2","type":"events_api","accepts_response_payload":false,
        "retry_attempt":1,"retry_reason":"timeout",
        "payload":{"type":"event_callback","team_id":"T0001","event_id":"Ev0ABCDEF","event_time":1712345678,
        "event":{"type":"app_mention","user":"U1","text":"<@U0BOT> status","channel":"C1","ts":"1.2"}}})");
    REQUIRE(std::holds_alternative<events_api_envelope>(f));
    CHECK(std::get<events_api_envelope>(f).retry_attempt == 1);
    CHECK(std::get<events_api_envelope>(f).event_type == "app_mention");
    CHECK(dedupe_key_of(f) == "event:Ev0ABCDEF");
    CHECK(envelope_id_of(f) == "e-2");
}

TEST_CASE("interactive and unknown envelopes still get acknowledged", "[unit]") {
    auto i = parse_frame(
        R"({"envelope_id":"i-1","type":"interactive","payload":{"type":"block_actions"}})");
    REQUIRE(std::holds_alternative<interactive_envelope>(i));
    CHECK(std::get<interactive_envelope>(i).interaction_type == "block_actions");
    CHECK(envelope_id_of(i) == "i-1");

    auto u = parse_frame(R"({"envelope_id":"u-1","type":"something_new","payload":{}})");
    REQUIRE(std::holds_alternative<other_envelope>(u));
    CHECK(envelope_id_of(u) == "u-1");
}

TEST_CASE("malformed frames never throw, and keep the envelope_id when there is one", "[unit]") {
    for (const char* text : {"", "not json", "[1,2]", "{\"type\":\"slash_commands\"}",
                             "{\"type\":42}", "{\"envelope_id\":7}"}) {
        auto f = parse_frame(text);
        CHECK(std::holds_alternative<malformed_frame>(f));
        CHECK_FALSE(envelope_id_of(f));
    }
    auto f = parse_frame(R"({"envelope_id":"m-1","type":"slash_commands","payload":"nope"})");
    REQUIRE(std::holds_alternative<malformed_frame>(f));
    CHECK(envelope_id_of(f) == "m-1");
    f = parse_frame(R"({"envelope_id":"m-2","type":"slash_commands","payload":{"text":"status"}})");
    CHECK(std::holds_alternative<malformed_frame>(f));  // no channel or user
}

TEST_CASE("a slash command's fields come from its payload object only, the last of a key counting",
          "[unit]") {
    auto command = [](const char* text) {
        auto f = parse_frame(text);
        REQUIRE(std::holds_alternative<slash_command_envelope>(f));
        return std::get<slash_command_envelope>(f);
    };
    // Deeper objects and arrays that reuse the names are not the command's fields.
    auto s = command(R"({"type":"slash_commands","envelope_id":"d-1","channel_id":"CTOP",
        "payload":{"channel_id":"C1","extra":{"channel_id":"CX","text":"no","payload":{"user_id":"UX"}},
        "list":[{"user_id":"UY"},"text"],"user_id":"U1","text":"status"},"text":"not this"})");
    CHECK(s.channel_id == "C1");
    CHECK(s.user_id == "U1");
    CHECK(s.text == "status");
    // A repeated key: the last one counts, even when it is not a string.
    s = command(R"({"type":"slash_commands","envelope_id":"d-2",
        "payload":{"channel_id":"C1","user_id":"U1","text":"first","text":"second","command":"/x","command":5}})");
    CHECK(s.text == "second");
    CHECK(s.command.empty());
    // Escapes are decoded; retry_attempt may be a number or a string of one.
    s = command(R"({"type":"slash_commands","envelope_id":"d-3","retry_attempt":"2",
        "payload":{"channel_id":"C1","user_id":"U1","text":"note 1.1 caf\u00e9 \ud83d\ude80 \"q\""}})");
    CHECK(s.text == "note 1.1 caf\u00e9 \U0001F680 \"q\"");
    CHECK(s.retry_attempt == 2);
    for (const char* retry : {"1.5", "\"abc\"", "true", "null", "{}", "[3]"}) {
        auto text =
            std::string(R"({"type":"slash_commands","envelope_id":"d-4","retry_attempt":)") +
            retry + R"(,"payload":{"channel_id":"C1","user_id":"U1"}})";
        CHECK(command(text.c_str()).retry_attempt == 0);
    }

    // A payload given twice counts the second time: here it is no longer an object.
    auto f = parse_frame(R"({"type":"slash_commands","envelope_id":"d-5",
        "payload":{"channel_id":"C1","user_id":"U1"},"payload":"gone"})");
    CHECK(std::holds_alternative<malformed_frame>(f));
    f = parse_frame(R"({"type":"slash_commands","envelope_id":"d-6",
        "payload":{"channel_id":"C1","user_id":"U1"},"payload":{"text":"status"}})");
    CHECK(std::holds_alternative<malformed_frame>(f));  // the second has no channel or user
    // Top-level fields are not payload fields.
    f = parse_frame(R"({"type":"slash_commands","envelope_id":"d-7","channel_id":"C1",
        "user_id":"U1","payload":{}})");
    CHECK(std::holds_alternative<malformed_frame>(f));
    // Trailing text after the object is not a frame.
    f = parse_frame(
        R"({"type":"slash_commands","envelope_id":"d-8","payload":{"channel_id":"C1","user_id":"U1"}} x)");
    CHECK(std::holds_alternative<malformed_frame>(f));
    // A type that is not a string is no known type: acknowledged, nothing else.
    f = parse_frame(R"({"type":["slash_commands"],"envelope_id":"d-9","payload":{}})");
    REQUIRE(std::holds_alternative<other_envelope>(f));
    CHECK(envelope_id_of(f) == "d-9");
}

TEST_CASE("acks carry the envelope_id and the optional payload", "[unit]") {
    CHECK(json::parse(make_ack("abc", nullptr)) == json{{"envelope_id", "abc"}});
    json payload = {{"text", "hi"}, {"response_type", "ephemeral"}};
    auto text = payload.dump();
    CHECK(json::parse(make_ack("abc", &text)) ==
          json{{"envelope_id", "abc"}, {"payload", payload}});
    // An envelope ID is escaped, never pasted raw into the frame.
    CHECK(json::parse(make_ack("a\"b", nullptr)) == json{{"envelope_id", "a\"b"}});
    // The socket writes the head, then the shared payload and "}": the same frame.
    CHECK(json::parse(ack_head("a\"b", true) + text + "}") ==
          json{{"envelope_id", "a\"b"}, {"payload", payload}});
    CHECK(ack_head("abc", false) == make_ack("abc", nullptr));
}

TEST_CASE("backoff doubles from 1 s to a 30 s cap with jitter between half and all of it",
          "[unit]") {
    using std::chrono::milliseconds;
    CHECK(backoff_delay(1, 0.999) <= milliseconds(1000));
    CHECK(backoff_delay(1, 0.0) == milliseconds(500));
    CHECK(backoff_delay(2, 0.0) == milliseconds(1000));
    CHECK(backoff_delay(3, 0.0) == milliseconds(2000));
    CHECK(backoff_delay(10, 0.0) == milliseconds(15000));
    CHECK(backoff_delay(50, 0.999) <= milliseconds(30000));
    CHECK(backoff_delay(50, 0.999) > milliseconds(29000));
}

TEST_CASE("tokens and WebSocket tickets are redacted from log values", "[unit]") {
    // Real-shaped tokens, put together here so the source holds none.
    CHECK(redact("Bearer " + std::string("xoxb") + "-123-456-abcDEF rest") ==
          "Bearer [redacted] rest");
    CHECK(redact(std::string("xapp") + "-1-A0123-99-deadbeef") == "[redacted]");
    CHECK(redact("wss://wss-primary.slack.com/link/?ticket=abc-123&app_id=A1") ==
          "wss://wss-primary.slack.com/link/?ticket=[redacted]&app_id=A1");
    CHECK(redact("nothing secret") == "nothing secret");
    // relbot's own hints name a token by its prefix alone: no secret follows it.
    CHECK(redact("copy the xoxb- token from the app's OAuth & Permissions page") ==
          "copy the xoxb- token from the app's OAuth & Permissions page");
    CHECK(redact("it must be an xapp- token") == "it must be an xapp- token");
    CHECK(redact(std::string("ends with xoxb-")) == "ends with xoxb-");
}

TEST_CASE("a log line gathered for a later write is one whole line with its values redacted",
          "[unit]") {
    std::string lines;
    {
        log_line line(log_level::error, "test.gathered", &lines);
        line.kv("url", "wss://wss-primary.slack.com/link/?ticket=abc-123&app_id=A1")
            .kv("auth", "Bearer " + std::string("xoxb") + "-123-456-abcDEF")
            .kv("plain", "nothing secret");
    }
    CHECK(lines ==
          "level=error event=test.gathered "
          "url=\"wss://wss-primary.slack.com/link/?ticket=[redacted]&app_id=A1\" "
          "auth=\"Bearer [redacted]\" plain=\"nothing secret\"\n");
}

TEST_CASE(
    "user text cannot forge a log line or a field: breaks, quotes and key=value stay inside "
    "one quoted value",
    "[unit]") {
    std::string lines;
    log_line(log_level::error, "test.note", &lines)
        .kv("note",
            "done\nlevel=error event=forged\r\x0b x=\"y\" \\ sep\xE2\x80\xA8next\xC2\x85 del\x7F")
        .kv("after", "x");
    CHECK(lines ==
          "level=error event=test.note note=\"done\\nlevel=error event=forged\\r? x=\\\"y\\\" \\\\ "
          "sep\\u2028next\\u0085 del?\" after=x\n");
    // Text with a character of those leading bytes that is not a break stays as it is.
    lines.clear();
    log_line(log_level::error, "test.note", &lines).kv("price", "£5").kv("dash", "a—b");
    CHECK(lines == "level=error event=test.note price=\"£5\" dash=\"a—b\"\n");
}

}  // namespace unit_envelope_test
