// Slack text escaping. Properties: escaping then unescaping gives the text back, and so does
// reading it as plain text (but for code and bold marks); the escaped
// text has no `<` or `>` at all, so no `<!channel>`, `<@U…>` or link can be live in it unless
// relbot wrote one around it; `one_line` leaves no line break; `truncate_utf8` stays within its
// budget and never cuts a UTF-8 character that was whole.
#include "checklist/mrkdwn.hpp"

#include <cstdint>
#include <string>

#include "fuzz/fuzz.hpp"

using namespace relbot;

namespace {

// Whether `text` is well-formed UTF-8 (no stray continuation bytes, no truncated sequence).
bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t n = c < 0x80           ? 1
                        : (c >> 5) == 0x6  ? 2
                        : (c >> 4) == 0xE  ? 3
                        : (c >> 3) == 0x1E ? 4
                                           : 0;
        if (n == 0 || i + n > text.size()) {
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = fuzz::text_of(data, size);

    auto escaped = checklist::escape_mrkdwn(text);
    FUZZ_CHECK(escaped.find('<') == std::string::npos);
    FUZZ_CHECK(escaped.find('>') == std::string::npos);
    FUZZ_CHECK(checklist::unescape_slack(escaped) == text);
    // What relbot writes around user text is a mention or a link of its own: the text inside
    // stays text.
    auto wrapped = "<https://example.test/|" + escaped + ">";
    FUZZ_CHECK(wrapped.find('>') == wrapped.size() - 1);
    // Read as plain text (a signal's error in a CI log), escaped user text is the text again,
    // but for the code and bold marks; any input reads without trouble.
    std::string unmarked;
    for (char c : text) {
        if (c != '`' && c != '*') {
            unmarked.push_back(c);
        }
    }
    FUZZ_CHECK(checklist::plain_text(escaped) == unmarked);
    // (A link with no text reads as its address.)
    FUZZ_CHECK(checklist::plain_text(wrapped) == (escaped.empty()
                                                      ? std::string("https://example.test/")
                                                      : unmarked + " (https://example.test/)"));
    (void)checklist::plain_text(text);

    auto line = checklist::one_line(text);
    FUZZ_CHECK(line.find('\n') == std::string::npos);
    FUZZ_CHECK(line.find('\r') == std::string::npos);
    FUZZ_CHECK(line.find("\u2028") == std::string::npos);
    FUZZ_CHECK(line.find("\u2029") == std::string::npos);
    FUZZ_CHECK(line.find("\u0085") == std::string::npos);

    std::size_t budget = size == 0 ? 0 : data[0];
    auto cut = checklist::truncate_utf8(text, budget);
    FUZZ_CHECK(cut.size() <= budget);
    if (text.size() <= budget) {
        FUZZ_CHECK(cut == text);
    }
    if (valid_utf8(text)) {
        FUZZ_CHECK(valid_utf8(cut));
    }
    return 0;
}
