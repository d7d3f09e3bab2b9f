// Moves the write-ahead log into the database file on a thread and connection of its own, so
// that no command's commit pays for a checkpoint and its fsync. The store's own connection
// turns SQLite's automatic checkpoint off while a checkpointer runs (store::leave_checkpoints).
// Once the whole log has been moved, the next commit starts writing the log from its
// beginning again, so the -wal file stays as large as the writes of about one period.
// Starting it again writes a new log header and syncs it (fdatasync: a few hundred
// microseconds, a millisecond at times): the checkpointer says when that is due
// (take_restart), so that the bot's connection can do it between commands (store::
// use_quiet_moment) rather than in the commit of the next one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace SQLite {
class Database;
}  // namespace SQLite

namespace relbot::storage::sqlite {

class checkpointer {
public:
    // Opens its own connection to `path` (which must exist) and checkpoints every `every`.
    // Throws if the database cannot be opened.
    // `restart_due`, if given, is called on the checkpointer's thread each time take_restart
    // turns true (not once stop() has been called).
    explicit checkpointer(const std::string& path,
                          std::chrono::milliseconds every = std::chrono::seconds(1),
                          std::function<void()> restart_due = {});
    ~checkpointer();  // stop()
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;

    // What the last checkpoint found. The log starts again from its beginning after it has
    // been moved whole, so these are about the current log, not totals.
    struct progress {
        long long rounds = 0;    // checkpoints attempted so far
        long long failures = 0;  // of which failed (tried again next round)
        int log_frames = 0;      // frames in the log
        int frames_moved = 0;    // of which in the database file
        bool caught_up = false;  // all of them
    };
    progress state() const;

    // Whether a checkpoint has moved the whole log, commands' commits included, since the
    // last call: the log may be started again. Any thread; the answer is given once.
    bool take_restart() { return restart_due_.exchange(false); }
    bool restart_wanted() const { return restart_due_.load(); }

    // A last checkpoint, then the thread ends and its connection is closed. Once is enough;
    // later calls (and the destructor) do nothing.
    void stop();

    // Waits until a checkpoint that began after this call has moved the whole log (so every
    // commit made before the call is in the database file). False if `timeout` passes first.
    bool wait_caught_up(std::chrono::milliseconds timeout) const;

private:
    void run(std::unique_ptr<SQLite::Database> db);
    // One PASSIVE checkpoint: the frames in the log when it began, and how many of them are
    // now in the database file; nothing if it failed.
    std::optional<std::pair<int, int>> checkpoint_once(SQLite::Database& db);

    // Rounds run back to back while each finds something new (a reader holding frames
    // back, or commits arriving faster than rounds finish, would otherwise keep it going).
    static constexpr int max_rounds_in_a_row = 5;

    std::chrono::milliseconds every_;
    mutable std::mutex mutex_;
    std::condition_variable stop_requested_;
    mutable std::condition_variable checkpointed_;
    bool stopping_ = false;
    progress progress_;
    std::atomic<bool> restart_due_{false};
    std::function<void()> on_restart_due_;
    std::thread thread_;
};

}  // namespace relbot::storage::sqlite
