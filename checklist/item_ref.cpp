// Item reference resolution.
#include "checklist/item_ref.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "checklist/slug.hpp"

namespace relbot::checklist {
namespace {

std::optional<int> parse_positive(std::string_view s) {
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v <= 0) {
        return std::nullopt;
    }
    return v;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Three rows of the table: the one before last for a swap of two neighbours.
    std::vector<std::size_t> before(b.size() + 1);
    std::vector<std::size_t> last(b.size() + 1);
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        before.swap(last);
        last.swap(row);
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            row[j] = std::min(
                {last[j] + 1, row[j - 1] + 1, last[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                row[j] = std::min(row[j], before[j - 2] + 1);
            }
        }
    }
    return row[b.size()];
}

namespace {

// "2.3": the item at that position, or the items of that phase when there is none there;
// nullopt when `ref` is not a position.
std::optional<ref_result> resolve_position(const release& r, std::string_view ref) {
    auto dot = ref.find('.');
    if (dot == std::string_view::npos) {
        return std::nullopt;
    }
    auto p = parse_positive(ref.substr(0, dot));
    auto i = parse_positive(ref.substr(dot + 1));
    if (!p || !i) {
        return std::nullopt;
    }
    auto pi = static_cast<std::size_t>(*p - 1);
    auto ii = static_cast<std::size_t>(*i - 1);
    if (pi < r.phases.size() && ii < r.phases[pi].items.size()) {
        return ref_found{{pi, ii}};
    }
    // A position that does not exist: suggest the items of that phase, if it exists.
    ref_unknown unknown;
    if (pi < r.phases.size()) {
        for (std::size_t k = 0; k < r.phases[pi].items.size() && unknown.closest.size() < 3; ++k) {
            unknown.closest.push_back({pi, r.phases[pi].items.size() - 1 - k});
        }
    }
    return unknown;
}

// A slug, typed whole or as the start of exactly one; nullopt when no slug starts so.
std::optional<ref_result> resolve_slug(const release& r, std::string_view ref) {
    std::string wanted;
    for (char c : ref) {
        wanted.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    std::vector<item_pos> prefixed;
    for (std::size_t p = 0; p < r.phases.size(); ++p) {
        for (std::size_t i = 0; i < r.phases[p].items.size(); ++i) {
            const auto& slug = r.phases[p].items[i].slug;
            if (slug == wanted) {
                return ref_found{{p, i}};
            }
            if (!wanted.empty() && slug.starts_with(wanted)) {
                prefixed.push_back({p, i});
            }
        }
    }
    if (prefixed.size() == 1) {
        return ref_found{prefixed.front()};
    }
    if (prefixed.size() > 1) {
        return ref_ambiguous{std::move(prefixed)};
    }
    return std::nullopt;
}

// How far `slug` is from what was `typed` (made into a slug), `within` typing mistakes at
// most: 0 when one of its words starts with it ("migrations" in "database-migrations"), 1 when,
// at four characters or more, it is elsewhere in it, 2 and up for the typing mistakes between
// it and the start of one of its words, or all of the rest from there; nullopt: not near.
std::optional<std::size_t> nearness(std::string_view slug,
                                    std::string_view typed,
                                    std::size_t within) {
    if (typed.empty()) {
        return std::nullopt;  // nothing of it was a letter or a digit
    }
    auto d = std::string_view::npos;
    for (std::size_t at = 0; at != std::string_view::npos;) {
        auto rest = slug.substr(at);
        if (rest.starts_with(typed)) {
            return 0;
        }
        d = std::min(
            {d, edit_distance(typed, rest.substr(0, typed.size())), edit_distance(typed, rest)});
        at = slug.find('-', at);
        at = at == std::string_view::npos ? at : at + 1;
    }
    if (typed.size() >= 4 && slug.find(typed) != std::string_view::npos) {
        return 1;
    }
    return d <= within ? std::optional<std::size_t>(d + 2) : std::nullopt;
}

// Unknown: up to three items the typed text may have meant, nearest first (nearness); none
// that is merely the least far off: a suggestion that has nothing to do with what was typed
// helps nobody.
ref_unknown nearest_slugs(const release& r, std::string_view ref) {
    auto typed = make_slug(ref);
    // A mistake in three letters or fewer leaves too little of what was meant.
    std::size_t within = typed.size() <= 3   ? 0
                         : typed.size() <= 4 ? 1
                                             : std::max<std::size_t>(2, typed.size() / 3);
    std::vector<std::pair<std::size_t, item_pos>> scored;
    for (std::size_t p = 0; p < r.phases.size(); ++p) {
        for (std::size_t i = 0; i < r.phases[p].items.size(); ++i) {
            if (auto near = nearness(r.phases[p].items[i].slug, typed, within)) {
                scored.push_back({*near, {p, i}});
            }
        }
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    ref_unknown unknown;
    for (std::size_t k = 0; k < scored.size() && k < 3; ++k) {
        unknown.closest.push_back(scored[k].second);
    }
    return unknown;
}

}  // namespace

ref_result resolve_item(const release& r, std::string_view ref) {
    if (auto by_position = resolve_position(r, ref)) {
        return std::move(*by_position);
    }
    if (auto by_slug = resolve_slug(r, ref)) {
        return std::move(*by_slug);
    }
    return nearest_slugs(r, ref);
}

}  // namespace relbot::checklist
