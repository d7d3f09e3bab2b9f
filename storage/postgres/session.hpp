// The connection the ports of one PostgreSQL engine share, and its unit of work: a READ
// COMMITTED transaction (savepoints inside it for group commit; each release it reads is
// locked, releases.hpp) whose waits for other instances' locks end at its deadline; outside a
// unit, no wait is longer than default_lock_wait. Nothing outside storage/postgres/ includes this
// header (but storage tests).
//
// How PostgreSQL's refusals map onto the ports' promises: a lock not granted by the deadline,
// a statement cancelled at it, a serialization failure or a deadlock all mean "another
// instance got there first; nothing was changed": busy_error, and the caller may try again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storage/ports.hpp"
#include "storage/postgres/connection.hpp"

namespace relbot::storage::postgres {

class session final : public unit_of_work {
public:
    // Connects (connection's contract). Does not migrate: open() does, once per engine.
    explicit session(const std::string& url);

    connection& db() { return db_; }
    // A unit of work (or a savepoint in one) is open on this connection.
    bool in_unit() const { return depth_ > 0; }

    std::unique_ptr<write_transaction> begin() override;
    std::unique_ptr<write_transaction> begin_until(lock_deadline give_up_at) override;
    // Without counting the rows each statement changed, a commit may always have changed
    // state: the port allows "true when unsure".
    bool last_commit_changed_state() const override { return true; }

    // A port that keeps something for the length of a unit of work (releases.hpp: the
    // releases the unit has locked) learns here when the unit is about to commit (it may
    // defer its last writes then) and when it has ended (committed or not).
    // It also learns when a savepoint ends (`serial`, its `parent`'s serial or 0 for the unit,
    // and whether it was released or rolled back), and what the innermost open one is.
    void on_unit(std::function<void()> before_commit,
                 std::function<void(bool)> ended,
                 std::function<void(std::uint64_t, std::uint64_t, bool)> savepoint_ended) {
        before_commit_ = std::move(before_commit);
        unit_ended_ = std::move(ended);
        savepoint_ended_ = std::move(savepoint_ended);
    }
    // The innermost open savepoint's serial (each savepoint of a session gets a new one), or 0
    // when none is open.
    std::uint64_t current_savepoint() const { return savepoints_.empty() ? 0 : savepoints_.back(); }

    // Runs `body` in a transaction of its own (READ COMMITTED: the outbox's claims, folds),
    // committed when it returns true and rolled back when it returns false or throws. Must
    // not be called inside a unit of work (std::logic_error).
    bool own_transaction(const std::function<bool()>& body);

    // Runs `work` and turns PostgreSQL's "try again" refusals into busy_error, and a server
    // that stopped answering into busy_error too (nothing was kept), or outcome_unknown when
    // it stopped answering a COMMIT.
    template <typename F>
    decltype(auto) busy_as_busy(F&& work) {
        try {
            return work();
        } catch (const pg_error& e) {
            if (e.unanswered()) {
                if (e.maybe_kept()) {
                    throw outcome_unknown(e.what());
                }
                throw busy_error(e.what());
            }
            if (means_busy(e)) {
                throw busy_error();
            }
            throw;
        }
    }
    // How long after a unit's deadline relbot still waits for the server's answer (the
    // server's own timeouts end a live server's waits at the deadline; this catches one that
    // stopped answering). The bot's bound outside a unit is default_lock_wait plus this.
    static constexpr std::chrono::milliseconds answer_margin{300};
    // Lock not available, statement cancelled at its deadline, serialization failure, deadlock.
    static bool means_busy(const pg_error& e);

private:
    class transaction;

    void unit_ended(bool committed) {
        if (unit_ended_) {
            unit_ended_(committed);
        }
    }

    connection db_;
    std::function<void()> before_commit_;
    std::function<void(bool)> unit_ended_;
    std::function<void(std::uint64_t, std::uint64_t, bool)> savepoint_ended_;
    std::vector<std::uint64_t> savepoints_;  // open savepoints' serials, innermost last
    std::uint64_t savepoints_begun_ = 0;
    int depth_ = 0;  // 0: none; 1: a unit of work; more: savepoints in it
};

}  // namespace relbot::storage::postgres
