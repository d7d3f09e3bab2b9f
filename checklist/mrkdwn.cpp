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

std::string_view trim(std::string_view text) {
    constexpr std::string_view space = " \t\n\r\v\f";
    auto first = text.find_first_not_of(space);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

std::string one_line(std::string_view text) {
    constexpr std::string_view fold = " \xE2\x8F\x8E ";  // " ⏎ "
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        auto rest = text.substr(i);
        if (c == '\r' && rest.starts_with("\r\n")) {
            continue;  // the "\n" that follows folds both
        }
        if (c == '\n' || c == '\r') {
            out += fold;
        } else if (rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9")) {
            out += fold;  // U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR
            i += 2;
        } else if (rest.starts_with("\xC2\x85")) {
            out += fold;  // U+0085 NEXT LINE
            i += 1;
        } else if (c < 0x20 || c == 0x7F) {
            out.push_back(' ');
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
    auto word =
        n == 1 ? std::string(one) : (many.empty() ? std::string(one) + "s" : std::string(many));
    return std::to_string(n) + " " + word;
}

std::string plain_text(std::string_view mrkdwn) {
    auto unmarked = [](std::string_view text) {
        std::string kept;
        for (char c : text) {
            if (c != '`' && c != '*') {
                kept.push_back(c);
            }
        }
        return kept;
    };
    std::string out;
    for (std::size_t i = 0; i < mrkdwn.size();) {
        char c = mrkdwn[i];
        if (c == '`' || c == '*') {
            ++i;
            continue;
        }
        auto close = c == '<' ? mrkdwn.find('>', i) : std::string_view::npos;
        if (close == std::string_view::npos) {
            out.push_back(c);
            ++i;
            continue;
        }
        auto inside = mrkdwn.substr(i + 1, close - i - 1);
        auto bar = inside.find('|');
        auto target = inside.substr(0, bar);
        auto label = bar == std::string_view::npos ? std::string_view() : inside.substr(bar + 1);
        if (target.starts_with("!date^")) {
            out += unmarked(label);
        } else if (target.starts_with('@') || target.starts_with('#')) {
            out += label.empty() ? std::string(target)
                                 : std::string(target.substr(0, 1)) + unmarked(label);
        } else if (!label.empty()) {
            out += unmarked(label) + " (" + std::string(target) + ")";
        } else {
            out += target;
        }
        i = close + 1;
    }
    return unescape_slack(out);
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
