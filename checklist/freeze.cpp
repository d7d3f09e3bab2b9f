#include "checklist/freeze.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"

namespace relbot::checklist {
namespace {

constexpr std::int64_t week_minutes = 7 * 1440;

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') {
            ++i;
        }
        auto start = i;
        while (i < s.size() && s[i] != ' ') {
            ++i;
        }
        if (i > start) {
            out.push_back(s.substr(start, i - start));
        }
    }
    return out;
}

// "Mon" … "Sun" (any case, or the whole name) → 0 … 6.
std::optional<int> weekday(std::string_view w) {
    constexpr std::array<std::string_view, 7> names = {
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
    std::string lower;
    for (char c : w) {
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (std::size_t d = 0; d < names.size(); ++d) {
        if (lower.size() >= 3 && names[d].starts_with(lower)) {
            return static_cast<int>(d);
        }
    }
    return std::nullopt;
}

// "15:00" → minutes of the day.
std::optional<int> clock_minutes(std::string_view t) {
    if (t.size() != 5 || t[2] != ':' || !std::isdigit(static_cast<unsigned char>(t[0])) ||
        !std::isdigit(static_cast<unsigned char>(t[1])) ||
        !std::isdigit(static_cast<unsigned char>(t[3])) ||
        !std::isdigit(static_cast<unsigned char>(t[4]))) {
        return std::nullopt;
    }
    int h = (t[0] - '0') * 10 + (t[1] - '0');
    int m = (t[3] - '0') * 10 + (t[4] - '0');
    if (h > 23 || m > 59) {
        return std::nullopt;
    }
    return h * 60 + m;
}

const std::string how =
    "write a freeze window as `2026-12-20 00:00 to 2027-01-04 08:00 UTC: reason` or, weekly, "
    "`Fri 15:00 to Mon 08:00 Europe/Berlin: reason`";

// Monday of the week holding `local` (wall seconds), at 00:00.
std::int64_t week_start(std::int64_t local) {
    auto day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    auto dow = ((day % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday (3)
    return (day - dow) * 86400;
}

const time_zone& utc_zone() {
    static const time_zone z = time_zone::utc();
    return z;
}

// The instances of `w` around `now`: [start, end) in UTC, the ones that may cover or follow it.
std::vector<std::pair<std::int64_t, std::int64_t>> spans(const freeze_window& w, std::int64_t now) {
    const time_zone& z = w.zone ? *w.zone : utc_zone();
    if (!w.weekly) {
        return {{z.to_utc(w.from), z.to_utc(w.to)}};
    }
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    auto local_now = now + z.offset_at(now);
    auto monday = week_start(local_now);
    auto length = (w.to - w.from + week_minutes) % week_minutes;
    for (int k = -1; k <= 2; ++k) {
        auto start_local = monday + (k * week_minutes + w.from) * 60;
        out.emplace_back(z.to_utc(start_local), z.to_utc(start_local + length * 60));
    }
    return out;
}

}  // namespace

std::variant<freeze_window, std::string> read_freeze_window(std::string_view text) {
    text = trim(text);
    auto written = "`" + std::string(text) + "`";
    auto unreadable = "cannot read the freeze window " + written + ": " + how;
    if (one_line(text) != text) {
        return "the freeze window " + written +
               " has a tab, a control character or a line separator in it; write it as plain "
               "text on one line";
    }
    freeze_window w;
    w.text = std::string(text);
    // The times hold colons too ("15:00"), never followed by a space: ": " starts the reason.
    auto colon = text.find(": ");
    if (colon == std::string_view::npos && text.ends_with(':')) {
        colon = text.size() - 1;
    }
    auto when = trim(text.substr(0, colon));
    auto reason =
        colon == std::string_view::npos ? std::string_view{} : trim(text.substr(colon + 1));
    // "2026-12-20 00:00 to 2027-01-04 08:00 UTC" or "Fri 15:00 to Mon 08:00 Europe/Berlin"
    auto ws = words(when);
    if (ws.size() != 6 || ws[2] != "to") {
        return unreadable;
    }
    if (reason.empty()) {
        return "the freeze window " + written +
               " has no reason; end it with `: reason`, such as `: holidays`";
    }
    w.reason = std::string(reason);
    w.zone_name = std::string(ws[5]);
    if (!valid_zone_name(w.zone_name)) {
        return "the freeze window " + written + " names no time zone; write `UTC` or a zone " +
               "such as `Europe/Berlin` after the times";
    }
    auto day_from = weekday(ws[0]);
    auto day_to = weekday(ws[3]);
    if (day_from || day_to) {
        auto at_from = clock_minutes(ws[1]);
        auto at_to = clock_minutes(ws[4]);
        if (!day_from || !day_to || !at_from || !at_to) {
            return "the weekly freeze window " + written +
                   " needs a day and a time at both ends, such as `Fri 15:00 to Mon 08:00`";
        }
        w.weekly = true;
        w.from = *day_from * 1440 + *at_from;
        w.to = *day_to * 1440 + *at_to;
        if (w.from == w.to) {
            return "the weekly freeze window " + written +
                   " starts and ends at the same time; a freeze must last a while";
        }
        return w;
    }
    auto from = parse_utc_minutes(ws[0], ws[1]);
    auto to = parse_utc_minutes(ws[3], ws[4]);
    if (!from || !to) {
        return "the freeze window " + written +
               " has a date or time that does not exist; write `YYYY-MM-DD HH:MM`";
    }
    if (*to <= *from) {
        return "the freeze window " + written +
               " ends before it starts; write the earlier "
               "time first";
    }
    w.from = *from;
    w.to = *to;
    return w;
}

std::variant<std::vector<freeze_window>, std::string> read_freeze_list(std::string_view text) {
    std::vector<freeze_window> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto end = text.find(';', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        auto one = trim(text.substr(pos, end - pos));
        pos = end + 1;
        // "The same lines" as a template's Freeze section (contract), list mark and all.
        if (one.starts_with("- ") || one.starts_with("* ")) {
            one = trim(one.substr(2));
        }
        if (one.empty()) {
            continue;
        }
        auto w = read_freeze_window(one);
        if (auto* problem = std::get_if<std::string>(&w)) {
            return *problem;
        }
        out.push_back(std::get<freeze_window>(std::move(w)));
    }
    return out;
}

std::optional<freeze_state> active_freeze(const std::vector<const freeze_window*>& windows,
                                          std::int64_t now) {
    struct span {
        std::int64_t start;
        std::int64_t end;
        const std::string* reason;
    };
    std::vector<span> all;
    std::optional<freeze_state> out;
    std::vector<const std::string*> reasons;  // of the windows the freeze is made of, in order
    for (const auto* w : windows) {
        for (auto [start, end] : spans(*w, now)) {
            if (end <= start) {
                continue;
            }
            all.push_back({start, end, &w->reason});
            if (!out && start <= now && now < end) {
                out = freeze_state{end, w->reason, start};
                reasons.push_back(&w->reason);
            }
        }
    }
    if (!out) {
        return std::nullopt;
    }
    // Windows that start before (or when) the freeze ends carry it on, and their reasons with
    // it ("weekend, then audit week"); a week's worth of instances is enough for any chain that
    // a weekly window can make.
    // Since when, likewise backwards: the earliest start among the windows that cover now and
    // those that ran into them, whatever order they are listed in.
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& s : all) {
            if (s.start <= out->until && s.end > out->until) {
                out->until = s.end;
                grew = true;
                if (std::none_of(reasons.begin(), reasons.end(),
                                 [&](const std::string* r) { return *r == *s.reason; })) {
                    reasons.push_back(s.reason);
                    out->reason += ", then " + *s.reason;
                }
            }
            if (s.start < out->since && s.end >= out->since) {
                out->since = s.start;
                grew = true;
            }
        }
    }
    return out;
}

std::optional<std::int64_t> next_freeze_change(const std::vector<const freeze_window*>& windows,
                                               std::int64_t now) {
    std::optional<std::int64_t> next;
    for (const auto* w : windows) {
        for (auto [start, end] : spans(*w, now)) {
            for (auto t : {start, end}) {
                if (end > start && t > now && (!next || t < *next)) {
                    next = t;
                }
            }
        }
    }
    return next;
}

}  // namespace relbot::checklist
