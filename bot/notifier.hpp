// The notifier: delivers outbox rows through the Web API, in order per channel and at
// Slack's pace, and keeps each release's living status message up to date. Woken after every
// committed change; otherwise it sleeps until the next thing is due. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <random>
#include <set>

#include "bot/net.hpp"
#include "bot/web_api.hpp"
#include "storage/store.hpp"

namespace relbot::bot {

// Pacing and batching limits (the defaults are the product's).
struct notifier_timing {
    double channel_per_second = 1.0;  // chat.postMessage per channel (Slack: about 1/s)
    double channel_burst = 3.0;
    std::chrono::milliseconds status_fold{2000};  // at most one status update per release per 2 s
    int max_in_flight = 8;
};

class notifier {
public:
    using clock_fn = std::function<checklist::epoch_seconds()>;

    // `store` and `api` must outlive the notifier.
    notifier(storage::store& store, web_api& api, clock_fn now, notifier_timing timing = {});

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
    struct bucket {
        double tokens = 0;
        double capacity = 1;
        double per_second = 1;
        std::chrono::steady_clock::time_point last{};
        // Takes a token if there is one; otherwise says when there will be.
        bool take(std::chrono::steady_clock::time_point now,
                  std::chrono::steady_clock::time_point& ready_at);
    };

    net::awaitable<void> resolve_unfinished();
    net::awaitable<void> deliver(storage::outbox_row row);
    net::awaitable<void> update_status(storage::status_job job);
    net::awaitable<std::optional<std::string>> resolve_channel(checklist::destination to);
    net::awaitable<bool> already_posted(storage::outbox_row row, std::string channel);
    void report_failure(const storage::outbox_row& row, const std::string& error);
    // Appends a link (chat.getPermalink) to the release's status message, when there is one.
    net::awaitable<void> add_status_link(std::int64_t release_id, nlohmann::json& args);
    bucket& method_bucket(const std::string& method);

    storage::store& store_;
    web_api& api_;
    clock_fn now_;
    notifier_timing timing_;
    std::unique_ptr<net::steady_timer> timer_;
    std::map<std::string, bucket> channel_buckets_;
    std::map<std::string, bucket> method_buckets_;
    std::map<std::string, std::chrono::steady_clock::time_point> method_blocked_until_;
    std::set<std::string> busy_channels_;
    std::set<std::int64_t> busy_statuses_;
    int in_flight_ = 0;
    bool woken_ = false;
    bool stopping_ = false;
    counters stats_;
    std::minstd_rand rng_;
};

}  // namespace relbot::bot
