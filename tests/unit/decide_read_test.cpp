// The reading commands as decisions, with no database: help, status (with and without the
// memo), list, and report (its later pages planned for the response_url, an ended release).
#include <catch2/catch.hpp>
#include <functional>

#include "decide_fixture.hpp"

namespace unit_decide_read_test {

using namespace relbot;
using namespace relbot::test;
using checklist::destination;
using checklist::message_kind;
using commands::key_id;

namespace {

// Reads write nothing and send nothing.
void check_read(const commands::decision& d, const std::string& name) {
    CHECK_FALSE(d.answer.refused);
    CHECK_FALSE(d.answer.changed);
    CHECK(d.answer.name == name);
    CHECK(d.state == nullptr);
    CHECK_FALSE(d.insert);
    CHECK(d.log.events.empty());
    CHECK(d.messages.empty());
}

// A timeline long enough for a report of several pages.
std::vector<checklist::audit_entry> long_timeline(int notes = 400) {
    std::vector<checklist::audit_entry> out;
    for (int i = 0; i < notes; ++i) {
        out.push_back({7, t0 + i, "UOWNER", "item.noted", 100, "open", "open",
                       "note " + std::to_string(i) + ": " + std::string(200, 'x')});
    }
    return out;
}

}  // namespace

TEST_CASE("help and list read, and need no release", "[unit]") {
    fake_lookups look;
    auto help = decide_as("USTRANGER", "help", nullptr, look);
    check_read(help, "help");
    CHECK(help.answer.reply.text == commands::render_help().text);

    look.summaries.push_back(
        {7, "v1", checklist::release_status::finished, "UMANAGER", 6, 6, "Handoff", t0, t0 + 100});
    auto list = decide_as("USTRANGER", "list", nullptr, look);
    check_read(list, "list");
    CHECK(list.answer.reply.text == commands::render_list(look.summaries).text);
    CHECK(list.answer.reply.text == "Releases in this channel: 1");
    CHECK(contains(list.answer.reply.blocks.dump(), "v1"));
}

TEST_CASE("status renders the snapshot, or takes the memo's JSON for it", "[unit]") {
    fake_lookups look;
    auto active = shared(standard_release());
    auto d = decide_as("USTRANGER", "status", active, look);
    check_read(d, "status");
    CHECK(d.answer.reply.text == commands::render_status(*active).text);
    CHECK(d.answer.ack_json.empty());

    commands::status_memo memo;
    commands::request req{"T1", "C1", "USTRANGER", "status", t0, "", ""};
    auto memoized = commands::decide(commands::status_command{}, {req, active, look, &memo});
    check_read(memoized, "status");
    CHECK(memoized.answer.ack_json == memo.ack_json(active));
    // Shared, not copied: a burst of `status` replies queues the same bytes many times.
    CHECK(memoized.answer.ack_json.shares(memo.ack_json(active)));
    CHECK(contains(memoized.answer.ack_json, "CI/CD Status"));

    auto none = decide_as("USTRANGER", "status", nullptr, look);
    check_refused(none, "status");
}

TEST_CASE("a short report is the acknowledgement alone", "[unit]") {
    fake_lookups look;
    auto d = decide_as("USTRANGER", "report", shared(standard_release()), look, t0 + 60,
                       "https://hooks.example/1");
    check_read(d, "report");
    CHECK(contains(d.answer.reply.text, "v1"));
    CHECK(look.timeline_reads == 1);
    CHECK(d.answer.limit_hit.empty());
}

TEST_CASE("a long report plans its later pages for the response_url, keyed by the URL's hash",
          "[unit]") {
    fake_lookups look;
    look.timelines[7] = long_timeline();
    const std::string url = "https://hooks.example/T1/secret";
    auto d = decide_as("USTRANGER", "report", shared(standard_release()), look, t0 + 60, url);
    CHECK_FALSE(d.answer.refused);
    CHECK(d.answer.changed);
    CHECK(d.state == nullptr);
    CHECK(d.log.events.empty());
    // The later pages (and, when even those are too few, the report file last).
    std::vector<commands::planned_message> pages;
    for (const auto& m : d.messages) {
        if (m.message.method == "response_url") {
            pages.push_back(m);
        }
    }
    REQUIRE(pages.size() >= 2);
    REQUIRE(pages.size() <= commands::max_reply_messages - 1);
    CHECK(d.messages.size() - pages.size() <= 1);
    auto url_id = std::to_string(std::hash<std::string>{}(url));
    for (std::size_t i = 0; i < pages.size(); ++i) {
        const auto& m = pages[i];
        INFO("page " << i + 2);
        CHECK(m.completed_by == key_id::none);
        auto row = completed(m);
        CHECK(row.dedupe_key == "report-page:" + url_id + ":" + std::to_string(i + 1));
        CHECK_FALSE(contains(row.dedupe_key, "secret"));
        CHECK(row.to == destination::reply(url));
        CHECK(row.method == "response_url");
        CHECK(row.kind == message_kind::reply_page);
        CHECK(row.release_id == 7);
        CHECK(nlohmann::json::parse(row.body).contains("response_type"));
    }

    SECTION("a report longer than the messages allowed is cut, and says which limit it met") {
        look.timelines[7] = long_timeline(3000);
        auto cut = decide_as("USTRANGER", "report", shared(standard_release()), look, t0 + 60, url);
        // Five more pages through the response_url, then the whole report as a file to the
        // asker's DM (the last page says so).
        REQUIRE(cut.messages.size() == commands::max_reply_messages);
        CHECK(cut.answer.limit_hit == "report_messages");
        auto last_page = completed(cut.messages[commands::max_reply_messages - 2]);
        CHECK(contains(last_page.body, "continues in `relbot-v1-report.md`"));
        auto file = completed(cut.messages.back());
        CHECK(file.method == "files.completeUploadExternal");
        CHECK(file.to == destination::direct("USTRANGER"));
        CHECK(contains(file.body, "\"file\":\"report\""));
    }

    SECTION("without a response_url only the first page is sent") {
        auto first = decide_as("USTRANGER", "report", shared(standard_release()), look);
        check_read(first, "report");
    }
}

TEST_CASE("report falls back to the latest ended release, and refuses when there is none",
          "[unit]") {
    fake_lookups look;
    auto none = decide_as("USTRANGER", "report", nullptr, look);
    check_refused(none, "report");
    CHECK(none.answer.reply.text == "There are no releases in this channel to report on.");

    auto ended = standard_release();
    ended.version = "v0.9";
    ended.status = checklist::release_status::aborted;
    ended.ended_at = t0 + 10;
    look.releases.push_back(ended);
    auto d = decide_as("USTRANGER", "report markdown", nullptr, look);
    check_read(d, "report");
    CHECK(contains(d.answer.reply.text, "v0.9"));
}

TEST_CASE("stats counts every finished release, also two that used the same version", "[unit]") {
    fake_lookups look;
    // Three finished releases in C1, the first two both "v1" (the version was used again).
    for (std::int64_t id : {1, 2, 3}) {
        auto r = standard_release();
        r.id = id;
        r.version = id == 3 ? "v2" : "v1";
        r.status = checklist::release_status::finished;
        r.started_at = t0 + id * 86400;
        r.ended_at = r.started_at + 3600;
        look.releases.push_back(r);
    }
    for (std::int64_t id : {3, 2, 1}) {  // newest first, as the store lists them
        const auto& r = look.releases[static_cast<std::size_t>(id - 1)];
        look.summaries.push_back({id, r.version, checklist::release_status::finished, "UMANAGER", 6,
                                  6, "Handoff", r.started_at, *r.ended_at});
    }

    auto histories = commands::finished_histories(look, "C1", 10);
    REQUIRE(histories.size() == 3);
    CHECK(histories[0].r.id == 1);  // oldest first
    CHECK(histories[1].r.id == 2);
    CHECK(histories[2].r.id == 3);

    auto d = decide_as("UASKER", "stats", nullptr, look);
    CHECK(contains(d.answer.reply.text, "last 3 finished releases"));
}

}  // namespace unit_decide_read_test
