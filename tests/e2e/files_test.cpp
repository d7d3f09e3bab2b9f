// Pictures and files (contract: "Pictures and files") from outside: the real relbot against
// the sandbox, which implements Slack's upload flow (files.getUploadURLExternal, the bytes to
// its upload_url, files.completeUploadExternal, files.list) and keeps what was uploaded.
#include <signal.h>

#include <catch2/catch.hpp>

#include "support/sandbox.hpp"

namespace e2e_files_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

const std::string channel = "C0FILES";
const std::string boss = "U0MANAGER";

std::string say(sandbox& sim, const std::string& text, const std::string& user = boss) {
    auto ack = sim.wait_ack(sim.slash_command(text, channel, user));
    REQUIRE(ack);
    return message_text((*ack)["payload"]);
}

// The next file shared in `where` (a channel, or a user's DM channel "D…").
std::optional<json> next_file(sandbox& sim, const std::string& where, std::chrono::seconds within) {
    return sim.wait_for(
        [&](const json& e) {
            return e.value("event", "") == "file_shared" && e.value("channel", "") == where;
        },
        after(within));
}

int count_events(const sandbox& sim, const std::string& name, const std::string& where) {
    int n = 0;
    for (const auto& e : sim.events()) {
        n += e.value("event", "") == name && e.value("channel", "") == where ? 1 : 0;
    }
    return n;
}

}  // namespace

TEST_CASE(
    "a finished release posts its summary, then its timeline as a PNG through the upload "
    "flow",
    "[e2e][files]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(contains(say(sim, "start v3.1"), "Started"));
    REQUIRE(contains(say(sim, "block 1.2 staging is down"), "blocked"));
    REQUIRE(contains(say(sim, "unblock 1.2"), "no longer blocked"));
    REQUIRE(contains(say(sim, "next force hotfix"), "has begun"));
    REQUIRE(contains(say(sim, "finish force shipped"), "finished"));

    auto shared = next_file(sim, channel, 20s);
    REQUIRE(shared);
    const auto& file = (*shared)["file"];
    CHECK(file.value("mimetype", "") == "image/png");
    CHECK(file.value("name", "") == "relbot-v3.1-timeline.png");
    CHECK(file.value("original_w", 0) == 1200);
    CHECK(file.value("original_h", 0) >= 250);
    CHECK(file.value("original_h", 0) <= 2000);
    CHECK(contains(shared->value("initial_comment", ""), "Timeline of release v3.1"));
    // The three calls of the upload flow, in order, and the alt text with it.
    auto asked = sim.calls("files.getUploadURLExternal");
    REQUIRE(asked.size() == 1);
    CHECK(asked[0]["args"].value("filename", "") == "relbot-v3.1-timeline.png");
    CHECK(contains(asked[0]["args"].value("alt_txt", ""), "Timeline of release v3.1"));
    CHECK(count_events(sim, "file_uploaded", "") == 1);
    auto completed = sim.calls("files.completeUploadExternal");
    REQUIRE(completed.size() == 1);
    CHECK(completed[0]["args"].value("channel_id", "") == channel);
    CHECK(sim.calls("files.upload").empty());  // the retired method is never used
    // The summary came first, and the picture is in its thread.
    std::string summary_ts;
    for (const auto& e : sim.events()) {
        if (e.value("event", "") == "file_shared") {
            break;
        }
        if (e.value("event", "") == "api_call" && e.value("method", "") == "chat.postMessage" &&
            outbox_key(e).starts_with("release-ended:")) {
            summary_ts = e["response"].value("ts", "");
        }
    }
    CHECK_FALSE(summary_ts.empty());
    CHECK(completed[0]["args"].value("thread_ts", "") == summary_ts);

    // `report chart` on the ended release: the asker gets the picture in their DM.
    CHECK(contains(say(sim, "report chart", "U0ASKER"), "sending it to your DM"));
    auto dm = next_file(sim, "D0ASKER", 20s);
    REQUIRE(dm);
    CHECK((*dm)["file"].value("mimetype", "") == "image/png");
    CHECK(relbot.stop() == 0);
    CHECK(count_events(sim, "file_shared", channel) == 1);  // the channel got one picture
}

TEST_CASE(
    "a report too long for Slack continues in a file that holds every note, the same as "
    "report file and relbot export",
    "[e2e][files][slow]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(contains(say(sim, "start v4.0"), "Started"));
    // 2,000 notes, sent without waiting for each ack, then every ack collected.
    std::vector<std::string> ids;
    for (int k = 0; k < 2000; ++k) {
        ids.push_back(sim.slash_command(
            "note 1." + std::to_string(k % 9 + 1) + " observation-" + std::to_string(k), channel));
    }
    for (const auto& id : ids) {
        REQUIRE(sim.wait_ack(id, 20s));
    }
    auto first = say(sim, "report");
    CHECK(contains(first, "Report for release"));
    // The last of the response_url pages says where the rest went.
    auto cut = sim.wait_for(
        [&](const json& e) {
            return e.value("event", "") == "response_url_post" &&
                   contains(e.dump(), "continues in `relbot-v4.0-report.md`");
        },
        after(20s));
    CHECK(cut);
    auto file = next_file(sim, "D0MANAGER", 30s);
    REQUIRE(file);
    CHECK((*file)["file"].value("name", "") == "relbot-v4.0-report.md");
    auto text = file->value("text", "");
    int missing = 0;
    for (int k = 0; k < 2000; ++k) {
        missing += contains(text, "observation-" + std::to_string(k) + "\n") ? 0 : 1;
    }
    CHECK(missing == 0);  // every note is in the file

    // `report file` gives the same file; `relbot export` prints the same markdown.
    CHECK(contains(say(sim, "report file"), "relbot-v4.0-report.md"));
    auto again = next_file(sim, "D0MANAGER", 30s);
    REQUIRE(again);
    CHECK(again->value("text", "") == text);
    int status = -1;
    auto exported = run_relbot({"export", "v4.0", "--channel", channel}, dir,
                               bot_environment(dir, sim), status);
    CHECK(status == 0);
    CHECK(exported == text);
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "killed with SIGKILL while an upload's last call is answered: the file is in the "
    "channel once",
    "[e2e][files]") {
    temp_dir dir;
    sandbox sim(dir);
    {
        bot relbot(dir, sim);
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        REQUIRE(contains(say(sim, "start v5.0"), "Started"));
        // The share happens, but its answer is late: relbot dies waiting for it.
        sim.send({{"op", "fail"},
                  {"method", "files.completeUploadExternal"},
                  {"status", 200},
                  {"delay_ms", 8000}});
        REQUIRE(contains(say(sim, "abort wrong branch"), "aborted"));
        REQUIRE(next_file(sim, channel, 20s));
        relbot.proc().signal(SIGKILL);
        REQUIRE(relbot.proc().wait_exit(after(5s)));
    }
    bot again(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    // The new run finds the file by its key (files.list) instead of uploading it again.
    bool recovered = again.proc().wait_stderr("event=outbox.recovered", after(20s)).has_value();
    if (!recovered) {
        for (const auto& l : again.proc().stderr_lines()) {
            UNSCOPED_INFO(l);
        }
    }
    CHECK(recovered);
    CHECK_FALSE(sim.calls("files.list").empty());
    CHECK(again.stop() == 0);
    CHECK(count_events(sim, "file_shared", channel) == 1);
    CHECK(sim.calls("files.getUploadURLExternal").size() == 1);
}

TEST_CASE(
    "stats over three finished releases answers with the numbers and a PNG, over one with "
    "a sentence",
    "[e2e][files]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    auto finish = [&](const std::string& version, const std::string& skip_reason) {
        REQUIRE(contains(say(sim, "start " + version), "Started"));
        REQUIRE(contains(say(sim, "skip 1.1 " + skip_reason), "skipped"));
        REQUIRE(contains(say(sim, "finish force wrapping up"), "finished"));
    };
    finish("v1", "flaky suite");
    auto one = say(sim, "stats");
    CHECK(contains(one, "at least two finished releases"));
    // An aborted release is not counted.
    REQUIRE(contains(say(sim, "start v-aborted"), "Started"));
    REQUIRE(contains(say(sim, "abort wrong branch"), "aborted"));
    finish("v2", "flaky suite");
    finish("v3", "not needed");
    auto three = say(sim, "stats 5", "U0ASKER");
    CHECK(contains(three, "Trends over the last 3 finished releases"));
    CHECK(contains(three, "(all there are)"));
    CHECK(contains(three, "Median time per phase"));
    CHECK(contains(three, "Skips per release:* 1.0"));
    CHECK(contains(three, "_flaky suite_ ×2"));
    CHECK(contains(three, "Forced moves per release:* 1.0"));
    auto chart = next_file(sim, "D0ASKER", 20s);
    REQUIRE(chart);
    CHECK((*chart)["file"].value("mimetype", "") == "image/png");
    CHECK((*chart)["file"].value("original_w", 0) == 1200);
    CHECK(contains(chart->value("initial_comment", ""), "3 finished releases"));
    // One release is not a trend: a sentence, no chart; more than the chart holds: the last 50
    // (here, all three).
    CHECK(contains(say(sim, "stats 1"), "at least two finished releases"));
    CHECK(contains(say(sim, "stats 500"), "Trends over the last 3 finished releases"));
    CHECK(relbot.stop() == 0);
}

}  // namespace e2e_files_test
