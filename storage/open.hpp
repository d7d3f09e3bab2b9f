// The one way to build a storage engine from the configuration, and what the running bot
// may ask of the engine as a whole (its ports, checkpoints, closing, a backup). Names no
// engine: the SQLite implementation lives in storage/sqlite/.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "storage/ports.hpp"

namespace relbot::storage {

struct storage_options {
    // The SQLite database file (created and migrated if needed).
    std::string path;
    // A PostgreSQL connection URL (or key=value string); when set, `path` is ignored and the
    // PostgreSQL engine is used (the schema created and migrated if needed).
    std::string database_url{};
    // How stale a read outside a unit of work may be about another program's commit (the
    // engine keeps releases as committed; looking costs a read transaction).
    std::chrono::milliseconds recheck_reads{50};
    // Whether opening may create the store or bring its schema up to this relbot's. False for
    // a tool that only reads (`relbot export`): a store that does not exist, holds no relbot
    // schema or an older one is refused with a message that says so, and nothing is changed.
    bool migrate = true;
};

// The store the options name, for logs and messages: the SQLite path, or "PostgreSQL
// user@host:port/database" (never a password).
std::string describe_database(const storage_options& options);
// What is wrong with a PostgreSQL connection URL as libpq reads it (never quoting the value);
// nullopt when it reads. For the configuration's check before anything connects.
std::optional<std::string> database_url_problem(const std::string& url);

// One engine: every port over one connection. Used from one thread.
class engine {
public:
    virtual ~engine() = default;

    virtual release_repository& releases() = 0;
    virtual timeline& audit() = 0;
    virtual outbox_queue& outbox() = 0;
    virtual applied_envelopes& applied() = 0;
    virtual directory& people() = 0;
    virtual status_board& status() = 0;
    virtual reminder_log& reminders() = 0;
    virtual unit_of_work& work() = 0;

    // Whether other processes may be using this store at the same time (PostgreSQL: several
    // relbot instances): the bot then keeps its outbox leases short and renews them, looks
    // for work other instances committed, and takes its wall time from clock_ms().
    virtual bool shared() const = 0;
    // The database server's clock now, in epoch milliseconds (hosts sharing a store may
    // disagree about the time; the store's clock is the one they all read). nullopt when the
    // store has no clock of its own (SQLite: this process's clock is the store's).
    virtual std::optional<std::int64_t> clock_ms() = 0;

    // Starts the engine's housekeeping on its own thread, so that no commit pays for it
    // (SQLite: a checkpointer with its own connection moves the write-ahead log into the
    // database file; the automatic checkpoint of this connection is turned off). Once.
    virtual void start_housekeeping() = 0;
    // What the housekeeping has done so far, for the metrics (zeros if it is not running, or
    // if the engine has none).
    struct housekeeping_state {
        long long rounds = 0;    // checkpoints attempted
        long long failures = 0;  // of which failed (tried again on the next round)
        int log_frames = 0;      // frames in the write-ahead log now
    };
    virtual housekeeping_state housekeeping() const = 0;
    // Whether the housekeeping has left the engine's own connection something to do at a
    // moment when no command waits (use_quiet_moment). Cheap; on the engine's thread.
    virtual bool quiet_moment_wanted() const { return false; }
    // Once, before start_housekeeping: `due` is called (on the housekeeping's thread) each
    // time such work becomes due, so that it is done at the next quiet moment rather than
    // after the next command.
    virtual void on_quiet_work(std::function<void()> due) { (void)due; }
    // That work, now: the caller has just answered the last command and none waits. Never
    // waits for a lock (left for later if another connection holds it) and never throws.
    // SQLite: once a checkpoint has moved the whole write-ahead log, the log is started again
    // here, a new header synced to disk, rather than in the commit of the next command.
    virtual void use_quiet_moment() {}
    // Called on the engine's thread each time it is about to wait for a lock another
    // connection (or process) holds, for as long as it waits: the bot keeps answering Slack on
    // another thread meanwhile. Once, before use.
    virtual void on_lock_wait(std::function<void()> waiting) = 0;
    // From now on, no wait for a database server outlasts what a command can afford: a unit of
    // work's waits end a little after its deadline, and other waits a little after
    // unit_of_work::default_lock_wait. A server or network that stops answering then fails
    // the statement (busy_error: nothing was kept; outcome_unknown from a commit) instead of
    // holding the thread. The bot calls it once, before serving; tools that copy or migrate a
    // whole database do not. SQLite (a file, which cannot stop answering) has nothing to do.
    virtual void bound_waits() {}
    // Stops the housekeeping, makes everything committed durable in the main file and closes
    // the connection. Nothing
    // but the destructor may be called afterwards. Never throws.
    virtual void close() noexcept = 0;
    // A consistent copy of the whole store at `destination`, while writers go on; written
    // aside and renamed, so a failure leaves nothing half-written. The copy is a SQLite file
    // (a relbot database) whatever the engine. Returns what was copied: pages (SQLite), rows
    // (PostgreSQL).
    virtual int backup(const std::string& destination) = 0;
};

// Opens (creating and migrating) the store the options name: PostgreSQL when database_url is
// set, else SQLite at path. Throws std::exception if it cannot, or if the store is newer than
// this binary.
std::unique_ptr<engine> open(const storage_options& options);

}  // namespace relbot::storage
