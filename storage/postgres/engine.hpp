// The PostgreSQL engine: every port of storage/ports.hpp over one connection (several relbot
// instances each hold one engine on the same database). Built by storage::open when the
// options name a database URL; nothing outside storage/ includes this header.
#pragma once

#include <memory>
#include <string>

#include "storage/open.hpp"
#include "storage/postgres/applied.hpp"
#include "storage/postgres/directory.hpp"
#include "storage/postgres/outbox.hpp"
#include "storage/postgres/releases.hpp"
#include "storage/postgres/session.hpp"
#include "storage/postgres/timed_work.hpp"

namespace relbot::storage::postgres {

class engine final : public storage::engine {
public:
    // Connects and migrates (schema.hpp). Throws pg_error, or std::runtime_error for a
    // database newer than this binary.
    // `may_migrate` false: a database not at this relbot's schema is refused, untouched
    // (require_current_schema).
    explicit engine(const std::string& url, bool may_migrate = true);

    release_repository& releases() override { return releases_; }
    storage::timeline& audit() override { return releases_; }
    outbox_queue& outbox() override { return outbox_; }
    applied_envelopes& applied() override { return applied_; }
    directory& people() override { return people_; }
    status_board& status() override { return timed_; }
    reminder_log& reminders() override { return timed_; }
    unit_of_work& work() override { return session_; }
    // Several instances share one database.
    bool shared() const override { return true; }
    std::optional<std::int64_t> clock_ms() override;

    // The server keeps its own log and checkpoints: nothing to run beside the connection.
    void start_housekeeping() override {}
    housekeeping_state housekeeping() const override { return {}; }
    // Every statement waits for the server: `waiting` is called before each.
    void on_lock_wait(std::function<void()> waiting) override {
        session_.db().before_waiting(std::move(waiting));
    }
    // After a wait was given up, the next few seconds' statements fail at once rather than
    // each waiting out the bound on a new connection.
    void bound_waits() override {
        session_.db().bound_waits(unit_of_work::default_lock_wait + session::answer_margin,
                                  std::chrono::seconds(2), unit_of_work::default_lock_wait);
    }
    void close() noexcept override {}
    // A SQLite file holding every row, from one snapshot (storage/migrate.hpp,
    // backup_postgres); returns the rows copied.
    int backup(const std::string& destination) override;

private:
    std::string url_;  // holds the password: never shown (session_.db().server() is)
    session session_;
    postgres::releases releases_;
    postgres::outbox outbox_;
    postgres::applied applied_;
    postgres::people people_;
    postgres::timed_work timed_;
};

}  // namespace relbot::storage::postgres
