// What a channel asks to see: the command list, the releases, and the release's checklist (the
// status reply and the living status message that relbot keeps up to date).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "checklist/freeze.hpp"
#include "checklist/records.hpp"
#include "checklist/release.hpp"
#include "commands/render/blocks.hpp"

namespace relbot::commands {

// The command list, built from the command table.
message render_help();

// What keeps a release that has not yet entered its deployment phase from entering it now: a
// freeze window covering now, another channel's release deploying (one deployment at a time).
// The status says "frozen until <end> (<reason>)" or "waiting for <version> in <channel>".
struct deployment_outlook {
    std::optional<checklist::freeze_state> frozen;
    std::string waiting_for_version;  // empty: not waiting
    std::string waiting_for_channel;
    friend bool operator==(const deployment_outlook&, const deployment_outlook&) = default;
};

// The release's checklist: every phase with its progress, the current phase's items in full;
// `outlook`'s lines under the phases.
message render_status(const checklist::release& r, const deployment_outlook& outlook = {});

// `/release list`: the channel's releases, newest first.
message render_list(const std::vector<checklist::release_summary>& releases);

}  // namespace relbot::commands
