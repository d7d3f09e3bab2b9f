// Template parsing: markdown lines in, phases and items (or the first problem) out.
#include "checklist/template.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include "checklist/mrkdwn.hpp"
#include "checklist/slug.hpp"

namespace relbot::checklist {
namespace {

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

// Seconds per unit for "seconds", "minutes", "hours", "days", "weeks" (singular or plural).
std::optional<long long> unit_seconds(std::string_view unit) {
    unit = trim(unit);
    if (!unit.empty() && (unit.back() == 's' || unit.back() == 'S')) {
        unit.remove_suffix(1);
    }
    struct named_unit {
        std::string_view name;
        long long seconds;
    };
    constexpr named_unit units[] = {
        {"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}, {"week", 7 * 86400}};
    for (const auto& u : units) {
        if (unit.size() == u.name.size() && starts_with_ci(unit, u.name)) {
            return u.seconds;
        }
    }
    return std::nullopt;
}

// What a heading's trailing bracket is: not a window at all (it stays part of the title, as
// in "Checks (staging)"), a window, or something written as a window that cannot be one.
struct window_reading {
    std::optional<phase_window> window;
    std::string problem;  // set when the bracket reads as a window that cannot be used
};

// "(24-48 hours)", "(2 days)": a count or a range of counts, a space, a unit.
window_reading read_window(std::string_view text) {
    text = trim(text);
    if (text.size() < 3 || text.front() != '(' || text.back() != ')') {
        return {};
    }
    auto inside = trim(text.substr(1, text.size() - 2));
    auto space = inside.find(' ');
    if (space == std::string_view::npos) {
        return {};
    }
    auto numbers = inside.substr(0, space);
    auto unit_name = trim(inside.substr(space + 1));
    auto unit = unit_seconds(unit_name);
    if (!unit) {
        return {};
    }
    std::optional<long long> low;
    std::optional<long long> high;
    if (auto dash = numbers.find('-'); dash != std::string_view::npos) {
        low = parse_count(numbers.substr(0, dash));
        high = parse_count(numbers.substr(dash + 1));
    } else {
        // One number is both bounds: the phase can be left, and its window is over, then.
        low = parse_count(numbers);
        high = low;
    }
    if (!low || !high || *high > 365LL * 86400) {
        return {};
    }
    auto written = "`" + std::string(text) + "`";
    if (*low > *high) {
        return {std::nullopt, "phase window " + written +
                                  " ends before it starts; write the smaller number first: `(" +
                                  std::to_string(*high) + "-" + std::to_string(*low) + " " +
                                  std::string(unit_name) + ")`"};
    }
    if (*high == 0) {
        return {std::nullopt,
                "phase window " + written +
                    " is empty; its upper bound must be above 0, such as `(0-24 hours)` or "
                    "`(2 days)`, or leave the bracket out for a phase without a window"};
    }
    return {phase_window{std::chrono::seconds(*low * *unit), std::chrono::seconds(*high * *unit)},
            {}};
}

struct heading {
    std::string title;
    std::optional<phase_window> window;
    std::string problem;  // a trailing bracket written as a window that cannot be one
};

// "Post-Release Monitoring (24-48 hours)" -> the heading as written (so that reports show the
// template's own words) and the window its trailing bracket sets, if it is one.
heading split_heading(std::string_view text) {
    text = trim(text);
    if (!text.empty() && text.back() == ')') {
        auto open = text.rfind('(');
        if (open != std::string_view::npos) {
            auto reading = read_window(text.substr(open));
            return {std::string(text), reading.window, std::move(reading.problem)};
        }
    }
    return {std::string(text), std::nullopt, {}};
}

struct item_line {
    bool is_item = false;  // the line starts like a checklist item
    bool well_formed = false;
    template_item item;
    std::vector<std::string_view> comments;  // trailing `<!-- … -->`, inside text, last first
};

// Takes the HTML comments that end `s` off it, last first.
std::vector<std::string_view> take_trailing_comments(std::string_view& s) {
    std::vector<std::string_view> out;
    for (;;) {
        s = trim(s);
        if (!s.ends_with("-->")) {
            return out;
        }
        auto open = s.rfind("<!--", s.size() - 3);
        if (open == std::string_view::npos || open + 4 > s.size() - 3) {
            return out;
        }
        auto inside = s.substr(open + 4, s.size() - 3 - (open + 4));
        if (inside.find("-->") != std::string_view::npos) {
            return out;
        }
        out.push_back(inside);
        s = s.substr(0, open);
    }
}

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
    out.comments = take_trailing_comments(s);
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

std::string template_warning::to_string() const {
    return file + ":" + std::to_string(line) + ": warning: " + message;
}

std::optional<phase_window> parse_phase_window(std::string_view text) {
    return read_window(text).window;
}

namespace {

// Reads a template one line at a time: `## ` headings open phases, item lines fill the last
// one, anything else is prose. The first error ends the reading.
class template_reader {
public:
    template_reader(std::string_view name, std::string_view file) : file_(file) {
        out_.name = std::string(name);
    }

    std::optional<template_error> take(std::string_view line, int line_no) {
        auto trimmed = trim(line);
        if (trimmed.starts_with("## ") || trimmed == "##") {
            return take_heading(trimmed.substr(2), line_no);
        }
        if (in_freeze_ && trimmed.starts_with('#')) {
            in_freeze_ = false;  // any other heading ends the Freeze section
        }
        if (in_freeze_) {
            return take_freeze(trimmed, line_no);
        }
        auto item = parse_item_line(line);
        if (!item.is_item) {
            return std::nullopt;  // prose, rules and other headings are ignored by design
        }
        // Not an item (contract: other lines are ignored), but most likely meant as one: said by
        // template_warnings (`relbot check-template`, and the log at start).
        if (!item.well_formed) {
            out_.ignored.push_back({line_no,
                                    "this line is not an item and is ignored; an item looks like "
                                    "`- [ ] **Item title**: description`"});
            return std::nullopt;
        }
        if (out_.phases.empty()) {
            out_.ignored.push_back({line_no,
                                    "an item before the first phase is ignored; start a phase "
                                    "with `## Phase title` above it"});
            return std::nullopt;
        }
        if (!is_one_line(item.item.title)) {
            return error(line_no, "item title has " + std::string(not_plain));
        }
        if (++items_ > max_template_items) {
            return error(line_no, "more than " + std::to_string(max_template_items) +
                                      " items; a release checklist this long cannot be shown "
                                      "in Slack: split it into several templates");
        }
        item.item.line = line_no;
        bool annotated = false;
        for (auto comment : item.comments) {
            auto read = read_annotation(comment);
            if (auto* problem = std::get_if<annotation_error>(&read)) {
                return error(line_no, "item \"" + item.item.title + "\": " + problem->message);
            }
            if (auto* policy = std::get_if<item_policy>(&read)) {
                if (annotated) {
                    return error(line_no, "item \"" + item.item.title +
                                              "\" has two annotations; write its policy in one "
                                              "comment, keys separated by `;`");
                }
                annotated = true;
                item.item.policy = std::move(*policy);
            }
        }
        out_.phases.back().items.push_back(std::move(item.item));
        return std::nullopt;
    }

    template_result finish(int last_line) {
        if (out_.phases.empty()) {
            return error(last_line > 0 ? last_line : 1,
                         "no phases found; a template needs `## Phase title` headings with "
                         "`- [ ] **Item**: description` items");
        }
        if (out_.phases.back().items.empty()) {
            return empty_phase();
        }
        return std::move(out_);
    }

private:
    std::optional<template_error> take_heading(std::string_view heading, int line_no) {
        if (!in_freeze_ && !out_.phases.empty() && out_.phases.back().items.empty()) {
            return empty_phase();
        }
        in_freeze_ = is_freeze_heading(heading);
        if (in_freeze_) {
            return std::nullopt;
        }
        auto h = split_heading(heading);
        if (h.title.empty()) {
            return error(line_no, "phase heading has no title; write `## Phase title`");
        }
        if (!h.problem.empty()) {
            return error(line_no, std::move(h.problem));
        }
        if (!is_one_line(h.title)) {
            return error(line_no, "phase title has " + std::string(not_plain));
        }
        out_.phases.push_back({std::move(h.title), h.window, {}, line_no});
        phase_line_ = line_no;
        return std::nullopt;
    }

    // "## Freeze" (any case): the freeze windows' section.
    static bool is_freeze_heading(std::string_view heading) {
        heading = trim(heading);
        return heading.size() == 6 && starts_with_ci(heading, "freeze");
    }

    // A line of the Freeze section: `- <window>` or prose.
    std::optional<template_error> take_freeze(std::string_view line, int line_no) {
        if (!line.starts_with("- ") && !line.starts_with("* ")) {
            return std::nullopt;
        }
        auto read = read_freeze_window(line.substr(2));
        if (auto* problem = std::get_if<std::string>(&read)) {
            return error(line_no, *problem);
        }
        if (out_.freezes.size() >= max_freeze_windows) {
            return error(line_no, "more than " + std::to_string(max_freeze_windows) +
                                      " freeze windows; merge the ones that overlap");
        }
        auto& w = out_.freezes.emplace_back(std::get<freeze_window>(std::move(read)));
        w.line = line_no;
        return std::nullopt;
    }

    template_error error(int line, std::string message) const {
        return template_error{file_, line, std::move(message)};
    }

    template_error empty_phase() const {
        // Item lines under it that are not items (ignored) are most likely why: named.
        std::string not_items;
        for (const auto& i : out_.ignored) {
            if (i.line > phase_line_) {
                not_items += (not_items.empty() ? "" : ", ") + std::to_string(i.line);
            }
        }
        return error(
            phase_line_,
            "phase \"" + out_.phases.back().title +
                "\" has no items; add `- [ ] **Item**: what to do` lines under it" +
                (not_items.empty() ? std::string()
                                   : " (line " + not_items +
                                         " looks like an item but is not one: the title must be in "
                                         "**bold**)"));
    }

    // Whether `text` is shown as it is written: the report writes titles on one line (a tab,
    // a control character or a line separator would come back changed).
    static bool is_one_line(std::string_view text) { return one_line(text) == text; }
    static constexpr std::string_view not_plain =
        "a tab, a control character or a line separator (U+0085, U+2028, U+2029) in it; "
        "write it as plain text on one line";

    std::string file_;
    checklist_template out_;
    int phase_line_ = 0;
    std::size_t items_ = 0;
    bool in_freeze_ = false;
    static constexpr std::size_t max_freeze_windows = 100;
};

}  // namespace

template_result parse_template(std::string_view name,
                               std::string_view file,
                               std::string_view text) {
    if (text.size() > max_template_bytes) {
        return template_error{std::string(file), 1,
                              "the file is " + std::to_string(text.size() / 1024) +
                                  " KiB; a template may be at most " +
                                  std::to_string(max_template_bytes / 1024) + " KiB"};
    }
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.remove_prefix(3);  // a byte-order mark some editors write: not part of line 1
    }
    template_reader reader(name, file);
    int line_no = 0;
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
        if (auto err = reader.take(line, line_no)) {
            return std::move(*err);
        }
    }
    return reader.finish(line_no);
}

std::vector<template_warning> template_warnings(const checklist_template& t,
                                                std::string_view file) {
    std::vector<const template_item*> items;
    std::vector<std::string> titles;
    for (const auto& p : t.phases) {
        for (const auto& i : p.items) {
            items.push_back(&i);
            titles.push_back(i.title);
        }
    }
    // The slugs a release started from this template gets (make_release does the same).
    auto slugs = make_unique_slugs(titles);
    std::map<std::string, std::size_t, std::less<>> first_with_slug;
    std::vector<template_warning> out;
    for (const auto& i : t.ignored) {
        out.push_back({std::string(file), i.line, i.why});
    }
    for (std::size_t k = 0; k < items.size(); ++k) {
        auto [at, first] = first_with_slug.emplace(make_slug(titles[k]), k);
        if (first) {
            continue;
        }
        const auto& earlier = *items[at->second];
        auto earlier_line = std::to_string(earlier.line);
        auto same = earlier.title == items[k]->title ? "repeats line " + earlier_line
                                                     : "has the same slug as line " + earlier_line +
                                                           " (\"" + earlier.title + "\")";
        out.push_back({std::string(file), items[k]->line,
                       "\"" + items[k]->title + "\" " + same + "; its slug is " + slugs[k] +
                           " (line " + earlier_line + " has " + slugs[at->second] + ")"});
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.line < b.line; });
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
