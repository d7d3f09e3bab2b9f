// What the sandbox reads in Block Kit to play a person's clicks and modal submissions: the
// controls a message or view offers (by visible label, in the scope of one item), and the typed
// `state.values` Slack sends with a view_submission. Pure functions of JSON; no I/O, no clock.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace relbot::sim {

// What a person means to click: the control's visible text (a button's text, an overflow
// option's text, or a static_select's placeholder with `option` naming the option by text or
// value), optionally only on the item whose describing section contains `match`.
struct click_target {
    std::string label;
    std::string match;   // "": any
    std::string option;  // for a static_select: the option to choose
};

// The `actions[]` entry of a block_actions payload for that control (type, action_id,
// block_id, and value / selected_option / text; no action_ts), or nullopt when `blocks` has
// no such control. Every visible label met is appended to `seen` (for an error that says
// what there was).
std::optional<nlohmann::json> find_control(const nlohmann::json& blocks,
                                           const click_target& target,
                                           std::vector<std::string>& seen);

// The `actions[]` entry for the control with `action_id` in the block with `block_id` ("": any
// block), as find_control builds it; for an overflow menu or a static_select, `option_value`
// names the option chosen (by value). nullopt when there is no such control or option. (The
// web page clicks a control it drew, by id, rather than by label.)
std::optional<nlohmann::json> control_by_id(const nlohmann::json& blocks,
                                            const std::string& block_id,
                                            const std::string& action_id,
                                            const std::string& option_value);

// The controls of one block, drawn for a terminal on one line: `[Done] [Skip…]`, a select as
// `[Snooze ▾]`, an overflow menu as `[⋯ Done|Skip…]`; "" when the block has none.
std::string draw_controls(const nlohmann::json& block);

// One input of a modal: its block_id, label, the element's action_id and type, whether it
// is optional, and (for a static_select) its options' texts.
struct view_input {
    std::string block_id;
    std::string label;
    std::string action_id;
    std::string type;
    bool optional = false;
    std::vector<std::string> options;
};
std::vector<view_input> view_inputs(const nlohmann::json& view);

// `state.values` for a view_submission of `view` with the person's `given` answers
// ({block_id: value}); each input is typed per its element (plain_text_input → value,
// users_select → selected_user, datetimepicker → selected_date_time (epoch int),
// static_select → selected_option, conversations_select → selected_conversation, …), and an
// input not given comes back with its value field null. On a bad answer (unknown block_id,
// an option the select lacks, a date-time that is not a number) returns the reason in `error`.
nlohmann::json submission_values(const nlohmann::json& view,
                                 const nlohmann::json& given,
                                 std::string& error);

}  // namespace relbot::sim
