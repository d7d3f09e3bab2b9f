// The sandbox's reading of Block Kit controls and modal inputs (see interactive.hpp).
#include "sim/interactive.hpp"

#include <cctype>

namespace relbot::sim {
namespace {

using json = nlohmann::json;

std::string str(const json& j, const char* key) {
    auto v = j.find(key);
    return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
}

std::string text_of(const json& j, const char* key) {
    auto t = j.find(key);
    return t != j.end() && t->is_object() ? str(*t, "text") : std::string();
}

// The text a section shows: its text and its fields, one per line.
std::string section_text(const json& b) {
    std::string out = text_of(b, "text");
    for (const auto& f : b.value("fields", json::array())) {
        out += "\n" + (f.is_object() ? str(f, "text") : std::string());
    }
    return out;
}

// A select's options, including those inside option groups.
std::vector<json> options_of(const json& e) {
    std::vector<json> out;
    for (const auto& o : e.value("options", json::array())) {
        out.push_back(o);
    }
    for (const auto& g : e.value("option_groups", json::array())) {
        for (const auto& o : g.value("options", json::array())) {
            out.push_back(o);
        }
    }
    return out;
}

json selected(const json& option) {
    return {{"text", {{"type", "plain_text"}, {"text", text_of(option, "text")}}},
            {"value", str(option, "value")}};
}

std::optional<json> match_button(const json& e,
                                 const std::string& block_id,
                                 const click_target& t) {
    if (text_of(e, "text") != t.label) {
        return std::nullopt;
    }
    json action = {{"type", "button"},
                   {"action_id", str(e, "action_id")},
                   {"block_id", block_id},
                   {"text", {{"type", "plain_text"}, {"text", t.label}, {"emoji", true}}}};
    if (e.contains("value")) {
        action["value"] = str(e, "value");
    }
    if (e.contains("style")) {
        action["style"] = str(e, "style");
    }
    return action;
}

std::optional<json> match_select(const json& e,
                                 const std::string& block_id,
                                 const click_target& t) {
    if (text_of(e, "placeholder") != t.label) {
        return std::nullopt;
    }
    for (const auto& o : options_of(e)) {
        if (!t.option.empty() && (text_of(o, "text") == t.option || str(o, "value") == t.option)) {
            return json{{"type", "static_select"},
                        {"action_id", str(e, "action_id")},
                        {"block_id", block_id},
                        {"selected_option", selected(o)},
                        {"placeholder", e["placeholder"]}};
        }
    }
    return std::nullopt;
}

std::optional<json> match_overflow(const json& e,
                                   const std::string& block_id,
                                   const click_target& t) {
    for (const auto& o : options_of(e)) {
        if (text_of(o, "text") == t.label) {
            return json{{"type", "overflow"},
                        {"action_id", str(e, "action_id")},
                        {"block_id", block_id},
                        {"selected_option", selected(o)}};
        }
    }
    return std::nullopt;
}

void note_labels(const json& e, std::vector<std::string>& seen) {
    auto type = str(e, "type");
    if (type == "button") {
        seen.push_back(text_of(e, "text"));
    } else if (type == "static_select") {
        std::string options;
        for (const auto& o : options_of(e)) {
            options += (options.empty() ? "" : "|") + text_of(o, "text");
        }
        seen.push_back(text_of(e, "placeholder") + " (" + options + ")");
    } else if (type == "overflow") {
        for (const auto& o : options_of(e)) {
            seen.push_back(text_of(o, "text"));
        }
    }
}

// Whether an item's line mentions `match`: as typed, or in any case, or a slug typed for the
// title ("smoke-tests" for *Smoke Tests*), as a person would point at it.
bool mentions_item(const std::string& about, const std::string& match) {
    if (about.find(match) != std::string::npos) {
        return true;
    }
    auto folded = [](std::string s, bool dashes) {
        for (auto& c : s) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (dashes && c == '-') {
                c = ' ';
            }
        }
        return s;
    };
    auto line = folded(about, false);
    return line.find(folded(match, false)) != std::string::npos ||
           line.find(folded(match, true)) != std::string::npos;
}

// The control `e` (in block `block_id`, describing text `about`) if it is the one meant.
std::optional<json> match_element(const json& e,
                                  const std::string& block_id,
                                  const std::string& about,
                                  const click_target& t,
                                  std::vector<std::string>& seen) {
    if (!e.is_object()) {
        return std::nullopt;
    }
    note_labels(e, seen);
    if (!t.match.empty() && !mentions_item(about, t.match)) {
        return std::nullopt;
    }
    auto type = str(e, "type");
    if (type == "button") {
        return match_button(e, block_id, t);
    }
    if (type == "static_select") {
        return match_select(e, block_id, t);
    }
    if (type == "overflow") {
        return match_overflow(e, block_id, t);
    }
    return std::nullopt;
}

std::string draw_element(const json& e) {
    auto type = str(e, "type");
    if (type == "button") {
        return "[" + text_of(e, "text") + "]";
    }
    if (type == "static_select" || type == "users_select" || type == "conversations_select") {
        return "[" + text_of(e, "placeholder") + " ▾]";
    }
    if (type == "overflow") {
        std::string out = "[⋯ ";
        bool first = true;
        for (const auto& o : options_of(e)) {
            out += (first ? "" : "|") + text_of(o, "text");
            first = false;
        }
        return out + "]";
    }
    return {};
}

}  // namespace

std::optional<json> find_control(const json& blocks,
                                 const click_target& target,
                                 std::vector<std::string>& seen) {
    if (!blocks.is_array()) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const auto& b = blocks[i];
        if (!b.is_object()) {
            continue;
        }
        auto type = str(b, "type");
        auto block_id = str(b, "block_id");
        if (type == "section" && b.contains("accessory")) {
            if (auto a = match_element(b["accessory"], block_id, section_text(b), target, seen)) {
                return a;
            }
        } else if (type == "actions") {
            // An item's controls belong to the section right before them.
            bool after_section =
                i > 0 && blocks[i - 1].is_object() && str(blocks[i - 1], "type") == "section";
            auto about = after_section ? section_text(blocks[i - 1]) : std::string();
            for (const auto& e : b.value("elements", json::array())) {
                if (auto a = match_element(e, block_id, about, target, seen)) {
                    return a;
                }
            }
        }
    }
    return std::nullopt;
}

namespace {

// The control `e` chosen by id: a button as it is, an option of a menu or select by value.
std::optional<json> chosen(const json& e, const std::string& block_id, const std::string& value) {
    auto type = str(e, "type");
    if (type == "button") {
        return match_button(e, block_id, {text_of(e, "text"), "", ""});
    }
    for (const auto& o : options_of(e)) {
        if (str(o, "value") != value) {
            continue;
        }
        if (type == "overflow") {
            return match_overflow(e, block_id, {text_of(o, "text"), "", ""});
        }
        if (type == "static_select") {
            return match_select(e, block_id, {text_of(e, "placeholder"), "", value});
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<json> control_by_id(const json& blocks,
                                  const std::string& block_id,
                                  const std::string& action_id,
                                  const std::string& option_value) {
    if (!blocks.is_array()) {
        return std::nullopt;
    }
    for (const auto& b : blocks) {
        if (!b.is_object() || (!block_id.empty() && str(b, "block_id") != block_id)) {
            continue;
        }
        std::vector<json> elements;
        if (auto a = b.find("accessory"); a != b.end() && a->is_object()) {
            elements.push_back(*a);
        }
        for (const auto& e : b.value("elements", json::array())) {
            elements.push_back(e);
        }
        for (const auto& e : elements) {
            if (e.is_object() && str(e, "action_id") == action_id) {
                return chosen(e, str(b, "block_id"), option_value);
            }
        }
    }
    return std::nullopt;
}

std::string draw_controls(const json& block) {
    std::string out;
    auto add = [&](const json& e) {
        auto drawn = draw_element(e);
        if (!drawn.empty()) {
            out += (out.empty() ? "" : " ") + drawn;
        }
    };
    if (!block.is_object()) {
        return out;
    }
    if (str(block, "type") == "actions") {
        for (const auto& e : block.value("elements", json::array())) {
            if (e.is_object()) {
                add(e);
            }
        }
    } else if (auto acc = block.find("accessory"); acc != block.end() && acc->is_object()) {
        add(*acc);
    }
    return out;
}

std::vector<view_input> view_inputs(const json& view) {
    std::vector<view_input> out;
    for (const auto& b : view.value("blocks", json::array())) {
        if (!b.is_object() || str(b, "type") != "input" || !b.contains("element")) {
            continue;
        }
        const auto& e = b["element"];
        view_input in{str(b, "block_id"), text_of(b, "label"),        str(e, "action_id"),
                      str(e, "type"),     b.value("optional", false), {}};
        for (const auto& o : options_of(e)) {
            in.options.push_back(text_of(o, "text"));
        }
        out.push_back(std::move(in));
    }
    return out;
}

namespace {

// The typed value of one input, or an error.
json typed_value(const view_input& in, const json& element, const json* given, std::string& error) {
    json v = {{"type", in.type}};
    bool none = given == nullptr || given->is_null();
    if (in.type == "users_select") {
        v["selected_user"] = none ? json() : *given;
    } else if (in.type == "conversations_select") {
        v["selected_conversation"] = none ? json() : *given;
    } else if (in.type == "channels_select") {
        v["selected_channel"] = none ? json() : *given;
    } else if (in.type == "datepicker") {
        v["selected_date"] = none ? json() : *given;
    } else if (in.type == "timepicker") {
        v["selected_time"] = none ? json() : *given;
    } else if (in.type == "datetimepicker") {
        v["selected_date_time"] = json();
        if (!none && given->is_number_integer()) {
            v["selected_date_time"] = given->get<long long>();
        } else if (!none) {
            auto text = given->is_string() ? given->get<std::string>() : std::string();
            if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
                error = in.block_id + ": a date-time is epoch seconds";
                return v;
            }
            v["selected_date_time"] = std::stoll(text);
        }
    } else if (in.type == "static_select") {
        v["selected_option"] = json();
        auto want = none                 ? std::string()
                    : given->is_string() ? given->get<std::string>()
                                         : given->dump();
        for (const auto& o : none ? std::vector<json>() : options_of(element)) {
            if (text_of(o, "text") == want || str(o, "value") == want) {
                v["selected_option"] = selected(o);
            }
        }
        if (!none && v["selected_option"].is_null()) {
            error = in.block_id + ": no option " + want;
        }
    } else {
        v["value"] = none ? json() : given->is_string() ? *given : json(given->dump());
    }
    return v;
}

}  // namespace

json submission_values(const json& view, const json& given, std::string& error) {
    json values = json::object();
    auto inputs = view_inputs(view);
    if (given.is_object()) {
        for (const auto& [block_id, value] : given.items()) {
            bool known = false;
            for (const auto& in : inputs) {
                known = known || in.block_id == block_id;
            }
            if (!known) {
                error = "the view has no input " + block_id;
                return values;
            }
        }
    }
    for (const auto& b : view.value("blocks", json::array())) {
        if (!b.is_object() || str(b, "type") != "input" || !b.contains("element")) {
            continue;
        }
        auto in = view_inputs(json{{"blocks", json::array({b})}}).front();
        auto g = given.is_object() ? given.find(in.block_id) : given.end();
        const json* answer = given.is_object() && g != given.end() ? &*g : nullptr;
        values[in.block_id][in.action_id] = typed_value(in, b["element"], answer, error);
        if (!error.empty()) {
            return values;
        }
    }
    return values;
}

}  // namespace relbot::sim
