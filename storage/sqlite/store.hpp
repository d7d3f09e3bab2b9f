// The SQLite engine: every port of storage/ports.hpp over one connection, with its cache of
// releases, statement cache and change accounting private to it. Nothing outside storage/
// includes this header directly (storage/store.hpp forwards it until callers use the ports).
// One store per process, used only from the event-loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "storage/open.hpp"
#include "storage/ports.hpp"
#include "storage/sqlite/checkpointer.hpp"

struct sqlite3;

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace relbot::storage::sqlite {

// Opens the database at `path` and migrates it. Throws (std::exception) if it cannot.
//
// relbot is the database's only writer in normal operation, and the store keeps releases as
// committed. A commit by another program (an operator's sqlite3) is noticed by every write
// transaction at its start, and by reads outside a transaction within `recheck_reads`
// (looking costs a read transaction, which a burst of reads need not pay every time).
// `final`: calls through a store& are direct, the ports cost nothing on the hot path.
class store final : public engine,
                    public release_repository,
                    public timeline,
                    public outbox_queue,
                    public applied_envelopes,
                    public directory,
                    public status_board,
                    public reminder_log,
                    public unit_of_work {
public:
    static constexpr std::chrono::milliseconds default_recheck_reads{50};
    // `migrate` false: a file that is not at this relbot's schema is refused, untouched
    // (open_database's older_schema::refuse).
    explicit store(const std::string& path,
                   std::chrono::milliseconds recheck_reads = default_recheck_reads,
                   bool migrate = true);
    ~store() override;
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    // A write transaction: takes the write lock at once (BEGIN IMMEDIATE), so a busy
    // database is found before anything is done, waiting for it until `give_up_at`. Inside
    // an open transaction, a savepoint instead. Rolls back on destruction unless committed.
    class transaction final : public write_transaction {
    public:
        // No deadline: default_lock_wait from now.
        explicit transaction(store& s, lock_deadline give_up_at = {});
        ~transaction() override;
        transaction(const transaction&) = delete;
        transaction& operator=(const transaction&) = delete;
        void commit() override;

    private:
        void end(bool committed);
        void end_savepoint(bool committed);

        store& store_;
        bool open_ = false;
        bool savepoint_ = false;
    };

    // --- engine ----------------------------------------------------------------------------
    release_repository& releases() override { return *this; }
    storage::timeline& audit() override { return *this; }
    outbox_queue& outbox() override { return *this; }
    applied_envelopes& applied() override { return *this; }
    directory& people() override { return *this; }
    status_board& status() override { return *this; }
    reminder_log& reminders() override { return *this; }
    unit_of_work& work() override { return *this; }
    // Turns SQLite's automatic checkpoint off for this connection and starts a checkpointer
    // (its own connection and thread) that does it instead.
    void start_housekeeping() override { start_housekeeping(std::chrono::seconds(1)); }
    // The same, checkpointing every `every`.
    void start_housekeeping(std::chrono::milliseconds every);
    // The running checkpointer, null before start_housekeeping (tests wait on it).
    const checkpointer* checkpoints() const { return checkpointer_.get(); }
    housekeeping_state housekeeping() const override;
    bool quiet_moment_wanted() const override;
    void on_quiet_work(std::function<void()> due) override { restart_.due = std::move(due); }
    void use_quiet_moment() override;
    // How many times use_quiet_moment has written its page (for the tests).
    long long log_restarts() const { return log_restarts_; }
    // One process per database file.
    bool shared() const override { return false; }
    std::optional<std::int64_t> clock_ms() override { return std::nullopt; }
    void on_lock_wait(std::function<void()> waiting) override { lock_wait_ = std::move(waiting); }
    // Stops the checkpointer, moves the whole log into the database file, empties it (a TRUNCATE
    // checkpoint) and closes the connection. When no other connection is open, SQLite then removes
    // the -wal and -shm files. Never throws: a checkpoint that cannot run is left to the next
    // start.
    void close() noexcept override;
    // SQLite's online backup of this file (backup_database).
    int backup(const std::string& destination) override;

    // --- unit of work ------------------------------------------------------------------------
    std::unique_ptr<write_transaction> begin() override;
    std::unique_ptr<write_transaction> begin_until(lock_deadline give_up_at) override;
    // No SAVEPOINT statements inside it: an input's pages are not copied into SQLite's
    // statement journal; its marks below are still kept (what it staged, what it counted).
    std::unique_ptr<write_transaction> begin_without_savepoints(lock_deadline give_up_at) override;
    // Also when SQLite itself rolled the transaction back (an I/O error, a full disk): the
    // statements after it would each have committed alone.
    bool spoiled() const override;
    // Counted with sqlite3_total_changes64, less the timeline rows and redelivery records.
    bool last_commit_changed_state() const override { return last_commit_changed_state_; }

    // --- applied envelopes ------------------------------------------------------------------
    std::optional<std::string> applied_reply(std::string_view key) override;
    bool record_applied(std::string_view key, std::string_view reply, epoch_seconds now) override;
    int forget_applied_before(epoch_seconds before) override;

    // --- releases and the timeline -----------------------------------------------------------
    std::optional<checklist::release> active_release(std::string_view channel) override;
    std::optional<checklist::release> latest_release(std::string_view channel) override;
    std::optional<checklist::release> release_by_version(std::string_view channel,
                                                         std::string_view version) override;
    std::optional<checklist::release> load_release(std::int64_t id) override;
    std::shared_ptr<const checklist::release> active_release_view(
        std::string_view channel) override;
    std::vector<release_summary> list_releases(std::string_view channel, int limit) override;
    std::vector<std::pair<std::string, std::int64_t>> releases_by_version(
        std::string_view version) override;
    long long count_active_releases() override;
    std::optional<std::pair<std::string, std::string>> deploying_elsewhere(
        std::string_view channel) override;
    std::vector<std::int64_t> active_release_ids() override;
    std::int64_t save(const checklist::release& r,
                      const checklist::change_log& log,
                      std::string_view actor,
                      epoch_seconds now) override;
    std::int64_t save(std::shared_ptr<const checklist::release> r,
                      const checklist::change_log& log,
                      std::string_view actor,
                      epoch_seconds now) override;
    void insert_release(checklist::release& r) override;
    // Ids are release_id << 32 plus the row's number within its release.
    std::int64_t append_audit(const audit_entry& e) override;
    std::vector<audit_entry> audit_for(std::int64_t release_id) override;

    // --- outbox -------------------------------------------------------------------------
    bool enqueue(const outbound_message& m, epoch_seconds now) override;
    // BEGIN IMMEDIATE: the write lock makes it atomic against other connections.
    std::vector<outbox_row> claim(epoch_seconds now,
                                  epoch_seconds lease,
                                  std::string_view owner,
                                  int limit) override;
    bool mark_sent(std::int64_t id,
                   std::string_view owner,
                   std::string_view ts,
                   epoch_seconds now) override;
    bool mark_failed(std::int64_t id, std::string_view owner, std::string_view error) override;
    bool defer(std::int64_t id,
               std::string_view owner,
               epoch_seconds not_before,
               std::string_view error) override;
    bool defer_unsure(std::int64_t id,
                      std::string_view owner,
                      epoch_seconds not_before,
                      std::string_view error) override;
    bool release(std::int64_t id, std::string_view owner) override;
    std::vector<std::int64_t> renew_claims(std::string_view owner,
                                           const std::vector<std::int64_t>& ids,
                                           epoch_seconds until) override;
    int abandon_claims(std::string_view owner_prefix) override;
    std::string sent_ts(std::string_view dedupe_key) override;
    std::optional<epoch_seconds> next_due(epoch_seconds now) override;
    long long count_outbox(outbox_state state) override;
    std::vector<outbox_row> announcement_backlog(int over) override;
    bool fold(std::int64_t into,
              std::string_view body,
              const std::vector<std::int64_t>& folded,
              epoch_seconds now) override;

    // --- reminders -----------------------------------------------------------------------
    std::vector<reminder_candidate> reminder_candidates() override;
    std::vector<std::int64_t> timed_releases() override;
    std::vector<std::int64_t> checkpoint_releases() override;
    void record_reminder(std::int64_t item_id,
                         epoch_seconds due_at,
                         std::int64_t slot,
                         epoch_seconds now) override;
    void mark_escalated(std::int64_t item_id, epoch_seconds now) override;
    std::map<std::int64_t, epoch_seconds> first_reminders(std::int64_t release_id) override;
    // One writer per file: a unit of work already lets one pass at a time.
    void serialize_ticks() override {}

    // --- people and channels ---------------------------------------------------------------
    std::vector<std::string> owners_needing_time_zone(epoch_seconds now,
                                                      epoch_seconds max_age) override;
    std::optional<int> time_zone_offset(std::string_view user) override;
    std::vector<std::string> people_needing_name(epoch_seconds now, epoch_seconds max_age) override;
    bool name_looked_up(std::string_view user, epoch_seconds now, epoch_seconds max_age) override;
    void remember_user(std::string_view user,
                       int offset_s,
                       std::string_view name,
                       epoch_seconds now) override;
    std::unordered_map<std::string, std::string> user_names() override;
    // A write only when the name is new or changed.
    void remember_channel_name(std::string_view channel, std::string_view name) override;
    std::string channel_name(std::string_view channel) override;
    std::optional<std::string> dm_channel(std::string_view user) override;
    void remember_dm_channel(std::string_view user, std::string_view channel) override;

    // --- the living status message -------------------------------------------------------
    std::vector<status_job> status_jobs() override;
    std::string status_ts(std::int64_t release_id) override;
    bool claim_status(std::int64_t release_id, std::int64_t seen, std::int64_t until_ms) override;
    void statuses_behind(std::int64_t except, int at_most) override;
    bool claim_home_view(std::string_view user,
                         std::string_view view_hash,
                         bool even_if_same,
                         std::int64_t now_ms) override;
    void home_opened(std::string_view user, std::int64_t now_ms) override;
    std::vector<std::pair<std::string, std::int64_t>> home_followers(
        std::int64_t since_ms) override;
    void status_sent(std::int64_t release_id,
                     std::string_view ts,
                     std::int64_t version,
                     std::int64_t now_ms) override;
    void status_lost(std::int64_t release_id,
                     const outbound_message& repost,
                     epoch_seconds now) override;

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
    // Binds defer's or defer_unsure's UPDATE and runs it: whether it gave the row back.
    bool give_back(SQLite::Statement& q,
                   std::int64_t id,
                   std::string_view owner,
                   epoch_seconds not_before,
                   std::string_view error);

    // The release, shared and read-only (what load_release copies).
    std::shared_ptr<const checklist::release> release_view(std::int64_t id);
    std::optional<checklist::release> read_release(std::int64_t id);
    // The staged, remembered or (then remembered) stored release; the caller has already
    // checked that the cache is current.
    std::shared_ptr<const checklist::release> remembered_or_read(std::int64_t id);
    // Remembers a release read or written in the open transaction (kept if it commits).
    void stage(const checklist::release& r, std::shared_ptr<const checklist::release> shared);
    // save's writes; `shared` (if given) is `r`, kept as it is when staged.
    std::int64_t save_release(const checklist::release& r,
                              std::shared_ptr<const checklist::release> shared,
                              const checklist::change_log& log,
                              std::string_view actor,
                              epoch_seconds now);
    // Reads the release's checkpoints into `r` (store_checkpoints.cpp).
    void read_checkpoints(checklist::release& r);
    // save's writes of the checkpoints the log names (inserted or updated).
    void save_checkpoints(const checklist::release& r, const checklist::change_log& log);
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

    std::string path_;
    std::unique_ptr<SQLite::Database> db_;
    log_restart restart_;                         // shared with the checkpointer: before it
    std::unique_ptr<checkpointer> checkpointer_;  // after db_: stopped first
    long long log_restarts_ = 0;
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

public:
    // How many releases are remembered between transactions (the tests: an ended release is
    // not).
    std::size_t remembered_releases() const { return releases_.size(); }
    // How many channels' names are known to be written (the tests: a rollback that wrote
    // nothing keeps them).
    std::size_t remembered_channel_names() const { return channel_names_.size(); }

private:
    // A remembered release is never changed in place: a change replaces the pointer.
    std::unordered_map<std::int64_t, std::shared_ptr<const checklist::release>> releases_;
    std::unordered_map<std::int64_t, std::shared_ptr<const checklist::release>> staged_;
    // Each channel's active release, and the channels whose releases the open transaction
    // wrote (when it commits, their entries become what it staged: see staged_active).
    std::unordered_map<std::string, std::int64_t> active_ids_;
    std::unordered_set<std::string> touched_channels_;
    // The release the open transaction has staged as `channel`'s active one (at most one
    // release of a channel is active, so a staged active release is the one), or null: then
    // only the database knows.
    std::shared_ptr<const checklist::release> staged_active(const std::string& channel) const;
    // The ids ever staged in each channel by the open transaction: where staged_active looks
    // (each checked against staged_, which savepoint rollbacks keep true, so this needs no
    // journal of its own).
    std::unordered_map<std::string, std::vector<std::int64_t>> staged_ids_by_channel_;
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

    // What saves a statement per command, each kept as this connection wrote or read it and
    // forgotten entirely when a savepoint rolls back, a transaction that wrote rolls back, or
    // another connection commits: each
    // release's last timeline id (append_audit numbers the next row without looking), and
    // each channel's name (remember_channel_name writes only a new name).
    std::unordered_map<std::int64_t, std::int64_t> last_audit_ids_;
    std::unordered_map<std::string, std::string> channel_names_;
    void forget_written();

    // The open savepoints, innermost last: what the transaction had counted when each began,
    // and how long the journals were. Inside a savepoint every change to staged_ and
    // touched_channels_ is journaled with what the entry was before, so that rolling the
    // savepoint back puts them back as they were.
    struct staged_undo {
        std::int64_t id = 0;
        std::shared_ptr<const checklist::release> before;  // null: there was no entry
    };
    struct savepoint_mark {
        std::int64_t changes_at = 0;
        std::int64_t timeline_rows_at = 0;
        std::size_t staged_undo_at = 0;
        std::size_t touched_undo_at = 0;
        std::size_t status_bumped_at = 0;
    };
    // The open transaction was begun by begin_without_savepoints (its inputs open no SAVEPOINT;
    // their marks are kept as ever); an input undone in it after it wrote spoiled it.
    bool without_savepoints_ = false;
    bool spoiled_ = false;
    std::vector<savepoint_mark> savepoints_;
    std::vector<staged_undo> staged_undo_;
    std::vector<std::string> touched_undo_;  // channels first touched inside a savepoint
    // Releases whose status_version the open transaction has raised: once is enough for the
    // notifier (a batch of writes to one release raises it once).
    std::vector<std::int64_t> status_bumped_;
    // staged_[id] = r and touched_channels_ += channel, journaled inside a savepoint.
    void stage_entry(std::int64_t id, std::shared_ptr<const checklist::release> r);
    void touch_channel(const std::string& channel);

    // SQLite's busy handler (sqlite3_busy_handler): waits for the write lock in short sleeps
    // until the deadline of the transaction being begun, or default_lock_wait from the first
    // busy answer for anything else.
    static int on_busy(void* self, int count);
    // SQLite's WAL hook: a commit of this connection wrote to the log (log_restart::commits).
    static int on_wal_commit(void* self, ::sqlite3* db, const char* schema, int frames);
    lock_deadline lock_deadline_{};  // while a transaction is being begun
    std::function<void()> lock_wait_;
    lock_deadline busy_since_{};
};

}  // namespace relbot::storage::sqlite
