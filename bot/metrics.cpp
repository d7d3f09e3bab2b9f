#include "bot/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace relbot::bot {

void counter_family::add(const std::vector<std::string>& label_values, double by) {
    std::lock_guard lock(mutex_);
    values_[label_values] += by;
}

double counter_family::value(const std::vector<std::string>& label_values) const {
    std::lock_guard lock(mutex_);
    auto it = values_.find(label_values);
    return it == values_.end() ? 0 : it->second;
}

std::map<std::vector<std::string>, double> counter_family::values() const {
    std::lock_guard lock(mutex_);
    return values_;
}

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void histogram::observe(double value) {
    std::lock_guard lock(mutex_);
    auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
    ++counts_[static_cast<std::size_t>(at)];
    ++count_;
    sum_ += value;
}

histogram::totals histogram::seen() const {
    std::lock_guard lock(mutex_);
    return {counts_, count_, sum_};
}

metrics& process_metrics() {
    static metrics m;
    return m;
}

namespace {

// A label value as Prometheus quotes it: backslash, double quote and newline escaped.
std::string label_value(std::string_view v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

class page {
public:
    void header(std::string_view name, std::string_view type, std::string_view help) {
        text_ += "# HELP ";
        text_ += name;
        text_ += ' ';
        text_ += help;
        text_ += "\n# TYPE ";
        text_ += name;
        text_ += ' ';
        text_ += type;
        text_ += '\n';
    }

    void sample(std::string_view name,
                const std::vector<std::string>& label_names,
                const std::vector<std::string>& label_values,
                double value) {
        text_ += name;
        if (!label_names.empty()) {
            text_ += '{';
            for (std::size_t i = 0; i < label_names.size(); ++i) {
                text_ += (i ? "," : "") + label_names[i] + "=" +
                         label_value(i < label_values.size() ? label_values[i] : "");
            }
            text_ += '}';
        }
        text_ += ' ' + number(value) + '\n';
    }

    void counter(std::string_view name,
                 std::string_view help,
                 const std::vector<std::string>& label_names,
                 const counter_family& family) {
        header(name, "counter", help);
        for (const auto& [labels, value] : family.values()) {
            sample(name, label_names, labels, value);
        }
    }

    void histogram_of(std::string_view name, std::string_view help, const histogram& h) {
        header(name, "histogram", help);
        auto bucket = std::string(name) + "_bucket";
        auto seen = h.seen();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < h.bounds().size(); ++i) {
            cumulative += seen.counts[i];
            sample(bucket, {"le"}, {number(h.bounds()[i])}, static_cast<double>(cumulative));
        }
        sample(bucket, {"le"}, {"+Inf"}, static_cast<double>(seen.count));
        sample(std::string(name) + "_sum", {}, {}, seen.sum);
        sample(std::string(name) + "_count", {}, {}, static_cast<double>(seen.count));
    }

    void gauge(std::string_view name, std::string_view help, double value) {
        header(name, "gauge", help);
        sample(name, {}, {}, value);
    }

    std::string text_;
};

void add_socket_mode(page& p, const metrics& m) {
    p.counter("relbot_envelopes_received_total", "Socket Mode envelopes received, by type.",
              {"type"}, m.envelopes);
    p.counter("relbot_acks_total",
              "Envelope acknowledgements: written, or not (the socket failed or closed first).",
              {"written"}, m.acks);
    p.histogram_of("relbot_ack_duration_seconds",
                   "From reading an envelope to writing its acknowledgement.", m.ack_seconds);
    p.histogram_of("relbot_batch_envelopes",
                   "Envelopes applied together in one transaction (group commit).",
                   m.batch_envelopes);
    p.histogram_of("relbot_batch_wait_seconds",
                   "From reading the oldest envelope of a batch to the database strand taking "
                   "the batch.",
                   m.batch_wait_seconds);
    p.histogram_of("relbot_db_begin_seconds",
                   "How long each writing batch took to begin, its wait for the write lock "
                   "included.",
                   m.begin_seconds);
    p.histogram_of("relbot_db_commit_seconds",
                   "How long each writing batch's commit took (whether it succeeded or not).",
                   m.commit_seconds);
    p.counter("relbot_envelopes_late_total",
              "Envelopes the database did not take within 2.5 s, acknowledged with \"try "
              "again\" and not applied, by type.",
              {"type"}, m.envelopes_late);
    p.counter("relbot_limits_hit_total",
              "Inputs refused or cut because they passed a limit, by limit (see the README's "
              "Limits table).",
              {"limit"}, m.limits_hit);
}

void add_activity(page& p, const metrics& m) {
    p.counter("relbot_commands_total",
              "/release commands, by subcommand and outcome (ok, refused, bad_input, busy, error).",
              {"command", "outcome"}, m.commands);
    p.counter("relbot_api_calls_total",
              "Slack Web API calls, by method and result (ok, slack_error, rate_limited, "
              "server_error, network).",
              {"method", "result"}, m.api_calls);
    p.counter("relbot_rate_limit_waits_total",
              "Times a Web API method was held back by HTTP 429 (Retry-After).", {"method"},
              m.rate_limit_waits);
    p.counter("relbot_reminders_sent_total",
              "Reminders queued for item owners, and escalations to release managers.", {"kind"},
              m.reminders);
    p.counter("relbot_reconnects_total", "Socket Mode reconnections, by reason.", {"reason"},
              m.reconnects);
    p.counter("relbot_claims_total",
              "Work claimed through the database, by kind (outbox, status, home: an App Home view) "
              "and result (claimed; "
              "takeover: a message another instance or run left unfinished; lost: another "
              "claimer had it first or took it over).",
              {"kind", "result"}, m.claims);
    p.counter("relbot_db_conflicts_total",
              "Units of work refused because another connection held what they needed past "
              "their deadline (answered \"try again\"), by where.",
              {"where"}, m.db_conflicts);
    p.counter("relbot_signals_total",
              "Signals from CI and deploy tools that were believed (signed, on time, well formed), "
              "by action and outcome (done, refused, not_found, repeated, busy, unknown).",
              {"action", "outcome"}, m.signals);
    p.counter("relbot_signal_refusals_total",
              "Requests to the signal endpoint refused before anything was applied, by reason "
              "(size, signature, age, body, path, method; replay: an id seen before, answered "
              "with its first answer).",
              {"reason"}, m.signal_refusals);
}

void add_gauges(page& p, const metrics& m, const metrics_snapshot& now) {
    p.gauge("relbot_connections_open", "Socket Mode connections that have said hello.",
            now.connections_open);
    p.gauge("relbot_outbox_pending", "Messages decided but not yet delivered to Slack.",
            static_cast<double>(now.outbox_pending));
    p.gauge("relbot_outbox_failed",
            "Messages Slack refused for good (the release manager was told by DM).",
            static_cast<double>(now.outbox_failed));
    p.gauge("relbot_releases_active", "Releases in progress.",
            static_cast<double>(now.releases_active));
    p.gauge("relbot_db_wal_frames",
            "Pages in SQLite's write-ahead log at the last checkpoint. It falls back once a "
            "checkpoint has moved the whole log into the database; a value that only grows "
            "means checkpoints cannot finish.",
            static_cast<double>(now.wal_frames));
    p.header("relbot_db_checkpoints_total", "counter",
             "Checkpoints of the write-ahead log, by result (failed ones are tried again).");
    p.sample("relbot_db_checkpoints_total", {"result"}, {"ok"},
             static_cast<double>(now.checkpoints_ok));
    p.sample("relbot_db_checkpoints_total", {"result"}, {"failed"},
             static_cast<double>(now.checkpoints_failed));
    if (now.clock_offset_ms) {
        p.gauge("relbot_clock_offset_seconds",
                "The shared database's clock minus this host's; relbot keeps the database's "
                "time.",
                static_cast<double>(*now.clock_offset_ms) / 1000.0);
    }
    p.gauge("relbot_process_start_time_seconds", "Start time of the process, Unix seconds.",
            static_cast<double>(
                std::chrono::duration_cast<std::chrono::seconds>(m.started.time_since_epoch())
                    .count()));
}

}  // namespace

std::string render_prometheus(const metrics& m, const metrics_snapshot& now) {
    page p;
    add_socket_mode(p, m);
    add_activity(p, m);
    add_gauges(p, m, now);
    return std::move(p.text_);
}

}  // namespace relbot::bot
