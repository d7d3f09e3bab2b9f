#include "storage/checkpointer.hpp"

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include <memory>

namespace relbot::storage {

checkpointer::checkpointer(const std::string& path, std::chrono::milliseconds every)
    : every_(every) {
    // Opened here, so that a database that cannot be opened fails the caller, not the thread;
    // from then on only the thread uses it.
    auto db =
        std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
    thread_ = std::thread(&checkpointer::run, this, std::move(db));
}

checkpointer::~checkpointer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    stop_requested_.notify_all();
    thread_.join();
}

long long checkpointer::frames_checkpointed() const {
    std::lock_guard lock(mutex_);
    return frames_;
}

void checkpointer::run(std::unique_ptr<SQLite::Database> db) {
    for (;;) {
        bool last = false;
        {
            std::unique_lock lock(mutex_);
            last = stop_requested_.wait_for(lock, every_, [&] { return stopping_; });
        }
        // PASSIVE: copies what no reader still needs and never waits for (or blocks) the
        // writer. A busy or failed attempt is simply tried again next time.
        int log_frames = 0;
        int moved = 0;
        if (sqlite3_wal_checkpoint_v2(db->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                      &log_frames, &moved) == SQLITE_OK &&
            moved > 0) {
            std::lock_guard lock(mutex_);
            frames_ += moved;
        }
        if (last) {
            return;
        }
    }
}

}  // namespace relbot::storage
