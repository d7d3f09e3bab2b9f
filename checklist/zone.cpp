#include "checklist/zone.hpp"

#include <algorithm>

namespace relbot::checklist {
namespace {

// Big-endian reads from a TZif body, bounds checked by the caller.
std::int64_t be(std::string_view b, std::size_t at, std::size_t width) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) {
        v = (v << 8) | static_cast<unsigned char>(b[at + i]);
    }
    if (width == 4) {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    }
    return static_cast<std::int64_t>(v);
}

struct header {
    std::size_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
    std::size_t body(std::size_t time_width) const {
        return time * time_width + time + type * 6 + chars + leap * (time_width + 4) + isstd + isut;
    }
};

std::optional<header> read_header(std::string_view b, std::size_t at) {
    if (b.size() < at + 44 || b.substr(at, 4) != "TZif") {
        return std::nullopt;
    }
    auto count = [&](std::size_t k) {
        return static_cast<std::size_t>(static_cast<std::uint32_t>(be(b, at + 20 + 4 * k, 4)));
    };
    header h{count(0), count(1), count(2), count(3), count(4), count(5)};
    // Far beyond any real zone; keeps the sizes below from overflowing.
    if (h.time > 100'000 || h.type > 256 || h.type == 0 || h.chars > 100'000 || h.leap > 100'000 ||
        h.isstd > 256 || h.isut > 256) {
        return std::nullopt;
    }
    return h;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    auto era = (y >= 0 ? y : y - 399) / 400;
    auto yoe = static_cast<unsigned>(y - era * 400);
    auto doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t year_of_days(std::int64_t days) {
    days += 719468;
    auto era = (days >= 0 ? days : days - 146096) / 146097;
    auto doe = static_cast<unsigned>(days - era * 146097);
    auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    auto mp = (5 * doy + 2) / 153;
    auto m = mp < 10 ? mp + 3 : mp - 9;
    return static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

bool leap_year(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// A small reader over a POSIX TZ string.
struct tz_reader {
    std::string_view s;
    std::size_t at = 0;

    bool done() const { return at >= s.size(); }
    char peek() const { return done() ? '\0' : s[at]; }
    bool eat(char c) {
        if (peek() != c) {
            return false;
        }
        ++at;
        return true;
    }
    std::optional<int> number(int max_digits) {
        int v = 0;
        int n = 0;
        while (n < max_digits && !done() && peek() >= '0' && peek() <= '9') {
            v = v * 10 + (s[at++] - '0');
            ++n;
        }
        return n == 0 ? std::nullopt : std::optional<int>(v);
    }
    // "CET" (three or more letters) or "<+0330>".
    bool name() {
        if (eat('<')) {
            auto close = s.find('>', at);
            if (close == std::string_view::npos || close - at < 3) {
                return false;
            }
            at = close + 1;
            return true;
        }
        auto start = at;
        while (!done() && ((peek() >= 'A' && peek() <= 'Z') || (peek() >= 'a' && peek() <= 'z'))) {
            ++at;
        }
        return at - start >= 3;
    }
    // [+-]hh[:mm[:ss]] in seconds; hours up to `max_hours`.
    std::optional<int> hms(int max_hours) {
        int sign = eat('-') ? -1 : (eat('+'), 1);
        auto h = number(3);
        if (!h || *h > max_hours) {
            return std::nullopt;
        }
        int v = *h * 3600;
        if (eat(':')) {
            auto m = number(2);
            if (!m || *m > 59) {
                return std::nullopt;
            }
            v += *m * 60;
            if (eat(':')) {
                auto sec = number(2);
                if (!sec || *sec > 59) {
                    return std::nullopt;
                }
                v += *sec;
            }
        }
        return sign * v;
    }
    std::optional<time_zone::rule_day> day() {
        time_zone::rule_day d;
        using form = time_zone::rule_day::form;
        if (eat('M')) {
            auto m = number(2);
            if (!m || *m < 1 || *m > 12 || !eat('.')) {
                return std::nullopt;
            }
            auto w = number(1);
            if (!w || *w < 1 || *w > 5 || !eat('.')) {
                return std::nullopt;
            }
            auto wd = number(1);
            if (!wd || *wd > 6) {
                return std::nullopt;
            }
            d.kind = form::month_week_day;
            d.month = *m;
            d.week = *w;
            d.weekday = *wd;
        } else {
            bool julian = eat('J');
            auto n = number(3);
            if (!n || (julian && (*n < 1 || *n > 365)) || (!julian && *n > 365)) {
                return std::nullopt;
            }
            d.kind = julian ? form::julian_no_leap : form::zero_based;
            d.day = *n;
        }
        if (eat('/')) {
            auto t = hms(167);  // RFC 8536 §3.3.1: -167 to 167 hours
            if (!t) {
                return std::nullopt;
            }
            d.time_s = *t;
        }
        return d;
    }
};

// Days since 1970-01-01 of the day `d` names in `year`.
std::int64_t day_in_year(const time_zone::rule_day& d, std::int64_t year) {
    using form = time_zone::rule_day::form;
    auto jan1 = days_from_civil(year, 1, 1);
    switch (d.kind) {
        case form::julian_no_leap:
            return jan1 + d.day - 1 + (leap_year(year) && d.day >= 60 ? 1 : 0);
        case form::zero_based:
            return jan1 + d.day;
        case form::month_week_day:
            break;
    }
    static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    auto first = days_from_civil(year, static_cast<unsigned>(d.month), 1);
    auto first_weekday = ((first % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday (4; Sunday 0)
    auto day = first + (d.weekday - first_weekday + 7) % 7 + (d.week - 1) * 7;
    auto length = month_days[d.month - 1] + (d.month == 2 && leap_year(year) ? 1 : 0);
    while (day >= first + length) {
        day -= 7;  // week 5: the last such weekday of the month
    }
    return day;
}

}  // namespace

std::optional<time_zone::posix_rule> time_zone::read_posix_rule(std::string_view text) {
    tz_reader r{text};
    posix_rule rule;
    if (!r.name()) {
        return std::nullopt;
    }
    auto std_west = r.hms(24);
    if (!std_west) {
        return std::nullopt;
    }
    rule.std_offset = -*std_west;  // POSIX offsets count west of Greenwich
    if (r.done()) {
        return rule;
    }
    if (!r.name()) {
        return std::nullopt;
    }
    rule.has_dst = true;
    rule.dst_offset = rule.std_offset + 3600;
    if (r.peek() != ',') {
        auto dst_west = r.hms(24);
        if (!dst_west) {
            return std::nullopt;
        }
        rule.dst_offset = -*dst_west;
    }
    if (!r.eat(',')) {
        return std::nullopt;  // a zone with summer time but no rule: none in the database
    }
    auto start = r.day();
    if (!start || !r.eat(',')) {
        return std::nullopt;
    }
    auto end = r.day();
    if (!end || !r.done()) {
        return std::nullopt;
    }
    rule.start = *start;
    rule.end = *end;
    return rule;
}

int time_zone::offset_by_rule(const posix_rule& rule, std::int64_t utc) {
    if (!rule.has_dst) {
        return rule.std_offset;
    }
    auto local_days = (utc + rule.std_offset) >= 0 ? (utc + rule.std_offset) / 86400
                                                   : (utc + rule.std_offset - 86399) / 86400;
    auto year = year_of_days(local_days);
    // The rule's start is written in standard time, its end in summer time.
    auto start = day_in_year(rule.start, year) * 86400 + rule.start.time_s - rule.std_offset;
    auto end = day_in_year(rule.end, year) * 86400 + rule.end.time_s - rule.dst_offset;
    bool summer = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
    return summer ? rule.dst_offset : rule.std_offset;
}

time_zone time_zone::utc() {
    time_zone z;
    z.name_ = "UTC";
    return z;
}

std::optional<time_zone> time_zone::from_tzif(std::string name, std::string_view b) {
    auto v1 = read_header(b, 0);
    if (!v1) {
        return std::nullopt;
    }
    std::size_t at = 44;
    std::size_t width = 4;
    header h = *v1;
    if (b[4] >= '2') {
        // Version 2+: a second header and body with 64-bit times follow the first body.
        auto skip = at + v1->body(4);
        auto v2 = read_header(b, skip);
        if (!v2) {
            return std::nullopt;
        }
        h = *v2;
        at = skip + 44;
        width = 8;
    }
    if (b.size() < at + h.body(width)) {
        return std::nullopt;
    }
    time_zone z;
    z.name_ = std::move(name);
    auto times_at = at;
    auto index_at = times_at + h.time * width;
    auto types_at = index_at + h.time;
    std::vector<int> type_offsets(h.type);
    std::vector<bool> type_dst(h.type);
    for (std::size_t t = 0; t < h.type; ++t) {
        auto off = be(b, types_at + 6 * t, 4);
        if (off < -25 * 3600 || off > 26 * 3600) {
            return std::nullopt;
        }
        type_offsets[t] = static_cast<int>(off);
        type_dst[t] = b[types_at + 6 * t + 4] != 0;
    }
    // Before the first transition: the first standard-time type (RFC 8536 §3.2), else type 0.
    z.offset_before_ = type_offsets[0];
    for (std::size_t t = 0; t < h.type; ++t) {
        if (!type_dst[t]) {
            z.offset_before_ = type_offsets[t];
            break;
        }
    }
    for (std::size_t k = 0; k < h.time; ++k) {
        auto when = be(b, times_at + k * width, width);
        auto type = static_cast<unsigned char>(b[index_at + k]);
        if (type >= h.type || (!z.transitions_.empty() && when <= z.transitions_.back())) {
            return std::nullopt;
        }
        z.transitions_.push_back(when);
        z.offsets_after_.push_back(type_offsets[type]);
    }
    // Version 2+: the footer, "\n<POSIX TZ string>\n", for the times after the last transition.
    if (width == 8) {
        auto footer = b.substr(at + h.body(width));
        if (footer.size() >= 2 && footer.front() == '\n') {
            auto end = footer.find('\n', 1);
            if (end != std::string_view::npos) {
                z.rule_ = read_posix_rule(footer.substr(1, end - 1));
            }
        }
    }
    return z;
}

int time_zone::offset_at(std::int64_t utc) const {
    if (rule_ && (transitions_.empty() || utc >= transitions_.back())) {
        return offset_by_rule(*rule_, utc);
    }
    auto after = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
    if (after == transitions_.begin()) {
        return offset_before_;
    }
    return offsets_after_[static_cast<std::size_t>(after - transitions_.begin() - 1)];
}

std::int64_t time_zone::to_utc(std::int64_t local) const {
    // The wall time read with the offset in force a day before and a day after: when both
    // readings agree on an offset whose instant maps back to `local`, that is it.
    auto early = offset_at(local - 86400);
    auto late = offset_at(local + 86400);
    if (auto first = local - early; offset_at(first) == early) {
        return first;  // also the first of two occurrences in the autumn
    }
    if (auto second = local - late; offset_at(second) == late) {
        return second;
    }
    // Skipped (spring forward): as far past the change as the wall time is past it.
    return local - early;
}

bool valid_zone_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/' ||
        name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '+' || c == '/';
    });
}

}  // namespace relbot::checklist
