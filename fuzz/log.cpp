// Log lines with user text in them (a note, a reason, a channel name: anything a person or
// Slack sends can reach a log value). Properties: the line is one line, whatever the text
// holds (newlines, U+2028, quotes, `key=value`); read back as logfmt it has exactly the keys
// relbot wrote, so no text can forge a field or a line; and a token in the text never reaches
// the log.
#include "bot/log.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz.hpp"

using namespace relbot;

namespace {

// The keys of a logfmt line: `key=value` or `key="quoted \" value"`, separated by spaces.
// Empty when the line is not logfmt.
std::vector<std::string> keys_of(std::string_view line) {
    std::vector<std::string> keys;
    std::size_t i = 0;
    while (i < line.size()) {
        auto eq = line.find('=', i);
        if (eq == std::string_view::npos || eq == i) {
            return {};
        }
        keys.emplace_back(line.substr(i, eq - i));
        i = eq + 1;
        if (i < line.size() && line[i] == '"') {
            ++i;
            while (i < line.size() && line[i] != '"') {
                i += line[i] == '\\' ? 2 : 1;
            }
            if (i >= line.size()) {
                return {};  // unterminated
            }
            ++i;
        } else {
            while (i < line.size() && line[i] != ' ') {
                ++i;
            }
        }
        if (i < line.size()) {
            if (line[i] != ' ') {
                return {};
            }
            ++i;
        }
    }
    return keys;
}

std::size_t occurrences(std::string_view text, std::string_view part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = fuzz::text_of(data, size);
    std::string out;
    bot::log_line(bot::log_level::error, "fuzz.event", &out).kv("note", text).kv("after", "x");
    FUZZ_CHECK(!out.empty() && out.back() == '\n');
    std::string_view line(out.data(), out.size() - 1);
    FUZZ_CHECK(line.find('\n') == std::string_view::npos);
    FUZZ_CHECK(line.find('\r') == std::string_view::npos);
    FUZZ_CHECK(line.find("\u2028") == std::string_view::npos);
    FUZZ_CHECK(line.find("\u2029") == std::string_view::npos);
    FUZZ_CHECK(line.find("\u0085") == std::string_view::npos);
    FUZZ_CHECK(keys_of(line) == (std::vector<std::string>{"level", "event", "note", "after"}));
    FUZZ_CHECK(line.ends_with(" after=x"));

    // A bot token pasted anywhere in the text is redacted: its secret part is never in the
    // line more often than the text itself had it.
    auto at = size == 0 ? 0 : data[0] % (size + 1);
    auto with_token =
        std::string(text.substr(0, at)) + "xoxb-1234-5678-SECRETabc" + std::string(text.substr(at));
    std::string redacted;
    bot::log_line(bot::log_level::error, "fuzz.event", &redacted).kv("note", with_token);
    FUZZ_CHECK(occurrences(redacted, "SECRETabc") <= occurrences(text, "SECRETabc"));
    return 0;
}
