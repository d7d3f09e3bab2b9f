// Freeze windows (checklist/freeze.hpp) in real zones from the system's zone database
// (bot/zones.hpp reads /usr/share/zoneinfo): one-off and weekly windows, across midnight, across
// a change to or from summer time in Europe/Berlin and America/New_York, and overlapping ones.
#include "checklist/freeze.hpp"

#include <catch2/catch.hpp>

#include "bot/zones.hpp"
#include "checklist/duration.hpp"

namespace unit_freeze_test {

using namespace relbot;
using namespace relbot::checklist;

namespace {

std::int64_t utc(std::string_view date, std::string_view time) {
    auto t = parse_utc_minutes(date, time);
    REQUIRE(t);
    return *t;
}

freeze_window window(std::string_view text) {
    auto w = read_freeze_window(text);
    if (auto* problem = std::get_if<std::string>(&w)) {
        FAIL(*problem);
    }
    auto out = std::get<freeze_window>(std::move(w));
    out.zone = bot::load_zone(out.zone_name);
    REQUIRE(out.zone);
    return out;
}

// When the freeze that covers `now` ends, as "YYYY-MM-DD HH:MM UTC"; "" when none covers it.
std::string frozen_until(const std::vector<freeze_window>& ws, std::int64_t now) {
    std::vector<const freeze_window*> ptrs;
    for (const auto& w : ws) {
        ptrs.push_back(&w);
    }
    auto f = active_freeze(ptrs, now);
    return f ? format_utc(f->until) : "";
}

}  // namespace

TEST_CASE("zone offsets come from the system's zone files, summer time included", "[freeze]") {
    auto berlin = bot::load_zone("Europe/Berlin");
    auto new_york = bot::load_zone("America/New_York");
    REQUIRE(berlin);
    REQUIRE(new_york);
    CHECK(bot::load_zone("Mars/Olympus_Mons") == nullptr);
    CHECK(bot::load_zone("../../etc/passwd") == nullptr);
    // Berlin: CET to CEST at 01:00 UTC on 2026-03-29, back at 01:00 UTC on 2026-10-25.
    CHECK(berlin->offset_at(utc("2026-03-29", "00:59")) == 3600);
    CHECK(berlin->offset_at(utc("2026-03-29", "01:00")) == 7200);
    CHECK(berlin->offset_at(utc("2026-10-25", "01:00")) == 3600);
    // New York: EST to EDT at 07:00 UTC on 2026-03-08, back at 06:00 UTC on 2026-11-01.
    CHECK(new_york->offset_at(utc("2026-03-08", "06:59")) == -5 * 3600);
    CHECK(new_york->offset_at(utc("2026-03-08", "07:00")) == -4 * 3600);
    CHECK(new_york->offset_at(utc("2026-11-01", "06:00")) == -5 * 3600);
    // A wall time skipped in spring is taken an hour on; one that happens twice, the first.
    CHECK(berlin->to_utc(utc("2026-03-29", "02:30")) == utc("2026-03-29", "01:30"));
    CHECK(berlin->to_utc(utc("2026-10-25", "02:30")) == utc("2026-10-25", "00:30"));
    CHECK(berlin->to_utc(utc("2026-07-01", "12:00")) == utc("2026-07-01", "10:00"));
}

TEST_CASE("a one-off window freezes from its start to its end in its zone", "[freeze]") {
    std::vector ws = {window("2026-12-20 00:00 to 2027-01-04 08:00 UTC: holidays")};
    CHECK(frozen_until(ws, utc("2026-12-19", "23:59")).empty());
    CHECK(frozen_until(ws, utc("2026-12-20", "00:00")) == "2027-01-04 08:00 UTC");
    CHECK(frozen_until(ws, utc("2027-01-04", "07:59")) == "2027-01-04 08:00 UTC");
    CHECK(frozen_until(ws, utc("2027-01-04", "08:00")).empty());
    std::vector berlin = {window("2026-12-20 00:00 to 2027-01-04 08:00 Europe/Berlin: holidays")};
    CHECK(frozen_until(berlin, utc("2026-12-19", "23:00")) == "2027-01-04 07:00 UTC");
    CHECK(frozen_until(berlin, utc("2026-12-19", "22:59")).empty());
}

TEST_CASE("a weekly window repeats every week, across midnight and the week's end", "[freeze]") {
    // 2026-12-04 is a Friday; Berlin is UTC+1 in winter.
    std::vector ws = {window("Fri 15:00 to Mon 08:00 Europe/Berlin: weekend")};
    CHECK(frozen_until(ws, utc("2026-12-04", "13:59")).empty());
    CHECK(frozen_until(ws, utc("2026-12-04", "14:00")) == "2026-12-07 07:00 UTC");
    CHECK(frozen_until(ws, utc("2026-12-06", "23:30")) == "2026-12-07 07:00 UTC");
    CHECK(frozen_until(ws, utc("2026-12-07", "07:00")).empty());
    CHECK(frozen_until(ws, utc("2026-12-09", "12:00")).empty());
    CHECK(frozen_until(ws, utc("2026-12-11", "14:30")) == "2026-12-14 07:00 UTC");
    // Across midnight within the week: Wednesday night.
    std::vector night = {window("Wed 22:00 to Thu 02:00 UTC: nightly batch")};
    CHECK(frozen_until(night, utc("2026-12-09", "23:00")) == "2026-12-10 02:00 UTC");
    CHECK(frozen_until(night, utc("2026-12-10", "01:59")) == "2026-12-10 02:00 UTC");
    CHECK(frozen_until(night, utc("2026-12-10", "02:00")).empty());
    // Sunday into Monday: the week's end inside the window.
    std::vector sunday = {window("Sun 20:00 to Mon 06:00 UTC: maintenance")};
    CHECK(frozen_until(sunday, utc("2026-12-13", "21:00")) == "2026-12-14 06:00 UTC");
    CHECK(frozen_until(sunday, utc("2026-12-14", "05:00")) == "2026-12-14 06:00 UTC");
}

TEST_CASE("a weekly window keeps its wall times across a change of summer time", "[freeze]") {
    // Berlin springs forward on Sunday 2026-03-29: the window starts at 15:00 CET (14:00 UTC)
    // and ends at 08:00 CEST (06:00 UTC).
    std::vector berlin = {window("Fri 15:00 to Mon 08:00 Europe/Berlin: weekend")};
    CHECK(frozen_until(berlin, utc("2026-03-27", "13:59")).empty());
    CHECK(frozen_until(berlin, utc("2026-03-27", "14:00")) == "2026-03-30 06:00 UTC");
    CHECK(frozen_until(berlin, utc("2026-03-30", "06:00")).empty());
    // and falls back on 2026-10-25: 15:00 CEST (13:00 UTC) to 08:00 CET (07:00 UTC).
    CHECK(frozen_until(berlin, utc("2026-10-23", "13:00")) == "2026-10-26 07:00 UTC");
    CHECK(frozen_until(berlin, utc("2026-10-26", "06:59")) == "2026-10-26 07:00 UTC");
    // New York falls back on Sunday 2026-11-01: 17:00 EDT (21:00 UTC) to 09:00 EST (14:00 UTC).
    std::vector new_york = {window("Fri 17:00 to Mon 09:00 America/New_York: weekend")};
    CHECK(frozen_until(new_york, utc("2026-10-30", "20:59")).empty());
    CHECK(frozen_until(new_york, utc("2026-10-30", "21:00")) == "2026-11-02 14:00 UTC");
    CHECK(frozen_until(new_york, utc("2026-11-02", "13:59")) == "2026-11-02 14:00 UTC");
    CHECK(frozen_until(new_york, utc("2026-11-02", "14:00")).empty());
    // and springs forward on 2026-03-08: 17:00 EST (22:00 UTC) to 09:00 EDT (13:00 UTC).
    CHECK(frozen_until(new_york, utc("2026-03-06", "22:00")) == "2026-03-09 13:00 UTC");
}

TEST_CASE("overlapping or touching windows freeze until the last of them ends", "[freeze]") {
    std::vector ws = {window("2026-12-20 00:00 to 2026-12-28 00:00 UTC: holidays"),
                      window("2026-12-27 00:00 to 2027-01-04 08:00 UTC: new year"),
                      window("2027-01-04 08:00 to 2027-01-04 12:00 UTC: catch-up")};
    std::vector<const freeze_window*> ptrs = {&ws[0], &ws[1], &ws[2]};
    auto f = active_freeze(ptrs, utc("2026-12-21", "09:00"));
    REQUIRE(f);
    CHECK(format_utc(f->until) == "2027-01-04 12:00 UTC");
    // Each window's reason, in the order they carry the freeze on.
    CHECK(f->reason == "holidays, then new year, then catch-up");
    CHECK(format_utc(f->since) == "2026-12-20 00:00 UTC");
    // From inside the last window, only its own reason; frozen since the first began, whatever
    // order the windows are listed in (the freeze held without a break).
    auto last = active_freeze(ptrs, utc("2027-01-04", "09:00"));
    REQUIRE(last);
    CHECK(last->reason == "catch-up");
    CHECK(format_utc(last->since) == "2026-12-20 00:00 UTC");
    std::vector<const freeze_window*> reversed = {&ws[2], &ws[1], &ws[0]};
    auto in_both = active_freeze(reversed, utc("2026-12-27", "12:00"));
    REQUIRE(in_both);
    CHECK(format_utc(in_both->since) == "2026-12-20 00:00 UTC");
    // A weekly window that the one-off runs into carries the freeze over the weekend.
    std::vector chain = {window("2026-12-04 09:00 to 2026-12-04 16:00 UTC: audit"),
                         window("Fri 15:00 to Mon 08:00 UTC: weekend")};
    CHECK(frozen_until(chain, utc("2026-12-04", "10:00")) == "2026-12-07 08:00 UTC");
}

TEST_CASE("RELBOT_FREEZE's list reads every window or names the bad one", "[freeze]") {
    auto ok = read_freeze_list(
        "2026-12-20 00:00 to 2027-01-04 08:00 UTC: holidays; Fri 15:00 to Mon 08:00 "
        "Europe/Berlin: weekend;");
    REQUIRE(std::holds_alternative<std::vector<freeze_window>>(ok));
    CHECK(std::get<std::vector<freeze_window>>(ok).size() == 2);
    // The template's own lines, list mark and all (contract: "the same lines").
    auto marked = read_freeze_list(
        "- 2026-12-20 00:00 to 2027-01-04 08:00 UTC: holidays; * Fri 15:00 to Mon 08:00 UTC: "
        "weekend");
    REQUIRE(std::holds_alternative<std::vector<freeze_window>>(marked));
    CHECK(std::get<std::vector<freeze_window>>(marked).size() == 2);
    auto bad = read_freeze_list("Fri 15:00 to Mon 08:00 UTC: weekend; tomorrow: reasons");
    REQUIRE(std::holds_alternative<std::string>(bad));
    CHECK_THAT(std::get<std::string>(bad), Catch::Contains("`tomorrow: reasons`"));
    std::vector<freeze_window> unknown = std::get<std::vector<freeze_window>>(
        read_freeze_list("Fri 15:00 to Mon 08:00 Mars/Olympus_Mons: dust"));
    auto problem = bot::resolve_zones(unknown, "");
    REQUIRE(problem);
    CHECK_THAT(*problem, Catch::Contains("Mars/Olympus_Mons"));
}

namespace {

// A version 2 TZif file with no transitions, one type (`offset`), and `footer` as its POSIX TZ
// string: every instant's offset then comes from the footer's rule.
std::string footer_only_tzif(std::int32_t offset, std::string_view footer) {
    auto be32 = [](std::uint32_t v) {
        return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                           static_cast<char>(v >> 8), static_cast<char>(v)};
    };
    std::string header = "TZif2" + std::string(15, '\0');
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    header += be32(0) + be32(0) + be32(0) + be32(0) + be32(1) + be32(4);
    std::string body = be32(static_cast<std::uint32_t>(offset)) + std::string{'\0', '\0'} +
                       std::string("STD") + '\0';
    return header + body + header + body + "\n" + std::string(footer) + "\n";
}

}  // namespace

TEST_CASE("past the zone file's last transition, its footer's rule gives summer time", "[freeze]") {
    // Debian's files list transitions up to 2037; later years follow the POSIX TZ footer.
    auto berlin = bot::load_zone("Europe/Berlin");
    auto new_york = bot::load_zone("America/New_York");
    auto sydney = bot::load_zone("Australia/Sydney");
    REQUIRE(berlin);
    REQUIRE(new_york);
    REQUIRE(sydney);
    // Berlin, 2040: summer time from 01:00 UTC on the last Sunday of March (the 25th) to
    // 01:00 UTC on the last Sunday of October (the 28th).
    CHECK(berlin->offset_at(utc("2040-01-15", "12:00")) == 3600);
    CHECK(berlin->offset_at(utc("2040-03-25", "00:59")) == 3600);
    CHECK(berlin->offset_at(utc("2040-03-25", "01:00")) == 7200);
    CHECK(berlin->offset_at(utc("2040-10-28", "00:59")) == 7200);
    CHECK(berlin->offset_at(utc("2040-10-28", "01:00")) == 3600);
    // New York, 2045: the second Sunday of March (the 12th) at 02:00 EST, the first Sunday of
    // November (the 5th) at 02:00 EDT.
    CHECK(new_york->offset_at(utc("2045-03-12", "06:59")) == -5 * 3600);
    CHECK(new_york->offset_at(utc("2045-03-12", "07:00")) == -4 * 3600);
    CHECK(new_york->offset_at(utc("2045-11-05", "05:59")) == -4 * 3600);
    CHECK(new_york->offset_at(utc("2045-11-05", "06:00")) == -5 * 3600);
    // Sydney, southern summer: daylight time across the new year.
    CHECK(sydney->offset_at(utc("2050-01-01", "00:00")) == 11 * 3600);
    CHECK(sydney->offset_at(utc("2050-07-01", "00:00")) == 10 * 3600);
    // A weekly window in Berlin keeps its wall time in 2040's summer.
    auto w = window("Fri 15:00 to Mon 08:00 Europe/Berlin: weekend");
    CHECK(frozen_until({w}, utc("2040-07-06", "13:00")) == "2040-07-09 06:00 UTC");
    CHECK(frozen_until({w}, utc("2040-07-06", "12:59")).empty());
}

TEST_CASE("a zone file's footer rule: every form of a POSIX TZ string", "[freeze]") {
    auto zone = [](std::int32_t offset, std::string_view footer) {
        auto z = time_zone::from_tzif("Test/Zone", footer_only_tzif(offset, footer));
        REQUIRE(z);
        return *z;
    };
    // Standard time only, with a name in angle brackets and minutes.
    auto tehran = zone(12600, "<+0330>-3:30");
    CHECK(tehran.offset_at(utc("2050-06-01", "00:00")) == 12600);
    // Month-week-day rules with a change time.
    auto cet = zone(3600, "CET-1CEST,M3.5.0,M10.5.0/3");
    CHECK(cet.offset_at(utc("2031-03-30", "00:59")) == 3600);
    CHECK(cet.offset_at(utc("2031-03-30", "01:00")) == 7200);
    // Julian days (Feb 29 not counted) and zero-based days.
    auto julian = zone(0, "AAA0BBB,J60/0,J300/0");  // 1 March to 27 October
    CHECK(julian.offset_at(utc("2028-02-29", "23:59")) == 0);
    CHECK(julian.offset_at(utc("2028-03-01", "00:00")) == 3600);
    auto zero_based = zone(0, "AAA0BBB,59/0,299/0");  // 29 February in a leap year
    CHECK(zero_based.offset_at(utc("2028-02-29", "00:00")) == 3600);
    // Negative summer time (Europe/Dublin's form): standard IST in summer, GMT in winter.
    auto dublin = zone(3600, "IST-1GMT0,M10.5.0,M3.5.0/1");
    CHECK(dublin.offset_at(utc("2040-01-15", "12:00")) == 0);
    CHECK(dublin.offset_at(utc("2040-07-15", "12:00")) == 3600);
    // A footer that is not a rule is ignored: the file's own type holds.
    auto broken = zone(7200, "nonsense,,");
    CHECK(broken.offset_at(utc("2040-07-15", "12:00")) == 7200);
    CHECK_FALSE(time_zone::read_posix_rule("CET-1CEST,M13.5.0,M10.5.0"));
    CHECK_FALSE(time_zone::read_posix_rule("CET-1CEST"));
    CHECK_FALSE(time_zone::read_posix_rule("C-1"));
}

}  // namespace unit_freeze_test
