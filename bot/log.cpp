// logfmt lines on stderr, with secrets redacted.
#include "bot/log.hpp"

#include <array>
#include <atomic>
#include <cstdio>

namespace relbot::bot {
namespace {

std::atomic<int> current_level{static_cast<int>(log_level::info)};

std::string_view level_name(log_level l) {
    switch (l) {
        case log_level::error:
            return "error";
        case log_level::warn:
            return "warn";
        case log_level::info:
            return "info";
        case log_level::debug:
            return "debug";
    }
    return "info";
}

bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '%';
}

// U+0085, U+2028 and U+2029: line breaks to some readers of logs.
std::size_t unicode_line_break_at(std::string_view rest) {
    if (rest.starts_with("\xC2\x85")) {
        return 2;
    }
    if (rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9")) {
        return 3;
    }
    return 0;
}

void append_value(std::string& out, std::string_view value) {
    bool plain = !value.empty();
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if (c == ' ' || c == '"' || c == '=' || c == '\\' || u < 0x20 || u == 0x7F || u == 0xC2 ||
            u == 0xE2) {
            plain = false;  // 0xC2, 0xE2: may start a Unicode line break; looked at below
            break;
        }
    }
    if (plain) {
        out += value;
        return;
    }
    out.push_back('"');
    for (std::size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (auto n = unicode_line_break_at(value.substr(i))) {
            out += n == 2 ? "\\u0085" : value[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
            i += n - 1;
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == '\x7F') {
                    out.push_back('?');
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

}  // namespace

std::optional<log_level> parse_log_level(std::string_view s) {
    for (auto l : {log_level::error, log_level::warn, log_level::info, log_level::debug}) {
        if (level_name(l) == s) {
            return l;
        }
    }
    return std::nullopt;
}

void set_log_level(log_level level) {
    current_level.store(static_cast<int>(level));
}

bool log_enabled(log_level level) {
    return static_cast<int>(level) <= current_level.load();
}

std::string redact(std::string_view text) {
    constexpr std::array<std::string_view, 7> secret_prefixes = {
        "xoxb-", "xapp-", "xoxp-", "xoxa-", "xoxr-", "xoxe-", "ticket="};
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        bool matched = false;
        for (auto prefix : secret_prefixes) {
            // The prefix alone ("copy the xoxb- token" in a hint) is no secret: a token has
            // characters after it.
            bool token_follows =
                i + prefix.size() < text.size() && is_token_char(text[i + prefix.size()]);
            if (text.substr(i, prefix.size()) == prefix && token_follows) {
                out += prefix.back() == '=' ? "ticket=[redacted]" : "[redacted]";
                i += prefix.size();
                while (i < text.size() && is_token_char(text[i])) {
                    ++i;
                }
                matched = true;
                break;
            }
        }
        if (!matched) {
            out.push_back(text[i]);
            ++i;
        }
    }
    return out;
}

log_line::log_line(log_level level, std::string_view event) : enabled_(log_enabled(level)) {
    if (enabled_) {
        line_ = "level=";
        line_ += level_name(level);
        line_ += " event=";
        append_value(line_, event);
    }
}

log_line::log_line(log_level level, std::string_view event, std::string* into)
    : log_line(level, event) {
    into_ = into;
}

log_line::~log_line() {
    if (enabled_ && into_ != nullptr) {
        *into_ += line_;
        into_->push_back('\n');
        return;
    }
    if (enabled_) {
        line_.push_back('\n');
        // One fwrite per line: lines from one process never interleave.
        std::fwrite(line_.data(), 1, line_.size(), stderr);
        std::fflush(stderr);
    }
}

log_line& log_line::kv(std::string_view key, std::string_view value) {
    if (enabled_) {
        line_.push_back(' ');
        line_ += key;
        line_.push_back('=');
        // Every secret prefix starts with "xo", "xapp-" or "ticket=": without one, redact()
        // would give the value back as it is.
        bool may_hold_secret = value.find("xo") != std::string_view::npos ||
                               value.find("xapp-") != std::string_view::npos ||
                               value.find("ticket=") != std::string_view::npos;
        if (may_hold_secret) {
            append_value(line_, redact(value));
        } else {
            append_value(line_, value);
        }
    }
    return *this;
}

void write_log_lines(std::string& lines) {
    if (!lines.empty()) {
        // Whole lines only, in one write: they never interleave with another thread's.
        std::fwrite(lines.data(), 1, lines.size(), stderr);
        std::fflush(stderr);
        lines.clear();
    }
}

}  // namespace relbot::bot
