// Finding an item from what a person typed: a position ("2.3"), a slug, or a unique prefix
// of a slug. Pure.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "checklist/release.hpp"

namespace relbot::checklist {

// Where an item sits in release::phases (0-based indexes).
struct item_pos {
    std::size_t phase = 0;
    std::size_t index = 0;
    friend bool operator==(const item_pos&, const item_pos&) = default;
};

struct ref_found {
    item_pos pos;
};

// More than one slug starts with what was typed.
struct ref_ambiguous {
    std::vector<item_pos> candidates;
};

// Nothing matches; `closest` holds up to three items that may have been meant, nearest first
// (a word of the slug starts with the text, or it is a few typing mistakes away); empty when
// none is near.
struct ref_unknown {
    std::vector<item_pos> closest;
};

using ref_result = std::variant<ref_found, ref_ambiguous, ref_unknown>;

// Resolves `ref` (case-insensitive). An exact slug wins over longer slugs it prefixes.
ref_result resolve_item(const release& r, std::string_view ref);

// Edits from `a` to `b` (insertions, deletions, changes, and a swap of two neighbouring
// characters counting as one: "stauts" is one from "status"), for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace relbot::checklist
