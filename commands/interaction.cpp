// Reading Slack's interactive payloads (see interaction.hpp). Every access checks the JSON's
// type: a payload of the wrong shape is unusable, never an exception.
#include "commands/interaction.hpp"

#include <cctype>

#include "commands/render/blocks.hpp"

namespace relbot::commands {
namespace {

using nlohmann::json;

const json& member(const json& j, std::string_view key) {
    static const json null;
    if (!j.is_object()) {
        return null;
    }
    auto it = j.find(key);
    return it == j.end() ? null : *it;
}

std::string text(const json& j, std::string_view key) {
    const auto& v = member(j, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

std::string_view surface_name(surface s) {
    switch (s) {
        case surface::ephemeral:
            return "ephemeral";
        case surface::home:
            return "home";
        case surface::message:
            break;
    }
    return "message";
}

// The action and target of the payload's first action: a button's value, a snooze option's
// value, or an overflow option's "<action>|<target>".
std::optional<std::pair<controls::action, controls::target>> read_action(const json& a) {
    auto action_id = text(a, "action_id");
    std::string value = text(a, "value");
    const auto& selected = member(a, "selected_option");
    if (action_id.starts_with("item.menu:")) {
        auto chosen = text(selected, "value");
        auto bar = chosen.find('|');
        if (bar == std::string::npos) {
            return std::nullopt;
        }
        action_id = chosen.substr(0, bar);
        value = chosen.substr(bar + 1);
    } else if (selected.is_object()) {
        value = text(selected, "value");
    }
    auto act = controls::parse_action_id(action_id);
    if (act == controls::action::start_release) {
        return std::pair{*act, controls::target{}};  // names no release: the modal asks which
    }
    auto target = controls::decode(value);
    if (!act || !target) {
        return std::nullopt;
    }
    // A snooze carries how long; nothing else may.
    if ((*act == controls::action::item_snooze) != (target->snooze != controls::snooze_for::none)) {
        return std::nullopt;
    }
    return std::pair{*act, *target};
}

interaction read_click(const json& p) {
    const auto& actions = member(p, "actions");
    if (!actions.is_array() || actions.empty()) {
        return unusable_interaction{"no action"};
    }
    auto read = read_action(actions[0]);
    if (!read) {
        return unusable_interaction{"not one of relbot's controls"};
    }
    click c;
    c.team = text(member(p, "team"), "id");
    c.user = text(member(p, "user"), "id");
    c.trigger_id = text(p, "trigger_id");
    c.response_url = text(p, "response_url");
    c.act = read->first;
    c.target = read->second;
    const auto& container = member(p, "container");
    if (text(container, "type") == "view") {
        c.where = surface::home;
    } else {
        c.where = member(container, "is_ephemeral") == true ? surface::ephemeral : surface::message;
        c.channel = text(container, "channel_id");
        if (c.channel.empty()) {
            c.channel = text(member(p, "channel"), "id");
        }
        c.message_ts = text(container, "message_ts");
        const auto& m = member(p, "message");
        if (const auto& blocks = member(m, "blocks"); blocks.is_array()) {
            c.message_blocks = blocks;
        }
        c.message_text = text(m, "text");
    }
    if (c.user.empty()) {
        return unusable_interaction{"no user"};
    }
    return c;
}

// One input's value as text: what was typed or chosen, "" when nothing was.
std::string input_value(const json& element) {
    for (auto key : {"value", "selected_user", "selected_conversation", "selected_channel"}) {
        if (auto v = text(element, key); !v.empty()) {
            return v;
        }
    }
    if (auto v = text(member(element, "selected_option"), "value"); !v.empty()) {
        return v;
    }
    if (const auto& when = member(element, "selected_date_time"); when.is_number_integer()) {
        return std::to_string(when.get<long long>());
    }
    return {};
}

interaction read_submission(const json& p) {
    const auto& view = member(p, "view");
    auto kind = controls::parse_modal(text(view, "callback_id"));
    if (!kind) {
        return unusable_interaction{"not one of relbot's modals"};
    }
    auto origin = view_origin::from_metadata(text(view, "private_metadata"));
    if (!origin) {
        return unusable_interaction{"the modal's metadata is not relbot's"};
    }
    submission s;
    s.team = text(member(p, "team"), "id");
    s.user = text(member(p, "user"), "id");
    s.kind = *kind;
    s.origin = std::move(*origin);
    const auto& values = member(member(view, "state"), "values");
    if (values.is_object() && values.size() > max_submission_inputs) {
        return unusable_interaction{"a submission of " + std::to_string(values.size()) +
                                        " inputs; relbot's modals have at most " +
                                        std::to_string(max_submission_inputs),
                                    "submission_inputs"};
    }
    if (values.is_object()) {
        for (const auto& [block_id, inputs] : values.items()) {
            auto v = input_value(member(inputs, controls::element_value));
            if (!v.empty()) {
                s.values[block_id] = std::move(v);
            }
        }
    }
    if (s.user.empty()) {
        return unusable_interaction{"no user"};
    }
    return s;
}

}  // namespace

std::string view_origin::to_metadata() const {
    json m = {{"t", controls::encode(target)}, {"src", surface_name(where)}};
    for (const auto& [key, v] :
         {std::pair{"ch", &channel}, {"ts", &message_ts}, {"ru", &response_url}, {"w", &what}}) {
        if (!v->empty()) {
            m[key] = *v;
        }
    }
    return dump_json(m);  // never throws, whatever bytes the fields hold
}

std::optional<view_origin> view_origin::from_metadata(std::string_view metadata) {
    auto m = json::parse(metadata, nullptr, false);
    if (m.is_discarded() || !m.is_object()) {
        return std::nullopt;
    }
    view_origin o;
    auto t = text(m, "t");
    if (t == "r0") {
        o.target = {};  // the start modal names no release
    } else if (auto decoded = controls::decode(t)) {
        o.target = *decoded;
    } else {
        return std::nullopt;
    }
    auto src = text(m, "src");
    o.where = src == "home"        ? surface::home
              : src == "ephemeral" ? surface::ephemeral
                                   : surface::message;
    o.channel = text(m, "ch");
    o.message_ts = text(m, "ts");
    o.response_url = text(m, "ru");
    o.what = text(m, "w");
    return o;
}

view_origin click::origin() const {
    return {target, channel, message_ts, response_url, where, {}};
}

std::string submission::value(std::string_view block_id) const {
    auto it = values.find(std::string(block_id));
    return it == values.end() ? std::string() : std::string(trimmed(it->second));
}

interaction read_interaction(const nlohmann::json& payload) {
    auto type = text(payload, "type");
    if (type == "block_actions") {
        return read_click(payload);
    }
    if (type == "view_submission") {
        return read_submission(payload);
    }
    return unusable_interaction{type.empty() ? "no type" : "a " + type + " is not used"};
}

}  // namespace relbot::commands
