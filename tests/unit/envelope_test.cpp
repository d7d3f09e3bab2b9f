// Socket Mode frames (fixtures in the shape of Slack's documentation), acks, redelivery keys,
// backoff and log redaction: the pure parts of bot/.
#include "bot/envelope.hpp"

#include <catch2/catch.hpp>

#include "bot/backoff.hpp"
#include "bot/log.hpp"

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

TEST_CASE("acks carry the envelope_id and the optional payload", "[unit]") {
    CHECK(json::parse(make_ack("abc", nullptr)) == json{{"envelope_id", "abc"}});
    json payload = {{"text", "hi"}, {"response_type", "ephemeral"}};
    auto text = payload.dump();
    CHECK(json::parse(make_ack("abc", &text)) ==
          json{{"envelope_id", "abc"}, {"payload", payload}});
    // An envelope ID is escaped, never pasted raw into the frame.
    CHECK(json::parse(make_ack("a\"b", nullptr)) == json{{"envelope_id", "a\"b"}});
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
    CHECK(redact("Bearer xoxb-123-456-abcDEF rest") == "Bearer [redacted] rest");
    CHECK(redact("xapp-1-A0123-99-deadbeef") == "[redacted]");
    CHECK(redact("wss://wss-primary.slack.com/link/?ticket=abc-123&app_id=A1") ==
          "wss://wss-primary.slack.com/link/?ticket=[redacted]&app_id=A1");
    CHECK(redact("nothing secret") == "nothing secret");
}
