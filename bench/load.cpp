// relbot-bench: ack latency, throughput, start-up and memory of the real relbot process, and of
// the floor client (relbot's Socket Mode code acknowledging at once), against relbot-sim's
// server in this process. Latency is measured on the Slack side: from just before the
// envelope frame is written to the moment its ack frame is read.
//
//   relbot-bench [--runs 3] [--starts 5] [--rate 200] [--stream 2000] [--burst 5000]
//                [--relbot PATH] [--floor PATH] [--keep-logs DIR] [--engine sqlite|postgres]
//                [--only status-stream|note-stream|writers-stream|status-burst|note-burst|
//                        mixed-burst|instances-burst] [--instances N]
//
// The streams: `status`, `note` and 50 writers (50 users, each checking, noting and unchecking
// items of the current phase) at --rate, relbot and the floor taking turns. The bursts: 5,000
// `status`, 5,000 `note`, and 5,000 mixed (20 % status; note, assign, block, unblock).
//
// --engine postgres: relbot keeps its state in PostgreSQL (RELBOT_DATABASE_URL), a fresh
// database per start in the throwaway cluster of tests/pg_cluster.sh (started for the run, or
// the one RELBOT_TEST_PG_URL_FILE names); the floor keeps nothing either way. With
// --instances N (3 by default on PostgreSQL), N relbot processes on that one database then
// take the mixed burst again, its envelopes spread over their N connections in turn, as
// Slack spreads them over an app's connections: the same figure as one instance's, beside it.
//
// Prints a table (medians over the runs, with their spread), where a lone note's time goes
// inside relbot (from the stages of its own log lines), and one JSON line. Not a test: it
// never runs in CI and asserts nothing.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "bench/harness.hpp"
#include "storage/pg_database.hpp"
#include "support/process.hpp"

namespace {

using namespace relbot::bench;
using json = nlohmann::json;
namespace fs = std::filesystem;

struct options {
    int runs = 3;
    int starts = 5;
    double rate = 200;
    int stream = 2000;
    int burst = 5000;
    std::string relbot;
    std::string floor;
    std::string keep_logs;
    std::string only;  // one part (see parts below): for profiling
    std::string engine = "sqlite";
    int instances = 0;  // the instances of the spread mixed burst (PostgreSQL); 0: 3 there
};

// The parts of a run that --only can pick.
constexpr std::array<const char*, 7> parts = {"status-stream",  "note-stream", "writers-stream",
                                              "status-burst",   "note-burst",  "mixed-burst",
                                              "instances-burst"};

// The 50 writers of the writers stream: each its own Slack user, each an admin of relbot (so
// that any of them may check or note any item, as owners of their own items would).
constexpr int writers = 50;
std::string writer(int k) {
    return "U0W" + std::to_string(100 + k);
}

// The figures of one process in one run.
struct target_figures {
    double startup_ms = 0;  // median over the starts of this run
    json stream_status;     // {"p50":…,"p95":…,"p99":…,"max":…} in ms
    json stream_note;
    json stream_writers;      // 50 users, each a check/uncheck/note stream, together at the rate
    double burst_status = 0;  // acks per second
    double burst_note = 0;
    double burst_mixed = 0;      // 80 % writes of four kinds, 20 % status
    double burst_instances = 0;  // the same, spread over --instances relbot processes
    double rss_idle_mib = 0;
    double rss_peak_mib = 0;
    // relbot only: where the note stream's time went, from its log (see note_stages).
    json note_stages;
};

// The stages of relbot's `event=envelope` log lines (bot/socket_mode.cpp), in order: from the
// read to the database strand taking the batch, the batch's BEGIN, the handler, the batch's
// commit, and from the read to the ack written.
constexpr std::array<const char*, 5> stages = {"wait_us", "begin_us", "us", "commit_us", "ack_us"};

// {"wait_us": {"p50": …, "p99": …}, …} over the log lines of the envelopes whose id starts
// with `id_prefix`; null when there are none. relbot writes an envelope's line just after its
// ack, so the last ones may still be on their way: read again (for 2 s at most) until there
// are `expected`.
json note_stages(const std::string& log_path, const std::string& id_prefix, int expected) {
    const std::string wanted = " envelope_id=" + id_prefix;
    auto read = [&] {
        std::map<std::string, std::vector<double>> seen;
        std::ifstream log(log_path);
        std::string line;
        while (std::getline(log, line)) {
            if (line.find(" event=envelope ") == std::string::npos ||
                line.find(wanted) == std::string::npos) {
                continue;
            }
            for (const char* key : stages) {
                auto at = line.find(std::string(" ") + key + "=");
                if (at != std::string::npos) {
                    seen[key].push_back(std::atof(line.c_str() + at + std::strlen(key) + 2));
                }
            }
        }
        return seen;
    };
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    auto seen = read();
    while (seen["ack_us"].size() < static_cast<std::size_t>(expected) &&
           std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        seen = read();
    }
    if (seen["ack_us"].empty()) {
        return nullptr;
    }
    json out = json::object();
    for (const auto& [key, values] : seen) {
        if (!values.empty()) {
            out[key] = {{"p50", quantile(values, 0.50)}, {"p99", quantile(values, 0.99)}};
        }
    }
    return out;
}

json latency_summary(const run_figures& f) {
    auto ms = [&](double q) { return quantile(f.latency_us, q) / 1000.0; };
    return {{"p50", ms(0.50)}, {"p95", ms(0.95)}, {"p99", ms(0.99)}, {"max", ms(1.0)}};
}

frame_list make_frames(const slack& s,
                       const std::string& prefix,
                       int count,
                       const std::function<std::string(int)>& text,
                       const std::function<std::string(int)>& user = {},
                       const std::string& channel = "C0BENCH") {
    frame_list out;
    out.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        out.push_back(slash_frame(s, prefix + std::to_string(i), text(i), channel,
                                  user ? user(i) : std::string("U0MANAGER")));
    }
    return out;
}

// The mixed burst's i-th command: 20 % status, the rest a note, an assignment, a block and an
// unblock in turn (each applies: the block is lifted by the unblock that follows it).
std::string mixed_text(int i) {
    switch (i % 5) {
        case 0:
            return "status";
        case 1:
            return "note 1.1 mixed benchmark note " + std::to_string(i);
        case 2:
            return "assign 1.2 <@" + writer(i % writers) + "> due 2h";
        case 3:
            return "block 1.3 mixed benchmark block " + std::to_string(i);
        default:
            return "unblock 1.3";
    }
}

// The writers stream runs on its own release, in its own channel, of a template whose first
// phase has an item per writer: writer k checks, notes and unchecks item 1.(k+1) in turn, and
// every command applies.
constexpr const char* writers_channel = "C0WRITERS";

std::string writers_template() {
    std::string md = "# Bench\n\n## Release day\n";
    for (int k = 0; k < writers; ++k) {
        md += "- [ ] **Item " + std::to_string(k + 1) + "**: writer " + std::to_string(k) + "\n";
    }
    return md + "\n## After\n- [ ] **Wrap up**: done\n";
}

std::string writer_text(int i) {
    int k = i % writers;
    int round = i / writers;
    auto item = "1." + std::to_string(k + 1);
    switch (round % 3) {
        case 0:
            return "check " + item + " https://ci.example/run/" + std::to_string(i);
        case 1:
            return "note " + item + " writer " + std::to_string(k) + " says hello";
        default:
            return "uncheck " + item;
    }
}

template <typename T>
T must(std::optional<T> f, const std::string& what) {
    if (!f) {
        throw std::runtime_error(what + ": not every envelope was acknowledged in time");
    }
    return std::move(*f);
}

// One of the two processes measured: relbot, or the floor client.
struct contender {
    contender(std::string name_, std::string binary_)
        : name(std::move(name_)), binary(std::move(binary_)) {}

    std::string name;
    std::string binary;
    std::string log;
    std::unique_ptr<child> proc;
    int connection = -1;  // the sandbox's id of its Socket Mode connection
    target_figures figures;
    std::unique_ptr<relbot::test::pg_database> database;  // --engine postgres: relbot's
    std::map<std::string, std::string> env;               // of the last start
};

// Starts the contender `starts` times on fresh databases, measuring spawn to hello; the
// last start stays running.
void start(slack& s, const relbot::test::temp_dir& dir, const options& opt, contender& c) {
    c.log = dir.file(c.name + ".log");
    std::vector<double> startups;
    for (int i = 0; i < opt.starts; ++i) {
        if (c.proc) {
            c.proc->stop();
            c.proc.reset();
        }
        auto env = s.bot_environment();
        std::string admins;
        for (int k = 0; k < writers; ++k) {
            admins += (k == 0 ? "" : ",") + writer(k);
        }
        env["RELBOT_ADMINS"] = admins;
        env["RELBOT_TEMPLATES_DIR"] = dir.file("templates");
        env["RELBOT_DB"] = dir.file(c.name + "-" + std::to_string(i) + ".db");
        if (opt.engine == "postgres" && c.name == "relbot") {
            c.database.reset();  // the previous start's database is dropped
            c.database = std::make_unique<relbot::test::pg_database>();
            env["RELBOT_DATABASE_URL"] = c.database->url();
        }
        int seen = s.hellos();
        c.env = env;
        c.proc = std::make_unique<child>(std::vector<std::string>{c.binary}, env, c.log);
        auto hello = s.wait_hello(seen, std::chrono::seconds(10));
        if (!hello) {
            throw std::runtime_error(c.name + " did not connect within 10 s; see " + c.log);
        }
        startups.push_back(
            std::chrono::duration<double, std::milli>(*hello - c.proc->started()).count());
        c.connection = s.last_hello_connection();
    }
    c.figures.startup_ms = median(startups);
}

double rss_mib(const contender& c) {
    return static_cast<double>(memory_of(c.proc->pid()).rss) / 1024.0;
}

// One run: both processes started (each `starts` times), then both running side by side.
// The streams alternate between them envelope by envelope, so that relbot and the floor are
// timed on the same machine at the same moments; each burst runs on its own, the floor's then
// relbot's, each once the Web API has been quiet for half a second (10 s at most): relbot
// leaves work behind a stream or a burst (the messages it decided, which it sends once the
// acks are out), and no burst should pay for what came before it.
void measure(slack& s,
             const relbot::test::temp_dir& dir,
             const options& opt,
             int run,
             contender& bot,
             contender& floor) {
    start(s, dir, opt, bot);
    start(s, dir, opt, floor);
    auto prefix = "r" + std::to_string(run) + "-";
    // A release to read and write: the standard checklist, as a release manager starts it.
    must(s.play(make_frames(s, prefix + "start-", 1, [](int) { return "start v1.0"; }), 0,
                std::chrono::seconds(10), bot.connection),
         "start");
    must(s.play(make_frames(
                    s, prefix + "start-writers-", 1,
                    [](int) { return "start v2.0 template bench"; }, {}, writers_channel),
                0, std::chrono::seconds(10), bot.connection),
         "start of the writers' release");
    s.wait_api_quiet(std::chrono::milliseconds(500), std::chrono::seconds(10));
    bot.figures.rss_idle_mib = rss_mib(bot);
    floor.figures.rss_idle_mib = rss_mib(floor);

    auto status = [](int) { return std::string("status"); };
    auto note = [](int i) { return "note 1.1 benchmark note " + std::to_string(i); };
    auto stream_within = std::chrono::seconds(static_cast<int>(opt.stream / opt.rate) + 30);
    auto wanted = [&](const char* part) { return opt.only.empty() || opt.only == part; };
    auto stream = [&](const std::string& tag, const std::function<std::string(int)>& text,
                      json target_figures::*into,
                      const std::function<std::string(int)>& user = {}) {
        auto channel = user ? std::string(writers_channel) : std::string("C0BENCH");
        auto [b, f] =
            must(s.play_alternating(
                     make_frames(s, prefix + "relbot-" + tag, opt.stream, text, user, channel),
                     bot.connection,
                     make_frames(s, prefix + "floor-" + tag, opt.stream, text, user, channel),
                     floor.connection, opt.rate, stream_within),
                 tag + " stream");
        bot.figures.*into = latency_summary(b);
        floor.figures.*into = latency_summary(f);
    };
    auto burst = [&](const std::string& tag, const std::function<std::string(int)>& text,
                     double target_figures::*into) {
        for (auto* c : {&floor, &bot}) {
            s.wait_api_quiet(std::chrono::milliseconds(500), std::chrono::seconds(10));
            c->figures.*into =
                must(s.play(make_frames(s, prefix + c->name + "-" + tag, opt.burst, text), 0,
                            std::chrono::seconds(60), c->connection),
                     c->name + " " + tag + " burst")
                    .acks_per_second();
        }
    };
    if (wanted("status-stream")) {
        stream("ss-", status, &target_figures::stream_status);
    }
    if (wanted("note-stream")) {
        stream("sn-", note, &target_figures::stream_note);
        bot.figures.note_stages = note_stages(bot.log, prefix + "relbot-sn-", opt.stream);
    }
    if (wanted("writers-stream")) {
        stream("sw-", writer_text, &target_figures::stream_writers,
               [](int i) { return writer(i % writers); });
    }
    if (wanted("status-burst")) {
        burst("bs-", status, &target_figures::burst_status);
    }
    if (wanted("note-burst")) {
        burst("bn-", note, &target_figures::burst_note);
    }
    if (wanted("mixed-burst")) {
        burst("bm-", mixed_text, &target_figures::burst_mixed);
    }
    if (wanted("instances-burst") && opt.instances > 1) {
        // More instances on relbot's database, each with its own connection; the burst goes
        // to all of them in turn.
        std::vector<std::unique_ptr<child>> others;
        std::vector<int> connections{bot.connection};
        for (int k = 1; k < opt.instances; ++k) {
            int seen = s.hellos();
            others.push_back(
                std::make_unique<child>(std::vector<std::string>{bot.binary}, bot.env,
                                        dir.file("relbot-instance-" + std::to_string(k) + ".log")));
            if (!s.wait_hello(seen, std::chrono::seconds(10))) {
                throw std::runtime_error("instance " + std::to_string(k + 1) +
                                         " did not connect within 10 s");
            }
            connections.push_back(s.last_hello_connection());
        }
        s.wait_api_quiet(std::chrono::milliseconds(500), std::chrono::seconds(10));
        bot.figures.burst_instances =
            must(s.play_spread(make_frames(s, prefix + "relbot-bi-", opt.burst, mixed_text),
                               connections, std::chrono::seconds(60)),
                 "burst spread over instances")
                .acks_per_second();
        floor.figures.burst_instances = floor.figures.burst_mixed;  // one client either way
        for (auto& o : others) {
            o->stop();
        }
    }
    for (auto* c : {&bot, &floor}) {
        c->figures.rss_peak_mib = static_cast<double>(memory_of(c->proc->pid()).hwm) / 1024.0;
        c->proc->stop();
        c->proc.reset();
        if (!opt.keep_logs.empty()) {
            fs::create_directories(opt.keep_logs);
            fs::copy_file(c->log, fs::path(opt.keep_logs) / (prefix + c->name + "-log"),
                          fs::copy_options::overwrite_existing);
        }
    }
}

json to_json(const target_figures& t) {
    return {{"startup_ms", t.startup_ms},
            {"note_stages", t.note_stages},
            {"status_200", t.stream_status},
            {"note_200", t.stream_note},
            {"writers_200", t.stream_writers},
            {"burst_status_per_s", t.burst_status},
            {"burst_note_per_s", t.burst_note},
            {"burst_mixed_per_s", t.burst_mixed},
            {"burst_mixed_instances_per_s", t.burst_instances},
            {"rss_idle_mib", t.rss_idle_mib},
            {"rss_peak_mib", t.rss_peak_mib}};
}

// One row of the table: a figure of relbot and of the floor over all runs.
struct row {
    std::string label;
    std::function<double(const target_figures&)> get;
    int decimals;
    std::string target;
    bool ratio;  // print relbot / floor
};

struct spread {
    double median = 0, min = 0, max = 0;
};

spread over_runs(const std::vector<target_figures>& runs,
                 const std::function<double(const target_figures&)>& get) {
    std::vector<double> v;
    for (const auto& r : runs) {
        v.push_back(get(r));
    }
    return {median(v), *std::min_element(v.begin(), v.end()),
            *std::max_element(v.begin(), v.end())};
}

std::string cell(const spread& s, int decimals) {
    return fixed(s.median, decimals) + " (" + fixed(s.min, decimals) + "–" +
           fixed(s.max, decimals) + ")";
}

options parse_args(int argc, char** argv) {
    options o;
    auto integer = [](int& to) { return [&to](const std::string& v) { to = std::stoi(v); }; };
    auto text = [](std::string& to) { return [&to](const std::string& v) { to = v; }; };
    read_options(argc, argv,
                 {{"--runs", integer(o.runs)},
                  {"--starts", integer(o.starts)},
                  {"--rate", [&](const std::string& v) { o.rate = std::stod(v); }},
                  {"--stream", integer(o.stream)},
                  {"--burst", integer(o.burst)},
                  {"--relbot", text(o.relbot)},
                  {"--floor", text(o.floor)},
                  {"--keep-logs", text(o.keep_logs)},
                  {"--instances", integer(o.instances)},
                  {"--engine",
                   [&](const std::string& v) {
                       if (v != "sqlite" && v != "postgres") {
                           throw std::invalid_argument("--engine takes sqlite or postgres");
                       }
                       o.engine = v;
                   }},
                  {"--only", [&](const std::string& v) {
                       if (std::find(parts.begin(), parts.end(), v) == parts.end()) {
                           std::string names;
                           for (const auto* p : parts) {
                               names += (names.empty() ? "" : ", ") + std::string(p);
                           }
                           throw std::invalid_argument("--only takes one of " + names);
                       }
                       o.only = v;
                   }}});
    if (o.runs < 1 || o.starts < 1 || o.rate <= 0 || o.stream < 1 || o.burst < 1) {
        throw std::invalid_argument("--runs, --starts, --rate, --stream and --burst must be > 0");
    }
    if (o.instances == 0) {
        o.instances = o.engine == "postgres" ? 3 : 1;
    }
    if (o.instances < 1 || (o.instances > 1 && o.engine != "postgres")) {
        throw std::invalid_argument(
            "--instances takes a number >= 1; more than one shares a PostgreSQL database "
            "(--engine postgres)");
    }
    if (o.relbot.empty()) {
        o.relbot = executable_dir() + "/relbot";
    }
    if (o.floor.empty()) {
        o.floor = executable_dir() + "/relbot-bench-floor";
    }
    return o;
}

// The figures of every run: relbot's and the floor's, and both as JSON per run.
struct all_runs {
    std::vector<target_figures> bot;
    std::vector<target_figures> floor;
    json per_run = json::array();
};

all_runs run_all(const options& opt) {
    all_runs out;
    for (int run = 1; run <= opt.runs; ++run) {
        relbot::test::temp_dir dir;
        fs::create_directories(dir.file("templates"));
        std::ofstream(dir.file("templates/bench.md")) << writers_template();
        slack s(dir.path());
        std::fprintf(stderr, "run %d/%d…\n", run, opt.runs);
        contender bot{"relbot", opt.relbot};
        contender floor{"floor", opt.floor};
        measure(s, dir, opt, run, bot, floor);
        out.bot.push_back(bot.figures);
        out.floor.push_back(floor.figures);
        out.per_run.push_back(
            {{"relbot", to_json(out.bot.back())}, {"floor", to_json(out.floor.back())}});
    }
    return out;
}

// The rows of the table, in order (a table: longer than a function should be).
std::vector<row> table_rows(const options& opt) {
    auto lat = [](const char* which, const char* q) {
        return [=](const target_figures& t) {
            std::string w = which;
            const json& j = w == "status" ? t.stream_status
                            : w == "note" ? t.stream_note
                                          : t.stream_writers;
            return j.is_object() ? j.at(q).get<double>() : 0.0;  // skipped with --only
        };
    };
    return {
        {"start-up, spawn to hello (ms)", [](auto& t) { return t.startup_ms; }, 1, "<= 50", true},
        {"status @" + fixed(opt.rate, 0) + "/s p50 (ms)", lat("status", "p50"), 3, "", true},
        {"status @" + fixed(opt.rate, 0) + "/s p95 (ms)", lat("status", "p95"), 3, "", true},
        {"status @" + fixed(opt.rate, 0) + "/s p99 (ms)", lat("status", "p99"), 3,
         "<= 0.35, <= 2x floor", true},
        {"status @" + fixed(opt.rate, 0) + "/s max (ms)", lat("status", "max"), 3, "", true},
        {"note @" + fixed(opt.rate, 0) + "/s p50 (ms)", lat("note", "p50"), 3, "", true},
        {"note @" + fixed(opt.rate, 0) + "/s p95 (ms)", lat("note", "p95"), 3, "", true},
        {"note @" + fixed(opt.rate, 0) + "/s p99 (ms)", lat("note", "p99"), 3,
         "<= 1.5x floor (issue 17)", true},
        {"note @" + fixed(opt.rate, 0) + "/s max (ms)", lat("note", "max"), 3, "", true},
        {"50 writers @" + fixed(opt.rate, 0) + "/s p50 (ms)", lat("writers", "p50"), 3, "", true},
        {"50 writers @" + fixed(opt.rate, 0) + "/s p99 (ms)", lat("writers", "p99"), 3, "", true},
        {"burst of " + std::to_string(opt.burst) + " status (acks/s)",
         [](auto& t) { return t.burst_status; }, 0, ">= 25000, >= 0.5x floor", true},
        {"burst of " + std::to_string(opt.burst) + " note (acks/s)",
         [](auto& t) { return t.burst_note; }, 0, ">= 0.6x floor (issue 17)", true},
        {"mixed burst of " + std::to_string(opt.burst) + ", 80 % writes (acks/s)",
         [](auto& t) { return t.burst_mixed; }, 0, ">= 0.5x floor (issue 17)", true},
        {"the same spread over " + std::to_string(opt.instances) + " instances (acks/s)",
         [](auto& t) { return t.burst_instances; }, 0, ">= one instance's (issue 19)", true},
        {"RSS idle (MiB)", [](auto& t) { return t.rss_idle_mib; }, 1, "<= 16", false},
        {"RSS peak, VmHWM (MiB)", [](auto& t) { return t.rss_peak_mib; }, 1, "<= 40", false},
    };
}

// Prints the table and returns the medians by row label.
json print_table(const std::vector<row>& rows, const all_runs& runs, int run_count) {
    const auto& bot_runs = runs.bot;
    const auto& floor_runs = runs.floor;
    std::printf("relbot-bench: %d run(s); medians, (min–max) over the runs\n\n", run_count);
    std::printf("| figure | relbot | floor | relbot / floor | target |\n|---|---|---|---|---|\n");
    json medians = json::object();
    for (const auto& r : rows) {
        auto b = over_runs(bot_runs, r.get);
        auto f = over_runs(floor_runs, r.get);
        if (b.max == 0 && f.max == 0) {
            continue;  // not measured (--only)
        }
        std::vector<double> ratios;
        for (std::size_t i = 0; i < bot_runs.size(); ++i) {
            double fv = r.get(floor_runs[i]);
            ratios.push_back(fv > 0 ? r.get(bot_runs[i]) / fv : 0);
        }
        auto ratio = spread{median(ratios), *std::min_element(ratios.begin(), ratios.end()),
                            *std::max_element(ratios.begin(), ratios.end())};
        std::printf("| %s | %s | %s | %s | %s |\n", r.label.c_str(), cell(b, r.decimals).c_str(),
                    cell(f, r.decimals).c_str(), r.ratio ? cell(ratio, 2).c_str() : "",
                    r.target.c_str());
        medians[r.label] = {{"relbot", b.median}, {"floor", f.median}, {"ratio", ratio.median}};
    }
    return medians;
}

// Where a lone note's time goes inside relbot: medians over the runs of each stage's p50 and
// p99, from relbot's own log (the floor has no such stages).
void print_stages(const all_runs& runs) {
    std::vector<const target_figures*> measured;
    for (const auto& t : runs.bot) {
        if (t.note_stages.is_object()) {
            measured.push_back(&t);
        }
    }
    if (measured.empty()) {
        return;
    }
    std::printf(
        "\nwhere a note's time goes in relbot (its log; medians over the runs, µs)\n\n"
        "| stage | p50 | p99 |\n|---|---|---|\n");
    const std::map<std::string, std::string> names = {
        {"wait_us", "read → the database strand takes the batch"},
        {"begin_us", "the batch's BEGIN IMMEDIATE"},
        {"us", "the command (decide, write)"},
        {"commit_us", "the batch's COMMIT"},
        {"ack_us", "read → ack written (these, then the ack's write)"}};
    for (const char* key : stages) {
        std::vector<double> p50;
        std::vector<double> p99;
        for (const auto* t : measured) {
            if (t->note_stages.contains(key)) {
                p50.push_back(t->note_stages[key].at("p50").get<double>());
                p99.push_back(t->note_stages[key].at("p99").get<double>());
            }
        }
        if (!p50.empty()) {
            std::printf("| %s | %.0f | %.0f |\n", names.at(key).c_str(), median(p50), median(p99));
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse_or_usage("relbot-bench",
                                 "relbot-bench [--runs N] [--starts N] [--rate N] [--stream N] "
                                 "[--burst N] [--relbot PATH] [--floor PATH] [--keep-logs DIR] "
                                 "[--only PART] [--engine sqlite|postgres]",
                                 parse_args, argc, argv);
    if (!parsed) {
        return 2;
    }
    const options& opt = *parsed;
    all_runs runs;
    try {
        runs = run_all(opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "relbot-bench: %s\n", e.what());
        return 1;
    }
    std::printf("relbot's store: %s\n", opt.engine == "postgres"
                                            ? "PostgreSQL 15, a local throwaway cluster"
                                            : "SQLite, a file in /tmp");
    auto medians = print_table(table_rows(opt), runs, opt.runs);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    json line = {{"bench", "relbot-load"}, {"runs", opt.runs},
                 {"engine", opt.engine},   {"cores", std::thread::hardware_concurrency()},
                 {"host", host},           {"medians", medians},
                 {"per_run", runs.per_run}};
    print_stages(runs);
    std::printf("\n%s\n", line.dump().c_str());
    return 0;
}
