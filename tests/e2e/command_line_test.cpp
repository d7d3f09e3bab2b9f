// End-to-end: what an operator runs on the command line, as the real binary: check-template,
// backup and export (with the running relbot where they need one).
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "storage/sqlite/database.hpp"
#include "support/sandbox.hpp"

namespace e2e_command_line_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

bool wait_name(const temp_dir& dir, const std::string& user, std::chrono::milliseconds within) {
    auto until = after(within);
    do {
        try {
            SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
            SQLite::Statement q(db,
                                "SELECT name FROM users WHERE user_id = ? AND name IS NOT NULL");
            q.bind(1, user);
            if (q.executeStep()) {
                return true;
            }
        } catch (const SQLite::Exception&) {
            // not created or not migrated yet
        }
    } while (std::chrono::steady_clock::now() < until);
    return false;
}

}  // namespace

TEST_CASE("check-template lists a good template and points at the line of a broken one", "[e2e]") {
    temp_dir dir;
    std::ofstream(dir.file("broken.md")) << "# Broken\n\n## Phase one\n\nJust prose, no items.\n";
    int status = -1;
    auto good = run_relbot({"check-template", CHECKLIST_STANDARD_MD}, dir, {}, status);
    CHECK(status == 0);
    CHECK(contains(good, "6 phases, 33 items"));
    CHECK(contains(good, "1. Pre-Release Checks"));
    CHECK(contains(good, "1.1 CI/CD Status"));

    process p({RELBOT_BIN, "check-template", dir.file("broken.md")}, {}, dir.path());
    auto err = p.read_stderr_line(after(10s));
    REQUIRE(err);
    CHECK(std::regex_search(*err, std::regex("broken\\.md:\\d+: ")));
    CHECK(p.wait_exit(after(10s)) == 2);

    run_relbot({"check-template"}, dir, {}, status);
    CHECK(status == 2);

    // A byte-order mark before the first heading is no part of it.
    std::ofstream(dir.file("bom.md")) << "\xEF\xBB\xBF## Build\n- [ ] **One**: x\n";
    CHECK(
        contains(run_relbot({"check-template", dir.file("bom.md")}, dir, {}, status), "1. Build"));
    CHECK(status == 0);
    // A file name `/release start … template` cannot take: warned of (App Home's form can
    // still start it). A folder: exit 2.
    std::ofstream(dir.file("My Template.md")) << "## Build\n- [ ] **One**: x\n";
    std::string said;
    run_relbot({"check-template", dir.file("My Template.md")}, dir, {}, status, &said);
    CHECK(status == 0);
    CHECK(contains(said, "warning: "));
    CHECK(contains(said, "rename the file to letters, digits and - _ ."));
    run_relbot({"check-template", dir.path()}, dir, {}, status, &said);
    CHECK(status == 2);
    CHECK(contains(said, "is a folder"));
}

TEST_CASE("check-template shows each phase's window and warns of items whose slugs collide",
          "[e2e]") {
    temp_dir dir;
    std::ofstream(dir.file("dup.md"))
        << "# Dup\n\n## Checks\n- [ ] **Smoke tests**: staging\n\n## Bake (1-2 weeks)\n"
           "- [ ] **Smoke tests**: production\n";
    process p({RELBOT_BIN, "check-template", dir.file("dup.md")}, {}, dir.path());
    std::string out;
    while (auto line = p.read_stdout_line(after(10s))) {
        out += *line + "\n";
    }
    REQUIRE(p.wait_exit(after(10s)) == 0);  // a warning is not a failure
    CHECK(contains(out, "1. Checks — no window"));
    CHECK(contains(out, "2. Bake (1-2 weeks) — window 7d to 14d"));
    CHECK(contains(out, "2.1 Smoke tests"));
    std::string err;
    for (const auto& line : p.stderr_lines()) {
        err += line + "\n";
    }
    CHECK(contains(err, dir.file("dup.md") +
                            ":7: warning: \"Smoke tests\" repeats line 4; its slug is "
                            "smoke-tests-2 (line 4 has smoke-tests)"));

    int status = -1;
    auto standard = run_relbot({"check-template", CHECKLIST_STANDARD_MD}, dir, {}, status);
    CHECK(status == 0);
    CHECK(contains(standard, "5. Post-Release Monitoring (24-48 hours) — window 1d to 2d"));
}

TEST_CASE("check-template refuses an inverted or empty phase window with its line", "[e2e]") {
    temp_dir dir;
    std::ofstream(dir.file("inverted.md")) << "## Build\n- [ ] **A**: a\n## Soak (48-24 hours)\n"
                                              "- [ ] **B**: b\n";
    std::ofstream(dir.file("empty.md")) << "## Soak (0-0 hours)\n- [ ] **B**: b\n";
    for (auto [file, expected] :
         {std::pair{std::string("inverted.md"), std::string(":3: phase window `(48-24 hours)` ends "
                                                            "before it starts")},
          std::pair{std::string("empty.md"), std::string(":1: phase window `(0-0 hours)` is "
                                                         "empty")}}) {
        process p({RELBOT_BIN, "check-template", dir.file(file)}, {}, dir.path());
        auto err = p.read_stderr_line(after(10s));
        REQUIRE(err);
        CHECK(contains(*err, dir.file(file) + expected));
        CHECK(p.wait_exit(after(10s)) == 2);
    }
}

TEST_CASE("backup taken during a stream of commands holds every command acknowledged before it",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(sim.wait_ack(sim.slash_command("start v1.0")));
    for (int i = 0; i < 20; ++i) {
        REQUIRE(sim.wait_ack(sim.slash_command("note 1.1 before the backup " + std::to_string(i))));
    }
    // More commands while the backup runs.
    std::vector<std::string> during;
    for (int i = 0; i < 20; ++i) {
        during.push_back(sim.slash_command("note 1.2 during the backup " + std::to_string(i)));
    }
    auto env = bot_environment(dir, sim);
    int status = -1;
    auto out = run_relbot({"backup", dir.file("copy.db")}, dir, env, status);
    CHECK(status == 0);
    CHECK(contains(out, "backed up"));
    for (const auto& id : during) {
        CHECK(sim.wait_ack(id));
    }

    SQLite::Database copy(dir.file("copy.db"), SQLite::OPEN_READONLY);
    CHECK(copy.execAndGet("PRAGMA integrity_check").getString() == "ok");
    SQLite::Statement q(copy,
                        "SELECT COUNT(*) FROM audit WHERE action = 'item.noted' AND note LIKE "
                        "'before the backup %'");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getInt() == 20);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("backup into a folder that does not exist names the file and the missing folder",
          "[e2e]") {
    temp_dir dir;
    {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE t (x INTEGER)");
    }
    auto target = dir.file("nonexistent/dir/x.db");
    process p({RELBOT_BIN, "backup", target}, {{"RELBOT_DB", dir.file("relbot.db")}}, dir.path());
    p.close_stdin();
    auto status = p.wait_exit(after(20s));
    REQUIRE(status);
    CHECK(*status != 0);
    std::string err;
    for (const auto& line : p.stderr_lines()) {
        err += line + "\n";
    }
    CHECK(contains(err, "relbot backup: cannot write " + target + ": the folder " +
                            dir.file("nonexistent/dir") + " does not exist"));
    CHECK_FALSE(contains(err, "unable to open database file"));
    CHECK_FALSE(std::filesystem::exists(dir.file("nonexistent")));

    // The database itself (as `$RELBOT_DB` is easily typed) is a usage mistake: exit 2.
    process same({RELBOT_BIN, "backup", dir.file("relbot.db")},
                 {{"RELBOT_DB", dir.file("relbot.db")}}, dir.path());
    same.close_stdin();
    CHECK(same.wait_exit(after(20s)) == 2);
    std::string said;
    for (const auto& line : same.stderr_lines()) {
        said += line + "\n";
    }
    CHECK(contains(said, "it is the database itself; name a file elsewhere"));
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE name = 't'").getInt() == 1);
}

TEST_CASE("export prints the same markdown report as /release report markdown", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    for (const char* c : {"start v2.0", "check 1.1 all green", "note 1.2 scanned twice",
                          "skip 1.3 covered by 1.1", "block 1.4 waiting for QA"}) {
        REQUIRE(sim.wait_ack(sim.slash_command(c)));
    }
    // Both show the manager by name once users.info has answered.
    REQUIRE(wait_name(dir, "U0MANAGER", 10s));
    auto ack = sim.wait_ack(sim.slash_command("report markdown"));
    REQUIRE(ack);
    // The markdown travels as code blocks, escaped for mrkdwn; put it back together.
    std::string from_slack;
    for (const auto& b : (*ack)["payload"]["blocks"]) {
        if (!b.contains("text") || !b["text"].contains("text")) {
            continue;
        }
        auto t = b["text"]["text"].get<std::string>();
        if (t.starts_with("```") && t.ends_with("```")) {
            from_slack += t.substr(3, t.size() - 6);
        }
    }
    for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
        for (std::size_t at; (at = from_slack.find(from)) != std::string::npos;) {
            from_slack.replace(at, from.size(), to);
        }
    }
    REQUIRE_FALSE(from_slack.empty());

    auto env = bot_environment(dir, sim);
    int status = -1;
    auto exported = run_relbot({"export", "v2.0"}, dir, env, status);
    CHECK(status == 0);
    CHECK(exported == from_slack);

    run_relbot({"export", "v9.9"}, dir, env, status);
    CHECK(status == 2);
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "export reads a database as it is: one at an older schema, or with none, is refused and left "
    "byte for byte as it was",
    "[e2e]") {
    temp_dir dir;
    auto bytes_of = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    // A file an older relbot runs on: one migration behind this one.
    auto older = dir.file("older.db");
    relbot::storage::sqlite::open_database(older, relbot::storage::sqlite::schema_version() - 1);
    auto before = bytes_of(older);
    REQUIRE_FALSE(before.empty());
    int status = -1;
    std::string err;
    run_relbot({"export", "v1.0"}, dir, {{"RELBOT_DB", older}}, status, &err);
    CHECK(status == 1);
    CHECK(contains(err, "older than this relbot"));
    CHECK(contains(err, "nothing was changed"));
    CHECK(bytes_of(older) == before);  // not migrated
    CHECK_FALSE(std::filesystem::exists(older + "-wal"));
    CHECK_FALSE(std::filesystem::exists(older + "-shm"));
    {
        SQLite::Database db(older, SQLite::OPEN_READONLY);
        CHECK(db.execAndGet("PRAGMA user_version").getInt() ==
              relbot::storage::sqlite::schema_version() - 1);
    }

    // An empty file is not given relbot's tables.
    auto empty = dir.file("empty.db");
    std::ofstream(empty).close();
    err.clear();
    run_relbot({"export", "v1.0"}, dir, {{"RELBOT_DB", empty}}, status, &err);
    CHECK(status == 1);
    CHECK(contains(err, "holds no relbot data"));
    CHECK(std::filesystem::file_size(empty) == 0);
}

TEST_CASE("export by channel name shows rollbacks and forced moves and blockers and skips by name",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    // The sandbox's channel C0DEMO is #release-demo; users.info names people "user-<ID>".
    for (const char* c : {"start v4.0", "block 1.2 waiting for the QA sign-off",
                          "skip 1.3 covered by the nightly run",
                          "next force QA is out today, smoke tests are enough",
                          "assign 2.1 <@U0PAT>", "rollback error rate doubled after deploy",
                          "finish force rolled back, closing this one"}) {
        INFO(c);
        REQUIRE(sim.wait_ack(sim.slash_command(c, "C0DEMO")));
    }
    REQUIRE(wait_name(dir, "U0MANAGER", 10s));
    REQUIRE(wait_name(dir, "U0PAT", 10s));

    auto env = bot_environment(dir, sim);
    int status = -1;
    auto md = run_relbot({"export", "v4.0", "--channel", "#release-demo"}, dir, env, status);
    INFO(md);
    CHECK(status == 0);
    CHECK(contains(md, "Release manager: @user-U0MANAGER"));
    CHECK(contains(md, "owner @user-U0PAT"));
    CHECK_FALSE(contains(md, "@U0MANAGER"));  // never the raw ID once the name is known
    const std::string when = "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC";
    auto has = [&](const std::string& pattern) {
        return std::regex_search(md, std::regex(pattern));
    };
    // Each section with who, when and why.
    CHECK(has("### Rollback decisions\n\n- " + when +
              " @user-U0MANAGER: error rate doubled after deploy\n"));
    CHECK(has("### Forced moves\n\n- " + when +
              " @user-U0MANAGER: forced the move from \\*\\*Pre-Release Checks\\*\\* to "
              "\\*\\*Deployment Steps\\*\\* — QA is out today, smoke tests are enough\n- " +
              when +
              " @user-U0MANAGER: finished the release by force — rolled back, closing this one\n"));
    CHECK(has("### Blockers\n\n- 1\\.2 \\*\\*[^*]+\\*\\* — blocked by @user-U0MANAGER " + when +
              ": waiting for the QA sign-off · \\*\\*still blocked\\*\\*\n"));
    CHECK(
        has("### Skipped\n\n- 1\\.3 \\*\\*[^*]+\\*\\* — covered by the nightly run "
            "\\(@user-U0MANAGER, " +
            when + "\\)\n"));
    CHECK(contains(md, "blocked by @user-U0MANAGER"));

    // The channel's name without `#`, and its ID, find it too; another name does not.
    CHECK(run_relbot({"export", "v4.0", "--channel", "release-demo"}, dir, env, status) == md);
    CHECK(status == 0);
    CHECK(run_relbot({"export", "v4.0", "--channel", "C0DEMO"}, dir, env, status) == md);
    CHECK(status == 0);
    run_relbot({"export", "v4.0", "--channel", "#elsewhere"}, dir, env, status);
    CHECK(status == 2);

    // The report in Slack has the same facts (people as mentions there).
    auto report_ack = sim.wait_ack(sim.slash_command("report", "C0DEMO"));
    REQUIRE(report_ack);
    auto report = message_text((*report_ack)["payload"]);
    CHECK(contains(report, "error rate doubled after deploy"));
    CHECK(contains(report, "QA is out today, smoke tests are enough"));
    CHECK(contains(report, "waiting for the QA sign-off"));
    CHECK(contains(report, "covered by the nightly run"));
    CHECK(contains(report, "<@U0MANAGER>"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "what a newcomer types wrong on the command line gets its usage, or says what to do, and "
    "never a secret",
    "[e2e]") {
    temp_dir dir;
    int status = -1;
    // A subcommand's --help is its usage, on stdout; never a file named "--help".
    for (const char* command : {"backup", "check-template", "export", "migrate-to-postgres"}) {
        INFO(command);
        auto out = run_relbot({command, "--help"}, dir, {}, status);
        CHECK(status == 0);
        CHECK(contains(out, std::string("relbot ") + command));
    }
    CHECK_FALSE(std::filesystem::exists(dir.file("--help")));
    std::string err;
    run_relbot({"backup", "-o"}, dir, {}, status, &err);
    CHECK(status == 2);
    CHECK(contains(err, "unknown option `-o`"));

    // relbot signal: what is missing or wrong, and nothing sent (no address is even set).
    err.clear();
    run_relbot({"signal", "--channel", "C1", "--action", "chek", "--item", "1.1"}, dir, {}, status,
               &err);
    CHECK(status == 1);
    CHECK(contains(err, "\"action\" must be one of check, note, block, unblock, deployed"));
    CHECK(contains(err, "nothing was sent"));
    err.clear();
    run_relbot({"signal", "--channel", "C1", "--action", "check"}, dir, {}, status, &err);
    CHECK(status == 1);
    CHECK(contains(err, "\"item\" is required"));

    // A configuration error is one line; a line of ./.env that is not NAME=value is named
    // as such, never with its text (here a secret written YAML-style).
    std::ofstream(dir.file(".env")) << "SLACK_APP_TOKEN=xapp-1-A0-1-abc\n"
                                       "RELBOT_HOOKS_SECRET: s3cr3tVALUEs3cr3tVALUE=\n"
                                       "RELBOT_DATABASE_URL postgresql://u:pAssw0rd@h/db\n"
                                       "SLACK_BOT_TOEKN=xoxb-1-2-abc\n";
    err.clear();
    run_relbot({}, dir, {}, status, &err);
    CHECK(status == 2);
    INFO(err);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(contains(err, "SLACK_BOT_TOKEN is required"));
    CHECK(contains(err, "SLACK_BOT_TOEKN"));
    CHECK(contains(err, "a line that is not NAME=value"));
    CHECK_FALSE(contains(err, "s3cr3t"));
    CHECK_FALSE(contains(err, "pAssw0rd"));

    // A database in a folder that does not exist: which folder, and what to do.
    std::filesystem::remove(dir.file(".env"));
    err.clear();
    run_relbot({}, dir,
               {{"SLACK_APP_TOKEN", "xapp-1-A0-1-abc"},
                {"SLACK_BOT_TOKEN", "xoxb-1-2-abc"},
                {"RELBOT_DB", dir.file("no/such/folder/relbot.db")}},
               status, &err);
    CHECK(status == 1);
    CHECK(contains(err, "the folder " + dir.file("no/such/folder") + " does not exist"));
    CHECK(contains(err, "create it, or name a file in a folder relbot may write"));
}

}  // namespace e2e_command_line_test
