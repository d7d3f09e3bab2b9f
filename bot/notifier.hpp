// The notifier: delivers outbox rows through the Web API (a slack_api), in order per channel
// and at Slack's pace, and keeps each release's living status message up to date. Woken after
// every committed change; otherwise it sleeps (on its clock) until the next thing is due.
// Loop thread only.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <set>

#include "bot/clock.hpp"
#include "bot/net.hpp"
#include "bot/slack_port.hpp"
#include "storage/store.hpp"

namespace relbot::bot {

// Pacing and batching limits (the defaults are the product's).
struct notifier_timing {
    double channel_per_second = 1.0;  // chat.postMessage per channel (Slack: about 1/s)
    double channel_burst = 3.0;
    std::chrono::milliseconds status_fold{2000};  // at most one status update per release per 2 s
    int max_in_flight = 8;
    int max_open_attempts = 5;  // a DM whose conversations.open fails this often is given up
};

class notifier {
public:
    // `store`, `api` and `time` must outlive the notifier.
    notifier(storage::store& store, slack_api& api, clock& time, notifier_timing timing = {});

    // Delivers until stop(). Never throws for Slack or network trouble.
    net::awaitable<void> run();

    // New rows were committed (or a status message is behind): look again now.
    void wake();

    // Finish the calls in progress, then return from run().
    void stop();

    // Rows delivered, failed for good, and messages found already posted after a restart.
    struct counters {
        long sent = 0;
        long failed = 0;
        long recovered = 0;
    };
    const counters& stats() const { return stats_; }

private:
    // A token bucket: `capacity` tokens at most, refilled at `per_second`.
    struct bucket {
        double tokens = 0;
        double capacity = 1;
        double per_second = 1;
        steady_time last{};
        // Takes a token if there is one; otherwise says when there will be.
        bool take(steady_time now, steady_time& ready_at);
        // Returns a token taken for a call that then did not go.
        void give_back();
    };

    // --- the loop (notifier.cpp) ---------------------------------------------------------
    // Starts every delivery and status update that may go now; returns when to look again.
    steady_time start_due(const net::any_io_executor& ex);
    void start_heads(const net::any_io_executor& ex, steady_time now, steady_time& next);
    void start_status_jobs(const net::any_io_executor& ex, steady_time now, steady_time& next);
    // Whether a call may go now: its method not held by a 429, a token of the row's channel
    // and one of the method (each taken). Otherwise each brings `next` forward to when it may.
    bool method_unblocked(const std::string& method, steady_time now, steady_time& next);
    bool take_token(bucket& b, steady_time now, steady_time& next);
    // The row's channel's bucket; nullptr for methods other than chat.postMessage.
    bucket* channel_bucket(const storage::outbox_row& row);
    bucket& method_bucket(const std::string& method);
    // A delivery or status update ended (with `e` if it threw).
    void finished(std::exception_ptr e, const char* event);

    // --- one row (notifier.cpp) ------------------------------------------------------------
    net::awaitable<void> deliver(storage::outbox_row row);
    // Fills in the channel and what a post carries besides the stored body.
    net::awaitable<void> complete_args(const storage::outbox_row& row,
                                       const std::string& channel,
                                       nlohmann::json& args);
    net::awaitable<api_result> send(const storage::outbox_row& row, nlohmann::json args);
    void record_sent(const storage::outbox_row& row,
                     const std::string& channel,
                     const api_result& result);
    void record_failure(const storage::outbox_row& row,
                        const std::string& shown_channel,
                        const api_result& result);
    void give_up(const storage::outbox_row& row,
                 const std::string& shown_channel,
                 const std::string& error);
    void open_failed(const storage::outbox_row& row);
    void report_failure(const storage::outbox_row& row, const std::string& error);

    // --- channels, recovery and the status message (notifier_status.cpp) -------------------
    net::awaitable<void> resolve_unfinished();
    net::awaitable<std::optional<std::string>> resolve_channel(checklist::destination to);
    net::awaitable<bool> already_posted(storage::outbox_row row, std::string channel);
    net::awaitable<void> update_status(storage::status_job job);
    // Appends a link (chat.getPermalink) to the release's status message, when there is one.
    net::awaitable<void> add_status_link(std::int64_t release_id, nlohmann::json& args);
    // Replaces a status post's text and blocks with the release as it is now.
    void render_status_post(std::int64_t release_id, nlohmann::json& args);

    storage::store& store_;
    slack_api& api_;
    clock& clock_;
    notifier_timing timing_;
    std::unique_ptr<alarm> alarm_;
    std::map<std::string, bucket> channel_buckets_;
    std::map<std::string, bucket> method_buckets_;
    std::map<std::string, steady_time> method_blocked_until_;
    std::set<std::string> busy_channels_;
    std::set<std::int64_t> busy_statuses_;
    // conversations.open failures of a row in this process (see open_failed).
    std::map<std::int64_t, int> open_failures_;
    int in_flight_ = 0;
    bool woken_ = false;
    bool stopping_ = false;
    counters stats_;
    std::minstd_rand rng_;
};

}  // namespace relbot::bot
