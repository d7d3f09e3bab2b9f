// A decision's lookups from memory: the releases, timelines, names and admins a test or a
// fuzz target sets up, with no database. For pure code only (tests/unit, fuzz/).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "checklist/template.hpp"
#include "commands/decision.hpp"

namespace relbot::test {

// Lookups from memory; `releases` may be of any channel. Counts the timeline reads.
class memory_lookups final : public commands::lookups {
public:
    checklist::template_library library;
    std::vector<std::string> admins{"UADMIN"};
    std::vector<checklist::release> releases;  // oldest first
    std::map<std::int64_t, std::vector<checklist::audit_entry>> timelines;
    std::vector<checklist::release_summary> summaries;
    std::unordered_map<std::string, std::string> names;
    mutable int timeline_reads = 0;

    const checklist::template_library& templates() const override { return library; }
    bool is_admin(std::string_view user) const override {
        for (const auto& a : admins) {
            if (a == user) {
                return true;
            }
        }
        return false;
    }
    std::optional<checklist::release> release_by_version(std::string_view channel,
                                                         std::string_view version) const override {
        for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
            if (it->channel == channel && it->version == version) {
                return *it;
            }
        }
        return std::nullopt;
    }
    std::optional<checklist::release> latest_release(std::string_view channel) const override {
        for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
            if (it->channel == channel) {
                return *it;
            }
        }
        return std::nullopt;
    }
    std::optional<checklist::release> release(std::int64_t id) const override {
        for (const auto& r : releases) {
            if (r.id == id) {
                return r;
            }
        }
        return std::nullopt;
    }
    std::vector<checklist::audit_entry> timeline(std::int64_t release_id) const override {
        ++timeline_reads;
        auto it = timelines.find(release_id);
        return it == timelines.end() ? std::vector<checklist::audit_entry>{} : it->second;
    }
    std::vector<checklist::release_summary> list_releases(std::string_view,
                                                          int limit) const override {
        auto out = summaries;
        if (out.size() > static_cast<std::size_t>(limit)) {
            out.resize(static_cast<std::size_t>(limit));
        }
        return out;
    }
    std::unordered_map<std::string, std::string> user_names() const override { return names; }
    std::map<std::string, int> zones;
    std::optional<int> time_zone_offset(std::string_view user) const override {
        auto it = zones.find(std::string(user));
        return it == zones.end() ? std::nullopt : std::optional<int>(it->second);
    }
    commands::policy_settings policy;  // RELBOT_FREEZE and RELBOT_ONE_DEPLOY_AT_A_TIME
    const commands::policy_settings& settings() const override { return policy; }
    // Another channel's release deploying, for every channel asked about: (version, channel).
    std::optional<std::pair<std::string, std::string>> deploying;
    std::optional<std::pair<std::string, std::string>> deploying_elsewhere(
        std::string_view) const override {
        return deploying;
    }
};

}  // namespace relbot::test
