// The controls' vocabulary: action ids, values and modal ids to text and back.
#include "commands/controls.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace relbot::commands::controls {
namespace {

constexpr std::array<std::pair<action, std::string_view>, 17> action_names{{
    {action::item_done, "item.done"},
    {action::item_skip, "item.skip"},
    {action::item_block, "item.block"},
    {action::item_unblock, "item.unblock"},
    {action::item_assign, "item.assign"},
    {action::item_note, "item.note"},
    {action::phase_next, "phase.next"},
    {action::release_finish, "release.finish"},
    {action::remind_owners, "release.remind"},
    {action::item_snooze, "item.snooze"},
    {action::remind_again, "item.remind_again"},
    {action::handoff_accept, "handoff.accept"},
    {action::checkpoint_healthy, "checkpoint.healthy"},
    {action::checkpoint_investigating, "checkpoint.investigating"},
    {action::checkpoint_roll_back, "checkpoint.roll_back"},
    {action::start_release, "release.start"},
    {action::item_approve, "item.approve"},
}};

constexpr std::array<std::pair<modal, std::string_view>, 8> modal_names{{
    {modal::skip, "skip"},
    {modal::block, "block"},
    {modal::note, "note"},
    {modal::assign, "assign"},
    {modal::rollback, "rollback"},
    {modal::next_force, "next_force"},
    {modal::start, "start"},
    {modal::check, "check"},
}};

constexpr std::array<std::pair<snooze_for, std::string_view>, 3> snooze_names{{
    {snooze_for::one_hour, "1h"},
    {snooze_for::four_hours, "4h"},
    {snooze_for::tomorrow_morning, "morning"},
}};

// A positive decimal number of at most 18 digits that is all of `text`.
std::optional<std::int64_t> positive(std::string_view text) {
    if (text.empty() || text.size() > 18) {
        return std::nullopt;
    }
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v <= 0) {
        return std::nullopt;
    }
    return v;
}

}  // namespace

std::string_view to_string(action a) {
    for (const auto& [k, name] : action_names) {
        if (k == a) {
            return name;
        }
    }
    return "unknown";
}

std::optional<action> parse_action_id(std::string_view action_id) {
    auto base = action_id.substr(0, action_id.find(':'));
    for (const auto& [k, name] : action_names) {
        if (name == base) {
            return k;
        }
    }
    return std::nullopt;
}

std::string action_id(action a, std::int64_t discriminator) {
    std::string id(to_string(a));
    if (discriminator != 0) {
        id += ':' + std::to_string(discriminator);
    }
    return id;
}

std::string encode(const target& t) {
    std::string v = "r" + std::to_string(t.release_id);
    if (t.item_id != 0) {
        v += ".i" + std::to_string(t.item_id);
    }
    if (t.checkpoint != 0) {
        v += ".c" + std::to_string(t.checkpoint);
    }
    if (t.phase != 0) {
        v += ".p" + std::to_string(t.phase);
    }
    for (const auto& [k, name] : snooze_names) {
        if (k == t.snooze) {
            v += ".s";
            v += name;
        }
    }
    return v;
}

std::optional<target> decode(std::string_view value) {
    if (value.size() > 100) {
        return std::nullopt;
    }
    target t;
    bool first = true;
    while (!value.empty()) {
        auto dot = value.find('.');
        auto part = value.substr(0, dot);
        value = dot == std::string_view::npos ? std::string_view() : value.substr(dot + 1);
        if (part.size() < 2 || (first != (part[0] == 'r'))) {
            return std::nullopt;
        }
        first = false;
        auto rest = part.substr(1);
        if (part[0] == 's') {
            if (t.snooze != snooze_for::none || t.item_id == 0) {
                return std::nullopt;
            }
            for (const auto& [k, name] : snooze_names) {
                if (name == rest) {
                    t.snooze = k;
                }
            }
            if (t.snooze == snooze_for::none) {
                return std::nullopt;
            }
            continue;
        }
        auto n = positive(rest);
        if (!n) {
            return std::nullopt;
        }
        if (part[0] == 'r' && t.release_id == 0) {
            t.release_id = *n;
        } else if (part[0] == 'i' && t.item_id == 0 && t.checkpoint == 0 && t.phase == 0) {
            t.item_id = *n;
        } else if (part[0] == 'c' && t.checkpoint == 0 && t.item_id == 0 && t.phase == 0 &&
                   *n <= 1000) {
            t.checkpoint = static_cast<int>(*n);
        } else if (part[0] == 'p' && t.phase == 0 && t.item_id == 0 && t.checkpoint == 0 &&
                   *n <= 1000) {
            t.phase = static_cast<int>(*n);
        } else {
            return std::nullopt;
        }
    }
    if (t.release_id == 0) {
        return std::nullopt;
    }
    return t;
}

std::string_view to_string(modal m) {
    for (const auto& [k, name] : modal_names) {
        if (k == m) {
            return name;
        }
    }
    return "unknown";
}

std::optional<modal> parse_modal(std::string_view callback_id) {
    for (const auto& [k, name] : modal_names) {
        if (name == callback_id) {
            return k;
        }
    }
    return std::nullopt;
}

}  // namespace relbot::commands::controls
