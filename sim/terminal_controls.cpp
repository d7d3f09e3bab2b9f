// The demo's terminal for controls (see terminal.hpp): `click …` read into what to click,
// a person's answers to a modal's inputs, and views drawn as text. Pure functions of text.
#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include "sim/terminal.hpp"

namespace relbot::sim {
namespace {

using json = nlohmann::json;

// The contract's labels (README, "Click instead of type"), so that a label of
// several words needs no quotes and one with `…` may be typed without it.
constexpr std::array<std::string_view, 16> known_labels = {
    "Start a release…", "Accept handoff", "Remind owners", "Investigating",
    "Remind again",     "Next phase",     "Roll back…",    "Unblock",
    "Assign…",          "Healthy",        "Block…",        "Finish",
    "Snooze",           "Skip…",          "Note…",         "Done"};
constexpr std::array<std::string_view, 3> snooze_options = {"1 hour", "4 hours",
                                                            "Tomorrow morning"};

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Whether `text` starts with `word` (any case) followed by its end or a space.
bool starts_with_word(std::string_view text, std::string_view word) {
    return text.size() >= word.size() && lower(text.substr(0, word.size())) == lower(word) &&
           (text.size() == word.size() || text[word.size()] == ' ');
}

// The label at the start of `rest` and what follows it.
std::pair<std::string, std::string> split_label(const std::string& rest) {
    if (rest.starts_with('"')) {
        auto close = rest.find('"', 1);
        if (close != std::string::npos) {
            auto quoted = rest.substr(1, close - 1);
            auto after = trim(std::string_view(rest).substr(close + 1));
            for (auto label : known_labels) {  // the `…` may be left out in quotes too
                if (label.ends_with("…") && label.substr(0, label.size() - 3) == quoted) {
                    return {std::string(label), after};
                }
            }
            return {quoted, after};
        }
    }
    for (auto label : known_labels) {
        auto bare = label.ends_with("…") ? label.substr(0, label.size() - 3) : label;
        for (auto typed : {label, bare}) {
            if (starts_with_word(rest, typed)) {
                return {std::string(label), trim(std::string_view(rest).substr(typed.size()))};
            }
        }
    }
    auto space = rest.find(' ');
    return {rest.substr(0, space),
            space == std::string::npos ? std::string() : trim(rest.substr(space))};
}

bool is_item_ref(const std::string& s) {
    return !s.empty() && std::isdigit(static_cast<unsigned char>(s.front())) &&
           s.find_first_not_of("0123456789.") == std::string::npos;
}

json read_date_time(const std::string& text, bool& ok) {
    ok = true;
    if (text.find_first_not_of("0123456789") == std::string::npos) {
        return std::stoll(text);
    }
    std::tm tm{};
    int year = 0;
    int month = 0;
    if (std::sscanf(text.c_str(), "%d-%d-%d %d:%d", &year, &month, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min) != 5) {
        ok = false;
        return json();
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    return static_cast<long long>(timegm(&tm));
}

}  // namespace

typed_line read_click(std::string_view typed) {
    auto rest = trim(typed);
    if (rest.empty()) {
        return typed_error{
            "say what to click, for example `click Done 2.3` or "
            "`click \"Next phase\"`"};
    }
    auto [label, after] = split_label(rest);
    click_target target{label, "", ""};
    if (label == "Snooze") {
        for (auto option : snooze_options) {
            if (lower(after).ends_with(lower(option))) {
                target.option = std::string(option);
                after = trim(std::string_view(after).substr(0, after.size() - option.size()));
                break;
            }
        }
        if (target.option.empty()) {
            return typed_error{
                "say how long, for example `click Snooze 2.3 4 hours` (1 hour, "
                "4 hours or Tomorrow morning)"};
        }
    }
    target.match = is_item_ref(after) ? "`" + after + "`" : after;
    return typed_click{target};
}

std::variant<json, typed_error> read_modal_answer(const view_input& input, std::string_view line) {
    auto text = trim(line);
    if (text.empty()) {
        if (input.optional) {
            return json();
        }
        return typed_error{input.label + " is needed (or type `cancel`)"};
    }
    if (input.type == "users_select") {
        auto name = text.starts_with('@') ? text.substr(1) : text;
        if (const person* p = person_by_name(name)) {
            return json(std::string(p->id));
        }
        return typed_error{"nobody here is called @" + name + " (type `people` to see who is who)"};
    }
    if (input.type == "conversations_select" || input.type == "channels_select") {
        auto name = text.starts_with('#') ? text.substr(1) : text;
        return json(name == demo_channel_name ? std::string(demo_channel_id) : name);
    }
    if (input.type == "static_select") {
        for (const auto& o : input.options) {
            if (lower(o) == lower(text)) {
                return json(o);
            }
        }
        std::string list;
        for (const auto& o : input.options) {
            list += (list.empty() ? "" : ", ") + o;
        }
        return typed_error{"choose one of: " + list};
    }
    if (input.type == "datetimepicker") {
        bool ok = false;
        auto when = read_date_time(text, ok);
        if (!ok) {
            return typed_error{"type a time as YYYY-MM-DD HH:MM (UTC)"};
        }
        return when;
    }
    return json(text);
}

std::string render_view(const json& view, bool color) {
    auto title = view.value("title", json::object()).value("text", "");
    bool home = view.value("type", "") == "home";
    json shown = {{"blocks", json::array()}};
    std::string inputs;
    for (const auto& b : view.value("blocks", json::array())) {
        if (b.value("type", "") == "input") {
            auto label = b.value("label", json::object()).value("text", "");
            inputs += "  • " + label + (b.value("optional", false) ? " (optional)" : "") + "\n";
        } else {
            shown["blocks"].push_back(b);
        }
    }
    auto heading = home ? std::string("🏠 App Home") : "▣ " + title;
    auto out =
        shown["blocks"].empty() ? heading + "\n" : render_message(heading, shown, color, false);
    return out + inputs;
}

}  // namespace relbot::sim
