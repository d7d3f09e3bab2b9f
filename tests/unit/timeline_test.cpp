// The timeline and trend models (checklist/timeline.hpp) from constructed releases and audit
// rows, and the pictures drawn from them (commands/render/picture.hpp): valid PNGs of the
// promised sizes that cairo reads back, not blank, the same bytes for the same input.
#include "checklist/timeline.hpp"

#include <cairo.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "checklist/duration.hpp"
#include "commands/render/files.hpp"
#include "commands/render/picture.hpp"

namespace unit_timeline_test {

using namespace relbot;
using namespace relbot::checklist;

namespace {

epoch_seconds utc(const char* date, const char* time) {
    return *parse_utc_minutes(date, time);
}

const epoch_seconds t0 = utc("2026-12-01", "09:00");

// Release 9 of the five-phase shape the standard template has: pre-release, deployment,
// verification, monitoring (with a window), handoff; items 11, 12 in phase 1 and 21 in phase 2.
release five_phases() {
    release r;
    r.id = 9;
    r.channel = "C0REL";
    r.version = "v2.4.0";
    r.manager = "U0BOSS";
    r.started_at = t0;
    const char* titles[] = {"Pre-Release Checks", "Deployment Steps", "Post-Release Verification",
                            "Post-Release Monitoring (24-48 hours)", "Handoff"};
    for (int p = 1; p <= 5; ++p) {
        phase ph;
        ph.position = p;
        ph.title = titles[p - 1];
        for (int k = 1; k <= 2; ++k) {
            item i;
            i.id = p * 10 + k;
            i.phase = p;
            i.position = k;
            i.title = "Item " + std::to_string(p) + "." + std::to_string(k);
            ph.items.push_back(i);
        }
        r.phases.push_back(ph);
    }
    r.phases[0].entered_at = t0;
    return r;
}

audit_entry row(epoch_seconds at,
                std::string action,
                std::optional<std::int64_t> item = std::nullopt,
                std::string from = "",
                std::string to = "",
                std::string note = "") {
    return {
        9, at, "U0BOSS", std::move(action), item, std::move(from), std::move(to), std::move(note)};
}

// Enters phase `to` (1-based) at `at`, in the release and in the rows.
void enter(release& r, std::vector<audit_entry>& audit, int to, epoch_seconds at) {
    r.current_phase = to;
    r.phases[static_cast<std::size_t>(to - 1)].entered_at = at;
    audit.push_back(
        row(at, "phase.entered", std::nullopt, r.phases[to - 2].title, r.phases[to - 1].title));
}

struct png_facts {
    int width = 0;
    int height = 0;
    long inked = 0;  // pixels that are not white
};

png_facts read_png(const std::string& bytes) {
    struct reader {
        const std::string& data;
        std::size_t at = 0;
    } in{bytes};
    auto* s = cairo_image_surface_create_from_png_stream(
        [](void* closure, unsigned char* out, unsigned int length) {
            auto* r = static_cast<reader*>(closure);
            if (r->at + length > r->data.size()) {
                return CAIRO_STATUS_READ_ERROR;
            }
            std::copy_n(r->data.data() + r->at, length, out);
            r->at += length;
            return CAIRO_STATUS_SUCCESS;
        },
        &in);
    png_facts f;
    REQUIRE(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
    f.width = cairo_image_surface_get_width(s);
    f.height = cairo_image_surface_get_height(s);
    auto stride = cairo_image_surface_get_stride(s);
    const auto* data = cairo_image_surface_get_data(s);
    for (int y = 0; y < f.height; ++y) {
        const auto* px = reinterpret_cast<const std::uint32_t*>(data + y * stride);
        for (int x = 0; x < f.width; ++x) {
            f.inked += (px[x] & 0xFFFFFFu) != 0xFFFFFFu ? 1 : 0;
        }
    }
    cairo_surface_destroy(s);
    return f;
}

// Checks what a picture must be; with RELBOT_TEST_PICTURES set to a folder, also saves it
// there (named after the test) to be looked at.
void check_picture(const commands::picture& p) {
    if (const char* dir = std::getenv("RELBOT_TEST_PICTURES"); dir != nullptr && *dir != '\0') {
        auto name = Catch::getResultCapture().getCurrentTestName();
        std::replace_if(
            name.begin(), name.end(), [](char ch) { return !std::isalnum(ch); }, '-');
        std::ofstream(std::string(dir) + "/" + name.substr(0, 60) + ".png", std::ios::binary)
            << p.png;
    }
    REQUIRE(p.png.size() > 8);
    CHECK(p.png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    auto f = read_png(p.png);
    CHECK(f.width == p.width);
    CHECK(f.height == p.height);
    CHECK(f.width >= 600);
    CHECK(f.width <= 3000);
    CHECK(f.height >= 250);
    CHECK(f.height <= 2000);
    // Not blank: text, bars and lines cover a real share of it.
    CHECK(f.inked > static_cast<long>(f.width) * f.height / 100);
}

}  // namespace

TEST_CASE("a release without blocks: a span per phase entered and the deployment line",
          "[unit][picture]") {
    auto r = five_phases();
    std::vector<audit_entry> audit;
    enter(r, audit, 2, t0 + 3600);
    enter(r, audit, 3, t0 + 5400);  // the deployment phase was left at 10:30
    auto m = build_timeline(r, audit, t0 + 7200, "releases");
    CHECK(m.channel == "#releases");
    CHECK(m.span == time_span{t0, t0 + 7200});
    REQUIRE(m.phases.size() == 5);
    CHECK(m.phases[0].span == time_span{t0, t0 + 3600});
    CHECK(m.phases[1].span == time_span{t0 + 3600, t0 + 5400});
    CHECK(m.phases[2].span == time_span{t0 + 5400, t0 + 7200});  // still in it
    CHECK(m.phases[2].current);
    CHECK_FALSE(m.phases[3].span);
    CHECK(m.items.empty());
    CHECK(m.marks.empty());
    CHECK(m.deployed_at == t0 + 5400);
    check_picture(commands::draw_timeline(m));
}

TEST_CASE("a release aborted in its first phase has one span and no deployment",
          "[unit][picture]") {
    auto r = five_phases();
    r.status = release_status::aborted;
    r.ended_at = t0 + 600;
    std::vector<audit_entry> audit = {
        row(t0 + 600, "release.aborted", std::nullopt, "active", "aborted", "wrong branch")};
    auto m = build_timeline(r, audit, t0 + 99999);
    CHECK(m.span == time_span{t0, t0 + 600});  // ended: `now` does not stretch it
    CHECK(m.phases[0].span == time_span{t0, t0 + 600});
    CHECK_FALSE(m.phases[1].span);
    CHECK_FALSE(m.deployed_at);
    auto p = commands::draw_timeline(m);
    check_picture(p);
    CHECK(p.alt_text.find("1 phase") == std::string::npos);  // five phases, one entered
    CHECK(p.alt_text.find("5 phases over 10 min, 0 blocked items") != std::string::npos);
    CHECK(commands::timeline_caption(m).find("aborted") != std::string::npos);
}

TEST_CASE("blocked spans, forced moves, a rollback and checkpoints are where they happened",
          "[unit][picture]") {
    auto r = five_phases();
    std::vector<audit_entry> audit;
    audit.push_back(row(t0 + 600, "item.blocked", 12, "open", "blocked", "staging down"));
    audit.push_back(row(t0 + 1800, "item.unblocked", 12, "blocked", "open"));
    audit.push_back(row(t0 + 2000, "item.blocked", 12, "open", "blocked", "again"));
    audit.push_back(row(t0 + 2400, "item.skipped", 12, "blocked", "skipped", "not needed"));
    audit.push_back(row(t0 + 2500, "item.blocked", 11, "open", "blocked", "waiting"));
    audit.push_back(row(t0 + 2600, "item.noted", 11, "blocked", "blocked", "still on it"));
    audit.push_back(row(t0 + 3000, "phase.forced", std::nullopt, "Pre-Release Checks",
                        "Deployment Steps", "hotfix"));
    enter(r, audit, 2, t0 + 3000);
    r.phases[0].left_by_force = true;
    enter(r, audit, 3, t0 + 4000);
    audit.push_back(row(t0 + 5000, "release.rollback", std::nullopt, "", "", "errors up"));
    r.checkpoints.push_back({1, 3600, t0 + 7600, t0 + 7600, checkpoint_answer::healthy, "U1",
                             t0 + 7700, 0, std::nullopt});
    r.checkpoints.push_back({2, 14400, t0 + 18400, std::nullopt, checkpoint_answer::none, "",
                             std::nullopt, 0, std::nullopt});
    auto m = build_timeline(r, audit, t0 + 8000);
    REQUIRE(m.items.size() == 2);  // in checklist order: 1.1, then 1.2
    CHECK(m.items[0].ref == "1.1");
    CHECK(m.items[0].blocked == std::vector<time_span>{{t0 + 2500, t0 + 8000}});  // still
    CHECK(m.items[1].ref == "1.2");
    CHECK(m.items[1].blocked ==
          std::vector<time_span>{{t0 + 600, t0 + 1800}, {t0 + 2000, t0 + 2400}});
    REQUIRE(m.marks.size() == 2);
    CHECK(m.marks[0].kind == timeline_mark_kind::forced);
    CHECK(m.marks[0].label == "hotfix");
    CHECK(m.marks[1].kind == timeline_mark_kind::rollback);
    CHECK(m.phases[0].left_by_force);
    REQUIRE(m.checkpoints.size() == 2);
    CHECK(m.checkpoints[0].answer == checkpoint_answer::healthy);
    CHECK(m.deployed_at == t0 + 4000);
    auto p = commands::draw_timeline(m);
    check_picture(p);
    CHECK(p.alt_text.find("2 blocked items") != std::string::npos);
    CHECK(p.alt_text.find("1 forced move") != std::string::npos);
    CHECK(p.alt_text.find("1 rollback") != std::string::npos);
}

TEST_CASE("a release with 1,000 notes: counted, and the picture keeps its size",
          "[unit][picture]") {
    auto r = five_phases();
    std::vector<audit_entry> audit;
    for (int k = 0; k < 1000; ++k) {
        audit.push_back(row(t0 + k * 10, "item.noted", 11, "", "", "note " + std::to_string(k)));
    }
    auto m = build_timeline(r, audit, t0 + 10000);
    CHECK(m.notes == 1000);
    CHECK(m.items.empty());
    auto p = commands::draw_timeline(m);
    check_picture(p);
    CHECK(p.height < 500);
}

TEST_CASE("the same timeline gives the same bytes, and a different one does not",
          "[unit][picture]") {
    auto r = five_phases();
    std::vector<audit_entry> audit;
    enter(r, audit, 2, t0 + 3600);
    auto a = commands::draw_timeline(build_timeline(r, audit, t0 + 7200));
    auto b = commands::draw_timeline(build_timeline(r, audit, t0 + 7200));
    CHECK(a.png == b.png);
    auto later = commands::draw_timeline(build_timeline(r, audit, t0 + 9000));
    CHECK(later.png != a.png);
}

TEST_CASE("many blocked items: the picture grows, up to its limit", "[unit][picture]") {
    auto r = five_phases();
    for (int k = 3; k <= 60; ++k) {
        item i;
        i.id = 100 + k;
        i.phase = 1;
        i.position = k;
        i.title = "Extra " + std::to_string(k);
        r.phases[0].items.push_back(i);
    }
    std::vector<audit_entry> audit;
    for (int k = 3; k <= 60; ++k) {
        audit.push_back(row(t0 + k * 10, "item.blocked", 100 + k, "open", "blocked", "x"));
    }
    auto m = build_timeline(r, audit, t0 + 3600);
    CHECK(m.items.size() == 58);
    auto p = commands::draw_timeline(m);
    check_picture(p);
    CHECK(p.height > 500);
}

TEST_CASE("trends: time per phase, skips and forced moves with reasons, aborted ones left out",
          "[unit][picture]") {
    std::vector<release_history> history;
    for (int k = 0; k < 3; ++k) {
        release_history h;
        h.r = five_phases();
        h.r.version = "v" + std::to_string(k + 1);
        auto start = t0 + k * 86400;
        h.r.started_at = start;
        h.r.phases[0].entered_at = start;
        // Phase 1 takes 1, 2, 3 hours; phase 2 half an hour; finished in phase 3.
        enter(h.r, h.audit, 2, start + (k + 1) * 3600);
        enter(h.r, h.audit, 3, start + (k + 1) * 3600 + 1800);
        h.r.status = release_status::finished;
        h.r.ended_at = start + (k + 1) * 3600 + 3600;
        h.audit.push_back(
            row(start + 100, "item.skipped", 11, "open", "skipped", k < 2 ? "flaky" : "n/a"));
        h.first_reminder[12] = start + 200;
        h.audit.push_back(row(start + 200 + (k + 1) * 600, "item.checked", 12, "open", "done"));
        // One checkpoint posted and left unanswered, one the release ended before.
        h.r.checkpoints.push_back({1, 3600, start + 3600, start + 3600, checkpoint_answer::none, "",
                                   std::nullopt, 0, std::nullopt});
        h.r.checkpoints.push_back({2, 86400, start + 86400, std::nullopt, checkpoint_answer::none,
                                   "", std::nullopt, 0, std::nullopt});
        history.push_back(std::move(h));
    }
    release_history aborted;
    aborted.r = five_phases();
    aborted.r.status = release_status::aborted;
    aborted.r.ended_at = t0 + 60;
    history.push_back(aborted);

    auto t = build_trends(history, "releases");
    CHECK(t.channel == "#releases");
    REQUIRE(t.releases.size() == 3);
    CHECK(t.releases[0].version == "v1");
    CHECK(t.releases[0].phase_seconds[0] == 3600);
    CHECK(t.releases[2].phase_seconds[0] == 3 * 3600);
    CHECK(t.median_phase_seconds[0] == 2 * 3600);
    CHECK(t.median_phase_seconds[1] == 1800);
    // Phases no release reached have no median (not "0s").
    REQUIRE(t.median_phase_seconds.size() == 5);
    CHECK(t.median_phase_seconds[3] == -1);
    CHECK(t.median_phase_seconds[4] == -1);
    CHECK(t.skips_per_release == Approx(1.0));
    REQUIRE(t.skip_reasons.size() == 2);
    CHECK(t.skip_reasons[0] == reason_count{"flaky", 2});
    CHECK(t.median_reminder_to_done == 1200);
    CHECK(t.unanswered == 3);  // the posted ones only
    auto p = commands::draw_trends(t);
    check_picture(p);
    auto numbers = commands::render_trends(t, "C0REL", 10).text;
    CHECK(numbers.find("Trends over the last 3 finished releases in <#C0REL>* (all there are)") !=
          std::string::npos);
    CHECK(numbers.find("_flaky_ ×2") != std::string::npos);
    CHECK(numbers.find("From a reminder to done (median):* 20m") != std::string::npos);
    CHECK(numbers.find("not reached") != std::string::npos);
    CHECK(numbers.find(" 0s") == std::string::npos);
    // One finished release is not a trend: a sentence, and no chart is promised.
    auto one = build_trends({history.front()});
    auto sentence = commands::render_trends(one, "C0REL", 10).text;
    CHECK(sentence.find("at least two finished releases") != std::string::npos);
    CHECK(sentence.find("has only one so far") != std::string::npos);
    CHECK(sentence.find("your DM") == std::string::npos);
    CHECK(commands::trends_caption(t).find("3 finished releases in #releases") !=
          std::string::npos);
}

}  // namespace unit_timeline_test

TEST_CASE("the report file is named relbot-<version>-report.md, a build mark kept", "[unit]") {
    CHECK(relbot::commands::report_file_name("v2.4.0") == "relbot-v2.4.0-report.md");
    CHECK(relbot::commands::report_file_name("v1.2+b7") == "relbot-v1.2+b7-report.md");
    CHECK(relbot::commands::report_file_name("rel/7") == "relbot-rel-7-report.md");  // no folders
}
