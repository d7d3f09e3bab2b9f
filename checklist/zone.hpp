// A time zone as the system's zone database describes it (a TZif file, RFC 8536), for the
// freeze windows a template writes in local time ("Fri 15:00 to Mon 08:00 Europe/Berlin").
// Pure: the caller reads the file (bot/zones.cpp) and passes its bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relbot::checklist {

class time_zone {
public:
    // UTC: no offset, ever.
    static time_zone utc();
    // The zone a TZif file (version 1, 2 or 3) describes; nullopt when `bytes` is not one.
    // Past the file's last transition, the rule of its footer (a POSIX TZ string such as
    // "CET-1CEST,M3.5.0,M10.5.0/3") gives the offset; without one (version 1, or a footer
    // that does not parse) the last offset holds.
    static std::optional<time_zone> from_tzif(std::string name, std::string_view bytes);

    const std::string& name() const { return name_; }
    // Seconds east of UTC at the instant `utc` (Unix seconds).
    int offset_at(std::int64_t utc) const;
    // The instant at which the local wall time `local` (Unix seconds as if the zone were UTC)
    // happens. A wall time skipped by a change to summer time is taken as the same distance
    // past the change (02:30 on the spring-forward night is 03:30); a wall time that happens
    // twice (the autumn night) is its first occurrence.
    std::int64_t to_utc(std::int64_t local) const;

    // A POSIX TZ rule: standard offset, and summer time between two moments of each year.
    struct rule_day {
        enum class form { month_week_day, julian_no_leap, zero_based } kind = form::month_week_day;
        int month = 0, week = 0, weekday = 0;  // Mm.w.d
        int day = 0;                           // Jn (1-365) or n (0-365)
        int time_s = 7200;                     // local time of the change, default 02:00
    };
    struct posix_rule {
        int std_offset = 0;  // seconds east of UTC
        bool has_dst = false;
        int dst_offset = 0;
        rule_day start, end;
    };
    // Reads a POSIX TZ string (RFC 8536 §3.3, with its extensions); nullopt if it is not one.
    static std::optional<posix_rule> read_posix_rule(std::string_view text);
    // The offset `rule` gives at `utc`.
    static int offset_by_rule(const posix_rule& rule, std::int64_t utc);

private:
    std::string name_;
    std::optional<posix_rule> rule_;         // the footer: after the last transition
    std::vector<std::int64_t> transitions_;  // ascending, Unix seconds
    std::vector<int> offsets_after_;         // offset in force from transitions_[i] on
    int offset_before_ = 0;                  // offset before the first transition
};

// Whether `name` may name a zone file: "UTC", or IANA names such as "Europe/Berlin",
// "America/New_York", "Etc/GMT+5" (letters, digits, '_', '-', '+', '/'; no "..", no leading '/').
bool valid_zone_name(std::string_view name);

}  // namespace relbot::checklist
