// The Block Kit JSON of relbot's controls: buttons, the Snooze menu, the actions blocks that hold
// them, the compact overflow form, and the list of items with their controls that the status
// message and the DMs share (full form, or compact when the full one would not fit). Also what
// a message becomes after a click (settle_*). The vocabulary (labels, action ids, values) is
// commands/controls.hpp's; this file only draws it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "checklist/release.hpp"
#include "commands/controls.hpp"

namespace relbot::commands {

// The compact form's menu on an item's section: action_id "item.menu:<item_id>"; each option's
// value is "<action name>|<encoded target>" (e.g. "item.done|r4.i17").
inline constexpr std::string_view item_menu = "item.menu";

// One control on an item: a button (`label`), or the Snooze menu (act == item_snooze).
struct item_control {
    controls::action act;
    std::string_view label;
    controls::target target;
};

// A button; `discriminator` makes its action_id unique in the message (0: the bare name).
nlohmann::json button(controls::action a,
                      std::int64_t discriminator,
                      std::string_view label,
                      const controls::target& t,
                      std::string_view style = {});

// The Snooze static_select of an item: placeholder `Snooze`, options 1 hour, 4 hours,
// Tomorrow morning.
nlohmann::json snooze_select(std::int64_t release_id, std::int64_t item_id);

// The actions block "item:<item_id>" holding `cs`.
nlohmann::json item_actions_block(std::int64_t item_id, const std::vector<item_control>& cs);

// The compact form of `cs`: an overflow menu (the Snooze menu becomes its three options).
nlohmann::json item_overflow(std::int64_t item_id, const std::vector<item_control>& cs);

// Release-wide controls: the actions block "release:<release_id>" holding `elements`.
nlohmann::json release_actions_block(std::int64_t release_id, nlohmann::json elements);

// A monitoring checkpoint's answers: block "checkpoint:<release_id>:<n>", Healthy,
// Investigating, Roll back….
nlohmann::json checkpoint_actions_block(std::int64_t release_id, int n);

// The controls of an open or blocked item in the status message: Done, Skip…, Block… or
// Unblock, Assign…, Note…; of a checked item awaiting sign-offs: Approve; else none.
std::vector<item_control> status_item_controls(std::int64_t release_id, const checklist::item& it);
// An owner's item in a DM: Done, Snooze, Block….
std::vector<item_control> owner_item_controls(std::int64_t release_id, std::int64_t item_id);
// A checked item in the DM asking for its sign-off: Approve.
std::vector<item_control> approver_item_controls(std::int64_t release_id, std::int64_t item_id);
// An overdue item in the escalation DM: Remind again, Assign….
std::vector<item_control> escalation_item_controls(std::int64_t release_id, std::int64_t item_id);

// One item of a list: its mrkdwn line (holding its ref in backticks and its title), and its
// controls (none: a line only).
struct item_entry {
    std::string line;
    std::int64_t item_id = 0;
    std::vector<item_control> controls;
};

// Appends `items` to `blocks`, leaving `reserve_blocks` blocks and `reserve_text` characters for
// what comes after. Full form when it fits: a section per item, followed by its actions block
// "item:<id>". Else compact: a section per item with its controls as an overflow menu, as many
// as fit, and the rest as text lines ending "…and N more" if even those do not fit.
void append_items(nlohmann::json& blocks,
                  const std::vector<item_entry>& items,
                  std::size_t reserve_blocks,
                  std::size_t reserve_text);

// `blocks` with the controls of item `item_id` (its "item:<id>" actions block, or the overflow
// menu on its section) replaced by a context block saying `line` (mrkdwn). Other blocks are kept.
nlohmann::json settle_item_controls(const nlohmann::json& blocks,
                                    std::int64_t item_id,
                                    std::string_view line);

// `blocks` with every "release:<id>" actions block replaced by a context block saying `line`.
nlohmann::json settle_release_controls(const nlohmann::json& blocks, std::string_view line);

}  // namespace relbot::commands
