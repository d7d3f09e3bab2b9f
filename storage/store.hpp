// The store: every read and write relbot makes, in domain terms. Nothing outside storage/
// sees SQLite. One store per process, used only from the event-loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "checklist/outbound.hpp"
#include "checklist/records.hpp"
#include "checklist/release.hpp"
#include "checklist/rules.hpp"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace relbot::storage {

using checklist::epoch_seconds;

// The records the store reads for rendering live in checklist/records.hpp (they are the
// domain's, not the database's); these names keep storage's callers as they were.
using checklist::audit_entry;
using checklist::release_summary;
using checklist::reminder_candidate;

using checklist::outbound_message;

enum class outbox_state { pending, sending, sent, failed };

struct outbox_row {
    std::int64_t id = 0;
    std::string dedupe_key;
    std::optional<std::int64_t> release_id;
    checklist::destination to;
    std::string method;
    std::string body;
    outbox_state state = outbox_state::pending;
    int attempts = 0;
    epoch_seconds not_before = 0;
    epoch_seconds created_at = 0;
    std::string ts;  // Slack's message ts once sent
    std::string error;
    checklist::message_kind kind = checklist::message_kind::announcement;
};

// A release whose living status message is behind its state.
struct status_job {
    std::int64_t release_id = 0;
    std::string channel;
    std::string ts;  // empty: not posted (yet, or again)
    std::int64_t version = 0;
    std::int64_t updated_ms = 0;  // when it was last posted or updated
};

// Opens the database at `path` and migrates it. Throws (std::exception) if it cannot.
//
// relbot is the database's only writer in normal operation, and the store keeps releases as
// committed. A commit by another program (an operator's sqlite3) is noticed by every write
// transaction at its start, and by reads outside a transaction within `recheck_reads`
// (looking costs a read transaction, which a burst of reads need not pay every time).
class store {
public:
    static constexpr std::chrono::milliseconds default_recheck_reads{50};
    explicit store(const std::string& path,
                   std::chrono::milliseconds recheck_reads = default_recheck_reads);
    ~store();
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    // A write transaction: takes the write lock at once (BEGIN IMMEDIATE), so a busy
    // database is found before anything is done. Rolls back on destruction unless committed.
    class transaction {
    public:
        explicit transaction(store& s);
        ~transaction();
        transaction(const transaction&) = delete;
        transaction& operator=(const transaction&) = delete;
        void commit();

    private:
        void end(bool committed);

        store& store_;
        bool open_ = false;
    };

    // Whether the last committed transaction wrote anything besides the timeline (audit rows)
    // and the redelivery record: only such a commit can give the notifier or the scheduler
    // something to do (a message queued, a status message behind, an item, owner, due time
    // or phase changed). A note, for one, does not.
    bool last_commit_changed_state() const { return last_commit_changed_state_; }

    // Turns SQLite's automatic checkpoint off for this connection: a storage::checkpointer
    // does it on its own thread, so that no commit pays for it.
    void leave_checkpoints();

    // Moves the whole log into the database file, empties it (a TRUNCATE checkpoint) and closes
    // the connection. When no other connection is open, SQLite then removes the -wal and -shm
    // files. Nothing but the destructor may be called afterwards. Never throws: a checkpoint
    // that cannot run is left to the next start.
    void close() noexcept;

    // --- applied envelopes: what makes a redelivery harmless ----------------------------
    // The reply given when the envelope with this key was first applied, if it was.
    std::optional<std::string> applied_reply(std::string_view key);
    // Records that the envelope with this key was applied, with its reply. False (and nothing
    // written) if it was recorded before.
    bool record_applied(std::string_view key, std::string_view reply, epoch_seconds now);
    // Forgets envelopes applied before `before` (Slack redelivers within minutes, and events
    // missed while no socket was open within hours). Returns how many were removed.
    int forget_applied_before(epoch_seconds before);

    // --- releases -----------------------------------------------------------------------
    // The channel's active release with all phases and items, if there is one.
    std::optional<checklist::release> active_release(std::string_view channel);
    // The channel's most recent release (active or ended), if any.
    std::optional<checklist::release> latest_release(std::string_view channel);
    // The channel's most recent release of `version`, if any.
    std::optional<checklist::release> release_by_version(std::string_view channel,
                                                         std::string_view version);
    std::optional<checklist::release> load_release(std::int64_t id);
    // The same, shared and read-only: no copy (for readers that only look).
    std::shared_ptr<const checklist::release> active_release_view(std::string_view channel);
    std::shared_ptr<const checklist::release> release_view(std::int64_t id);
    // The channel's releases, newest first, at most `limit`.
    std::vector<release_summary> list_releases(std::string_view channel, int limit);
    // Every release of `version` in any channel, newest first: (channel, release id).
    std::vector<std::pair<std::string, std::int64_t>> releases_by_version(std::string_view version);
    // Counts for the operator's endpoint.
    long long count_outbox(outbox_state state);
    long long count_active_releases();
    // Saves what a transition changed: the release row, phases, items and one audit row per
    // event (by `actor`, at `now`). The caller holds the transaction. Returns the id of the
    // last audit row written (0 if none): a unique key for what the change announces.
    std::int64_t save(const checklist::release& r,
                      const checklist::change_log& log,
                      std::string_view actor,
                      epoch_seconds now);
    // Stores a new release with its phases and items and fills in the ids. Throws
    // duplicate_release if the channel already has an active release.
    void insert_release(checklist::release& r);
    // Returns the new row's id.
    std::int64_t append_audit(const audit_entry& e);
    std::vector<audit_entry> audit_for(std::int64_t release_id);

    // --- outbox -------------------------------------------------------------------------
    // Queues a message; false (and nothing written) if its dedupe key was queued before.
    bool enqueue(const outbound_message& m, epoch_seconds now);
    // Unsent rows whose time has come, oldest first.
    std::vector<outbox_row> due_outbox(epoch_seconds now, int limit);
    // The earliest not_before among unsent rows, if any.
    std::optional<epoch_seconds> next_outbox_due();
    void mark_sending(std::int64_t id);
    void mark_sent(std::int64_t id, std::string_view ts, epoch_seconds now);
    void mark_failed(std::int64_t id, std::string_view error);
    // Back to pending, not before `not_before`, with the error that caused the delay.
    void defer(std::int64_t id, epoch_seconds not_before, std::string_view error);
    std::vector<outbox_row> outbox_for_release(std::int64_t release_id);
    // The oldest unsent row of every channel: what may be sent next, in order per channel.
    std::vector<outbox_row> channel_heads();
    // Rows left `sending` (by a process that stopped before it knew the outcome).
    std::vector<outbox_row> rows_sending();

    // --- reminders -----------------------------------------------------------------------
    std::vector<reminder_candidate> reminder_candidates();
    // Active releases whose current phase has a window, or whose handoff awaits acceptance.
    std::vector<std::int64_t> timed_releases();
    void record_reminder(std::int64_t item_id,
                         epoch_seconds due_at,
                         std::int64_t slot,
                         epoch_seconds now);
    void mark_escalated(std::int64_t item_id, epoch_seconds now);

    // --- people's time zones ----------------------------------------------------------------
    // Owners of overdue items whose time zone is unknown or older than `max_age` seconds.
    std::vector<std::string> owners_needing_time_zone(epoch_seconds now, epoch_seconds max_age);
    std::optional<int> time_zone_offset(std::string_view user);
    void remember_time_zone(std::string_view user, int offset_s, epoch_seconds now);
    // The people of active releases (managers, on-call engineers, PMs, item owners) whose name
    // was never looked up, or not within `max_age` seconds.
    std::vector<std::string> people_needing_name(epoch_seconds now, epoch_seconds max_age);
    // Whether `user`'s name was looked up within `max_age` seconds.
    bool name_looked_up(std::string_view user, epoch_seconds now, epoch_seconds max_age);
    // What users.info said of `user`: time zone and display name ("" if it gave none).
    void remember_user(std::string_view user,
                       int offset_s,
                       std::string_view name,
                       epoch_seconds now);
    // Every known, non-empty display name by user ID.
    std::unordered_map<std::string, std::string> user_names();

    // --- channel names (from slash commands) -----------------------------------------------
    // Remembers the name Slack gave the channel (a write only when it is new or changed).
    void remember_channel_name(std::string_view channel, std::string_view name);
    // The channel's name without `#`, "" if unknown.
    std::string channel_name(std::string_view channel);

    // --- DM channels ---------------------------------------------------------------------
    std::optional<std::string> dm_channel(std::string_view user);
    void remember_dm_channel(std::string_view user, std::string_view channel);

    // --- the living status message -------------------------------------------------------
    std::vector<status_job> status_jobs();
    // The ts of the release's status message ("" if not posted).
    std::string status_ts(std::int64_t release_id);
    // The status message of `release_id` is at `ts` and shows `version`.
    void status_sent(std::int64_t release_id,
                     std::string_view ts,
                     std::int64_t version,
                     std::int64_t now_ms);
    // Slack lost the status message: queue it to be posted again (body: the post's arguments).
    void status_lost(std::int64_t release_id, const outbound_message& repost, epoch_seconds now);

private:
    // A statement from the cache, reset when the lease ends, so that no statement keeps a
    // read open between uses. Prepared once per SQL text and reused: parsing SQL cost more
    // than running it.
    class statement_lease {
    public:
        statement_lease(SQLite::Statement& q, bool& in_use);
        explicit statement_lease(std::unique_ptr<SQLite::Statement> own);
        ~statement_lease();
        statement_lease(const statement_lease&) = delete;
        statement_lease& operator=(const statement_lease&) = delete;
        SQLite::Statement& operator*() const { return *q_; }

    private:
        SQLite::Statement* q_;
        bool* in_use_ = nullptr;
        std::unique_ptr<SQLite::Statement> own_;  // when the cached one was already leased
    };
    // SQL as a string literal: its address is the cache key (no copy, no hashing of the
    // text), so only constants are accepted.
    struct sql_literal {
        consteval sql_literal(const char* s) : text(s) {}  // NOLINT: implicit by design
        const char* text;
    };
    statement_lease prepare(sql_literal sql);

    std::optional<checklist::release> read_release(std::int64_t id);
    // The staged, remembered or (then remembered) stored release; the caller has already
    // checked that the cache is current.
    std::shared_ptr<const checklist::release> remembered_or_read(std::int64_t id);
    // Remembers a release read or written in the open transaction (kept if it commits).
    void stage(const checklist::release& r);
    // Remembers a committed release.
    void remember(std::shared_ptr<const checklist::release> r);
    // For a read outside a transaction: forgets the remembered releases if another connection
    // has committed since (PRAGMA data_version, which begins a read), looking at most once
    // per recheck_reads_.
    void forget_if_changed_elsewhere();
    // The pager's count of commits to the file, by any connection (inside a transaction, it
    // includes every commit before it): what a write transaction looks at instead.
    std::uint32_t pager_data_version();
    void forget_remembered();

    std::unique_ptr<SQLite::Database> db_;
    struct cached_statement {
        std::unique_ptr<SQLite::Statement> statement;
        bool in_use = false;
    };
    std::unordered_map<const char*, cached_statement> statements_;

    // Releases as committed, so that a read does not go to SQLite every time. What a
    // transaction reads or saves is staged and kept only when it commits; every change to a
    // release, its phases or its items goes through save(), which stages the new state. A
    // commit by another connection (PRAGMA data_version) forgets everything. Bounded: cleared
    // when it reaches the limit.
    static constexpr std::size_t max_cached_releases = 256;
    // A remembered release is never changed in place: a change replaces the pointer.
    std::unordered_map<std::int64_t, std::shared_ptr<const checklist::release>> releases_;
    std::unordered_map<std::int64_t, std::shared_ptr<const checklist::release>> staged_;
    // Each channel's active release, and the channels whose releases the open transaction
    // wrote (their entries are dropped when it commits).
    std::unordered_map<std::string, std::int64_t> active_ids_;
    std::unordered_set<std::string> touched_channels_;
    bool in_transaction_ = false;
    std::int64_t data_version_ = -1;
    std::optional<std::uint32_t> pager_version_;  // after our last commit
    std::chrono::milliseconds recheck_reads_;
    std::chrono::steady_clock::time_point checked_at_{};
    // Rows written in the open transaction: SQLite's count at its start, and how many of them
    // were timeline rows and redelivery records (see last_commit_changed_state()).
    std::int64_t changes_at_begin_ = 0;
    std::int64_t timeline_rows_ = 0;
    bool last_commit_changed_state_ = true;
};

// Thrown when the database stays locked by another process past the busy timeout; nothing
// was changed and the caller may try again.
class busy_error : public std::exception {
public:
    const char* what() const noexcept override {
        return "the database is locked by another process";
    }
};

// Thrown by insert_release when the channel already has an active release.
class duplicate_release : public std::exception {
public:
    const char* what() const noexcept override {
        return "the channel already has an active release";
    }
};

}  // namespace relbot::storage
