// What a click or a modal submission decides: the same decisions as the typed commands (a
// click is a command with another way in), plus what only clicks have: a modal to open, the
// clicked message brought up to date, stale and forged buttons answered. Pure, like every
// decide function: commands/apply.cpp loads the release a control names and writes the result.
#pragma once

#include <string>
#include <string_view>

#include "checklist/release.hpp"
#include "commands/decision.hpp"
#include "commands/interaction.hpp"

namespace relbot::commands {

// The request a click or a submission stands for: the person, the release's channel, `now`.
request request_of_click(const click& c,
                         const snapshot& target,
                         checklist::epoch_seconds now,
                         const std::string& channel);

// A click on one of relbot's controls. `target` is the release its value names (whatever its
// state; null if there is none); `key` names this click for good (its envelope id), so every
// message it causes has a key of its own. The answer's ack_json is "{}" (Slack wants nothing
// back for a click); `open_view` is set when the click opens a modal.
decision decide_click(const click& c, const situation& s, std::string_view key);

// A checkpoint answered from a click or the rollback modal (`reason` for a rollback): recorded,
// announced when it holds or rolls back, and the clicked message shows it.
decision decide_checkpoint_answer(const click& c,
                                  const situation& s,
                                  checklist::checkpoint_answer a,
                                  std::string_view key,
                                  const std::string& reason);

// A modal submitted. For the start modal `s.active` is the chosen channel's active release;
// otherwise the release the modal is about. The ack is "{}" (the modal closes) or
// `response_action: errors` keyed by the input's block_id (nothing changes).
decision decide_submission(const submission& sub, const situation& s, std::string_view key);

// What a submission fails on before any rule is asked: a required input empty or only
// whitespace, text over 3,000 characters, a due time in the past (other than `kept_due`, the
// item's own, given back unchanged), an unknown template. By block_id; empty when the inputs
// are good.
std::map<std::string, std::string> validate(
    const submission& sub,
    const checklist::template_library& templates,
    checklist::epoch_seconds now,
    std::optional<checklist::epoch_seconds> kept_due = std::nullopt);

}  // namespace relbot::commands
