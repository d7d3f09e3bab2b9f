// What a channel asks to see: the command list, the releases, and the release's checklist (the
// status reply and the living status message that relbot keeps up to date).
#pragma once

#include <vector>

#include "checklist/records.hpp"
#include "checklist/release.hpp"
#include "commands/render/blocks.hpp"

namespace relbot::commands {

// The command list, built from the command table.
message render_help();

// The release's checklist: every phase with its progress, the current phase's items in full.
message render_status(const checklist::release& r);

// `/release list`: the channel's releases, newest first.
message render_list(const std::vector<checklist::release_summary>& releases);

}  // namespace relbot::commands
