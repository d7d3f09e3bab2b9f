// End-to-end: what a newcomer does in the first five minutes. The sandbox's demo mode
// (`relbot-sim --demo`, what deploy/run.sh starts without tokens) runs the real relbot, fed
// from a pipe as a person's typing would be, and what it prints is read as they would read it.
// Scripted transcripts live in tests/demo/: input lines, `> text` for what must appear after
// that line's command, `!> text` for what must never appear.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/sandbox.hpp"

namespace e2e_first_minutes_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

// This process's environment without SLACK_ or RELBOT_ variables, as a newcomer's shell.
std::map<std::string, std::string> clean_environment() {
    auto env = current_environment();
    std::erase_if(env, [](const auto& kv) {
        return kv.first.starts_with("SLACK_") || kv.first.starts_with("RELBOT_");
    });
    return env;
}

struct demo_run {
    std::string output;
    std::optional<int> status;
    bool ca_file_while_running = false;  // the sandbox's own CA file, while relbot ran
    bool ca_file_after = false;          // … and after the sandbox ended
};

// Runs the demo on `db` with `input` piped in, to the end of its output.
demo_run run_demo(const temp_dir& dir, const std::string& input) {
    auto env = clean_environment();
    process demo({RELBOT_SIM_BIN, "--demo", RELBOT_BIN, "--db", dir.file("demo.db"), "--log",
                  dir.file("demo.log")},
                 env, dir.path());
    std::istringstream lines(input);
    for (std::string line; std::getline(lines, line);) {
        demo.write_line(line);
    }
    demo.close_stdin();
    demo_run run;
    auto ca_file = std::filesystem::temp_directory_path() /
                   ("relbot-sim-ca-" + std::to_string(demo.pid()) + ".pem");
    auto until = after(120s);
    while (auto line = demo.read_stdout_line(until)) {
        run.output += *line + "\n";
        if (contains(*line, "relbot connected.")) {
            run.ca_file_while_running = std::filesystem::exists(ca_file);
        }
    }
    run.status = demo.wait_exit(after(10s));
    run.ca_file_after = std::filesystem::exists(ca_file);
    return run;
}

struct transcript {
    std::string input;
    // (command line as echoed, text that must follow it)
    std::vector<std::pair<std::string, std::string>> expected;
    std::vector<std::string> never;
};

transcript read_transcript(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    transcript t;
    std::string last_command;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("!> ")) {
            t.never.push_back(line.substr(3));
        } else if (line.starts_with("> ")) {
            REQUIRE_FALSE(last_command.empty());
            t.expected.emplace_back(last_command, line.substr(2));
        } else if (!line.starts_with("#") && !line.empty()) {
            t.input += line + "\n";
            last_command = line;
        }
    }
    return t;
}

// What every demo session must look like to a newcomer, whatever was typed.
void check_clean_session(const demo_run& run) {
    INFO(run.output);
    REQUIRE(run.status);
    CHECK(*run.status == 0);
    CHECK(contains(run.output, "relbot connected."));
    CHECK(contains(run.output, "relbot stopped cleanly. Bye."));
    CHECK_FALSE(contains(run.output, "still connecting"));
    CHECK_FALSE(contains(run.output, "relbot exited"));
    CHECK_FALSE(contains(run.output, "<@U"));  // mentions are drawn as names
    CHECK_FALSE(contains(run.output, "<#C"));
    CHECK_FALSE(contains(run.output, "type @"));  // the mention hint meant for Slack
    std::smatch raw_emoji;
    CHECK_FALSE(std::regex_search(run.output, raw_emoji, std::regex(":[a-z][a-z0-9_+-]*:")));
}

// Checks a transcript's expectations against a run: each `> text` appears after the echo of
// its command (`name › command`), in the order of the commands.
void check_transcript(const transcript& t, const demo_run& run) {
    INFO(run.output);
    check_clean_session(run);
    std::size_t from = 0;
    std::string current;
    for (const auto& [command, text] : t.expected) {
        if (command != current) {
            auto echo = run.output.find("› " + command + "\n", from);
            INFO("the echo of: " << command);
            REQUIRE(echo != std::string::npos);
            from = echo;
            current = command;
        }
        INFO("after `" << command << "` expected: " << text);
        CHECK(run.output.find(text, from) != std::string::npos);
    }
    for (const auto& text : t.never) {
        INFO("must never appear: " << text);
        CHECK_FALSE(contains(run.output, text));
    }
}

int count_of(const std::string& haystack, const std::string& needle) {
    int n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos;
         at = haystack.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("a second sandbox session on the same database applies every command it is sent",
          "[e2e]") {
    temp_dir dir;
    auto first = run_demo(dir, "/release start vA\n");
    check_clean_session(first);
    REQUIRE(contains(first.output, "Started release vA"));

    // The first session's envelope ids must not come back as redeliveries in the second.
    auto second = run_demo(dir,
                           "/release abort changed my mind\n"
                           "/release start vB\n"
                           "/release note 1.1 first note\n"
                           "/release status\n");
    check_clean_session(second);
    INFO(second.output);
    CHECK_FALSE(contains(second.output, "Started release vA"));
    CHECK(contains(second.output, "Started release vB"));
    CHECK(count_of(second.output, "Started release") == 1);
    std::ifstream log(dir.file("demo.log"));
    std::string logged((std::istreambuf_iterator<char>(log)), {});
    CHECK_FALSE(contains(logged, "command.redelivered"));
    SQLite::Database db(dir.file("demo.db"));
    CHECK(db.execAndGet("SELECT status FROM releases WHERE version = 'vA'").getString() ==
          "aborted");
    CHECK(db.execAndGet("SELECT status FROM releases WHERE version = 'vB'").getString() ==
          "active");
}

TEST_CASE(
    "piped into the sandbox, what a command posts in the channel and in DMs is printed before "
    "the next command runs",
    "[e2e]") {
    temp_dir dir;
    auto run = run_demo(dir,
                        "/release start v2.1\n"
                        "/release assign 1.1 @pat due 2h\n"
                        "/release block 1.2 waiting on security\n"
                        "/release status\n");
    check_clean_session(run);
    INFO(run.output);
    auto at = [&](const std::string& text) { return run.output.find(text); };
    auto npos = std::string::npos;
    // Each post lies between the command that caused it and the next command.
    auto started = at("Release v2.1 started by @alex");
    auto assign = at("alex › /release assign 1.1");
    auto dm = at("relbot → @pat (direct message)");
    auto block = at("alex › /release block 1.2");
    auto blocked = at("Blocked in release v2.1");
    auto status = at("alex › /release status");
    REQUIRE(started != npos);
    REQUIRE(assign != npos);
    REQUIRE(dm != npos);
    REQUIRE(block != npos);
    REQUIRE(blocked != npos);
    REQUIRE(status != npos);
    CHECK(started < assign);
    CHECK(assign < dm);
    CHECK(dm < block);
    CHECK(block < blocked);
    CHECK(blocked < status);
}

TEST_CASE("in the sandbox people are mentioned by name and anyone of the cast can act", "[e2e]") {
    temp_dir dir;
    auto run = run_demo(dir,
                        "/release start v2.0\n"
                        "/release assign 1.1 @pat due 2h\n"
                        "as @pat /release check 1.1 looks fine\n"
                        "/release assign 1.2 @nobody\n"
                        "as @kim\n"
                        "/release check 1.2\n"
                        "as @alex\n"
                        "/release handoff @sam @lee\n"
                        "as @sam /release accept\n");
    check_clean_session(run);
    INFO(run.output);
    // The assignee hears about it in a DM drawn with their name, compactly.
    CHECK(contains(run.output, "relbot → @pat (direct message)"));
    // pat acts as pat: the reply is only theirs.
    CHECK(contains(run.output, "alex › as @pat /release check 1.1 looks fine"));
    CHECK(contains(run.output, "relbot → only @pat"));
    // An unknown name is answered by the sandbox with the cast, and nothing is sent.
    CHECK(contains(run.output, "nobody here is called @nobody"));
    // kim is not the release manager nor the owner of 1.2: refused, and said so to kim.
    CHECK(contains(run.output, "(you are now @kim"));
    CHECK(contains(run.output, "relbot → only @kim"));
    // The handoff goes to sam and lee by DM, and sam (the named on-call) can accept it.
    CHECK(contains(run.output, "relbot → @sam (direct message)"));
    CHECK(contains(run.output, "relbot → @lee (direct message)"));
    CHECK(contains(run.output, "@sam"));
    SQLite::Database db(dir.file("demo.db"));
    CHECK(db.execAndGet("SELECT count(*) FROM audit WHERE action = 'release.handoff_accepted'")
              .getInt() == 1);
}

TEST_CASE(
    "in the terminal sandbox a click finds the reply just printed, and a click's answer is "
    "shown as the clicker's",
    "[e2e]") {
    temp_dir dir;
    auto run = run_demo(dir,
                        "/release start v3.0\n"
                        "/release status\n"
                        "click Done 1.1\n"
                        "as @max\n"
                        "/release status\n"
                        "click Done 1.2\n"
                        "as @kim\n"
                        "/release list\n");
    check_clean_session(run);
    INFO(run.output);
    // The status reply's buttons are there for the very next line.
    CHECK_FALSE(contains(run.output, "labels seen"));
    SQLite::Database db(dir.file("demo.db"));
    CHECK(db.execAndGet("SELECT state FROM items WHERE phase = 1 AND position = 1").getString() ==
          "done");
    // max may not check 1.2: the refusal is shown as max's, though kim is typing by then.
    auto refusal = run.output.find("can check `1.2`");
    REQUIRE(refusal != std::string::npos);
    auto shown_to = run.output.rfind("relbot → only @", refusal);
    REQUIRE(shown_to != std::string::npos);
    CHECK(run.output.compare(shown_to, std::string("relbot → only @max").size(),
                             "relbot → only @max") == 0);
    CHECK(db.execAndGet("SELECT state FROM items WHERE phase = 1 AND position = 2").getString() ==
          "open");
}

TEST_CASE(
    "piped commands typed before relbot connects are all sent, and the end of input "
    "stops relbot cleanly and leaves no CA file behind",
    "[e2e]") {
    temp_dir dir;
    auto run = run_demo(dir, "/release start v9\n/release status\n/release list\n");
    check_clean_session(run);
    // The CA the sandbox wrote to the temp folder for relbot is gone when it ends.
    CHECK(run.ca_file_while_running);
    CHECK_FALSE(run.ca_file_after);
    CHECK(count_of(run.output, "relbot → only @alex") >= 3);
    CHECK(contains(run.output, "v9"));
}

TEST_CASE(
    "the standard release, start to finish, with several people and the usual mistakes, "
    "reads as the transcript says",
    "[e2e]") {
    temp_dir dir;
    auto first = read_transcript(RELBOT_SOURCE_DIR "/tests/demo/standard-release-1.txt");
    auto run1 = run_demo(dir, first.input);
    check_transcript(first, run1);
    // The release goes on in a second session, as a person's would the next morning.
    auto second = read_transcript(RELBOT_SOURCE_DIR "/tests/demo/standard-release-2.txt");
    auto run2 = run_demo(dir, second.input);
    check_transcript(second, run2);
}

TEST_CASE(
    "the .env.example as shipped sets no token, and its placeholders are refused if "
    "uncommented",
    "[e2e]") {
    temp_dir dir;
    std::ifstream example(RELBOT_SOURCE_DIR "/.env.example");
    REQUIRE(example);
    std::string shipped((std::istreambuf_iterator<char>(example)), {});
    auto env = clean_environment();
    env["RELBOT_DB"] = dir.file("relbot.db");

    SECTION(
        "as shipped: no token, so relbot says they are required (and run.sh would start "
        "the sandbox)") {
        std::ofstream(dir.file(".env")) << shipped;
        process relbot({RELBOT_BIN}, env, dir.path());
        auto status = relbot.wait_exit(after(10s));
        REQUIRE(status);
        CHECK(*status == 2);
        REQUIRE(relbot.wait_stderr("SLACK_APP_TOKEN", after(1s)));
        CHECK(contains(relbot.stderr_lines().back(), "required"));
    }
    SECTION("uncommented: the placeholders are refused at start with exit 2, without a try") {
        std::string uncommented = std::regex_replace(
            shipped, std::regex("^#(SLACK_(APP|BOT)_TOKEN=)", std::regex::multiline), "$1");
        REQUIRE(uncommented != shipped);
        std::ofstream(dir.file(".env")) << uncommented;
        process relbot({RELBOT_BIN}, env, dir.path());
        auto status = relbot.wait_exit(after(10s));
        REQUIRE(status);
        CHECK(*status == 2);
        auto said = relbot.wait_stderr("placeholder", after(1s));
        REQUIRE(said);
        CHECK(contains(*said, "SLACK_APP_TOKEN"));
    }
}

}  // namespace e2e_first_minutes_test
