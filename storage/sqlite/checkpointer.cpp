#include "storage/sqlite/checkpointer.hpp"

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include <memory>
#include <optional>
#include <utility>

namespace relbot::storage::sqlite {

checkpointer::checkpointer(const std::string& path,
                           std::chrono::milliseconds every,
                           log_restart* restart)
    : every_(every), restart_(restart) {
    // Opened here, so that a database that cannot be opened fails the caller, not the thread;
    // from then on only the thread uses it.
    auto db =
        std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
    // A connection learns that the database is in WAL mode, and opens the log, only when it
    // first reads it; until then sqlite3_wal_checkpoint_v2 succeeds and moves nothing.
    db->execAndGet("PRAGMA schema_version");
    thread_ = std::thread(&checkpointer::run, this, std::move(db));
}

checkpointer::~checkpointer() {
    stop();
}

void checkpointer::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    stop_requested_.notify_all();
    if (thread_.joinable()) {
        thread_.join();  // run() has returned, so the connection it owned is closed
    }
}

checkpointer::progress checkpointer::state() const {
    std::lock_guard lock(mutex_);
    return progress_;
}

bool checkpointer::wait_caught_up(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    // The round after the one that may be running now is the first that surely began later.
    auto after = progress_.rounds + 1;
    return checkpointed_.wait_for(lock, timeout,
                                  [&] { return progress_.rounds > after && progress_.caught_up; });
}

void checkpointer::run(std::unique_ptr<SQLite::Database> db) {
    for (;;) {
        bool last = false;
        {
            std::unique_lock lock(mutex_);
            last = stop_requested_.wait_for(lock, every_, [&] { return stopping_; });
        }
        if (!last && restart_ && restart_->commits.load() == restart_->started_at.load()) {
            // The log holds the page that started it and nothing of the store's since:
            // moved, it would make the next command start the log again (and wait for the
            // sync). It is left; the round counts, having found nothing to do.
            count_round([](progress&) {});
            continue;
        }
        // Commits that land while a checkpoint runs are left for the next one, and the log
        // only starts again from its beginning once a checkpoint has caught up with every
        // commit: under a steady stream of commands that never happens by itself, and the log
        // (and every write to it) grows without end. So a round is followed at once by
        // another for as long as the last one found something new: the next has only the
        // commits of the last few milliseconds to move, and one that finds nothing does no I/O.
        std::pair<int, int> seen{-1, -1};
        std::uint64_t commits_before = 0;  // the store's, when the last round began
        for (int attempt = 0; attempt < max_rounds_in_a_row; ++attempt) {
            commits_before = restart_ ? restart_->commits.load() : 0;
            auto now = checkpoint_once(*db);
            if (!now || *now == seen) {
                break;
            }
            seen = *now;
        }
        if (last) {
            return;
        }
        // All of the log moved, and the store has not committed since the round that found
        // it so: the log may start again.
        if (restart_ && seen.first > 0 && seen.first == seen.second &&
            restart_->commits.load() == commits_before) {
            restart_->due_at = static_cast<std::int64_t>(commits_before);
            std::unique_lock lock(mutex_);
            if (!stopping_ && restart_->due) {
                lock.unlock();
                restart_->due();
            }
        }
    }
}

void checkpointer::count_round(const std::function<void(progress&)>& what_it_found) {
    {
        std::lock_guard lock(mutex_);
        ++progress_.rounds;
        what_it_found(progress_);
    }
    checkpointed_.notify_all();
}

std::optional<std::pair<int, int>> checkpointer::checkpoint_once(SQLite::Database& db) {
    // PASSIVE: copies what no reader still needs and never waits for (or blocks) the writer.
    // A busy or failed attempt is simply tried again next time.
    int log_frames = 0;
    int moved = 0;
    bool ok = sqlite3_wal_checkpoint_v2(db.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                        &log_frames, &moved) == SQLITE_OK;
    count_round([&](progress& p) {
        if (ok) {
            p.log_frames = log_frames;
            p.frames_moved = moved;
            p.caught_up = moved == log_frames;
        } else {
            ++p.failures;
            p.caught_up = false;
        }
    });
    if (!ok) {
        return std::nullopt;
    }
    return std::pair{log_frames, moved};
}

}  // namespace relbot::storage::sqlite
