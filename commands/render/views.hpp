// The views relbot opens and publishes: the modals a click opens (each asks for what the
// equivalent command needs) and the App Home tab. Pure: values in, view JSON out (the `view`
// argument of views.open / views.publish).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checklist/release.hpp"

namespace relbot::commands {

// --- modals: type modal, callback_id controls::to_string(modal), private_metadata as given,
// inputs with the block_ids of commands/controls.hpp, each element's action_id "value".

// Skip…: the reason (required).
nlohmann::json skip_modal(const checklist::item& it,
                          const checklist::release& r,
                          std::string_view metadata);
// Block…: the reason (required).
nlohmann::json block_modal(const checklist::item& it,
                           const checklist::release& r,
                           std::string_view metadata);
// Note…: the text (required).
nlohmann::json note_modal(const checklist::item& it,
                          const checklist::release& r,
                          std::string_view metadata);
// Done on an item whose policy asks for evidence: the link (an http(s) URL) or the note that
// shows it is done, under block "note"; submitted, it is `/release check <item> <text>`.
nlohmann::json check_modal(const checklist::item& it,
                           const checklist::release& r,
                           std::string_view metadata);
// Assign…: the owner (users_select, the current owner first) and an optional due time.
nlohmann::json assign_modal(const checklist::item& it,
                            const checklist::release& r,
                            std::string_view metadata);
// Roll back…: the reason (required); `checkpoint` is the checkpoint it came from (0: none).
nlohmann::json rollback_modal(const checklist::release& r,
                              int checkpoint,
                              std::string_view metadata);
// Next phase (or Finish) on a gate that is not met: the reason (required). Shows `why` (mrkdwn,
// e.g. the gate's refusal) and the current phase's items still open.
nlohmann::json next_force_modal(const checklist::release& r,
                                std::string_view why,
                                std::string_view metadata);
// Start a release…: channel (`initial_channel` preselected unless empty), version, template
// (`standard` preselected when present), and optionally the release to copy owners from.
nlohmann::json start_modal(const std::vector<std::string>& template_names,
                           std::string_view metadata,
                           std::string_view initial_channel);

// --- App Home ----------------------------------------------------------------------------------

// A release as App Home lists it.
struct home_release {
    std::int64_t release_id = 0;
    std::string version;
    std::string channel;
    std::string manager;
    int current_phase = 1;
    int phase_count = 0;
    std::string phase_title;
};

// One of the viewer's open items, with its release.
struct home_item {
    std::int64_t release_id = 0;
    std::string version;
    std::string channel;
    std::string phase_title;
    std::int64_t item_id = 0;
    std::string ref;  // "2.3"
    std::string title;
    std::optional<checklist::epoch_seconds> due_at;
    checklist::item_state state = checklist::item_state::open;
};

struct home_data {
    std::string viewer;  // Slack user ID
    std::vector<home_item> open_items;
    std::vector<home_release> managed;
    std::vector<home_release> active;
    checklist::epoch_seconds now = 0;
};

// The Home tab: the viewer's open items (overdue first, then by due time, each with Done), the
// releases they manage, the active releases, and Start a release…; at most 100 blocks.
nlohmann::json home_view(const home_data& d);

}  // namespace relbot::commands
