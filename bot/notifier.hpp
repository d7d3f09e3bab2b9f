// The notifier: claims outbox rows (storage::outbox_queue::claim, under a lease) and delivers
// them through the Web API (a slack_api), in order per channel and at Slack's pace, and keeps
// each release's living status message up to date. Woken after every committed change;
// otherwise it sleeps (on its clock) until the next thing is due. Loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "bot/burst.hpp"
#include "bot/clock.hpp"
#include "bot/net.hpp"
#include "bot/slack_port.hpp"
#include "commands/render/files.hpp"
#include "commands/render/status.hpp"
#include "storage/open.hpp"
#include "storage/ports.hpp"

namespace relbot::bot {

// Pacing and batching limits (the defaults are the product's).
struct notifier_timing {
    double channel_per_second = 1.0;  // chat.postMessage per channel (Slack: about 1/s)
    double channel_burst = 3.0;
    std::chrono::milliseconds status_fold{2000};  // at most one status update per release per 2 s
    int max_in_flight = 8;
    int max_open_attempts = 5;  // a DM whose conversations.open fails this often is given up
    // How long a claimed row is ours. One delivery is at most three Web API calls
    // (conversations.open, chat.getPermalink, the call itself), each bounded by its 15 s HTTP
    // timeout and tried at most twice on a stale pooled connection: 90 s at worst. Two
    // minutes outlive that; a row that waits on pacing is given back (release) once half its
    // lease is gone, so a wait never outlives the lease either.
    std::chrono::seconds lease{120};
    // Set when other instances share the store (storage::engine::shared): leases are then
    // short (shared_lease) and renewed this often while rows are held or in flight, so that
    // another instance takes over a dead one's rows within seconds; and a run does not end
    // the leases of earlier runs "of this instance" at start (instances on one host would
    // end each other's).
    std::optional<std::chrono::seconds> renew_every{};
    // How long an update of a release's status message is this run's (claim_status): one
    // chat.update, at most two tries of 15 s.
    std::chrono::seconds status_lease{35};
    int max_claimed = 32;  // rows held (waiting for their pace) or in flight, at most
    // The timing for a store several instances share: a dead instance's rows are taken over
    // within lease + one look (the app looks every second): 5 s.
    static notifier_timing shared_store() {
        notifier_timing t;
        t.lease = std::chrono::seconds(4);
        t.renew_every = std::chrono::seconds(1);
        return t;
    }
    // Announcements a channel may have waiting untried (Slack is refusing or slow) before the
    // oldest are folded into one message; looked at every `fold_every`.
    int max_queued_per_channel = 20;
    std::chrono::seconds fold_every{5};
};

// The storage ports the notifier uses; each must outlive it.
struct notifier_ports {
    storage::outbox_queue& outbox;
    storage::status_board& status;
    storage::directory& people;
    storage::release_repository& releases;
    storage::unit_of_work& work;
    static notifier_ports of(storage::engine& e);
};

// Who claims outbox rows. `instance` names this bot on this host and stays the same across
// restarts: a run ends the leases its instance's earlier runs left (they stopped without ending
// them). `owner` adds this run, so that a run never acts on a row another run holds now.
struct claimer {
    std::string instance;  // "relbot@<host>/"
    std::string owner;     // instance + "<pid>-<random>"
    // From the host name, the process id and a random number. Never throws for a missing host
    // name ("localhost" then).
    static claimer this_process();
};

class notifier {
public:
    // `api` and `time` must outlive the notifier.
    notifier(notifier_ports ports,
             slack_api& api,
             clock& time,
             notifier_timing timing = {},
             claimer who = claimer::this_process());

    // Delivers until stop(). Never throws for Slack or network trouble.
    net::awaitable<void> run();

    // New rows were committed (or a status message is behind): look again now.
    void wake();

    // What the living status message shows besides the release (a freeze, another release
    // deploying); unset: nothing.
    using status_outlook = std::function<commands::deployment_outlook(const checklist::release&)>;
    void show_outlook(status_outlook outlook) { outlook_ = std::move(outlook); }

    // What makes the file a file row names (commands::shell::make_file); unset: file rows fail.
    using file_maker =
        std::function<std::optional<commands::upload_file>(const storage::outbox_row&)>;
    void make_files_with(file_maker maker) { make_file_ = std::move(maker); }

    // Whether a burst of envelopes is on (bot/burst.hpp): while it is, the notifier starts no
    // message and no status update, and looks again every `hold_look` (or on wake()), for at
    // most burst_hold::default_hold at a time. Asked on the notifier's executor at each look;
    // must not block. Unset: never held.
    using busy_test = std::function<bool()>;
    static constexpr std::chrono::milliseconds hold_look{10};
    void hold_while(busy_test busy) { busy_ = std::move(busy); }

    // Finish the calls in progress, then return from run().
    void stop();

    // Rows delivered, failed for good, and messages found already posted (claimed unfinished).
    struct counters {
        long sent = 0;
        long failed = 0;
        long recovered = 0;
    };
    const counters& stats() const { return stats_; }
    // Who this notifier claims as.
    const claimer& who() const { return who_; }

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
    // Claims what is due (into held_), giving back rows held past half their lease.
    void claim_rows(checklist::epoch_seconds now_s);
    // Folds the oldest waiting announcements of each channel over max_queued_per_channel into
    // one message, so that a channel is never owed more than that many posts.
    void fold_backlogs(checklist::epoch_seconds now_s);
    // Starts the held rows that may go now, oldest first: an unfinished one is recovered, any
    // other delivered when its channel and method allow.
    void start_held(const net::any_io_executor& ex, steady_time now, steady_time& next);
    bool may_go(const storage::outbox_row& row, steady_time now, steady_time& next);
    // Extends the leases of the rows held and in flight (renew_every), when it is time to.
    void renew_leases(steady_time now, checklist::epoch_seconds now_s, steady_time& next);
    // Gives every held row back (at stop, so that the next run does not take them as unfinished).
    void release_held();
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
    // A row claimed unfinished: looked for in the channel's history first; if not found there,
    // held again to be delivered like any other.
    net::awaitable<void> recover(storage::outbox_row row);
    // Which of `copies` (outbox keys of messages relbot posted) was sent as the message the
    // edit in `args` is for (its "ts"); nullopt if none.
    std::optional<std::string> find_edited_copy(const nlohmann::json& args,
                                                const nlohmann::json& copies);
    // Fills in the channel and what a post carries besides the stored body.
    net::awaitable<void> complete_args(const storage::outbox_row& row,
                                       const std::string& channel,
                                       nlohmann::json& args);
    net::awaitable<api_result> send(const storage::outbox_row& row, nlohmann::json args);
    void record_sent(const storage::outbox_row& row,
                     const std::string& channel,
                     const api_result& result);
    // A posted living status message (row of kind status, `ts` not empty): the release's
    // status message is `ts` from now on, and it is pinned (a pins.add row). In the caller's
    // unit of work; nothing for other rows.
    void record_status_posted(const storage::outbox_row& row,
                              const std::string& channel,
                              const std::string& ts,
                              checklist::epoch_seconds now);
    void record_failure(const storage::outbox_row& row,
                        const std::string& shown_channel,
                        const api_result& result);
    void give_up(const storage::outbox_row& row,
                 const std::string& shown_channel,
                 const std::string& error);
    void open_failed(const storage::outbox_row& row);
    void report_failure(const storage::outbox_row& row, const std::string& error);
    // The row's lease was lost before `step` (another claimer holds it now): logged only.
    void lease_lost(const storage::outbox_row& row, const char* step);

    // --- channels, recovery and the status message (notifier_status.cpp) -------------------
    net::awaitable<std::optional<std::string>> resolve_channel(checklist::destination to);
    // Whether a row claimed unfinished was delivered already, as Slack's history says: found
    // (recorded as sent then), not there, or cannot tell now (the history could not be read;
    // `retry_after` is what Slack asked for, if anything).
    struct lookup {
        enum { found, absent, cannot_tell } answer = absent;
        std::chrono::seconds retry_after{0};
    };
    net::awaitable<lookup> already_posted(storage::outbox_row row, std::string channel);
    // A lookup through `method` that failed with `r`: cannot tell (a passing trouble; a 429
    // blocks the method for its Retry-After) or absent (Slack refuses the question for good).
    lookup lookup_failed(const api_result& r, const std::string& method);
    // A lookup that cannot tell is tried again after 5 s, 10 s, 20 s … (at most 5 minutes, or
    // Slack's Retry-After), this many times in this run; then the row is sent (twice is the
    // lesser harm than never): about a quarter of an hour of Slack trouble.
    static constexpr int max_unsure_lookups = 8;
    std::map<std::int64_t, int> unsure_lookups_;  // by row id, this run
    net::awaitable<void> update_status(storage::status_job job);
    // Appends a link (chat.getPermalink) to the release's status message, when there is one.
    net::awaitable<void> add_status_link(std::int64_t release_id, nlohmann::json& args);
    // Replaces a status post's text and blocks with the release as it is now.
    void render_status_post(std::int64_t release_id, nlohmann::json& args);

    // --- files (notifier_files.cpp) ----------------------------------------------------------
    // A file row (method files.completeUploadExternal): the file made now from the release
    // and its timeline, then files.getUploadURLExternal, the bytes to its upload_url, and
    // files.completeUploadExternal into `args["channel"]`. The first call that fails answers.
    net::awaitable<api_result> upload(const storage::outbox_row& row, nlohmann::json args);
    // Whether the file of a row claimed unfinished is in the channel already (files.list since
    // the row was made, a title holding its key); recorded as sent then.
    net::awaitable<lookup> already_uploaded(storage::outbox_row row, std::string channel);

    notifier_ports ports_;
    claimer who_;
    slack_api& api_;
    clock& clock_;
    status_outlook outlook_;
    file_maker make_file_;
    busy_test busy_;
    burst_hold hold_;
    notifier_timing timing_;
    std::unique_ptr<alarm> alarm_;
    std::map<std::string, bucket> channel_buckets_;
    std::map<std::string, bucket> method_buckets_;
    std::map<std::string, steady_time> method_blocked_until_;
    std::set<std::string> busy_channels_;
    std::set<std::int64_t> rows_in_flight_;  // by outbox id
    std::set<std::int64_t> busy_statuses_;
    // Rows claimed and not yet started, by id (so oldest first).
    std::map<std::int64_t, storage::outbox_row> held_;
    int in_flight_ = 0;
    steady_time next_fold_{};    // when fold_backlogs next looks
    bool read_failing_ = false;  // the last look at the outbox failed (logged once it works)
    steady_time next_renew_{};   // when renew_leases next extends
    bool woken_ = false;
    bool stopping_ = false;
    counters stats_;
    std::minstd_rand rng_;
};

}  // namespace relbot::bot
