// TEMPORARY (removed when the renderers of issue 15 land): minimal modals and DM settling so
// that the click path builds and can be tested before the real views arrive.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checklist/release.hpp"
#include "commands/controls.hpp"

namespace relbot::commands {

inline nlohmann::json stub_modal(controls::modal kind,
                                 std::string_view block,
                                 const std::string& metadata) {
    auto text = [](std::string t) { return nlohmann::json{{"type", "plain_text"}, {"text", t}}; };
    return {{"type", "modal"},
            {"callback_id", std::string(controls::to_string(kind))},
            {"private_metadata", metadata},
            {"title", text("relbot")},
            {"submit", text("Save")},
            {"close", text("Cancel")},
            {"blocks",
             {{{"type", "input"},
               {"block_id", std::string(block)},
               {"label", text("Text")},
               {"element", {{"type", "plain_text_input"}, {"action_id", "value"}}}}}}};
}
inline nlohmann::json skip_modal(const checklist::release&, const checklist::item&, const std::string& m) {
    return stub_modal(controls::modal::skip, controls::block_reason, m);
}
inline nlohmann::json block_modal(const checklist::release&, const checklist::item&, const std::string& m) {
    return stub_modal(controls::modal::block, controls::block_reason, m);
}
inline nlohmann::json note_modal(const checklist::release&, const checklist::item&, const std::string& m) {
    return stub_modal(controls::modal::note, controls::block_note, m);
}
inline nlohmann::json assign_modal(const checklist::release&, const checklist::item&, const std::string& m) {
    return stub_modal(controls::modal::assign, controls::block_owner, m);
}
inline nlohmann::json next_force_modal(const checklist::release&, std::int64_t, bool, const std::string& m) {
    return stub_modal(controls::modal::next_force, controls::block_reason, m);
}
inline nlohmann::json start_modal(const std::vector<std::string>&, const std::string& m) {
    return stub_modal(controls::modal::start, controls::block_version, m);
}
inline nlohmann::json settle_item_controls(const nlohmann::json& blocks, std::int64_t, std::string_view) {
    return blocks;
}
inline nlohmann::json settle_release_controls(const nlohmann::json& blocks, std::string_view) {
    return blocks;
}

}  // namespace relbot::commands

namespace relbot::commands {
template <typename F>
nlohmann::json home_view_of(const std::string&,
                            const std::vector<checklist::release>&,
                            std::int64_t,
                            F&&) {
    return {{"type", "home"}, {"blocks", nlohmann::json::array()}};
}
}  // namespace relbot::commands
