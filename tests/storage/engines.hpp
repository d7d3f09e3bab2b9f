// The storage engines a store test runs against, with the same test code: a fresh store of
// each (a SQLite file, or a new database in the PostgreSQL test cluster) opened through
// storage::open, and as many connections to it as the test asks for. A test case picks the
// engine with
//     auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pg_database.hpp"
#include "storage/open.hpp"
#include "storage/postgres/connection.hpp"
#include "temp_db.hpp"

namespace relbot::test {

enum class engine_kind { sqlite, postgres };

inline const char* name_of(engine_kind k) {
    return k == engine_kind::sqlite ? "sqlite" : "postgres";
}

// One connection: an engine, and whether it has been waiting for another's lock.
class store_connection {
public:
    store_connection(std::unique_ptr<storage::engine> e, std::string pg_url)
        : e_(std::move(e)), pg_url_(std::move(pg_url)) {
        if (pg_url_.empty()) {
            e_->on_lock_wait([this] { waited_ = true; });  // SQLite says while it waits
        }
    }

    storage::engine& engine() { return *e_; }
    storage::release_repository& releases() { return e_->releases(); }
    storage::timeline& audit() { return e_->audit(); }
    storage::outbox_queue& outbox() { return e_->outbox(); }
    storage::applied_envelopes& applied() { return e_->applied(); }
    storage::directory& people() { return e_->people(); }
    storage::status_board& status() { return e_->status(); }
    storage::reminder_log& reminders() { return e_->reminders(); }
    storage::unit_of_work& work() { return e_->work(); }

    // A connection of this store waits for a lock another holds (SQLite: this one said so
    // since the last look; PostgreSQL: the server says a session of the database waits).
    bool waiting_for_lock() {
        if (pg_url_.empty()) {
            return waited_.exchange(false);
        }
        storage::postgres::connection look(pg_url_);
        return look.exec(
                       "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = "
                       "current_database() AND wait_event_type = 'Lock'")
                   .integer(0, 0) > 0;
    }

    // Waits (at most `within`) until waiting_for_lock() says so: another thread's unit of work
    // on this store is held back by one this test holds.
    bool wait_until_waiting(std::chrono::milliseconds within) {
        auto until = std::chrono::steady_clock::now() + within;
        while (std::chrono::steady_clock::now() < until) {
            if (waiting_for_lock()) {
                return true;
            }
            std::this_thread::yield();
        }
        return false;
    }

private:
    std::unique_ptr<storage::engine> e_;
    std::string pg_url_;
    std::atomic<bool> waited_{false};
};

class fresh_store {
public:
    explicit fresh_store(engine_kind kind) : kind_(kind) {
        if (kind == engine_kind::sqlite) {
            file_.emplace();
        } else {
            database_.emplace();
        }
    }

    engine_kind kind() const { return kind_; }

    storage::storage_options options() const {
        storage::storage_options o;
        if (kind_ == engine_kind::sqlite) {
            o.path = file_->path();
        } else {
            o.database_url = database_->url();
        }
        return o;
    }

    std::unique_ptr<store_connection> connect() const {
        return std::make_unique<store_connection>(
            storage::open(options()), kind_ == engine_kind::postgres ? database_->url() : "");
    }

    // One number read with SQL both engines understand, on a connection of its own.
    long long scalar(const std::string& sql) const {
        if (kind_ == engine_kind::sqlite) {
            SQLite::Database raw(file_->path(), SQLite::OPEN_READONLY);
            return raw.execAndGet(sql).getInt64();
        }
        storage::postgres::connection raw(database_->url());
        return raw.exec(sql).integer(0, 0);
    }

    // Every row the query gives, one line each: its values as text ("NULL" for none), each
    // followed by "|". On a connection of its own. Compare one engine's answers only: the
    // engines may write the same value differently.
    std::string rows(const std::string& sql) const { return rows(std::vector<std::string>{sql}); }

    // The same for each query in turn, on one connection of its own: the rows of each follow
    // a line "## <the query>".
    std::string rows(const std::vector<std::string>& queries) const {
        std::string out;
        auto value = [&out](bool null, const std::string& text) {
            out += null ? "NULL" : text;
            out += "|";
        };
        auto header = [&](const std::string& sql) {
            if (queries.size() > 1) {
                out += "## " + sql + "\n";
            }
        };
        if (kind_ == engine_kind::sqlite) {
            SQLite::Database raw(file_->path(), SQLite::OPEN_READONLY);
            for (const auto& sql : queries) {
                header(sql);
                SQLite::Statement q(raw, sql);
                while (q.executeStep()) {
                    for (int c = 0; c < q.getColumnCount(); ++c) {
                        value(q.getColumn(c).isNull(), q.getColumn(c).getString());
                    }
                    out += "\n";
                }
            }
            return out;
        }
        storage::postgres::connection raw(database_->url());
        for (const auto& sql : queries) {
            header(sql);
            auto r = raw.exec(sql);
            for (int row = 0; row < r.rows(); ++row) {
                for (int c = 0; c < r.columns(); ++c) {
                    value(r.is_null(row, c), r.text(row, c));
                }
                out += "\n";
            }
        }
        return out;
    }

    // Runs `sql` (one or more statements) on a connection of its own, as another program
    // would: committed when it returns.
    void exec(const std::string& sql) const {
        if (kind_ == engine_kind::sqlite) {
            SQLite::Database raw(file_->path(), SQLite::OPEN_READWRITE);
            raw.exec(sql);
            return;
        }
        storage::postgres::connection raw(database_->url());
        raw.exec(sql);
    }

private:
    engine_kind kind_;
    std::optional<temp_db> file_;
    std::optional<pg_database> database_;
};

}  // namespace relbot::test
