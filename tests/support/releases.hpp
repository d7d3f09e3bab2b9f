// Releases for tests: the built-in standard template made into a release, unstored or with ids
// as storage would give them (the release's and every item's), without a database.
#pragma once

#include <cstdint>
#include <string>

#include "checklist/release.hpp"
#include "checklist/template.hpp"

namespace relbot::test {

// The standard release `version` in `channel`, managed by `manager`, started at `started`, as
// `start` makes it: not stored yet (no ids).
inline checklist::release standard_release(const std::string& channel,
                                           const std::string& version,
                                           const std::string& manager,
                                           checklist::epoch_seconds started) {
    checklist::template_library lib;
    return checklist::make_release(*lib.find("standard"), channel, version, manager, started);
}

// The standard release as above; the release's id is `release_id` and its items are numbered
// from `first_item_id` in order.
inline checklist::release numbered_standard_release(const std::string& channel,
                                                    const std::string& version,
                                                    const std::string& manager,
                                                    checklist::epoch_seconds started,
                                                    std::int64_t release_id = 7,
                                                    std::int64_t first_item_id = 100) {
    auto r = standard_release(channel, version, manager, started);
    r.id = release_id;
    std::int64_t id = first_item_id;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.id = id++;
        }
    }
    return r;
}

}  // namespace relbot::test
