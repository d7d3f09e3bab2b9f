// Duration parsing and formatting.
#include "checklist/duration.hpp"

#include <charconv>

namespace relbot::checklist {

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    if (text.size() < 2) {
        return std::nullopt;
    }
    long long unit = 0;
    switch (text.back()) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return std::nullopt;
    }
    auto digits = text.substr(0, text.size() - 1);
    long long n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc{} || end != digits.data() + digits.size() || n <= 0 ||
        n > 365LL * 86400 / unit) {
        return std::nullopt;
    }
    return std::chrono::seconds(n * unit);
}

bool is_zero_duration(std::string_view text) {
    return text.size() >= 2 &&
           std::string_view("smhd").find(text.back()) != std::string_view::npos &&
           text.find_first_not_of('0') == text.size() - 1;
}

bool is_duration_too_long(std::string_view text) {
    if (text.size() < 2) {
        return false;
    }
    auto unit = text.back();
    if (unit != 's' && unit != 'm' && unit != 'h' && unit != 'd') {
        return false;
    }
    auto digits = text.substr(0, text.size() - 1);
    bool positive = false;
    for (char c : digits) {
        if (c < '0' || c > '9') {
            return false;
        }
        positive = positive || c != '0';
    }
    // Well formed and above zero, so parse_duration refuses it only for its size (including
    // numbers too long for any integer).
    return positive && !parse_duration(text);
}

std::string format_duration(std::chrono::seconds d) {
    auto s = d.count();
    if (s != 0 && s % 86400 == 0) {
        return std::to_string(s / 86400) + "d";
    }
    if (s != 0 && s % 3600 == 0) {
        return std::to_string(s / 3600) + "h";
    }
    if (s != 0 && s % 60 == 0) {
        return std::to_string(s / 60) + "m";
    }
    return std::to_string(s) + "s";
}

}  // namespace relbot::checklist

namespace relbot::checklist {
namespace {

struct civil_date {
    long long year;
    unsigned month;
    unsigned day;
};

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
civil_date civil_from_days(long long z) {
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const long long y = static_cast<long long>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2 ? 1 : 0), m, d};
}

// Howard Hinnant's days_from_civil: a proleptic Gregorian date to days since 1970-01-01.
long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

std::optional<unsigned> digits(std::string_view s, std::size_t n) {
    if (s.size() != n) {
        return std::nullopt;
    }
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    return v;
}

std::string two_digits(long long v) {
    auto digits = std::to_string(v);
    if (v < 10) {
        digits.insert(digits.begin(), '0');  // not "0" + …: GCC 12 -O3 warns (-Wrestrict)
    }
    return digits;
}

}  // namespace

std::optional<std::int64_t> parse_utc_minutes(std::string_view date, std::string_view time) {
    if (date.size() != 10 || date[4] != '-' || date[7] != '-' || time.size() != 5 ||
        time[2] != ':') {
        return std::nullopt;
    }
    auto y = digits(date.substr(0, 4), 4);
    auto m = digits(date.substr(5, 2), 2);
    auto d = digits(date.substr(8, 2), 2);
    auto hh = digits(time.substr(0, 2), 2);
    auto mm = digits(time.substr(3, 2), 2);
    if (!y || !m || !d || !hh || !mm || *m < 1 || *m > 12 || *d < 1 || *hh > 23 || *mm > 59) {
        return std::nullopt;
    }
    auto days = days_from_civil(*y, *m, *d);
    auto back = civil_from_days(days);
    if (back.month != *m || back.day != *d) {
        return std::nullopt;  // 2026-02-30 and friends
    }
    return days * 86400 + *hh * 3600 + *mm * 60;
}

std::string format_utc(std::int64_t epoch_seconds) {
    long long days = epoch_seconds / 86400;
    long long rem = epoch_seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        --days;
    }
    auto date = civil_from_days(days);
    return std::to_string(date.year) + "-" + two_digits(date.month) + "-" + two_digits(date.day) +
           " " + two_digits(rem / 3600) + ":" + two_digits(rem % 3600 / 60) + " UTC";
}

}  // namespace relbot::checklist
