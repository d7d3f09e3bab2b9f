// Template parsing: the standard checklist and the ways a template can be broken.
#include "checklist/template.hpp"

#include <catch2/catch.hpp>

#include "checklist/release.hpp"

namespace unit_template_test {

using namespace relbot::checklist;

namespace {

const checklist_template& parsed_ok(const template_result& r) {
    if (const auto* e = std::get_if<template_error>(&r)) {
        FAIL("unexpected template error: " << e->to_string());
    }
    return std::get<checklist_template>(r);
}

template_error parsed_error(const template_result& r) {
    REQUIRE(std::holds_alternative<template_error>(r));
    return std::get<template_error>(r);
}

}  // namespace

TEST_CASE("the standard template has 6 phases and 33 items with the seed's titles", "[unit]") {
    auto r = parse_template("standard", "standard.md", standard_template_text());
    const auto& t = parsed_ok(r);
    REQUIRE(t.phases.size() == 6);
    CHECK(t.item_count() == 33);

    std::vector<std::string> titles;
    std::vector<std::size_t> counts;
    for (const auto& p : t.phases) {
        titles.push_back(p.title);
        counts.push_back(p.items.size());
    }
    CHECK(titles == std::vector<std::string>{"Pre-Release Checks", "Deployment Steps",
                                             "Post-Release Verification", "Communication Steps",
                                             "Post-Release Monitoring (24-48 hours)", "Handoff"});
    CHECK(counts == std::vector<std::size_t>{9, 6, 6, 5, 4, 3});

    CHECK(t.phases[0].items[0].title == "CI/CD Status");
    CHECK(t.phases[0].items[0].description ==
          "Verify all CI builds are green for the release candidate");
    CHECK(t.phases[2].items[0].title == "Smoke Tests (Production)");
    CHECK(t.phases[5].items[2].title == "Team Retrospective");

    REQUIRE(t.phases[4].window);
    CHECK(t.phases[4].window->min == std::chrono::hours(24));
    CHECK(t.phases[4].window->max == std::chrono::hours(48));
    for (std::size_t i = 0; i < t.phases.size(); ++i) {
        if (i != 4) {
            CHECK_FALSE(t.phases[i].window);
        }
    }
}

TEST_CASE("phase windows accept the contract's units, singular or plural", "[unit]") {
    CHECK(parse_phase_window("(24-48 hours)") ==
          phase_window{std::chrono::hours(24), std::chrono::hours(48)});
    CHECK(parse_phase_window("(1 day)") ==
          phase_window{std::chrono::hours(24), std::chrono::hours(24)});
    CHECK(parse_phase_window("(30-90 minutes)") ==
          phase_window{std::chrono::minutes(30), std::chrono::minutes(90)});
    CHECK(parse_phase_window("(45 seconds)") ==
          phase_window{std::chrono::seconds(45), std::chrono::seconds(45)});
    CHECK_FALSE(parse_phase_window("(48-24 hours)"));
    CHECK_FALSE(parse_phase_window("(Production)"));
    CHECK_FALSE(parse_phase_window("(24-48 fortnights)"));
}

TEST_CASE("an inverted or empty phase window is refused at its heading's line", "[unit]") {
    SECTION("the upper bound below the lower") {
        auto e = parsed_error(parse_template(
            "t", "t.md",
            "## One\n- [ ] **A**: a\n\n## Monitoring (48-24 hours)\n- [ ] **B**: b\n"));
        CHECK(e.line == 4);
        CHECK(e.to_string().starts_with("t.md:4: "));
        CHECK(e.message.find("`(48-24 hours)` ends before it starts") != std::string::npos);
        CHECK(e.message.find("`(24-48 hours)`") != std::string::npos);
    }
    SECTION("a run-time window of (2-1 hours) is no longer dropped in silence") {
        auto e = parsed_error(parse_template("t", "t.md", "## Soak (2-1 hours)\n- [ ] **A**: a\n"));
        CHECK(e.line == 1);
        CHECK(e.message.find("`(1-2 hours)`") != std::string::npos);
    }
    SECTION("both bounds 0") {
        auto e = parsed_error(parse_template("t", "t.md", "## Soak (0-0 hours)\n- [ ] **A**: a\n"));
        CHECK(e.line == 1);
        CHECK(e.message.find("`(0-0 hours)` is empty") != std::string::npos);
        CHECK(e.message.find("upper bound must be above 0") != std::string::npos);
    }
    SECTION("a single 0") {
        auto e = parsed_error(parse_template("t", "t.md", "## Soak (0 minutes)\n- [ ] **A**: a\n"));
        CHECK(e.message.find("is empty") != std::string::npos);
    }
    SECTION("a lower bound of 0 is fine: the phase may be left at once") {
        auto r = parse_template("t", "t.md", "## Soak (0-2 hours)\n- [ ] **A**: a\n");
        const auto& t = parsed_ok(r);
        CHECK(t.phases[0].window == phase_window{std::chrono::hours(0), std::chrono::hours(2)});
    }
}

TEST_CASE("phase windows in weeks singular or plural and one number is both bounds", "[unit]") {
    using days = std::chrono::days;
    CHECK(parse_phase_window("(2 weeks)") == phase_window{days(14), days(14)});
    CHECK(parse_phase_window("(1 week)") == phase_window{days(7), days(7)});
    CHECK(parse_phase_window("(1-2 weeks)") == phase_window{days(7), days(14)});
    CHECK(parse_phase_window("(1-2 Weeks)") == phase_window{days(7), days(14)});
    // The same as a single count of any other unit: "(24 hours)" is 24 h to 24 h.
    CHECK(parse_phase_window("(24 hours)") ==
          phase_window{std::chrono::hours(24), std::chrono::hours(24)});

    auto r = parse_template("t", "t.md", "## Bake (2 weeks)\n- [ ] **A**: a\n");
    const auto& t = parsed_ok(r);
    REQUIRE(t.phases[0].window);
    CHECK(t.phases[0].window->min == days(14));
    CHECK(t.phases[0].window->max == days(14));
    CHECK(t.phases[0].title == "Bake (2 weeks)");
}

TEST_CASE("items whose slugs collide are warned about with both lines and the slugs they get",
          "[unit]") {
    auto parsed = parse_template(
        "t", "t.md",
        "## One\n- [ ] **Smoke tests**: staging\n- [ ] **Deploy**: d\n\n## Two\n"
        "- [ ] **Smoke tests**: production\n- [ ] **Smoke Tests!**: again\n- [ ] **Other**: o\n");
    const auto& t = parsed_ok(parsed);
    CHECK(t.phases[0].line == 1);
    CHECK(t.phases[1].items[0].line == 6);
    auto warnings = template_warnings(t, "t.md");
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0].to_string() ==
          "t.md:6: warning: \"Smoke tests\" repeats line 2; its slug is smoke-tests-2 (line 2 has "
          "smoke-tests)");
    CHECK(warnings[1].to_string() ==
          "t.md:7: warning: \"Smoke Tests!\" has the same slug as line 2 (\"Smoke tests\"); its "
          "slug is smoke-tests-3 (line 2 has smoke-tests)");

    // The slugs named are the ones a release started from the template has.
    auto r = make_release(t, "C1", "v1", "U1", 0);
    CHECK(r.phases[1].items[0].slug == "smoke-tests-2");
    CHECK(r.phases[1].items[1].slug == "smoke-tests-3");

    CHECK(template_warnings(
              parsed_ok(parse_template("standard", "standard.md", standard_template_text())),
              "standard.md")
              .empty());
}

TEST_CASE("a bracket that is not a window stays part of the phase title", "[unit]") {
    auto r = parse_template("t", "t.md", "## Checks (staging)\n- [ ] **A**: a\n");
    const auto& t = parsed_ok(r);
    CHECK(t.phases[0].title == "Checks (staging)");
    CHECK_FALSE(t.phases[0].window);
}

TEST_CASE("item lines accept the colon inside or outside the bold, and no description", "[unit]") {
    auto r = parse_template("t", "t.md",
                            "# Title\nprose\n## One\n- [ ] **A**: first\n- [ ] **B:** second\n"
                            "- [x] **C**\n* [ ] **D**: fourth\n");
    const auto& t = parsed_ok(r);
    REQUIRE(t.phases[0].items.size() == 4);
    CHECK(t.phases[0].items[0].description == "first");
    CHECK(t.phases[0].items[1].title == "B");
    CHECK(t.phases[0].items[1].description == "second");
    CHECK(t.phases[0].items[2].description.empty());
    CHECK(t.phases[0].items[3].title == "D");
}

TEST_CASE(
    "item-like lines that are not items are ignored (contract: other lines are), each named by a "
    "warning",
    "[unit]") {
    auto parsed = parse_template("t", "t.md",
                                 "intro\n- [ ] **A**: a\n## One\n- [ ] **B**: b\n- [ ] just "
                                 "words\n- [x] ****: nothing\n- [ ] **C**: c\n");
    REQUIRE(std::holds_alternative<checklist_template>(parsed));
    const auto& t = std::get<checklist_template>(parsed);
    REQUIRE(t.phases.size() == 1);
    REQUIRE(t.phases[0].items.size() == 2);
    CHECK(t.phases[0].items[0].title == "B");
    CHECK(t.phases[0].items[1].title == "C");
    auto warnings = template_warnings(t, "t.md");
    REQUIRE(warnings.size() == 3);
    CHECK(warnings[0].line == 2);
    CHECK(warnings[0].to_string().find("before the first phase is ignored") != std::string::npos);
    CHECK(warnings[1].line == 5);
    CHECK(warnings[1].to_string().find("- [ ] **Item title**: description") != std::string::npos);
    CHECK(warnings[2].line == 6);
}

TEST_CASE("malformed templates are refused with the file and line", "[unit]") {
    SECTION("no phase at all") {
        auto e = parsed_error(parse_template("t", "empty.md", "# Just a title\n\nSome prose.\n"));
        CHECK(e.file == "empty.md");
        CHECK(e.message.find("no phases") != std::string::npos);
    }
    SECTION("a phase with no items, in the middle") {
        auto e = parsed_error(parse_template(
            "t", "t.md", "## One\n- [ ] **A**: a\n\n## Two\n\n## Three\n- [ ] **B**: b\n"));
        CHECK(e.line == 4);
        CHECK(e.message.find("\"Two\" has no items") != std::string::npos);
        CHECK(e.to_string().starts_with("t.md:4: "));
    }
    SECTION("a last phase with no items") {
        auto e = parsed_error(parse_template("t", "t.md", "## One\n- [ ] **A**: a\n## Two\n"));
        CHECK(e.line == 3);
    }
    SECTION("a phase whose only item line is not an item (an empty bold title)") {
        auto e = parsed_error(parse_template("t", "t.md", "## One\n- [ ] ****: nothing\n"));
        CHECK(e.line == 1);
        CHECK(e.message.find("\"One\" has no items") != std::string::npos);
        CHECK(e.message.find("line 2 looks like an item but is not one") != std::string::npos);
    }
    SECTION("a heading without a title") {
        auto e = parsed_error(parse_template("t", "t.md", "## \n- [ ] **A**: a\n"));
        CHECK(e.line == 1);
    }
    // Found by fuzz/template.cpp: a title with U+0085 was accepted, then written back by
    // `report markdown` on one line as another title.
    SECTION("a title with a line separator, a control character or a tab") {
        for (const char* title : {"CI/\xC2\x85"
                                  "CD",
                                  "A\xE2\x80\xA8"
                                  "B",
                                  "A\x01"
                                  "B",
                                  "A\tB"}) {
            INFO(title);
            auto e = parsed_error(parse_template(
                "t", "t.md", "## One\n- [ ] **A**: a\n- [ ] **" + std::string(title) + "**: b\n"));
            CHECK(e.line == 3);
            CHECK(e.message.find("write it as plain text on one line") != std::string::npos);
            e = parsed_error(
                parse_template("t", "t.md", "## " + std::string(title) + "\n- [ ] **A**: a\n"));
            CHECK(e.line == 1);
        }
    }
    SECTION("a file over 256 KiB, or more than 200 items") {
        std::string big = "## One\n- [ ] **A**: " + std::string(300 * 1024, 'a') + "\n";
        auto e = parsed_error(parse_template("t", "big.md", big));
        CHECK(e.to_string() == "big.md:1: the file is 300 KiB; a template may be at most 256 KiB");
        std::string many = "## One\n";
        for (int i = 1; i <= 201; ++i) {
            many += "- [ ] **Item " + std::to_string(i) + "**: x\n";
        }
        e = parsed_error(parse_template("t", "many.md", many));
        CHECK(e.line == 202);
        CHECK(e.message.starts_with("more than 200 items"));
        many.resize(many.rfind("- [ ]"));
        CHECK(std::holds_alternative<checklist_template>(parse_template("t", "t.md", many)));
    }
}

TEST_CASE("the template library always has standard and lets a file replace it", "[unit]") {
    template_library lib;
    REQUIRE(lib.find("standard") != nullptr);
    CHECK(lib.find("standard")->item_count() == 33);
    CHECK(lib.find("hotfix") == nullptr);

    auto custom = std::get<checklist_template>(
        parse_template("standard", "s.md", "## Only\n- [ ] **One**: x\n"));
    lib.put(custom);
    CHECK(lib.find("standard")->item_count() == 1);
    CHECK(lib.names() == std::vector<std::string>{"standard"});
}

}  // namespace unit_template_test
