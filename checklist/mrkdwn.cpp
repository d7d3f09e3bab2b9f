// Slack text escaping and safe truncation.
#include "checklist/mrkdwn.hpp"

#include "checklist/duration.hpp"

namespace relbot::checklist {

std::string escape_mrkdwn(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

std::string unescape_slack(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '&') {
            auto rest = text.substr(i);
            if (rest.starts_with("&amp;")) {
                out.push_back('&');
                i += 5;
                continue;
            }
            if (rest.starts_with("&lt;")) {
                out.push_back('<');
                i += 4;
                continue;
            }
            if (rest.starts_with("&gt;")) {
                out.push_back('>');
                i += 4;
                continue;
            }
        }
        out.push_back(text[i]);
        ++i;
    }
    return out;
}

std::string date_token(std::int64_t epoch_seconds) {
    return "<!date^" + std::to_string(epoch_seconds) + "^{date_short_pretty} {time}|" +
           format_utc(epoch_seconds) + ">";
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) {
        return std::string(text);
    }
    constexpr std::string_view ellipsis = "\xE2\x80\xA6";  // U+2026
    if (max_bytes < ellipsis.size()) {
        return {};
    }
    auto cut = max_bytes - ellipsis.size();
    // Step back over continuation bytes (10xxxxxx) so a character is never split.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    return std::string(text.substr(0, cut)) + std::string(ellipsis);
}

}  // namespace relbot::checklist
