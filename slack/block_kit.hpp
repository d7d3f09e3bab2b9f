// What Slack counts in a Block Kit message, for both sides of the wire: relbot's renderers
// (commands/render/blocks) keep within it and the sandbox (sim/) checks it. Header-only and
// pure: nlohmann_json and the standard library, nothing of relbot's, so sim/ may include it.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

namespace relbot::slack {

// The characters of UTF-8 text as Slack and the contract count them (Unicode code points: the
// continuation bytes are not counted).
inline std::size_t code_points(std::string_view text) {
    std::size_t n = 0;
    for (char c : text) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

// Slack's limits (chat.postMessage refuses a message over them).
inline constexpr std::size_t max_blocks = 50;           // blocks in one message
inline constexpr std::size_t max_section_text = 3000;   // a section's text
inline constexpr std::size_t max_header_text = 150;     // a header's plain text
inline constexpr std::size_t max_message_text = 12000;  // all blocks' text together

// The characters of text one block holds: its `text` object's text and its elements' texts
// (what Slack's total-text limit counts).
inline std::size_t block_text_size(const nlohmann::json& block) {
    std::size_t n = 0;
    if (auto t = block.find("text"); t != block.end() && t->is_object()) {
        n += t->value("text", "").size();
    }
    for (const auto& e : block.value("elements", nlohmann::json::array())) {
        auto t = e.is_object() ? e.find("text") : e.end();
        if (t == e.end()) {
            continue;
        }
        if (t->is_string()) {
            n += t->get_ref<const std::string&>().size();  // a context element's text
        } else if (t->is_object()) {
            n += t->value("text", "").size();  // a button's label
        }
    }
    return n;
}

// The same, summed over every block of `blocks` (an array).
inline std::size_t blocks_text_size(const nlohmann::json& blocks) {
    std::size_t n = 0;
    for (const auto& b : blocks) {
        n += block_text_size(b);
    }
    return n;
}

// --- interactive elements and views (docs/SLACK.md, "Block Kit limits relbot respects") ----
inline constexpr std::size_t max_view_blocks = 100;  // a modal or the Home tab
inline constexpr std::size_t max_view_title = 24;    // a modal's title, submit, close
inline constexpr std::size_t max_private_metadata = 3000;
inline constexpr std::size_t max_id = 255;  // block_id, action_id, callback_id
inline constexpr std::size_t max_actions_elements = 25;
inline constexpr std::size_t max_context_elements = 10;
inline constexpr std::size_t max_fields = 10;
inline constexpr std::size_t max_field_text = 2000;
inline constexpr std::size_t max_button_text = 75;
inline constexpr std::size_t max_button_value = 2000;
inline constexpr std::size_t max_option_text = 75;
inline constexpr std::size_t max_option_value = 150;
inline constexpr std::size_t max_select_options = 100;
inline constexpr std::size_t max_overflow_options = 5;
inline constexpr std::size_t max_label = 2000;
inline constexpr std::size_t max_placeholder = 150;

namespace detail {

inline std::string text_of(const nlohmann::json& j, std::string_view key) {
    if (auto t = j.find(key); t != j.end() && t->is_object()) {
        auto v = t->find("text");
        return v != t->end() && v->is_string() ? v->get<std::string>() : std::string();
    }
    return {};
}

inline std::string str_of(const nlohmann::json& j, std::string_view key) {
    auto v = j.find(key);
    return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
}

inline bool text_ok(const std::string& t, std::size_t max) {
    return !t.empty() && t.size() <= max;
}

// An option of a select or overflow menu.
inline std::string option_violation(const nlohmann::json& o) {
    if (!o.is_object() || !text_ok(text_of(o, "text"), max_option_text)) {
        return "an option's text is empty or over 75 characters";
    }
    if (str_of(o, "value").size() > max_option_value) {
        return "an option's value is over 150 characters";
    }
    return {};
}

inline std::string confirm_violation(const nlohmann::json& e) {
    auto c = e.find("confirm");
    if (c == e.end()) {
        return {};
    }
    if (!c->is_object() || !text_ok(text_of(*c, "title"), 100) ||
        !text_ok(text_of(*c, "text"), 300) || !text_ok(text_of(*c, "confirm"), 30) ||
        !text_ok(text_of(*c, "deny"), 30)) {
        return "a confirm dialog is over its limits";
    }
    return {};
}

// One interactive element (a button, a select, an overflow menu, an input's element).
inline std::string element_violation(const nlohmann::json& e, std::set<std::string>& action_ids) {
    if (!e.is_object()) {
        return "an element is not an object";
    }
    auto type = str_of(e, "type");
    if (auto id = str_of(e, "action_id"); !id.empty()) {
        if (id.size() > max_id) {
            return "an action_id is over 255 characters";
        }
        if (!action_ids.insert(id).second) {
            return "the action_id " + id + " is used twice";
        }
    }
    if (auto c = confirm_violation(e); !c.empty()) {
        return c;
    }
    if (type == "button") {
        if (!text_ok(text_of(e, "text"), max_button_text)) {
            return "a button's text is empty or over 75 characters";
        }
        if (str_of(e, "value").size() > max_button_value) {
            return "a button's value is over 2,000 characters";
        }
        auto style = str_of(e, "style");
        if (e.contains("style") && style != "primary" && style != "danger") {
            return "a button's style is neither primary nor danger";
        }
        return {};
    }
    if (type == "static_select" || type == "overflow") {
        auto options = e.value("options", nlohmann::json::array());
        auto most = type == "overflow" ? max_overflow_options : max_select_options;
        if (!options.is_array() || options.empty() || options.size() > most ||
            (type == "overflow" && options.size() < 2)) {
            return "a " + type + " has too few or too many options";
        }
        for (const auto& o : options) {
            if (auto v = option_violation(o); !v.empty()) {
                return v;
            }
        }
    }
    if (text_of(e, "placeholder").size() > max_placeholder) {
        return "a placeholder is over 150 characters";
    }
    return {};
}

inline std::string elements_violation(const nlohmann::json& block,
                                      std::size_t most,
                                      std::set<std::string>& action_ids,
                                      bool interactive) {
    auto elements = block.value("elements", nlohmann::json::array());
    if (!elements.is_array() || elements.empty() || elements.size() > most) {
        return "a block has no elements or too many";
    }
    for (const auto& e : elements) {
        if (interactive) {
            if (auto v = element_violation(e, action_ids); !v.empty()) {
                return v;
            }
        } else if (!e.is_object() || !text_ok(str_of(e, "text"), max_section_text)) {
            return "a context element's text is empty or too long";
        }
    }
    return {};
}

inline std::string section_violation(const nlohmann::json& b, std::set<std::string>& action_ids) {
    auto text = text_of(b, "text");
    auto fields = b.value("fields", nlohmann::json::array());
    if (!b.contains("text") && (!fields.is_array() || fields.empty())) {
        return "a section has neither text nor fields";
    }
    if (b.contains("text") && !text_ok(text, max_section_text)) {
        return "a section's text is empty or over 3,000 characters";
    }
    if (!fields.is_array() || fields.size() > max_fields) {
        return "a section has more than 10 fields";
    }
    for (const auto& f : fields) {
        if (!f.is_object() || !text_ok(str_of(f, "text"), max_field_text)) {
            return "a field is empty or over 2,000 characters";
        }
    }
    if (auto acc = b.find("accessory"); acc != b.end()) {
        return element_violation(*acc, action_ids);
    }
    return {};
}

// What is wrong with one block, or "" when Slack would take it.
inline std::string block_violation(const nlohmann::json& b, std::set<std::string>& action_ids) {
    if (!b.is_object()) {
        return "a block is not an object";
    }
    if (str_of(b, "block_id").size() > max_id) {
        return "a block_id is over 255 characters";
    }
    auto type = str_of(b, "type");
    if (type == "section") {
        return section_violation(b, action_ids);
    }
    if (type == "header") {
        return text_ok(text_of(b, "text"), max_header_text) ? std::string()
                                                            : "a header is empty or too long";
    }
    if (type == "context") {
        return elements_violation(b, max_context_elements, action_ids, false);
    }
    if (type == "actions") {
        return elements_violation(b, max_actions_elements, action_ids, true);
    }
    if (type == "input") {
        if (!text_ok(text_of(b, "label"), max_label)) {
            return "an input's label is empty or over 2,000 characters";
        }
        auto e = b.find("element");
        return e == b.end() ? std::string("an input has no element")
                            : element_violation(*e, action_ids);
    }
    if (type == "divider") {
        return {};
    }
    return "a block of unknown type " + type;
}

// `ids_per_block`: a view's action_ids need only be unique within their block (Slack keys a
// submission's state by block_id, then action_id); a message's across the whole message.
inline std::string blocks_violation(const nlohmann::json& blocks,
                                    std::size_t most,
                                    bool ids_per_block) {
    if (!blocks.is_array()) {
        return "blocks is not an array";
    }
    if (blocks.size() > most) {
        return "more than " + std::to_string(most) + " blocks";
    }
    std::set<std::string> action_ids;
    for (const auto& b : blocks) {
        if (ids_per_block) {
            action_ids.clear();
        }
        if (auto v = block_violation(b, action_ids); !v.empty()) {
            return v;
        }
    }
    return {};
}

}  // namespace detail

// What is wrong with a message's blocks ("" if Slack would post them): the number of blocks,
// each block's own limits, every action_id unique, and the total text.
inline std::string message_violation(const nlohmann::json& blocks) {
    if (auto v = detail::blocks_violation(blocks, max_blocks, false); !v.empty()) {
        return v;
    }
    return blocks_text_size(blocks) > max_message_text ? "more than 12,000 characters of text"
                                                       : std::string();
}

// What is wrong with a view (a modal or the Home tab) ("" if Slack would open it).
inline std::string view_violation(const nlohmann::json& view) {
    if (!view.is_object()) {
        return "the view is not an object";
    }
    auto type = detail::str_of(view, "type");
    if (type != "modal" && type != "home") {
        return "the view's type is neither modal nor home";
    }
    if (type == "modal") {
        if (!detail::text_ok(detail::text_of(view, "title"), max_view_title)) {
            return "the modal's title is empty or over 24 characters";
        }
        for (auto key : {"submit", "close"}) {
            if (view.contains(key) &&
                !detail::text_ok(detail::text_of(view, key), max_view_title)) {
                return std::string("the modal's ") + key + " is empty or over 24 characters";
            }
        }
        bool has_input = false;
        for (const auto& b : view.value("blocks", nlohmann::json::array())) {
            has_input = has_input || (b.is_object() && detail::str_of(b, "type") == "input");
        }
        if (has_input && !view.contains("submit")) {
            return "a modal with an input has no submit button";
        }
    }
    if (detail::str_of(view, "private_metadata").size() > max_private_metadata) {
        return "private_metadata is over 3,000 characters";
    }
    if (detail::str_of(view, "callback_id").size() > max_id) {
        return "callback_id is over 255 characters";
    }
    return detail::blocks_violation(view.value("blocks", nlohmann::json::array()), max_view_blocks,
                                    true);
}

}  // namespace relbot::slack
