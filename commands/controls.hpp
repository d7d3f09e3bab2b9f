// The controls relbot puts in its messages and views, as one vocabulary shared by what draws them
// (commands/render/) and what reads a click on them (commands/interaction.cpp): the visible
// labels (part of the contract), the `action_id` of each control, what a control's `value`
// carries, and the `callback_id`s and `block_id`s of the modals. Pure; no JSON here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relbot::commands::controls {

// --- labels (README, "Click instead of type") ---------------------------------------------
inline constexpr std::string_view label_done = "Done";
inline constexpr std::string_view label_skip = "Skip…";
inline constexpr std::string_view label_block = "Block…";
inline constexpr std::string_view label_unblock = "Unblock";
inline constexpr std::string_view label_assign = "Assign…";
inline constexpr std::string_view label_note = "Note…";
inline constexpr std::string_view label_next = "Next phase";
inline constexpr std::string_view label_finish = "Finish";
inline constexpr std::string_view label_remind = "Remind owners";
inline constexpr std::string_view label_snooze = "Snooze";  // a static_select's placeholder
inline constexpr std::string_view label_snooze_1h = "1 hour";
inline constexpr std::string_view label_snooze_4h = "4 hours";
inline constexpr std::string_view label_snooze_morning = "Tomorrow morning";
inline constexpr std::string_view label_remind_again = "Remind again";
inline constexpr std::string_view label_accept = "Accept handoff";
inline constexpr std::string_view label_healthy = "Healthy";
inline constexpr std::string_view label_investigating = "Investigating";
inline constexpr std::string_view label_roll_back = "Roll back…";
inline constexpr std::string_view label_start = "Start a release…";
inline constexpr std::string_view label_approve = "Approve";

// --- action ids: what a control does ---------------------------------------------------------
// Every control's `action_id` is one of these (Slack requires action_ids to be unique within a
// message, so a control on an item appends ":" and the item's id: "item.done:42"; the reader
// takes the part before the first ':').
enum class action {
    item_done,                 // button Done (status message, status reply, DMs, App Home)
    item_skip,                 // button Skip…: opens the skip modal
    item_block,                // button Block…: opens the block modal
    item_unblock,              // button Unblock
    item_assign,               // button Assign…: opens the assign modal
    item_note,                 // button Note…: opens the note modal
    phase_next,                // button Next phase
    release_finish,            // button Finish
    remind_owners,             // button Remind owners
    item_snooze,               // static_select Snooze; the chosen option's value says how long
    remind_again,              // button Remind again (escalation DM)
    handoff_accept,            // button Accept handoff
    checkpoint_healthy,        // button Healthy
    checkpoint_investigating,  // button Investigating
    checkpoint_roll_back,      // button Roll back…: opens the rollback modal
    start_release,             // button Start a release… (App Home): opens the start modal
    item_approve,              // button Approve: a sign-off on a checked item
};

// "item.done", "item.skip", … (stable: stored in messages people still have).
std::string_view to_string(action a);
// The action of an `action_id` ("item.done:42" → item_done); nullopt for anything else.
std::optional<action> parse_action_id(std::string_view action_id);
// An action_id unique within a message: "item.done:42"; `discriminator` 0 → "item.done".
std::string action_id(action a, std::int64_t discriminator = 0);

// --- values: what a control acts on ----------------------------------------------------------
// A control's `value` names the release and, for item controls, the item (by their database
// ids), for a checkpoint its number (1-based), and for Next phase and Finish the phase they
// were drawn in (its position, so a second click, or one on an old message, does not move the
// release on again). Text: "r42", "r42.i317", "r42.c2", "r42.p3"; a snooze option's value adds
// how long: "r42.i317.s1h", "r42.i317.s4h", "r42.i317.smorning".
// Nothing in a value is trusted: the reader loads the release by id and checks every rule.
enum class snooze_for { none, one_hour, four_hours, tomorrow_morning };

struct target {
    std::int64_t release_id = 0;
    std::int64_t item_id = 0;  // 0: none
    int checkpoint = 0;        // 0: none; else 1-based
    snooze_for snooze = snooze_for::none;
    int phase = 0;  // 0: none (values written before phases were); else the phase's position

    friend bool operator==(const target&, const target&) = default;
};

std::string encode(const target& t);
// nullopt for anything encode() does not write (a forged or foreign value).
std::optional<target> decode(std::string_view value);

// --- modals ----------------------------------------------------------------------------------
// A modal's `callback_id`; its `private_metadata` is JSON written by render and read back by
// interaction.cpp: {"t": "<encoded target>", "ch": "<channel of the click>",
// "ts": "<ts of the message clicked>", "ru": "<response_url of the click, if any>",
// "src": "status|reply|dm|home|checkpoint"}; every field optional.
enum class modal {
    skip,        // reason (required)
    block,       // reason (required)
    note,        // text (required)
    assign,      // owner (users_select, required), due (datetimepicker, optional)
    rollback,    // reason (required); from a checkpoint's Roll back…
    next_force,  // reason (required); Next phase on a gate that is not met, by the manager
    start,       // channel, version, template, owners_from
    check,       // note (required): Done on an item whose policy asks for a link or a note
};

std::string_view to_string(modal m);  // "skip", "block", …
std::optional<modal> parse_modal(std::string_view callback_id);

// The `block_id`s of the modals' inputs (errors in `response_action: errors` are keyed by
// them); each input's element has action_id "value".
inline constexpr std::string_view block_reason = "reason";
inline constexpr std::string_view block_note = "note";
inline constexpr std::string_view block_owner = "owner";
inline constexpr std::string_view block_due = "due";
inline constexpr std::string_view block_channel = "channel";
inline constexpr std::string_view block_version = "version";
inline constexpr std::string_view block_template = "template";
inline constexpr std::string_view block_owners_from = "owners_from";
inline constexpr std::string_view element_value = "value";

}  // namespace relbot::commands::controls
