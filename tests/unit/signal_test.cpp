// Signals from CI (bot/signal.hpp): which requests are believed, and which bodies are read.
#include "bot/signal.hpp"

#include <catch2/catch.hpp>
#include <string>

namespace unit_signal_test {

using namespace relbot::bot;

namespace {

const std::string secret = "a-shared-secret-of-at-least-32-bytes!";
const std::string body =
    R"({"channel":"C0REL","item":"ci-cd-status","action":"check","url":"https://ci.example.com/b/812","source":"github-actions","id":"run-812"})";
constexpr std::int64_t now = 1'795'669'235;

std::string ts(std::int64_t at) {
    return std::to_string(at);
}

signal_request read_ok(const std::string& b) {
    auto r = read_signal(b);
    INFO(b);
    REQUIRE(std::holds_alternative<signal_request>(r));
    return std::get<signal_request>(r);
}

std::string read_bad(const std::string& b) {
    auto r = read_signal(b);
    INFO(b);
    REQUIRE(std::holds_alternative<std::string>(r));
    return std::get<std::string>(r);
}

}  // namespace

TEST_CASE("a signal signed with the secret within five minutes is believed", "[signal]") {
    auto sig = signal_signature(secret, ts(now), body);
    CHECK(sig.starts_with("v1="));
    CHECK(sig.size() == 3 + 64);
    CHECK_FALSE(signature_problem(secret, ts(now), sig, body, now));
    // The window, both ways, to the second.
    CHECK_FALSE(signature_problem(secret, ts(now - 300),
                                  signal_signature(secret, ts(now - 300), body), body, now));
    CHECK_FALSE(signature_problem(secret, ts(now + 300),
                                  signal_signature(secret, ts(now + 300), body), body, now));
}

TEST_CASE(
    "a signal is refused for a wrong secret, an altered body, an old or future time, or a "
    "missing header",
    "[signal]") {
    auto sig = signal_signature(secret, ts(now), body);
    SECTION("wrong secret") {
        auto forged = signal_signature("another-secret-of-at-least-32-bytes!!", ts(now), body);
        auto why = signature_problem(secret, ts(now), forged, body, now);
        REQUIRE(why);
        CHECK_FALSE(why->age);
        CHECK_THAT(why->message, Catch::Contains("signature does not match"));
    }
    SECTION("altered body") {
        auto altered = body;
        altered.replace(altered.find("check"), 5, "block");
        CHECK(signature_problem(secret, ts(now), sig, altered, now));
        CHECK(signature_problem(secret, ts(now), sig, body + " ", now));
    }
    SECTION("the timestamp is part of what is signed") {
        CHECK(signature_problem(secret, ts(now + 1), sig, body, now));
    }
    SECTION("too old, or ahead") {
        for (auto at : {now - 301, now + 301, now - 86'400}) {
            auto why = signature_problem(secret, ts(at), signal_signature(secret, ts(at), body),
                                         body, now);
            REQUIRE(why);
            CHECK(why->age);
            CHECK_THAT(why->message, Catch::Contains("5 minutes"));
        }
    }
    SECTION("missing or malformed headers") {
        CHECK_THAT(signature_problem(secret, "", sig, body, now)->message,
                   Catch::Contains("required"));
        CHECK_THAT(signature_problem(secret, ts(now), "", body, now)->message,
                   Catch::Contains("required"));
        CHECK_THAT(signature_problem(secret, "17956692xx", sig, body, now)->message,
                   Catch::Contains("Unix seconds"));
        CHECK(signature_problem(secret, ts(now), sig.substr(3), body, now));  // without "v1="
        CHECK(signature_problem(secret, ts(now), "v0" + sig.substr(2), body, now));
    }
}

TEST_CASE("a signal's body is read field by field", "[signal]") {
    auto r = read_ok(body);
    CHECK(r.channel == "C0REL");
    CHECK(r.item == "ci-cd-status");
    CHECK(r.action == signal_action::check);
    CHECK(r.url == "https://ci.example.com/b/812");
    CHECK(r.source == "github-actions");
    CHECK(r.id == "run-812");
    CHECK(r.release.empty());

    // Defaults: the source is "ci"; deployed ignores the item.
    auto d = read_ok(R"({"channel":"C1","action":"deployed","item":"x","id":"d1"})");
    CHECK(d.action == signal_action::deployed);
    CHECK(d.item.empty());
    CHECK(d.source == "ci");
    CHECK(read_ok(R"({"channel":"C1","action":"note","item":"2.4","text":"green","id":"n",)"
                  R"("release":"v2.0"})")
              .release == "v2.0");
}

TEST_CASE("a bad signal body is answered with what to send instead", "[signal]") {
    CHECK_THAT(read_bad("not json"), Catch::Contains("JSON object"));
    CHECK_THAT(read_bad("[1,2]"), Catch::Contains("JSON object"));
    CHECK_THAT(read_bad(R"({"item":"1.1","action":"check","id":"x"})"),
               Catch::Contains("\"channel\" is required"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"next","id":"x"})"),
               Catch::Contains("one of check, note, block, unblock, deployed"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"finish","id":"x"})"),
               Catch::Contains("one of"));
    CHECK_THAT(read_bad(R"({"channel":"C1","action":"check","id":"x"})"),
               Catch::Contains("\"item\" is required"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check"})"),
               Catch::Contains("\"id\" is required"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":7})"),
               Catch::Contains("\"id\" must be a string"));
    CHECK_THAT(read_bad(R"({"channel":"U123","item":"1.1","action":"check","id":"x"})"),
               Catch::Contains("channel ID"));
    CHECK_THAT(
        read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":"x","url":"javascript:1"})"),
        Catch::Contains("\"url\""));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":"x",)"
                        R"("url":"https://a b"})"),
               Catch::Contains("\"url\""));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":"x",)"
                        R"("source":"<@U1>"})"),
               Catch::Contains("\"source\""));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"block","id":"x"})"),
               Catch::Contains("needs \"text\""));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"note","id":"x",)"
                        R"("text":"two\nlines"})"),
               Catch::Contains("one line"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":")" +
                        std::string(201, 'x') + "\"}"),
               Catch::Contains("longer than 200"));
    // Blank text is no text; the text is counted in characters; text and url must fit one
    // command's 3,000 characters.
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"note","id":"x","text":"   "})"),
               Catch::Contains("needs \"text\""));
    std::string rockets;
    for (int i = 0; i < 600; ++i) {
        rockets += "\xF0\x9F\x9A\x80";  // 600 characters, 2,400 bytes
    }
    auto with_text = [](const std::string& text, const std::string& url) {
        nlohmann::json j{
            {"channel", "C1"}, {"item", "1.1"}, {"action", "note"}, {"id", "x"}, {"text", text}};
        if (!url.empty()) {
            j["url"] = url;
        }
        return j.dump();
    };
    CHECK(std::holds_alternative<signal_request>(read_signal(with_text(rockets, ""))));
    CHECK_THAT(read_bad(with_text(std::string(2001, 't'), "")),
               Catch::Contains("longer than 2,000 characters"));
    CHECK_THAT(read_bad(with_text(std::string(2000, 't'), "https://ci/" + std::string(900, 'u'))),
               Catch::Contains("together are longer than 2,800 characters"));
}

TEST_CASE("signal answers are JSON in the contract's shape", "[signal]") {
    CHECK(signal_ok_json("2.4", "done") == R"({"item":"2.4","ok":true,"state":"done"})");
    CHECK(signal_ok_json("", "") == R"({"ok":true})");
    CHECK(signal_error_json("unknown item \"x\"") ==
          R"({"error":"unknown item \"x\"","ok":false})");
}

}  // namespace unit_signal_test
