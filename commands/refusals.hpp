// Refusals in words. The rules (checklist/rules.hpp) say what was refused and who could do it,
// as data; this words it for the way the person came in: a typed `/release` command is told
// which command to type, a click (a button, a modal) is not told to type anything.
#pragma once

#include <string>

#include "checklist/release.hpp"
#include "checklist/rules.hpp"

namespace relbot::commands {

// How the person (or tool) came in: typed, clicked, or a signed signal from CI (bot/hooks),
// which may change any item as an admin may, and nothing else.
enum class way_in { command, click, signal };

// A closed gate's refusal (refused::gate_closed) up to what holds the phase, without how to
// move on anyway: what the manager's "move on anyway" form shows.
std::string gate_hold_words(const checklist::release& r, const checklist::refusal& no, way_in how);

// mrkdwn; `r` is the release the refusal is about, as it was when it was refused.
std::string word_refusal(const checklist::release& r,
                         const checklist::refusal& no,
                         way_in how = way_in::command);

}  // namespace relbot::commands
