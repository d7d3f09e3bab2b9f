// The benchmarks' harness: relbot-sim's server in this process (playing Slack, timing every
// ack on its own side), child processes whose output goes to a file, /proc memory figures,
// and the arithmetic of percentiles and medians. Benchmarks print figures; they assert nothing.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "sim/server.hpp"

namespace relbot::bench {

using clock = std::chrono::steady_clock;

// A child process with stdout and stderr appended to `log_path`.
class child {
public:
    child(const std::vector<std::string>& argv,
          const std::map<std::string, std::string>& env,
          const std::string& log_path);
    ~child();  // SIGKILL if still running
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    pid_t pid() const { return pid_; }
    clock::time_point started() const { return started_; }
    // SIGTERM, then waits up to `within` for the exit; SIGKILL after that. The exit status.
    int stop(std::chrono::milliseconds within = std::chrono::seconds(10));
    // The exit status (128 + signal) if the process has ended, which reaps it; else nullopt.
    // Does not wait.
    std::optional<int> poll();

private:
    pid_t pid_ = -1;
    clock::time_point started_;
};

// VmRSS and VmHWM of a process, in KiB (0 if unreadable).
struct memory_kib {
    long rss = 0;
    long hwm = 0;
    long threads = 0;  // not memory, but read from the same /proc/PID/status
};
memory_kib memory_of(pid_t pid);

// One stream or burst: what the sandbox saw.
struct run_figures {
    std::vector<double> latency_us;  // one per ack, in the order the acks arrived
    clock::time_point first_sent{};
    clock::time_point last_ack{};
    double acks_per_second() const;
};

// Frames to send: (envelope id, frame text).
using frame_list = std::vector<std::pair<std::string, std::string>>;

// relbot-sim's server on its own thread, with the ack observer installed.
class slack {
public:
    explicit slack(const std::string& work_dir);
    ~slack();

    const std::string& ca_file() const { return ca_file_; }
    std::string api_url() const { return server_->api_url(); }
    std::string base_url() const { return server_->base_url(); }

    // The environment a bot needs to reach this sandbox (tokens, URL, CA).
    std::map<std::string, std::string> bot_environment() const;

    // Number of `hello`s the sandbox has written so far, and the connection of the last.
    int hellos() const;
    int last_hello_connection() const;
    // Waits until more than `seen` hellos were written; the time of the newest one.
    std::optional<clock::time_point> wait_hello(int seen, std::chrono::milliseconds within);
    // Waits until no Web API call has arrived for `quiet` (at most `within`).
    void wait_api_quiet(std::chrono::milliseconds quiet, std::chrono::milliseconds within);

    // Sends `frames` at `per_second` (0: all at once, a burst) on `connection` (the newest if
    // not given) and waits for every ack. nullopt if they did not all arrive in time.
    std::optional<run_figures> play(const frame_list& frames,
                                    double per_second,
                                    std::chrono::milliseconds within,
                                    std::optional<int> connection = std::nullopt);

    // A burst spread over several connections: frames[i] on connections[i % size], all at
    // once; waits for every ack. nullopt if they did not all arrive in time.
    std::optional<run_figures> play_spread(const frame_list& frames,
                                           const std::vector<int>& connections,
                                           std::chrono::milliseconds within);

    // Two streams at once, each at `per_second`, taking turns: a[0] on connection_a, half a
    // period later b[0] on connection_b, then a[1]… Both see the same machine at the same
    // moment, so their ratio does not move with the machine's load; neither waits for the
    // other (at these rates one has long finished when the other's turn comes).
    std::optional<std::pair<run_figures, run_figures>> play_alternating(
        const frame_list& a,
        int connection_a,
        const frame_list& b,
        int connection_b,
        double per_second,
        std::chrono::milliseconds within);

private:
    void on_event(const nlohmann::json& event);
    void on_ack(std::string_view envelope_id, clock::time_point sent, clock::time_point acked);
    // Starts counting `count` acks, those of the envelopes in `second` apart from the rest.
    void expect(std::size_t count, std::unordered_set<std::string> second);
    bool wait_acks(std::chrono::milliseconds within);

    std::string ca_file_;
    boost::asio::io_context ioc_;
    std::unique_ptr<sim::server> server_;
    std::thread thread_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    int hellos_ = 0;
    int last_hello_connection_ = -1;
    clock::time_point last_hello_{};
    clock::time_point last_api_call_{};
    run_figures current_[2];                  // [0]: the stream, or the first of two
    std::unordered_set<std::string> second_;  // the envelope ids of the second stream
    std::size_t acked_ = 0;
    std::size_t expected_ = 0;
};

// Builds the frame of a `/release <text>` slash command with the given envelope ID.
std::pair<std::string, std::string> slash_frame(const slack& s,
                                                const std::string& envelope_id,
                                                const std::string& text,
                                                const std::string& channel,
                                                const std::string& user);

// The q-quantile (0..1) by the nearest-rank method; 0 for an empty sample.
double quantile(std::vector<double> sample, double q);
double median(std::vector<double> sample);

// "12.3" with the given number of decimals.
std::string fixed(double value, int decimals);

// `--name value` options: what to do with each name's value. Throws std::invalid_argument
// (with a message for the user) for an unknown option or a missing or malformed value.
using option_setters = std::map<std::string, std::function<void(const std::string& value)>>;
void read_options(int argc, char** argv, const option_setters& setters);

// `parse(argc, argv)`, or nullopt after printing "PROGRAM: <what went wrong>" and the usage
// line to stderr (the caller exits 2).
template <typename Parse>
auto parse_or_usage(const char* program, const char* usage, Parse parse, int argc, char** argv)
    -> std::optional<decltype(parse(argc, argv))> {
    try {
        return parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\nusage: %s\n", program, e.what(), usage);
        return std::nullopt;
    }
}

// The folder of this executable: relbot and the floor client are built next to it.
std::string executable_dir();

}  // namespace relbot::bench
