// Durations as people type them: `45s`, `30m`, `2h`, `1d`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relbot::checklist {

// The longest duration parse_duration takes.
inline constexpr std::chrono::seconds max_duration = std::chrono::days(365);

// A positive whole number followed by one unit letter (s, m, h, d); nullopt otherwise,
// and for zero or anything over max_duration.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Whether `text` is written as a duration (a positive whole number and a unit letter) that is
// longer than max_duration, such as `99999d`: a reply can then say what the limit is instead
// of that it cannot read it.
bool is_duration_too_long(std::string_view text);

// Whether `text` is a duration of zero (`0s`, `00m`): written as one, but no time at all.
bool is_zero_duration(std::string_view text);

// The largest unit that divides evenly: 7200s -> "2h", 90s -> "90s".
std::string format_duration(std::chrono::seconds d);

}  // namespace relbot::checklist

namespace relbot::checklist {

// "2026-11-26 04:46 UTC" for epoch seconds (UTC, minutes precision).
std::string format_utc(std::int64_t epoch_seconds);

// "2026-11-26" and "04:46" (UTC) to epoch seconds; nullopt for anything else, including
// impossible dates such as 2026-02-30.
std::optional<std::int64_t> parse_utc_minutes(std::string_view date, std::string_view time);

}  // namespace relbot::checklist
