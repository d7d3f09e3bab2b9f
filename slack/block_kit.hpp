// What Slack counts in a Block Kit message, for both sides of the wire: relbot's renderers
// (commands/render/blocks) keep within it and the sandbox (sim/) checks it. Header-only and
// pure: nlohmann_json and the standard library, nothing of relbot's, so sim/ may include it.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>

namespace relbot::slack {

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
        if (e.is_object()) {
            n += e.value("text", "").size();
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

}  // namespace relbot::slack
