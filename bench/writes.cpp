// relbot-bench-writes: the write path in process, without sockets: the mixed burst's writes
// (`note`, `assign`, `block`, `unblock` in turn) applied through commands::shell as the bot
// applies a batch of slash commands (one transaction, no savepoint per command), on a fresh
// SQLite file in a temporary directory, with the store's checkpointer on its own thread as in
// the bot (without it SQLite checkpoints inside the commits, which the bot never does). Prints
// the mean cost of each kind and of all, in microseconds; for a profiler (`perf record
// --call-graph dwarf build-bench/relbot-bench-writes`). Asserts nothing.
//
//   relbot-bench-writes [BATCH [BATCHES]]   commands per transaction (default 1000), and how
//                                           many transactions (default 20)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "checklist/template.hpp"
#include "commands/apply.hpp"
#include "storage/sqlite/store.hpp"

using namespace relbot;

namespace {

std::string write_text(int i) {
    switch (i % 4) {
        case 0:
            return "note 1.1 benchmark note " + std::to_string(i);
        case 1:
            return "assign 1.2 <@U0W" + std::to_string(100 + i % 50) + "> due 2h";
        case 2:
            return "block 1.3 benchmark block " + std::to_string(i);
        default:
            return "unblock 1.3";
    }
}

}  // namespace

int main(int argc, char** argv) {
    int batch = argc > 1 ? std::atoi(argv[1]) : 1000;
    int batches = argc > 2 ? std::atoi(argv[2]) : 20;
    if (batch <= 0 || batches <= 0) {
        std::fprintf(stderr, "usage: relbot-bench-writes [BATCH [BATCHES]]\n");
        return 2;
    }
    auto dir = std::filesystem::temp_directory_path() /
               ("relbot-bench-writes-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
        checklist::template_library templates;
        std::vector<std::string> admins{"U0ADMIN"};
        storage::sqlite::store store((dir / "relbot.db").string());
        commands::shell shell(store, templates, admins);
        store.start_housekeeping();
        checklist::epoch_seconds now = 1795669235;
        shell.apply_command({"T1", "C1", "U0ADMIN", "start v1", now, "", "bench"}, "envelope:s");
        std::map<std::string, double> total;
        std::map<std::string, int> count;
        double committing = 0;
        auto started = std::chrono::steady_clock::now();
        for (int b = 0; b < batches; ++b) {
            auto tx = store.work().begin_without_savepoints(std::chrono::steady_clock::now() +
                                                            std::chrono::seconds(2));
            for (int i = 0; i < batch; ++i) {
                int k = b * batch + i;
                auto text = write_text(k);
                auto t = std::chrono::steady_clock::now();
                shell.apply_command({"T1", "C1", "U0ADMIN", text, now, "", "bench"},
                                    "envelope:e" + std::to_string(k));
                auto name = text.substr(0, text.find(' '));
                total[name] +=
                    std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t)
                        .count();
                ++count[name];
            }
            auto t = std::chrono::steady_clock::now();
            tx->commit();
            committing +=
                std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t)
                    .count();
        }
        auto all =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started)
                .count();
        for (const auto& [name, us] : total) {
            std::printf("%-8s %6.1f us\n", name.c_str(), us / count[name]);
        }
        std::printf("commit   %6.1f us per transaction\n", committing / batches);
        std::printf("all      %6.1f us per write, commits included (%d per transaction)\n",
                    all / (batches * batch), batch);
    }
    std::filesystem::remove_all(dir);
    return 0;
}
