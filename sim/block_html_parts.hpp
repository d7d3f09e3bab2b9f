// What block_html.cpp (blocks, controls) and block_html_forms.cpp (inputs, modals, messages)
// share; not for other files (see block_html.hpp).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "sim/block_html.hpp"

namespace relbot::sim::web::detail {

// The member `key` of `j`, or null when `j` is not an object or has no such member.
const nlohmann::json& member(const nlohmann::json& j, std::string_view key);
// The string at `key`, or "" for any other shape.
std::string string_at(const nlohmann::json& j, std::string_view key);
// ` name="value"` with the value escaped.
std::string attr(std::string_view name, std::string_view value);
// A text object's text as plain text (escaped, emoji as glyphs), whatever its type.
std::string plain_html(const nlohmann::json& text_object);

// What a block is rendered with: its place, its block_id, and what only modals have.
struct spot {
    const message_place& where;
    std::string block_id;
    const nlohmann::json& errors;                        // block_id → error text
    const std::map<std::string, std::string>& channels;  // channel id → name
};

// The blocks, each as blocks_to_html draws it, in `at`'s place with its errors and channels.
std::string blocks_html(const nlohmann::json& blocks, const spot& at);
// An input block's inside: label, field, hint, error (block_html_forms.cpp).
std::string input_html(const nlohmann::json& block, const spot& at);
// The <option>s of a select element of `type` (users_select, static_select, or a channel select).
std::string select_options(const nlohmann::json& element,
                           std::string_view type,
                           std::string_view selected,
                           const std::map<std::string, std::string>& channels);
// The first, disabled <option>: the element's placeholder (or `fallback`), selected unless
// `has_selection`.
std::string placeholder_option(const nlohmann::json& element,
                               std::string_view fallback,
                               bool has_selection);
// The value a select starts with: initial_option's value, initial_user, initial_conversation or
// initial_channel (the demo channel when default_to_current_conversation), or "".
std::string initial_value(const nlohmann::json& element,
                          const std::map<std::string, std::string>& channels);

}  // namespace relbot::sim::web::detail
