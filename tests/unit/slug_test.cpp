// Slugs and the small text helpers of the core.
#include "checklist/slug.hpp"

#include <catch2/catch.hpp>

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "checklist/release.hpp"

namespace unit_slug_test {

using namespace relbot::checklist;

TEST_CASE("a slug is the lower-case title with runs of other characters turned into a dash",
          "[unit]") {
    CHECK(make_slug("Smoke Tests (Production)") == "smoke-tests-production");
    CHECK(make_slug("CI/CD Status") == "ci-cd-status");
    CHECK(make_slug("  --Backup--  ") == "backup");
    CHECK(make_slug("Café Opening") == "caf-opening");
    CHECK(make_slug("!!!") == "item");
}

TEST_CASE("slugs are unique within a release: a repeated title gets -2", "[unit]") {
    CHECK(make_unique_slugs({"Smoke Tests", "Backup", "Smoke Tests", "smoke tests"}) ==
          std::vector<std::string>{"smoke-tests", "backup", "smoke-tests-2", "smoke-tests-3"});
    // A suffix that another title already owns is skipped.
    CHECK(make_unique_slugs({"A", "A", "A 2"}) == std::vector<std::string>{"a", "a-3", "a-2"});
}

TEST_CASE("a release made from the standard template has every item open with unique slugs",
          "[unit]") {
    template_library lib;
    auto r = make_release(*lib.find("standard"), "C1", "v1.0", "U1", 1000);
    CHECK(r.phases.size() == 6);
    CHECK(r.item_count() == 33);
    CHECK(r.current_phase == 1);
    CHECK(r.phases[0].entered_at == 1000);
    CHECK_FALSE(r.phases[1].entered_at);
    CHECK(r.phases[0].items[2].slug == "smoke-tests");
    CHECK(r.phases[2].items[0].slug == "smoke-tests-production");
    CHECK(r.phases[2].items[0].ref() == "3.1");
    for (const auto& p : r.phases) {
        for (const auto& i : p.items) {
            CHECK(i.state == item_state::open);
            CHECK(i.owner.empty());
        }
    }
}

TEST_CASE("mrkdwn escaping neutralises mentions and round-trips through unescape", "[unit]") {
    CHECK(escape_mrkdwn("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;");
    CHECK(unescape_slack("a &lt;b&gt; &amp;amp; c") == "a <b> &amp; c");
    CHECK(unescape_slack(escape_mrkdwn("x < y && z > 0")) == "x < y && z > 0");
}

TEST_CASE("mrkdwn read as plain text: links, mentions and dates as their text, no marks",
          "[unit]") {
    CHECK(plain_text("`1.1` *CI/CD Status* is already done.") ==
          "1.1 CI/CD Status is already done.");
    CHECK(plain_text("by <@U1|pat> and <@U2> in <#C1>") == "by @pat and @U2 in #C1");
    CHECK(plain_text("frozen until " + date_token(1712345678)) ==
          "frozen until 2024-04-05 19:34 UTC");
    CHECK(plain_text("see <https://ci/42|build 42> or <https://ci/43>") ==
          "see build 42 (https://ci/42) or https://ci/43");
    CHECK(plain_text(escape_mrkdwn("a <b> & c")) == "a <b> & c");
    CHECK(plain_text("an open < without its close") == "an open < without its close");
}

TEST_CASE("truncation never splits a UTF-8 character", "[unit]") {
    CHECK(truncate_utf8("short", 10) == "short");
    auto cut = truncate_utf8("ééééé", 6);  // 10 bytes in, 6 allowed: 1 é + ellipsis (3 bytes)
    CHECK(cut == "é\xE2\x80\xA6");
    CHECK(cut.size() <= 6);
}

TEST_CASE("durations are a whole number and one unit", "[unit]") {
    CHECK(parse_duration("45s") == std::chrono::seconds(45));
    CHECK(parse_duration("30m") == std::chrono::minutes(30));
    CHECK(parse_duration("2h") == std::chrono::hours(2));
    CHECK(parse_duration("1d") == std::chrono::hours(24));
    CHECK_FALSE(parse_duration("0h"));
    CHECK_FALSE(parse_duration("h"));
    CHECK_FALSE(parse_duration("2 h"));
    CHECK_FALSE(parse_duration("1.5h"));
    CHECK_FALSE(parse_duration("-1h"));
    CHECK_FALSE(parse_duration("2w"));
    CHECK_FALSE(parse_duration("999d"));
    CHECK(is_duration_too_long("999d"));
    CHECK(is_duration_too_long("8761h"));
    CHECK(is_duration_too_long("99999999999999999999d"));
    CHECK_FALSE(is_duration_too_long("365d"));
    CHECK_FALSE(is_duration_too_long("0h"));
    CHECK_FALSE(is_duration_too_long("2w"));
    CHECK_FALSE(is_duration_too_long("-999d"));
    CHECK_FALSE(is_duration_too_long("d"));
    CHECK(format_duration(std::chrono::hours(4)) == "4h");
    CHECK(format_duration(std::chrono::seconds(90)) == "90s");
    CHECK(format_utc(0) == "1970-01-01 00:00 UTC");
    CHECK(format_utc(1795669235) == "2026-11-26 05:00 UTC");
}

}  // namespace unit_slug_test
