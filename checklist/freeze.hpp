// Freeze windows (contract: "Release policy in the template"): times when nobody enters the
// deployment phase, one-off ("2026-12-20 00:00 to 2027-01-04 08:00 UTC: holidays") or weekly
// ("Fri 15:00 to Mon 08:00 Europe/Berlin: weekend"), in a named time zone. A template's
// `## Freeze` section lists them one per `- ` line; RELBOT_FREEZE the same lines, split by `;`.
// Pure: zones come in already read (checklist/zone.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "checklist/zone.hpp"

namespace relbot::checklist {

struct freeze_window {
    std::string text;  // as written, without the "- ": what a report writes back
    bool weekly = false;
    // One-off: the wall times (Unix seconds as if the zone were UTC). Weekly: minutes from
    // Monday 00:00 (0 to 7 × 1440 − 1).
    std::int64_t from = 0;
    std::int64_t to = 0;
    std::string zone_name;  // "UTC", "Europe/Berlin"
    std::string reason;
    int line = 0;  // 1-based line in the template; 0 for RELBOT_FREEZE
    // The zone, once the caller has read it (bot/zones.cpp); null means not read yet, which
    // active_freeze treats as UTC only for zone_name "UTC".
    std::shared_ptr<const time_zone> zone = {};

    // The same window: everything else is read from the text (and the zone from its name).
    friend bool operator==(const freeze_window& a, const freeze_window& b) {
        return a.text == b.text;
    }
};

// Reads one window ("2026-12-20 00:00 to 2027-01-04 08:00 UTC: holidays", "Fri 15:00 to Mon
// 08:00 Europe/Berlin: weekend"); a sentence that says how to write it on failure. The zone
// name is checked for its form only. A one-off window must end after it starts; a weekly one
// may wrap around the week's end, but not start and end at the same time.
std::variant<freeze_window, std::string> read_freeze_window(std::string_view text);

// RELBOT_FREEZE: windows separated by `;`; the first problem, naming the window, on failure.
std::variant<std::vector<freeze_window>, std::string> read_freeze_list(std::string_view text);

// The freeze that covers `now`: when it ends (the end of the last of a chain of windows that
// overlap or touch) and the reason of the window that covers `now` (the first listed).
struct freeze_state {
    std::int64_t until = 0;
    std::string reason;
    std::int64_t since = 0;  // when the window that holds `now` began
    friend bool operator==(const freeze_state&, const freeze_state&) = default;
};
std::optional<freeze_state> active_freeze(const std::vector<const freeze_window*>& windows,
                                          std::int64_t now);

// The first moment after `now` when one of the windows begins or ends (nullopt: none will),
// when what active_freeze says may change.
std::optional<std::int64_t> next_freeze_change(const std::vector<const freeze_window*>& windows,
                                               std::int64_t now);

}  // namespace relbot::checklist
