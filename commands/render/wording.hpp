// Pieces of release text that several kinds of message share: an item's line, a phase's
// timing, the one-line summary of a release, durations. Used by the renderers only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "checklist/release.hpp"

namespace relbot::commands {

// An item as one mrkdwn line: state icon, ref, title, owner, due time, and its state note
// unless it is done; a checked item awaiting sign-offs says so first ("`2.4` ✅ awaiting 1
// sign-off").
std::string item_line(const checklist::item& i);

// Whether the item still holds its phase's gate (open or blocked).
bool is_unsettled(const checklist::item& i);

// "45s", "12m", "3h 5m", "2d 4h".
std::string human_duration(checklist::epoch_seconds s);

// The release's item with this ID, or nullptr (also when there is no ID).
const checklist::item* find_item(const checklist::release& r, std::optional<std::int64_t> id);

// "in progress", "finished" or "aborted".
std::string status_word(const checklist::release& r);

// How long the phase ran, "since <date>" while it runs, or "not reached".
std::string phase_timing(const checklist::release& r, const checklist::phase& p);

// Release manager, template, when it started and ended (or where it is now).
std::string summary_line(const checklist::release& r);

// A bold `title` line followed by one "• " line per item, or "*title*: none".
void add_list(std::vector<std::string>& lines,
              const std::string& title,
              const std::vector<std::string>& items);

}  // namespace relbot::commands
