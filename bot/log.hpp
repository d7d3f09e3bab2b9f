// Logging: one logfmt line per event on stderr (`level=info event=ws.connected host=…`).
// Every value passes through redact(), so a token or a WebSocket ticket is never printed.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

namespace relbot::bot {

enum class log_level { error = 0, warn = 1, info = 2, debug = 3 };

std::optional<log_level> parse_log_level(std::string_view s);
void set_log_level(log_level level);
bool log_enabled(log_level level);

// Replaces Slack tokens (xoxb-, xapp-, xoxp-, …) and `ticket=` values with "[redacted]".
std::string redact(std::string_view text);

// Builds one line and writes it when destroyed: `log_info("ws.hello").kv("host", h);`
class log_line {
public:
    log_line(log_level level, std::string_view event);
    // The same, appending the finished line to `*into` instead of writing it (a caller that
    // logs many lines at once writes them together with write_log_lines).
    log_line(log_level level, std::string_view event, std::string* into);
    ~log_line();
    log_line(const log_line&) = delete;
    log_line& operator=(const log_line&) = delete;

    log_line& kv(std::string_view key, std::string_view value);
    log_line& kv(std::string_view key, const char* value) {
        return kv(key, std::string_view(value));
    }
    log_line& kv(std::string_view key, const std::string& value) {
        return kv(key, std::string_view(value));
    }
    log_line& kv(std::string_view key, bool value) { return kv(key, value ? "true" : "false"); }
    template <typename Number>
    requires std::is_arithmetic_v<Number> log_line& kv(std::string_view key, Number value) {
        return kv(key, std::string_view(std::to_string(value)));
    }

private:
    bool enabled_;
    std::string line_;
    std::string* into_ = nullptr;
};

// Writes whole lines gathered with log_line(…, into) in one write, and empties `lines`.
void write_log_lines(std::string& lines);

inline log_line log_error(std::string_view event) {
    return {log_level::error, event};
}
inline log_line log_warn(std::string_view event) {
    return {log_level::warn, event};
}
inline log_line log_info(std::string_view event) {
    return {log_level::info, event};
}
inline log_line log_debug(std::string_view event) {
    return {log_level::debug, event};
}

}  // namespace relbot::bot
