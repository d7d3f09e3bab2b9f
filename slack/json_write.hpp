// JSON text written straight into a string, byte for byte what nlohmann's
// `dump(-1, ' ', false, error_handler_t::replace)` writes, at a fraction of its cost: every
// acknowledgement and every message a write queues is serialized, and nlohmann's serializer
// decodes each byte of each string through its UTF-8 automaton. Here a string of ASCII and
// well-formed UTF-8 is copied in runs between the characters JSON escapes; a string that is not
// UTF-8 (user text can be anything) is left to nlohmann, whose replacement characters are the
// bytes relbot has always sent. Header-only and pure, like block_kit.hpp.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace relbot::slack {

namespace json_write_detail {

// The length of the well-formed UTF-8 sequence that starts at `text[i]` (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0 when none does.
inline std::size_t utf8_sequence(std::string_view text, std::size_t i) {
    auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = at(i);
    std::size_t left = text.size() - i;
    auto continuation = [&](std::size_t k) { return (at(k) & 0xC0) == 0x80; };
    if (lead < 0x80) {
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        return left >= 2 && continuation(i + 1) ? 2 : 0;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (left < 3) {
            return 0;
        }
        unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;   // overlong below
        unsigned char high = lead == 0xED ? 0x9F : 0xBF;  // surrogates above
        return at(i + 1) >= low && at(i + 1) <= high && continuation(i + 2) ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (left < 4) {
            return 0;
        }
        unsigned char low = lead == 0xF0 ? 0x90 : 0x80;   // overlong below
        unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;  // past U+10FFFF above
        return at(i + 1) >= low && at(i + 1) <= high && continuation(i + 2) && continuation(i + 3)
                   ? 4
                   : 0;
    }
    return 0;
}

}  // namespace json_write_detail

// Whether `text` is well-formed UTF-8.
inline bool is_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        auto n = json_write_detail::utf8_sequence(text, i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

// Appends `text` as a JSON string when it is UTF-8 and returns true; appends nothing and
// returns false when it is not.
inline bool append_json_string_if_utf8(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    const auto start = out.size();
    out.reserve(start + text.size() + 2);
    out += '"';
    std::size_t copied = 0;  // text[copied, i) is still to be copied as it is
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            auto n = json_write_detail::utf8_sequence(text, i);
            if (n == 0) {
                out.resize(start);
                return false;
            }
            i += n;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        out.append(text.data() + copied, i - copied);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xF];
        }
        copied = ++i;
    }
    out.append(text.data() + copied, text.size() - copied);
    out += '"';
    return true;
}

// Appends `text` as a JSON string; bytes that are not UTF-8 become U+FFFD, as nlohmann
// replaces them.
inline void append_json_string(std::string& out, std::string_view text) {
    if (!append_json_string_if_utf8(out, text)) {
        out += nlohmann::json(std::string(text))
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
}

// Appends `j` as compact JSON text: nlohmann's own order (an object's members by key) and bytes.
inline void append_json(std::string& out, const nlohmann::json& j) {
    using value_t = nlohmann::json::value_t;
    switch (j.type()) {
        case value_t::object: {
            out += '{';
            bool first = true;
            for (const auto& [key, value] : j.get_ref<const nlohmann::json::object_t&>()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                append_json_string(out, key);
                out += ':';
                append_json(out, value);
            }
            out += '}';
            return;
        }
        case value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& value : j.get_ref<const nlohmann::json::array_t&>()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                append_json(out, value);
            }
            out += ']';
            return;
        }
        case value_t::string:
            append_json_string(out, j.get_ref<const std::string&>());
            return;
        case value_t::boolean:
            out += j.get<bool>() ? "true" : "false";
            return;
        case value_t::null:
            out += "null";
            return;
        case value_t::number_integer:
        case value_t::number_unsigned: {
            char digits[24];
            auto end =
                j.type() == value_t::number_integer
                    ? std::to_chars(digits, digits + sizeof digits, j.get<std::int64_t>()).ptr
                    : std::to_chars(digits, digits + sizeof digits, j.get<std::uint64_t>()).ptr;
            out.append(digits, end);
            return;
        }
        default:  // floats (nlohmann's shortest round trip), binary, discarded: its own bytes
            out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            return;
    }
}

// `j` as compact JSON text: j.dump(-1, ' ', false, error_handler_t::replace), byte for byte.
inline std::string json_text_of(const nlohmann::json& j) {
    std::string out;
    append_json(out, j);
    return out;
}

}  // namespace relbot::slack
