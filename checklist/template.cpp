// Template parsing: markdown lines in, phases and items (or the first problem) out.
#include "checklist/template.hpp"

#include <cctype>
#include <charconv>
#include <stdexcept>

namespace relbot::checklist {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i]))) {
            return false;
        }
    }
    return true;
}

std::optional<long long> parse_count(std::string_view s) {
    s = trim(s);
    long long value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || value < 0) {
        return std::nullopt;
    }
    return value;
}

// Seconds per unit for "seconds", "minutes", "hours", "days" (singular or plural).
std::optional<long long> unit_seconds(std::string_view unit) {
    unit = trim(unit);
    if (!unit.empty() && (unit.back() == 's' || unit.back() == 'S')) {
        unit.remove_suffix(1);
    }
    struct named_unit {
        std::string_view name;
        long long seconds;
    };
    constexpr named_unit units[] = {{"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}};
    for (const auto& u : units) {
        if (unit.size() == u.name.size() && starts_with_ci(unit, u.name)) {
            return u.seconds;
        }
    }
    return std::nullopt;
}

struct heading {
    std::string title;
    std::optional<phase_window> window;
};

// "Post-Release Monitoring (24-48 hours)" -> the heading as written (so that reports show the
// template's own words) and the window its trailing bracket sets, if it is one.
heading split_heading(std::string_view text) {
    text = trim(text);
    if (!text.empty() && text.back() == ')') {
        auto open = text.rfind('(');
        if (open != std::string_view::npos) {
            if (auto window = parse_phase_window(text.substr(open))) {
                return {std::string(text), window};
            }
        }
    }
    return {std::string(text), std::nullopt};
}

struct item_line {
    bool is_item = false;  // the line starts like a checklist item
    bool well_formed = false;
    template_item item;
};

// "- [ ] **Title**: description". Also accepts "*" bullets and checked boxes, so that a
// report exported as markdown can be used as a template again.
item_line parse_item_line(std::string_view line) {
    auto s = trim(line);
    if (s.size() < 5 || (s[0] != '-' && s[0] != '*') || s[1] != ' ') {
        return {};
    }
    s = trim(s.substr(2));
    if (s.size() < 3 || s[0] != '[' || s[2] != ']' || (s[1] != ' ' && s[1] != 'x' && s[1] != 'X')) {
        return {};
    }
    item_line out;
    out.is_item = true;
    s = trim(s.substr(3));
    if (s.substr(0, 2) != "**") {
        return out;
    }
    s.remove_prefix(2);
    auto close = s.find("**");
    if (close == std::string_view::npos) {
        return out;
    }
    auto title = trim(s.substr(0, close));
    auto rest = trim(s.substr(close + 2));
    if (title.empty()) {
        return out;
    }
    // The colon may sit inside the bold ("**Title:**") or after it ("**Title**:").
    if (title.back() == ':') {
        title = trim(title.substr(0, title.size() - 1));
    } else if (!rest.empty() && rest.front() == ':') {
        rest = trim(rest.substr(1));
    } else if (!rest.empty()) {
        return out;
    }
    if (title.empty()) {
        return out;
    }
    out.well_formed = true;
    out.item = {std::string(title), std::string(rest)};
    return out;
}

}  // namespace

std::size_t checklist_template::item_count() const {
    std::size_t n = 0;
    for (const auto& p : phases) {
        n += p.items.size();
    }
    return n;
}

std::string template_error::to_string() const {
    return file + ":" + std::to_string(line) + ": " + message;
}

std::optional<phase_window> parse_phase_window(std::string_view text) {
    text = trim(text);
    if (text.size() < 3 || text.front() != '(' || text.back() != ')') {
        return std::nullopt;
    }
    text = trim(text.substr(1, text.size() - 2));
    auto space = text.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    auto numbers = text.substr(0, space);
    auto unit = unit_seconds(text.substr(space + 1));
    if (!unit) {
        return std::nullopt;
    }
    std::optional<long long> low;
    std::optional<long long> high;
    if (auto dash = numbers.find('-'); dash != std::string_view::npos) {
        low = parse_count(numbers.substr(0, dash));
        high = parse_count(numbers.substr(dash + 1));
    } else {
        low = parse_count(numbers);
        high = low;
    }
    if (!low || !high || *low > *high || *high > 365LL * 86400) {
        return std::nullopt;
    }
    return phase_window{std::chrono::seconds(*low * *unit), std::chrono::seconds(*high * *unit)};
}

template_result parse_template(std::string_view name,
                               std::string_view file,
                               std::string_view text) {
    checklist_template out;
    out.name = std::string(name);
    int line_no = 0;
    int phase_line = 0;
    auto error = [&](int line, std::string message) {
        return template_error{std::string(file), line, std::move(message)};
    };

    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        auto line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }

        auto trimmed = trim(line);
        if (trimmed.starts_with("## ") || trimmed == "##") {
            if (!out.phases.empty() && out.phases.back().items.empty()) {
                return error(phase_line, "phase \"" + out.phases.back().title +
                                             "\" has no items; add `- [ ] **Item**: what to do` "
                                             "lines under it");
            }
            auto h = split_heading(trimmed.substr(2));
            if (h.title.empty()) {
                return error(line_no, "phase heading has no title; write `## Phase title`");
            }
            out.phases.push_back({std::move(h.title), h.window, {}});
            phase_line = line_no;
            continue;
        }
        auto item = parse_item_line(line);
        if (!item.is_item) {
            continue;  // prose, rules and other headings are ignored by design
        }
        if (!item.well_formed) {
            return error(line_no, "item must look like `- [ ] **Item title**: description`");
        }
        if (out.phases.empty()) {
            return error(line_no,
                         "item before the first phase; start a phase with `## Phase title`");
        }
        out.phases.back().items.push_back(std::move(item.item));
    }
    if (out.phases.empty()) {
        return error(line_no > 0 ? line_no : 1,
                     "no phases found; a template needs `## Phase title` headings with "
                     "`- [ ] **Item**: description` items");
    }
    if (out.phases.back().items.empty()) {
        return error(phase_line, "phase \"" + out.phases.back().title +
                                     "\" has no items; add `- [ ] **Item**: what to do` lines "
                                     "under it");
    }
    return out;
}

template_library::template_library() {
    auto parsed = parse_template("standard", "standard.md", standard_template_text());
    // The built-in template is part of the binary and covered by a unit test; failing here
    // means the build itself is broken.
    if (auto* err = std::get_if<template_error>(&parsed)) {
        throw std::logic_error("built-in standard template is invalid: " + err->to_string());
    }
    put(std::get<checklist_template>(std::move(parsed)));
}

void template_library::put(checklist_template t) {
    auto name = t.name;
    templates_.insert_or_assign(std::move(name), std::move(t));
}

const checklist_template* template_library::find(std::string_view name) const {
    auto it = templates_.find(name);
    return it == templates_.end() ? nullptr : &it->second;
}

std::vector<std::string> template_library::names() const {
    std::vector<std::string> out;
    for (const auto& [name, t] : templates_) {
        out.push_back(name);
    }
    return out;
}

}  // namespace relbot::checklist
