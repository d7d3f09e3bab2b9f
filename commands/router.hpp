// From a parsed `/release` command to its decision: one decide function per command
// (commands/decide_*.cpp). Pure: no storage, no network, no clock (time comes in the
// request); commands/apply.hpp loads what a decision reads and writes what it decides.
#pragma once

#include <cstddef>

#include "checklist/timeline.hpp"
#include "commands/decision.hpp"
#include "commands/parse.hpp"
#include "commands/render.hpp"

namespace relbot::commands {

// A report has at most this many messages: the acknowledgement and Slack's five
// response_url posts.
inline constexpr std::size_t max_reply_messages = 6;

// What `parsed` decides, given the request, the channel's active release and the lookups. May
// throw what the lookups throw.
decision decide(const command& parsed, const situation& s);

// The freeze windows that apply to `r`: its template's `## Freeze` and RELBOT_FREEZE.
std::vector<const checklist::freeze_window*> freeze_windows(const checklist::release& r,
                                                            const lookups& look);
// What keeps `r` out of its deployment phase at `now`, for its status message (nothing once
// it has entered that phase, or has none). May throw what the lookups throw.
deployment_outlook outlook_for(const checklist::release& r,
                               const lookups& look,
                               checklist::epoch_seconds now);

// The channel's last `count` finished releases (aborted ones are not counted), oldest first,
// each with its timeline and first reminders: what the trends are built from. May throw what
// the lookups throw.
std::vector<checklist::release_history> finished_histories(const lookups& look,
                                                           std::string_view channel,
                                                           int count);

// Whether the command may write (everything but help, status, list and bad input): the
// shell picks a write or a read transaction by this.
bool may_write(const command& parsed);

// Whether the command's decision looks at the channel's active release (everything but help,
// list and bad input): the shell loads the snapshot only then.
bool needs_release(const command& parsed);

}  // namespace relbot::commands
