// Moves the write-ahead log into the database file on a thread and connection of its own, so
// that no command's commit pays for a checkpoint and its fsync. The store's own connection
// turns SQLite's automatic checkpoint off while a checkpointer runs (store::leave_checkpoints).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace SQLite {
class Database;
}  // namespace SQLite

namespace relbot::storage {

class checkpointer {
public:
    // Opens its own connection to `path` (which must exist) and checkpoints every `every`.
    // Throws if the database cannot be opened.
    explicit checkpointer(const std::string& path,
                          std::chrono::milliseconds every = std::chrono::seconds(1));
    ~checkpointer();  // a last checkpoint, then the thread ends
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;

    // WAL frames moved into the database so far (for metrics).
    long long frames_checkpointed() const;

private:
    void run(std::unique_ptr<SQLite::Database> db);

    std::chrono::milliseconds every_;
    mutable std::mutex mutex_;
    std::condition_variable stop_requested_;
    bool stopping_ = false;
    long long frames_ = 0;
    std::thread thread_;
};

}  // namespace relbot::storage
