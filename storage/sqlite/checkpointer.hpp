// Moves the write-ahead log into the database file on a thread and connection of its own, so
// that no command's commit pays for a checkpoint and its fsync. The store's own connection
// turns SQLite's automatic checkpoint off while a checkpointer runs (store::leave_checkpoints).
// Once the whole log has been moved, the next commit starts writing the log from its
// beginning again, so the -wal file stays as large as the writes of about one period.
// Starting it again writes a new log header and syncs it (fdatasync: a few hundred
// microseconds, a millisecond at times), which the commit that does it waits for. So the
// checkpointer says when the log may start again (log_restart::due_at), and the store's
// connection does it between commands with a page of its own (store::use_quiet_moment); the
// checkpointer then leaves that page in the log until the store commits again, so that the
// next command writes behind it instead of starting the log itself, however long it comes
// after.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
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

// What the store's connection and its checkpointer share about starting the log again. The
// store owns it (it outlives the checkpointer); the counters are read on either thread.
struct log_restart {
    // The store's commits that wrote to the log (counted by its connection's WAL hook).
    std::atomic<std::uint64_t> commits{0};
    // `commits` right after the store last started the log itself; while `commits` equals
    // it, the log holds that page and nothing of the store's since.
    std::atomic<std::uint64_t> started_at{~std::uint64_t{0}};
    // `commits` when a checkpoint last found the whole log moved (the log may start again, if
    // nothing was committed since); -1 when not due.
    std::atomic<std::int64_t> due_at{-1};
    // Called on the checkpointer's thread each time due_at is set (never once stop() was
    // called). Set before the checkpointer starts.
    std::function<void()> due;
};

class checkpointer {
public:
    // Opens its own connection to `path` (which must exist) and checkpoints every `every`.
    // Throws if the database cannot be opened. With `restart` (which must outlive it), it
    // says when the log may start again and leaves the page that started it alone.
    explicit checkpointer(const std::string& path,
                          std::chrono::milliseconds every = std::chrono::seconds(1),
                          log_restart* restart = nullptr);
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
    // One more round in progress_ (under the mutex, with what it found), and the waiters told.
    void count_round(const std::function<void(progress&)>& what_it_found);

    // Rounds run back to back while each finds something new (a reader holding frames
    // back, or commits arriving faster than rounds finish, would otherwise keep it going).
    static constexpr int max_rounds_in_a_row = 5;

    std::chrono::milliseconds every_;
    mutable std::mutex mutex_;
    std::condition_variable stop_requested_;
    mutable std::condition_variable checkpointed_;
    bool stopping_ = false;
    progress progress_;
    log_restart* restart_;
    std::thread thread_;
};

}  // namespace relbot::storage::sqlite
