// relbot-bench-scale: does a command cost more when the database holds years of history?
// Builds two databases through the store (the same code relbot writes with): a small one with
// only the measured channel's release, and a large one with the same release plus 10,000
// finished releases and 1,000,000 audit rows. Then runs the real relbot on each and measures
// the ack latency of `status`, `list` and `report` on the Slack side, and times the queries
// the notifier and the scheduler run on the same thread.
//
//   relbot-bench-scale [--releases 10000] [--audit 1000000] [--commands 400] [--rate 100]
//                      [--relbot PATH] [--keep DIR]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bench/harness.hpp"
#include "checklist/rules.hpp"
#include "checklist/template.hpp"
#include "storage/open.hpp"
#include "support/process.hpp"

namespace {

using namespace relbot;
using namespace relbot::bench;
using json = nlohmann::json;
namespace fs = std::filesystem;

struct options {
    int releases = 10000;
    long audit = 1000000;
    int commands = 400;
    double rate = 100;
    std::string relbot;
    std::string keep;
};

constexpr const char* bench_channel = "C0BENCH";
constexpr const char* manager = "U0MANAGER";

// Writes one release's history through the store, as commands would: notes and checks on
// every item, owners and due times on some, phase by phase, then (if `finish`) the end.
// Stops adding notes once the release has `audit_rows` timeline rows. Returns the rows written.
long write_release(storage::engine& st,
                   const checklist::checklist_template& t,
                   const std::string& channel,
                   const std::string& version,
                   checklist::epoch_seconds start,
                   long audit_rows,
                   bool finish) {
    auto r = checklist::make_release(t, channel, version, manager, start);
    auto tx = st.work().begin();
    st.releases().insert_release(r);
    st.audit().append_audit(
        {r.id, start, manager, "release.started", std::nullopt, "", "active", ""});
    long written = 1;
    auto now = start;
    auto apply = [&](auto transition) {
        checklist::change_log log;
        transition(log);
        st.releases().save(r, log, manager, ++now);
        written += static_cast<long>(log.events.size());
    };
    auto phases = r.phases.size();
    auto stop_phase = finish ? phases : std::min<std::size_t>(3, phases);
    for (std::size_t p = 0; p < stop_phase; ++p) {
        for (std::size_t i = 0; i < r.phases[p].items.size(); ++i) {
            checklist::item_pos pos{p, i};
            if (i % 3 == 0) {
                apply([&](auto& log) {
                    checklist::assign_item(r, pos, "U0OWNER" + std::to_string(i % 7), now + 3600,
                                           log);
                });
            }
            apply([&](auto& log) { checklist::note_item(r, pos, "looked at it", log); });
            if (finish || p + 1 < stop_phase) {
                apply([&](auto& log) { checklist::check_item(r, pos, "", log); });
            }
        }
        if (p + 1 < stop_phase) {
            apply([&](auto& log) { checklist::advance_phase(r, now, "benchmark", log); });
        }
    }
    checklist::item_pos last{r.phases.size() - 1, 0};
    if (!finish) {
        last = {stop_phase - 1, 0};
    }
    while (written < audit_rows - (finish ? 1 : 0)) {
        apply([&](auto& log) { checklist::note_item(r, last, "more history", log); });
    }
    if (finish) {
        apply([&](auto& log) { checklist::finish_release(r, now, "benchmark", log); });
        // As the notifier would have: the living status message caught up with the end.
        for (const auto& job : st.status().status_jobs()) {
            st.status().status_sent(job.release_id, "1600000000.000100", job.version, now * 1000);
        }
    }
    tx->commit();
    return written;
}

// The measured channel's release, the same in both databases.
void write_measured_release(storage::engine& st, const checklist::checklist_template& t) {
    write_release(st, t, bench_channel, "v9.9.9", 1'700'000'000, 120, false);
}

struct built {
    long releases = 0;
    long audit_rows = 0;
    double seconds = 0;
    double megabytes = 0;
};

built build_database(const std::string& path, const options& opt, bool history) {
    auto began = clock::now();
    built b;
    {
        auto engine = storage::open({path});
        auto& st = *engine;
        checklist::template_library library;
        const auto& t = *library.find("standard");
        if (history) {
            long per_release = std::max<long>(1, opt.audit / std::max(1, opt.releases));
            for (int i = 0; i < opt.releases; ++i) {
                // A thousand channels with ten releases each, a day apart.
                auto channel = "C" + std::to_string(100000 + i % 1000);
                b.audit_rows += write_release(st, t, channel, "v" + std::to_string(i),
                                              1'600'000'000 + 86'400L * i, per_release, true);
                ++b.releases;
            }
        }
        write_measured_release(st, t);
        ++b.releases;
        b.audit_rows += 120;
    }
    b.seconds = std::chrono::duration<double>(clock::now() - began).count();
    b.megabytes = static_cast<double>(fs::file_size(path)) / (1024.0 * 1024.0);
    return b;
}

// Times `f` `n` times; p50 and p99 in microseconds.
std::pair<double, double> time_query(int n, const std::function<void()>& f) {
    std::vector<double> us;
    for (int i = 0; i < n; ++i) {
        auto t0 = clock::now();
        f();
        us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
    }
    return {quantile(us, 0.5), quantile(us, 0.99)};
}

struct measured {
    std::map<std::string, std::pair<double, double>> commands;  // ack latency p50/p99, ms
    std::map<std::string, std::pair<double, double>> queries;   // background queries, µs
};

measured measure(const std::string& db,
                 const relbot::test::temp_dir& dir,
                 const options& opt,
                 const std::string& name) {
    measured m;
    // The background queries, on a copy of the database opened by the store itself.
    {
        auto engine = storage::open({db});
        auto& st = *engine;
        m.queries["reminder candidates"] =
            time_query(200, [&] { st.reminders().reminder_candidates(); });
        m.queries["timed releases"] = time_query(200, [&] { st.reminders().timed_releases(); });
        m.queries["status jobs"] = time_query(200, [&] { st.status().status_jobs(); });
        m.queries["outbox next due"] =
            time_query(200, [&] { st.outbox().next_due(1'700'000'000); });
        m.queries["owners needing a time zone"] =
            time_query(200, [&] { st.people().owners_needing_time_zone(1'700'000'000, 86'400); });
    }

    slack s(dir.path());
    auto env = s.bot_environment();
    env["RELBOT_DB"] = db;
    auto log = dir.file(name + ".log");
    int seen = s.hellos();
    child bot({opt.relbot}, env, log);
    if (!s.wait_hello(seen, std::chrono::seconds(30))) {
        throw std::runtime_error("relbot did not connect within 30 s; see " + log);
    }
    s.wait_api_quiet(std::chrono::milliseconds(500), std::chrono::seconds(30));
    for (std::string command : {"status", "list", "report"}) {
        std::vector<std::pair<std::string, std::string>> frames;
        for (int i = 0; i < opt.commands; ++i) {
            frames.push_back(slash_frame(s, name + "-" + command + "-" + std::to_string(i), command,
                                         bench_channel, manager));
        }
        // A report is a page or more of text, posted partly through response_url: asked for
        // at a fifth of the rate.
        double rate = command == std::string("report") ? opt.rate / 5 : opt.rate;
        auto within = std::chrono::seconds(static_cast<int>(opt.commands / rate) + 60);
        auto f = s.play(frames, rate, within);
        if (!f) {
            throw std::runtime_error(command + ": not every envelope was acknowledged in time");
        }
        m.commands[command] = {quantile(f->latency_us, 0.5) / 1000.0,
                               quantile(f->latency_us, 0.99) / 1000.0};
    }
    bot.stop();
    if (!opt.keep.empty()) {
        fs::copy_file(log, fs::path(opt.keep) / (name + ".log"),
                      fs::copy_options::overwrite_existing);
    }
    return m;
}

options parse_args(int argc, char** argv) {
    options o;
    read_options(argc, argv,
                 {{"--releases", [&](const std::string& v) { o.releases = std::stoi(v); }},
                  {"--audit", [&](const std::string& v) { o.audit = std::stol(v); }},
                  {"--commands", [&](const std::string& v) { o.commands = std::stoi(v); }},
                  {"--rate", [&](const std::string& v) { o.rate = std::stod(v); }},
                  {"--relbot", [&](const std::string& v) { o.relbot = v; }},
                  {"--keep", [&](const std::string& v) { o.keep = v; }}});
    if (o.releases < 1 || o.audit < 1 || o.commands < 1 || o.rate <= 0) {
        throw std::invalid_argument("--releases, --audit, --commands and --rate must be > 0");
    }
    if (o.relbot.empty()) {
        o.relbot = executable_dir() + "/relbot";
    }
    return o;
}

// The ack-latency table, small against large; adds the figures to `line`.
void print_commands(const measured& a, const measured& b, const options& opt, json& line) {
    std::printf(
        "| ack latency (ms); status, list at %.0f/s, report at %.0f/s | small p50 | small p99 "
        "| large p50 | large p99 | large / small (p50, p99) |\n|---|---|---|---|---|---|\n",
        opt.rate, opt.rate / 5);
    for (const auto& [name, small_ms] : a.commands) {
        auto large_ms = b.commands.at(name);
        std::printf("| %s | %s | %s | %s | %s | %s, %s |\n", name.c_str(),
                    fixed(small_ms.first, 3).c_str(), fixed(small_ms.second, 3).c_str(),
                    fixed(large_ms.first, 3).c_str(), fixed(large_ms.second, 3).c_str(),
                    fixed(large_ms.first / small_ms.first, 2).c_str(),
                    fixed(large_ms.second / small_ms.second, 2).c_str());
        line["commands"][name] = {{"small_ms", {small_ms.first, small_ms.second}},
                                  {"large_ms", {large_ms.first, large_ms.second}}};
    }
}

// The background-query table, small against large; adds the figures to `line`.
void print_queries(const measured& a, const measured& b, json& line) {
    std::printf(
        "\n| background query, in process (µs) | small p50 | small p99 | large p50 | "
        "large p99 | large / small (p50) |\n|---|---|---|---|---|---|\n");
    for (const auto& [name, small_us] : a.queries) {
        auto large_us = b.queries.at(name);
        std::printf("| %s | %s | %s | %s | %s | %s |\n", name.c_str(),
                    fixed(small_us.first, 1).c_str(), fixed(small_us.second, 1).c_str(),
                    fixed(large_us.first, 1).c_str(), fixed(large_us.second, 1).c_str(),
                    fixed(large_us.first / small_us.first, 2).c_str());
        line["queries"][name] = {{"small_us", {small_us.first, small_us.second}},
                                 {"large_us", {large_us.first, large_us.second}}};
    }
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse_or_usage("relbot-bench-scale",
                                 "relbot-bench-scale [--releases N] [--audit N] [--commands N] "
                                 "[--rate N] [--relbot PATH] [--keep DIR]",
                                 parse_args, argc, argv);
    if (!parsed) {
        return 2;
    }
    const options& opt = *parsed;
    try {
        relbot::test::temp_dir dir;
        std::fprintf(stderr, "building the databases…\n");
        auto small = build_database(dir.file("small.db"), opt, false);
        auto large = build_database(dir.file("large.db"), opt, true);
        std::fprintf(stderr, "measuring the small database…\n");
        auto a = measure(dir.file("small.db"), dir, opt, "small");
        std::fprintf(stderr, "measuring the large database…\n");
        auto b = measure(dir.file("large.db"), dir, opt, "large");

        std::printf(
            "relbot-bench-scale: small = 1 release, %ld audit rows, %.1f MiB; large = %ld "
            "releases, %ld audit rows, %.1f MiB (built through the store in %.0f s)\n\n",
            small.audit_rows, small.megabytes, large.releases, large.audit_rows, large.megabytes,
            large.seconds);
        json line = {{"bench", "relbot-scale"},
                     {"large", {{"releases", large.releases}, {"audit_rows", large.audit_rows}}}};
        print_commands(a, b, opt, line);
        print_queries(a, b, line);
        std::printf("\n%s\n", line.dump().c_str());
        if (!opt.keep.empty()) {
            fs::copy_file(dir.file("large.db"), fs::path(opt.keep) / "large.db",
                          fs::copy_options::overwrite_existing);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "relbot-bench-scale: %s\n", e.what());
        return 1;
    }
    return 0;
}
