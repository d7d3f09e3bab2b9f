// slack/json_write.hpp: the JSON text relbot sends (every ack, every message body) is written
// without nlohmann's serializer, and must be its bytes exactly: a redelivered envelope is
// answered with the record of its first reply, and Slack reads whatever we write.
#include "slack/json_write.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <string>

namespace unit_json_write_test {

using nlohmann::json;
using relbot::slack::append_json_string;
using relbot::slack::append_json_string_if_utf8;
using relbot::slack::is_utf8;
using relbot::slack::json_text_of;

std::string nlohmann_text(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Whether nlohmann's strict serializer takes `text` (it throws on bytes that are not UTF-8).
bool nlohmann_takes(const std::string& text) {
    try {
        (void)json(text).dump();
        return true;
    } catch (const json::type_error&) {
        return false;
    }
}

std::string hex_of(std::string_view text) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : text) {
        out += digits[c >> 4];
        out += digits[c & 0xF];
        out += ' ';
    }
    return out;
}

std::string string_text(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

// Strings of the bytes JSON and UTF-8 care about: ASCII, every escape, well-formed sequences
// of every length, and the ways UTF-8 goes wrong (stray continuation bytes, overlong forms,
// surrogates, code points past U+10FFFF, sequences cut short, bytes never allowed).
std::string some_text(std::mt19937& random, std::size_t max_pieces) {
    static const std::vector<std::string> pieces = {"a",
                                                    "Release 1.2",
                                                    " ",
                                                    "\"",
                                                    "\\",
                                                    "/",
                                                    "\n",
                                                    "\r",
                                                    "\t",
                                                    "\b",
                                                    "\f",
                                                    std::string(1, '\0'),
                                                    "\x01",
                                                    "\x1f",
                                                    "\x7f",
                                                    "<@U123>",
                                                    "é",
                                                    "€",
                                                    "😀",
                                                    "\xC2\x80",
                                                    "\xDF\xBF",
                                                    "\xE0\xA0\x80",
                                                    "\xEF\xBF\xBF",
                                                    "\xF0\x90\x80\x80",
                                                    "\xF4\x8F\xBF\xBF",
                                                    "\x80",
                                                    "\xBF",
                                                    "\xC0\xAF",
                                                    "\xC1\xBF",
                                                    "\xE0\x80\xAF",
                                                    "\xED\xA0\x80",
                                                    "\xED\xBF\xBF",
                                                    "\xF0\x80\x80\xAF",
                                                    "\xF4\x90\x80\x80",
                                                    "\xF5\x80\x80\x80",
                                                    "\xFE",
                                                    "\xFF",
                                                    "\xC3",
                                                    "\xE2\x82",
                                                    "\xF0\x9F\x98",
                                                    "\xE2",
                                                    "\xF0"};
    std::uniform_int_distribution<std::size_t> count(0, max_pieces);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    std::string text;
    for (auto n = count(random); n > 0; --n) {
        text += pieces[pick(random)];
    }
    return text;
}

json some_value(std::mt19937& random, int depth) {
    std::uniform_int_distribution<int> kind(0, depth > 0 ? 9 : 6);
    switch (kind(random)) {
        case 0:
            return nullptr;
        case 1:
            return std::uniform_int_distribution<int>(0, 1)(random) == 1;
        case 2:
            return std::uniform_int_distribution<std::int64_t>(INT64_MIN, INT64_MAX)(random);
        case 3:
            return std::uniform_int_distribution<std::uint64_t>(0, UINT64_MAX)(random);
        case 4:
            return std::uniform_real_distribution<double>(-1e6, 1e6)(random);
        case 5:
        case 6:
            return some_text(random, 6);
        case 7:
        case 8: {
            json object = json::object();
            for (int n = std::uniform_int_distribution<int>(0, 5)(random); n > 0; --n) {
                object[some_text(random, 2)] = some_value(random, depth - 1);
            }
            return object;
        }
        default: {
            json array = json::array();
            for (int n = std::uniform_int_distribution<int>(0, 5)(random); n > 0; --n) {
                array.push_back(some_value(random, depth - 1));
            }
            return array;
        }
    }
}

TEST_CASE("a string is written as nlohmann writes it, every byte and pair of bytes", "[unit]") {
    for (int a = 0; a < 256; ++a) {
        std::string one(1, static_cast<char>(a));
        REQUIRE(string_text(one) == nlohmann_text(json(one)));
        REQUIRE(is_utf8(one) == nlohmann_takes(one));
        for (int b = 0; b < 256; ++b) {
            std::string two = one + static_cast<char>(b);
            REQUIRE(string_text(two) == nlohmann_text(json(two)));
            REQUIRE(is_utf8(two) == nlohmann_takes(two));
        }
    }
}

TEST_CASE("text that is not UTF-8 is written with U+FFFD where nlohmann puts it", "[unit]") {
    std::mt19937 random(20261206);
    for (int i = 0; i < 20000; ++i) {
        auto text = some_text(random, 12);
        INFO("bytes: " << hex_of(text));
        REQUIRE(string_text(text) == nlohmann_text(json(text)));
        REQUIRE(is_utf8(text) == nlohmann_takes(text));
    }
    CHECK(string_text("bad \xFF byte") == "\"bad \xEF\xBF\xBD byte\"");
    CHECK(string_text("cut \xE2\x82") == "\"cut \xEF\xBF\xBD\"");
}

TEST_CASE("only UTF-8 is written by the strict form, and nothing is left of a refusal", "[unit]") {
    std::string out = "kept";
    CHECK_FALSE(append_json_string_if_utf8(out, "a\xED\xA0\x80z"));  // a surrogate
    CHECK(out == "kept");
    CHECK(append_json_string_if_utf8(out, "tab\there \"quoted\" \x01 é"));
    CHECK(out == "kept\"tab\\there \\\"quoted\\\" \\u0001 é\"");
}

TEST_CASE("a document is written as nlohmann writes it, members in its order", "[unit]") {
    std::mt19937 random(1206);
    for (int i = 0; i < 3000; ++i) {
        auto document = some_value(random, 4);
        REQUIRE(json_text_of(document) == nlohmann_text(document));
    }
    json block = {{"type", "section"},
                  {"text", {{"type", "mrkdwn"}, {"text", "*Deploy* <@U1>\n`1.2`"}}},
                  {"accessory", {{"type", "button"}, {"value", 12}, {"emoji", true}}}};
    CHECK(json_text_of(block) ==
          R"({"accessory":{"emoji":true,"type":"button","value":12},)"
          R"("text":{"text":"*Deploy* <@U1>\n`1.2`","type":"mrkdwn"},"type":"section"})");
    CHECK(json_text_of(json::array()) == "[]");
    CHECK(json_text_of(json::object()) == "{}");
    CHECK(json_text_of(json(-42)) == "-42");
    CHECK(json_text_of(json(1.5)) == "1.5");
}

}  // namespace unit_json_write_test
