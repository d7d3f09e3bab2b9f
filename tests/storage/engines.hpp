// The storage engines a port test runs against, with the same test code: a fresh store of
// each (a SQLite file, or a new database in the PostgreSQL test cluster, migrated) and as many
// connections to it as the test asks for. A test case picks the engine with
//     auto kind = GENERATE(test::engine_kind::sqlite, test::engine_kind::postgres);
// The PostgreSQL engine is being built port by port; `connection` offers the ports it has.
#pragma once

#include <SQLiteCpp/Database.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "pg_database.hpp"
#include "storage/open.hpp"
#include "storage/postgres/applied.hpp"
#include "storage/postgres/outbox.hpp"
#include "storage/postgres/schema.hpp"
#include "storage/postgres/session.hpp"
#include "temp_db.hpp"

namespace relbot::test {

enum class engine_kind { sqlite, postgres };

inline const char* name_of(engine_kind k) {
    return k == engine_kind::sqlite ? "sqlite" : "postgres";
}

// One connection's ports.
class store_connection {
public:
    virtual ~store_connection() = default;
    virtual storage::outbox_queue& outbox() = 0;
    virtual storage::applied_envelopes& applied() = 0;
    virtual storage::unit_of_work& work() = 0;
    // This connection is waiting for a lock another connection holds (now, or once since
    // the last look: SQLite tells while it waits, PostgreSQL is asked).
    virtual bool waiting_for_lock() = 0;
};

class fresh_store {
public:
    explicit fresh_store(engine_kind kind) : kind_(kind) {
        if (kind == engine_kind::sqlite) {
            file_.emplace();
        } else {
            database_.emplace();
            storage::postgres::connection db(database_->url());
            storage::postgres::migrate(db);
        }
    }

    engine_kind kind() const { return kind_; }

    std::unique_ptr<store_connection> connect() const {
        if (kind_ == engine_kind::sqlite) {
            return std::make_unique<sqlite_connection>(storage::open({file_->path()}));
        }
        return std::make_unique<postgres_connection>(database_->url());
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

private:
    class sqlite_connection final : public store_connection {
    public:
        explicit sqlite_connection(std::unique_ptr<storage::engine> e) : e_(std::move(e)) {
            e_->on_lock_wait([this] { waited_ = true; });
        }
        bool waiting_for_lock() override { return waited_.exchange(false); }
        storage::outbox_queue& outbox() override { return e_->outbox(); }
        storage::applied_envelopes& applied() override { return e_->applied(); }
        storage::unit_of_work& work() override { return e_->work(); }

    private:
        std::unique_ptr<storage::engine> e_;
        std::atomic<bool> waited_{false};
    };

    class postgres_connection final : public store_connection {
    public:
        explicit postgres_connection(const std::string& url)
            : url_(url),
              session_(url),
              outbox_(session_),
              applied_(session_),
              pid_(session_.db().backend_pid()) {}
        bool waiting_for_lock() override {
            storage::postgres::connection look(url_);
            return look.exec("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1 AND "
                             "wait_event_type = 'Lock'",
                             {pid_})
                       .integer(0, 0) == 1;
        }
        storage::outbox_queue& outbox() override { return outbox_; }
        storage::applied_envelopes& applied() override { return applied_; }
        storage::unit_of_work& work() override { return session_; }

    private:
        std::string url_;
        storage::postgres::session session_;
        storage::postgres::outbox outbox_;
        storage::postgres::applied applied_;
        int pid_;
    };

    engine_kind kind_;
    std::optional<temp_db> file_;
    std::optional<pg_database> database_;
};

}  // namespace relbot::test
