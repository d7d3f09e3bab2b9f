// Checklist templates: the markdown format of the contract turned into phases and items.
// Pure: no I/O. Reading files is the caller's job (bot/config.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "checklist/freeze.hpp"
#include "checklist/policy.hpp"

namespace relbot::checklist {

// How long a phase runs before it may be left, e.g. "(24-48 hours)".
struct phase_window {
    std::chrono::seconds min{};
    std::chrono::seconds max{};
    friend bool operator==(const phase_window&, const phase_window&) = default;
};

struct template_item {
    std::string title;
    std::string description;  // without the annotation (or any other trailing comment)
    int line = 0;             // 1-based line in the template's file; 0 when not read from one
    item_policy policy = {};  // the annotation's, if the line ends with one
};

struct template_phase {
    std::string title;  // the heading as written, e.g. "Post-Release Monitoring (24-48 hours)"
    std::optional<phase_window> window;
    std::vector<template_item> items;
    int line = 0;  // 1-based line of the heading; 0 when not read from one
};

// A line the parser ignored though it looks meant as an item (template_warnings names it).
struct ignored_line {
    int line = 0;  // 1-based
    std::string why;
};

struct checklist_template {
    std::string name;
    std::vector<template_phase> phases;
    std::vector<freeze_window> freezes = {};  // the `## Freeze` section's windows
    std::vector<ignored_line> ignored = {};   // item-like lines that are not items

    std::size_t item_count() const;
};

// A template that cannot be used, with where and why.
struct template_error {
    std::string file;
    int line = 0;  // 1-based
    std::string message;

    // "file:line: message"
    std::string to_string() const;
};

using template_result = std::variant<checklist_template, template_error>;

// The largest template file read, and the most items a template may have: more is an error
// (a checklist that long cannot be shown or reminded about in Slack).
inline constexpr std::size_t max_template_bytes = 256 * 1024;
inline constexpr std::size_t max_template_items = 200;

// Parses markdown in the shape of the standard checklist: `## Phase title [(window)]` starts a
// phase, `- [ ] **Item title**: description` is an item of it, other lines are ignored.
// An item line may end with its policy in an HTML comment (checklist/policy.hpp); other
// trailing comments are dropped. `## Freeze` starts a section of freeze windows, one per
// `- ` line (checklist/freeze.hpp), not a phase; their zones are named, not read.
// A heading's trailing bracket that reads as a window (a number or range and a unit) but is
// inverted, such as "(48-24 hours)", or empty, such as "(0 hours)", is an error.
// `file` is only used in error messages. Never throws for bad input.
template_result parse_template(std::string_view name, std::string_view file, std::string_view text);

// Parses a window such as "(24-48 hours)" or "(2 days)": seconds, minutes, hours, days or
// weeks, singular or plural. One number is both bounds: "(2 days)" is "(2-2 days)".
// nullopt if `text` is not one, and for an inverted or empty window.
std::optional<phase_window> parse_phase_window(std::string_view text);

// Something legal that a template's author may not have meant, with where.
struct template_warning {
    std::string file;
    int line = 0;  // 1-based
    std::string message;

    // "file:line: warning: message"
    std::string to_string() const;
};

// Lines that look meant as items but are not (ignored, as the contract says of any line that
// is not an item), and items whose titles give the same slug as an earlier item's (the same
// title, or one that differs only in case or punctuation): each is named with the earlier line
// and the slug it gets in a release, from make_unique_slugs like make_release. In line order.
std::vector<template_warning> template_warnings(const checklist_template& t, std::string_view file);

// The built-in `standard` template's markdown (the seed checklist, compiled in).
std::string_view standard_template_text();

// The templates a bot can start releases from, by name. `standard` is always present.
class template_library {
public:
    // Holds the built-in standard template.
    template_library();

    // Adds or replaces a template by its name.
    void put(checklist_template t);

    // nullptr when there is no template of that name.
    const checklist_template* find(std::string_view name) const;

    std::vector<std::string> names() const;

private:
    std::map<std::string, checklist_template, std::less<>> templates_;
};

}  // namespace relbot::checklist
