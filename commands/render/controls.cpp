// The Block Kit JSON of buttons, menus and the blocks holding them; the full and compact forms of
// a list of items with controls; what a message becomes after a click.
#include "commands/render/controls.hpp"

#include "checklist/rules.hpp"
#include "commands/render/blocks.hpp"

namespace relbot::commands {
namespace {

using controls::action;
using controls::target;
using nlohmann::json;

json plain(std::string_view text) {
    return json_object("type", "plain_text", "text", std::string(text), "emoji", true);
}

json option(std::string_view label, std::string value) {
    return json_object("text", plain(label), "value", std::move(value));
}

// The string at `key` of a JSON object, or "" (never throws on other shapes).
std::string str_at(const json& j, std::string_view key) {
    if (!j.is_object()) {
        return {};
    }
    auto v = j.find(key);
    return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
}

struct snooze_choice {
    std::string_view label;
    controls::snooze_for how_long;
};

constexpr snooze_choice snooze_choices[] = {
    {controls::label_snooze_1h, controls::snooze_for::one_hour},
    {controls::label_snooze_4h, controls::snooze_for::four_hours},
    {controls::label_snooze_morning, controls::snooze_for::tomorrow_morning},
};

target snoozed(const target& t, controls::snooze_for how_long) {
    auto out = t;
    out.snooze = how_long;
    return out;
}

// The value of an option of the compact menu: "<action name>|<encoded target>".
std::string menu_value(action a, const target& t) {
    return std::string(controls::to_string(a)) + "|" + controls::encode(t);
}

bool fits(const json& blocks, std::size_t reserve_blocks, std::size_t reserve_text) {
    return blocks.size() + reserve_blocks <= max_blocks &&
           block_text_size(blocks) + reserve_text <= max_total_block_text;
}

// The compact form: a section per item with an overflow menu while they fit, then text lines.
void append_compact(json& blocks,
                    const std::vector<item_entry>& items,
                    std::size_t reserve_blocks,
                    std::size_t reserve_text) {
    auto used = block_text_size(blocks);
    std::size_t k = 0;
    for (; k < items.size(); ++k) {
        const auto& e = items[k];
        auto section = section_block(e.line);
        if (!e.controls.empty()) {
            section["accessory"] = item_overflow(e.item_id, e.controls);
        }
        bool last = k + 1 == items.size();
        auto size = block_text_size(json::array({section}));
        // Room for this section, and (unless it is the last) for a section of the rest.
        if (blocks.size() + 1 + reserve_blocks + (last ? 0 : 1) > max_blocks ||
            used + size + reserve_text + (last ? 0 : reserved_text) > max_total_block_text) {
            break;
        }
        blocks.push_back(std::move(section));
        used += size;
    }
    if (k < items.size()) {
        std::vector<std::string> rest;
        for (; k < items.size(); ++k) {
            rest.push_back(items[k].line);
        }
        append_lines(blocks, rest, reserve_blocks);
    }
}

}  // namespace

json button(action a,
            std::int64_t discriminator,
            std::string_view label,
            const target& t,
            std::string_view style) {
    auto b = json_object("type", "button", "text", plain(label), "action_id",
                         controls::action_id(a, discriminator), "value", controls::encode(t));
    if (!style.empty()) {
        b["style"] = std::string(style);
    }
    return b;
}

json snooze_select(std::int64_t release_id, std::int64_t item_id) {
    json options = json::array();
    target t{release_id, item_id, 0, controls::snooze_for::none};
    for (const auto& c : snooze_choices) {
        options.push_back(option(c.label, controls::encode(snoozed(t, c.how_long))));
    }
    return json_object("type", "static_select", "placeholder", plain(controls::label_snooze),
                       "action_id", controls::action_id(action::item_snooze, item_id), "options",
                       std::move(options));
}

json item_actions_block(std::int64_t item_id, const std::vector<item_control>& cs) {
    json elements = json::array();
    for (const auto& c : cs) {
        if (c.act == action::item_snooze) {
            elements.push_back(snooze_select(c.target.release_id, item_id));
        } else {
            auto style = c.act == action::item_done ? "primary" : "";
            elements.push_back(button(c.act, item_id, c.label, c.target, style));
        }
    }
    return json_object("type", "actions", "block_id", "item:" + std::to_string(item_id), "elements",
                       std::move(elements));
}

json item_overflow(std::int64_t item_id, const std::vector<item_control>& cs) {
    json options = json::array();
    for (const auto& c : cs) {
        if (c.act == action::item_snooze) {
            for (const auto& s : snooze_choices) {
                options.push_back(
                    option(s.label, menu_value(c.act, snoozed(c.target, s.how_long))));
            }
        } else {
            options.push_back(option(c.label, menu_value(c.act, c.target)));
        }
    }
    return json_object("type", "overflow", "action_id",
                       std::string(item_menu) + ":" + std::to_string(item_id), "options",
                       std::move(options));
}

json release_actions_block(std::int64_t release_id, json elements) {
    return json_object("type", "actions", "block_id", "release:" + std::to_string(release_id),
                       "elements", std::move(elements));
}

json checkpoint_actions_block(std::int64_t release_id, int n) {
    target t{release_id, 0, n, controls::snooze_for::none};
    return {
        {"type", "actions"},
        {"block_id", "checkpoint:" + std::to_string(release_id) + ":" + std::to_string(n)},
        {"elements",
         json::array(
             {button(action::checkpoint_healthy, n, controls::label_healthy, t, "primary"),
              button(action::checkpoint_investigating, n, controls::label_investigating, t),
              button(action::checkpoint_roll_back, n, controls::label_roll_back, t, "danger")})}};
}

std::vector<item_control> status_item_controls(std::int64_t release_id, const checklist::item& it) {
    target t{release_id, it.id, 0, controls::snooze_for::none};
    if (it.state == checklist::item_state::done) {
        return checklist::sign_offs_missing(it) > 0
                   ? std::vector<item_control>{{action::item_approve, controls::label_approve, t}}
                   : std::vector<item_control>{};
    }
    bool blocked = it.state == checklist::item_state::blocked;
    return {
        {action::item_done, controls::label_done, t},
        {action::item_skip, controls::label_skip, t},
        blocked ? item_control{action::item_unblock, controls::label_unblock, t}
                : item_control{action::item_block, controls::label_block, t},
        {action::item_assign, controls::label_assign, t},
        {action::item_note, controls::label_note, t},
    };
}

std::vector<item_control> owner_item_controls(std::int64_t release_id, std::int64_t item_id) {
    target t{release_id, item_id, 0, controls::snooze_for::none};
    return {{action::item_done, controls::label_done, t},
            {action::item_snooze, controls::label_snooze, t},
            {action::item_block, controls::label_block, t}};
}

std::vector<item_control> approver_item_controls(std::int64_t release_id, std::int64_t item_id) {
    return {{action::item_approve, controls::label_approve,
             target{release_id, item_id, 0, controls::snooze_for::none}}};
}

std::vector<item_control> escalation_item_controls(std::int64_t release_id, std::int64_t item_id) {
    target t{release_id, item_id, 0, controls::snooze_for::none};
    return {{action::remind_again, controls::label_remind_again, t},
            {action::item_assign, controls::label_assign, t}};
}

void append_items(json& blocks,
                  const std::vector<item_entry>& items,
                  std::size_t reserve_blocks,
                  std::size_t reserve_text) {
    json full = blocks;
    for (const auto& e : items) {
        full.push_back(section_block(e.line));
        if (!e.controls.empty()) {
            full.push_back(item_actions_block(e.item_id, e.controls));
        }
    }
    if (fits(full, reserve_blocks, reserve_text)) {
        blocks = std::move(full);
        return;
    }
    append_compact(blocks, items, reserve_blocks, reserve_text);
}

json settle_item_controls(const json& blocks, std::int64_t item_id, std::string_view line) {
    auto id = std::to_string(item_id);
    auto block_id = "item:" + id;
    auto menu_id = std::string(item_menu) + ":" + id;
    json out = json::array();
    if (!blocks.is_array()) {
        return out;
    }
    for (const auto& b : blocks) {
        auto type = str_at(b, "type");
        if (type == "actions" && str_at(b, "block_id") == block_id) {
            out.push_back(context_block(line));
            continue;
        }
        if (type == "section" && b.contains("accessory") &&
            str_at(b["accessory"], "action_id") == menu_id) {
            auto section = b;
            section.erase("accessory");
            out.push_back(std::move(section));
            out.push_back(context_block(line));
            continue;
        }
        out.push_back(b);
    }
    return out;
}

json settle_release_controls(const json& blocks, std::string_view line) {
    json out = json::array();
    if (!blocks.is_array()) {
        return out;
    }
    for (const auto& b : blocks) {
        if (str_at(b, "type") == "actions" && str_at(b, "block_id").rfind("release:", 0) == 0) {
            out.push_back(context_block(line));
        } else {
            out.push_back(b);
        }
    }
    return out;
}

}  // namespace relbot::commands
