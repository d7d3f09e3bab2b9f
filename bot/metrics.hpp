// What relbot counts, for GET /metrics in Prometheus' text format. One registry per process,
// counted into from the Socket Mode strand (envelopes, acks, reconnects) and the database
// thread (commands, Web API calls, reminders): every family takes a lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relbot::bot {

// A counter family with labels: {"method", "result"} → value.
class counter_family {
public:
    void add(const std::vector<std::string>& label_values, double by = 1);
    double value(const std::vector<std::string>& label_values) const;
    // A copy, taken under the lock.
    std::map<std::vector<std::string>, double> values() const;

private:
    mutable std::mutex mutex_;
    std::map<std::vector<std::string>, double> values_;
};

// A histogram with fixed buckets (upper bounds, in seconds).
class histogram {
public:
    explicit histogram(std::vector<double> bounds);
    void observe(double value);
    const std::vector<double>& bounds() const { return bounds_; }
    // What it has seen, copied under the lock.
    struct totals {
        std::vector<std::uint64_t> counts;  // per bucket, not cumulative
        std::uint64_t count = 0;
        double sum = 0;
    };
    totals seen() const;
    std::uint64_t count() const { return seen().count; }

private:
    mutable std::mutex mutex_;
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

// The buckets of the histograms of durations: 100 µs to Slack's 3 s.
inline std::vector<double> duration_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3};
}

struct metrics {
    counter_family envelopes;  // type
    counter_family acks;       // written: "true" | "false"
    histogram ack_seconds{duration_buckets()};
    counter_family commands;  // command, outcome (ok, refused, bad_input, busy, error)
    counter_family
        api_calls;  // method, result (ok, slack_error, rate_limited, server_error, network)
    counter_family rate_limit_waits;  // method
    counter_family reminders;         // kind (reminder, escalation)
    counter_family reconnects;        // reason
    // Envelopes applied in one transaction (group commit).
    histogram batch_envelopes{{1, 2, 4, 8, 16, 32, 64, 128, 256}};
    // Where an ack's time goes on the database strand, per batch: from reading its oldest
    // envelope to the strand taking the batch (the queue: a burst, the notifier's or the
    // scheduler's turn), then, for a batch that writes, its BEGIN (the wait for the write lock)
    // and its COMMIT (the disk; PostgreSQL's round trip), whether they succeed or fail.
    histogram batch_wait_seconds{duration_buckets()};
    histogram begin_seconds{duration_buckets()};
    histogram commit_seconds{duration_buckets()};
    // Envelopes the database did not take in time: acknowledged by the Socket Mode strand
    // ("try again"), with nothing changed.
    counter_family envelopes_late;  // type
    // A limit on what a peer can send that was hit (frame size, envelopes in flight, a modal's
    // size, the health endpoint's connections and headers, …): what was refused or cut.
    counter_family limits_hit;  // limit
    // Work several instances divide through the database: kind (outbox, status, home), result
    // (claimed; takeover: an outbox row another claimer left unfinished; lost: another claimer
    // had it first, or took it over after our lease ran out).
    counter_family claims;
    // Units of work refused because another connection held what they needed past their
    // deadline (busy): where (batch, command, click, submission).
    counter_family db_conflicts;
    // Signals from CI (bot/hooks): believed and applied, by action and outcome (done, refused,
    // not_found, repeated); refused before that, by reason (size, signature, age, body, path,
    // method), and replay (a repeated id: answered, not applied).
    counter_family signals;
    counter_family signal_refusals;
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
};

// The process's registry.
metrics& process_metrics();

// Gauges read when the page is rendered.
struct metrics_snapshot {
    int connections_open = 0;
    long long outbox_pending = 0;
    long long outbox_failed = 0;
    long long releases_active = 0;
    // SQLite's write-ahead log, as the last checkpoint found it (storage::checkpointer).
    long long wal_frames = 0;
    long long checkpoints_ok = 0;
    long long checkpoints_failed = 0;
    // A shared store's clock minus this host's (nullopt: the store has no clock of its own).
    std::optional<long long> clock_offset_ms;
};

// The whole /metrics page.
std::string render_prometheus(const metrics& m, const metrics_snapshot& now);

}  // namespace relbot::bot
