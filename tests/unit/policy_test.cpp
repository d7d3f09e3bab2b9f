// The release-policy annotation (checklist/policy.hpp): every key, bad values, comments that
// are not annotations, and the round trip through write_annotation.
#include "checklist/policy.hpp"

#include <catch2/catch.hpp>

namespace unit_policy_test {

using namespace relbot::checklist;

namespace {

item_policy read_ok(std::string_view comment) {
    auto r = read_annotation(comment);
    INFO(comment);
    REQUIRE(std::holds_alternative<item_policy>(r));
    return std::get<item_policy>(r);
}

std::string read_bad(std::string_view comment) {
    auto r = read_annotation(comment);
    INFO(comment);
    REQUIRE(std::holds_alternative<annotation_error>(r));
    return std::get<annotation_error>(r).message;
}

}  // namespace

TEST_CASE("an annotation reads every key", "[policy]") {
    auto p = read_ok(" owner: manager; evidence: link; sign-off: 1 qa ");
    CHECK(p.owner_role == "manager");
    CHECK(p.evidence == evidence_kind::link);
    REQUIRE(p.sign_off);
    CHECK(p.sign_off->count == 1);
    CHECK(p.sign_off->role == "qa");
    CHECK_FALSE(p.auto_ci);

    auto q = read_ok("auto: ci; evidence: text; sign-off: 2;");
    CHECK(q.auto_ci);
    CHECK(q.evidence == evidence_kind::text);
    CHECK(q.sign_off == sign_off_rule{2, ""});
    CHECK(q.owner_role.empty());
}

TEST_CASE("a comment that is not an annotation is ignored", "[policy]") {
    for (auto c : {" TODO ", "", "note: ask Dana", "see https://example.com", "owner"}) {
        INFO(c);
        CHECK(std::holds_alternative<not_an_annotation>(read_annotation(c)));
    }
}

TEST_CASE("a bad annotation says what to write instead", "[policy]") {
    CHECK_THAT(read_bad("owner: qa; colour: red"), Catch::Contains("unknown key \"colour\""));
    CHECK_THAT(read_bad("note: ask Dana; owner: qa"), Catch::Contains("unknown key \"note\""));
    CHECK_THAT(read_bad("sign-off: x"), Catch::Contains("number from 1 to 9"));
    CHECK_THAT(read_bad("sign-off: 0"), Catch::Contains("number from 1 to 9"));
    CHECK_THAT(read_bad("sign-off: 10"), Catch::Contains("number from 1 to 9"));
    CHECK_THAT(read_bad("sign-off: 1 QA!"), Catch::Contains("number from 1 to 9"));
    CHECK_THAT(read_bad("sign-off: 1 qa extra"), Catch::Contains("number from 1 to 9"));
    CHECK_THAT(read_bad("evidence: screenshot"), Catch::Contains("link or text"));
    CHECK_THAT(read_bad("auto: jenkins"), Catch::Contains("auto takes ci"));
    CHECK_THAT(read_bad("owner: <@U123>"), Catch::Contains("role name"));
    CHECK_THAT(read_bad("owner:"), Catch::Contains("role name"));
    CHECK_THAT(read_bad("owner: qa; owner: pm"), Catch::Contains("given twice"));
    CHECK_THAT(read_bad("owner: qa; evidence"), Catch::Contains("key: value"));
}

TEST_CASE("an annotation written back reads as the same policy", "[policy]") {
    for (auto c : {"owner: manager; evidence: link; sign-off: 1 qa", "auto: ci",
                   "sign-off: 3; evidence: text", "owner: release-eng_2"}) {
        auto p = read_ok(c);
        auto written = write_annotation(p);
        INFO(written);
        REQUIRE(written.starts_with("<!-- "));
        REQUIRE(written.ends_with(" -->"));
        CHECK(read_ok(written.substr(5, written.size() - 9)) == p);
    }
    CHECK(write_annotation(item_policy{}).empty());
    CHECK(write_annotation(read_ok("sign-off: 2 qa; owner: pm")) ==
          "<!-- owner: pm; sign-off: 2 qa -->");
}

}  // namespace unit_policy_test
