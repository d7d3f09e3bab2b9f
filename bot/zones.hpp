// The system's time zone database (TZif files under $TZDIR, else /usr/share/zoneinfo) read into
// checklist::time_zone values, for freeze windows written in local time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checklist/freeze.hpp"
#include "checklist/zone.hpp"

namespace relbot::bot {

// The zone named `name` ("UTC", "Europe/Berlin"), read once and kept; null when there is no
// such zone (or its file cannot be read or is not a zone file).
std::shared_ptr<const checklist::time_zone> load_zone(std::string_view name);

// Reads the zone of every window. The first window naming an unknown zone is the answer:
// "<where>:<line>: …" (`where` is the template's file; empty for RELBOT_FREEZE: no place).
std::optional<std::string> resolve_zones(std::vector<checklist::freeze_window>& windows,
                                         std::string_view where);

}  // namespace relbot::bot
