// What the sandbox's web page shows one person, as JSON with HTML fragments: pure functions of
// what the sandbox holds (server::surfaces_of) and the time, so they are unit-tested.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace relbot::sim::web {

// A line of relbot's that names a time still to come: an item's due time (its owner is
// reminded from then on), the next monitoring checkpoint, the end of a phase's window.
struct upcoming_line {
    std::int64_t at = 0;  // the time named (`<!date^…>`), epoch seconds
    std::string mrkdwn;   // the line as relbot wrote it
};

// The lines of `messages` (stored messages: their blocks' texts, else their `text`) that name a
// time after `now`, soonest first, each line once, at most `max`.
std::vector<upcoming_line> upcoming(const nlohmann::json& messages,
                                    std::int64_t now,
                                    std::size_t max = 6);

// The page's state for `user`: {"user", "channel": {"id", "name", "html"}, "dm": {"html",
// "count"}, "home": {"html"} ("" until relbot published one), "modal": null or {"key", "html"},
// "upcoming": [{"at", "html"}]}. `surfaces` is server::surfaces_of(user, channel).
nlohmann::json page_state(const nlohmann::json& surfaces,
                          const std::string& user,
                          const std::string& channel_id,
                          const std::string& channel_name,
                          std::int64_t now);

}  // namespace relbot::sim::web
