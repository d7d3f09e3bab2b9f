// relbot-bench-soak's Slack: relbot-sim's server on a thread of its own, in the soak's process.
// The events the soak reacts to (acks, clicks and submissions sent, modals opened, hellos) are
// queued for it; the Web API calls are tallied as they come, so that the sandbox's own record
// of them can be trimmed and hours of traffic do not pile up.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sim/server.hpp"

namespace relbot::bench::soak {

using clock = std::chrono::steady_clock;

// What the sandbox reported that the soak reacts to.
struct sim_event {
    enum class kind { ack, click_sent, submit_sent, op_error, view_opened, hello };
    kind what = kind::ack;
    std::string id;          // the envelope (ack, click_sent, submit_sent, op_error)
    std::string user;        // view_opened
    std::string text;        // ack: the reply's text; view_opened: callback_id; op_error: the error
    bool errors = false;     // ack: response_action errors
    double latency_ms = -1;  // ack: write to ack, on the sandbox's side (-1: not known)
};

class soak_slack {
public:
    // Starts the server; writes its CA certificate to work_dir/sim-ca.pem. Throws if either
    // fails.
    explicit soak_slack(const std::string& work_dir);
    ~soak_slack();
    soak_slack(const soak_slack&) = delete;
    soak_slack& operator=(const soak_slack&) = delete;

    // The environment relbot needs to reach this sandbox (tokens, URL, CA, PATH).
    std::map<std::string, std::string> bot_environment() const;

    // Runs one control op on the server's thread.
    void send(nlohmann::json op);

    // Moves the events that arrived since the last call into `out`, first waiting until one
    // arrives or `until` passes.
    void take(std::vector<sim_event>& out, clock::time_point until);

    // Accepted chat.postMessage calls by the outbox key in their metadata.
    std::unordered_map<std::string, int> posted() const;
    long posts_ok() const;
    int posted_without_key() const;
    // Web API answers: "method ok" or "method <status> <error>" → how many.
    std::map<std::string, long> answers() const;
    // When the last Web API call arrived.
    clock::time_point last_call() const;
    // Whether a living status message was posted in `channel` at or after `since`.
    bool status_posted_since(const std::string& channel, clock::time_point since) const;

private:
    void on_event(const nlohmann::json& e);  // on the server's thread
    void on_call(const nlohmann::json& e);

    std::string ca_file_;
    boost::asio::io_context ioc_;
    std::unique_ptr<sim::server> server_;
    std::thread thread_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<sim_event> queue_;
    std::unordered_map<std::string, int> posted_;
    std::map<std::string, clock::time_point> status_posted_;
    std::map<std::string, long> answers_;
    long posts_ok_ = 0;
    int without_key_ = 0;
    clock::time_point last_call_{};
};

}  // namespace relbot::bench::soak
