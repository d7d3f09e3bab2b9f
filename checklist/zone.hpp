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
    // Past the file's last transition the last offset holds (Debian's zone files list every
    // transition up to 2037).
    static std::optional<time_zone> from_tzif(std::string name, std::string_view bytes);

    const std::string& name() const { return name_; }
    // Seconds east of UTC at the instant `utc` (Unix seconds).
    int offset_at(std::int64_t utc) const;
    // The instant at which the local wall time `local` (Unix seconds as if the zone were UTC)
    // happens. A wall time skipped by a change to summer time is taken as the same distance
    // past the change (02:30 on the spring-forward night is 03:30); a wall time that happens
    // twice (the autumn night) is its first occurrence.
    std::int64_t to_utc(std::int64_t local) const;

private:
    std::string name_;
    std::vector<std::int64_t> transitions_;  // ascending, Unix seconds
    std::vector<int> offsets_after_;         // offset in force from transitions_[i] on
    int offset_before_ = 0;                  // offset before the first transition
};

// Whether `name` may name a zone file: "UTC", or IANA names such as "Europe/Berlin",
// "America/New_York", "Etc/GMT+5" (letters, digits, '_', '-', '+', '/'; no "..", no leading '/').
bool valid_zone_name(std::string_view name);

}  // namespace relbot::checklist
