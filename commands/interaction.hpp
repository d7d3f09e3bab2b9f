// A click or a modal submission as Slack delivers it (an `interactive` envelope's payload),
// read into typed values: who, where, which control, what it names, what was typed. Pure: JSON
// in, values out; nothing in the payload is trusted beyond its shape (the decisions load the
// release a value names and check every rule).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "commands/controls.hpp"

namespace relbot::commands {

// Where the clicked control was.
enum class surface {
    message,    // a message in a channel or a DM (chat.update can change it)
    ephemeral,  // an ephemeral reply (only its response_url can change it)
    home,       // the App Home tab
};

// What a modal remembers of the click that opened it (its private_metadata).
struct view_origin {
    controls::target target;
    std::string channel;       // the clicked message's channel (C…, D…), empty from Home
    std::string message_ts;    // the clicked message's ts
    std::string response_url;  // the click's response_url, if it had one
    surface where = surface::message;
    std::string what;  // what the modal is for beyond its kind ("finish" for a forced finish)

    // The private_metadata text, and back (nullopt: not ours or damaged).
    std::string to_metadata() const;
    static std::optional<view_origin> from_metadata(std::string_view text);
};

// A control clicked (block_actions, one action).
struct click {
    std::string team;
    std::string user;
    std::string trigger_id;
    std::string response_url;  // empty from Home
    surface where = surface::message;
    std::string channel;     // the container's channel; empty from Home
    std::string message_ts;  // the container's message; empty from Home
    nlohmann::json message_blocks = nlohmann::json::array();  // the clicked message's blocks
    std::string message_text;                                 // and its fallback text
    controls::action act = controls::action::item_done;
    controls::target target;

    // Where a modal this click opens should send its result.
    view_origin origin() const;
};

// A modal submitted (view_submission).
struct submission {
    std::string team;
    std::string user;
    controls::modal kind = controls::modal::note;
    view_origin origin;
    // The inputs by block_id: a text's value, a selected user/conversation/option value, or a
    // date-time as epoch seconds in decimal. An input left empty is absent.
    std::map<std::string, std::string> values;

    // The value of `block_id`, trimmed; "" when absent.
    std::string value(std::string_view block_id) const;
};

// An interactive payload relbot does not act on, and why (for the log).
struct unusable_interaction {
    std::string reason;
    std::string limit = {};  // the limit it passed ("submission_inputs"), if that is why
};

// The most inputs a submission may carry: relbot's modals have at most five. A payload with
// more is not relbot's modal as drawn, and is not read.
inline constexpr std::size_t max_submission_inputs = 16;

using interaction = std::variant<click, submission, unusable_interaction>;

// Reads a `block_actions` or `view_submission` payload. Anything else, a control that is not
// ours, a value that does not decode, or a payload without a user is `unusable_interaction`.
interaction read_interaction(const nlohmann::json& payload);

}  // namespace relbot::commands
