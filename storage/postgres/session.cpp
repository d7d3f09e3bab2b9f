#include "storage/postgres/session.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace relbot::storage::postgres {

bool session::means_busy(const pg_error& e) {
    const auto& s = e.sqlstate();
    return s == "55P03" || s == "57014" || e.retryable();
}

namespace {

long long left_ms(lock_deadline give_up_at) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(give_up_at -
                                                                 std::chrono::steady_clock::now())
        .count();
}

}  // namespace

// One unit of work, or one savepoint inside it. Rolls back on destruction unless committed.
class session::transaction final : public write_transaction {
public:
    transaction(session& s, lock_deadline give_up_at) : s_(s), savepoint_(s.depth_ > 0) {
        if (savepoint_) {
            // Sent with the input's first statement that is waited for. An input given a
            // deadline (a batch's command) waits for each lock until about then (what is left
            // when the savepoint is begun; an input that waits for several locks may wait a
            // little longer), not one whole unit timeout after the inputs before it waited
            // theirs: otherwise each input of a batch stuck behind another instance's lock
            // would wait again, and the batch's acks with it. Past the deadline, an input that
            // needs no other's lock is still applied.
            s_.db_.defer("SAVEPOINT input_" + std::to_string(s_.depth_));
            // Released, the setting holds until the unit ends (rolled back, it goes with the
            // savepoint): the statements run before COMMIT (rows this unit has locked already)
            // and COMMIT itself wait for no lock. The statement timeout stays the unit's, so
            // they are not cut short by the last input's remainder.
            if (give_up_at != lock_deadline{}) {
                auto ms = std::max<long long>(1, left_ms(give_up_at));  // computed, never input
                s_.db_.defer("SET LOCAL lock_timeout = " + std::to_string(ms));
            }
            ++s_.depth_;
            serial_ = ++s_.savepoints_begun_;
            s_.savepoints_.push_back(serial_);
            return;
        }
        if (give_up_at == lock_deadline{}) {
            give_up_at = std::chrono::steady_clock::now() + default_lock_wait;
        }
        auto left = left_ms(give_up_at);
        if (left <= 0) {
            throw busy_error("the unit's deadline passed before it began");
        }
        auto ms = std::to_string(left);  // a number computed here, never input
        // READ COMMITTED, with each release's row locked by the unit that reads it
        // (releases.cpp): two instances changing one release take turns, the second reading
        // what the first committed, instead of one of them failing to serialize.
        // No round trip of its own: the BEGIN and what is left until the deadline (as the
        // transaction's lock and statement timeouts) go with the unit's first statement that
        // is waited for. They bound each statement, not the unit as a whole; each savepoint
        // given a deadline (a batch's input) sets the lock timeout again from what is left.
        scope_.emplace(s_.db_.begin_transaction("BEGIN ISOLATION LEVEL READ COMMITTED"));
        s_.db_.defer("SET LOCAL lock_timeout = " + ms);
        s_.db_.defer("SET LOCAL statement_timeout = " + ms);
        // A server that stops answering is given up on soon after the deadline
        // (connection::bound_waits), not when TCP notices.
        s_.db_.answer_by(give_up_at + answer_margin);
        ++s_.depth_;
    }
    ~transaction() override {
        if (open_) {
            try {
                end(false);
            } catch (const std::exception&) {
                // A broken connection rolled back with the session.
            }
        }
    }
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    void commit() override {
        s_.busy_as_busy([&] { end(true); });
    }

private:
    void end(bool committed) {
        open_ = false;
        --s_.depth_;
        if (savepoint_) {
            auto name = "input_" + std::to_string(s_.depth_);
            auto roll_back = "ROLLBACK TO SAVEPOINT " + name + "; RELEASE SAVEPOINT " + name;
            s_.savepoints_.pop_back();
            auto parent = s_.current_savepoint();
            auto ended = [&](bool kept) {
                if (s_.savepoint_ended_) {
                    s_.savepoint_ended_(serial_, parent, kept);
                }
            };
            if (!committed) {
                ended(false);
                s_.db_.rollback_with(roll_back);
                return;
            }
            // (A rollback after a failure below must not replace the failure's own error: on
            // a connection that is gone, it fails too.)
            if (s_.db_.deferred() == 0) {
                // Nothing of the input is left unsent, so nothing can fail here: the release
                // goes with the unit's next statement (the next input's, or the COMMIT).
                s_.db_.defer("RELEASE SAVEPOINT " + name);
                ended(true);
                return;
            }
            try {
                // Sends the input's deferred writes: one of them failing fails the input.
                s_.db_.exec("RELEASE SAVEPOINT " + name);
            } catch (const pg_error&) {
                ended(false);
                roll_back_quietly(roll_back);
                throw;
            }
            ended(true);
            return;
        }
        // However the unit ends, its transaction is over (committed, rolled back, or gone
        // with a lost connection) when this returns.
        struct end_scope {
            std::optional<connection::transaction_scope>& scope;
            connection& db;
            ~end_scope() {
                scope.reset();
                db.answer_by(std::nullopt);
            }
        } over{scope_, s_.db_};
        if (!committed) {
            s_.unit_ended(false);
            s_.db_.rollback_with("ROLLBACK");
            return;
        }
        try {
            if (s_.before_commit_) {
                s_.before_commit_();
            }
        } catch (...) {
            s_.unit_ended(false);
            roll_back_quietly("ROLLBACK");
            throw;
        }
        // A transaction that an error aborted answers COMMIT with ROLLBACK, not an error: it
        // must not pass for committed (its commands would be acknowledged and lost). A
        // deferred write that fails keeps the COMMIT from running at all: roll back then.
        std::string tag;
        try {
            tag = s_.db_.exec("COMMIT").tag();
        } catch (const pg_error&) {
            s_.unit_ended(false);
            roll_back_quietly("ROLLBACK");
            throw;
        }
        if (tag != "COMMIT") {
            s_.unit_ended(false);
            roll_back_quietly("ROLLBACK");  // nothing to roll back: counts the rollback
            throw std::runtime_error("the transaction could not be committed (the server said " +
                                     tag + "); nothing of it was kept");
        }
        s_.unit_ended(true);
    }

    // After a failure: the rollback is tried, and its own failure (the connection is gone, and
    // the transaction with it) leaves the first error to be thrown.
    void roll_back_quietly(std::string_view rollback) {
        try {
            s_.db_.rollback_with(rollback);
        } catch (const std::exception&) {
            // Nothing of the unit was kept on a connection that is gone.
        }
    }

    session& s_;
    bool savepoint_;
    bool open_ = true;
    std::uint64_t serial_ = 0;                            // a savepoint's
    std::optional<connection::transaction_scope> scope_;  // a unit's
};

session::session(const std::string& url) : db_(url) {
    // Outside a unit of work no statement waits for another session's lock longer than a
    // unit would by default (a unit sets its own, from its deadline).
    db_.set_for_session("SELECT set_config('lock_timeout', $1, false)",
                        std::to_string(default_lock_wait.count()));
}

std::unique_ptr<write_transaction> session::begin() {
    return begin_until({});
}

std::unique_ptr<write_transaction> session::begin_until(lock_deadline give_up_at) {
    return busy_as_busy([&] { return std::make_unique<transaction>(*this, give_up_at); });
}

bool session::own_transaction(const std::function<bool()>& body) {
    if (in_unit()) {
        throw std::logic_error("a transaction of its own was asked for inside a unit of work");
    }
    return busy_as_busy([&] {
        auto scope = db_.begin_transaction("BEGIN");
        bool keep = false;
        try {
            keep = body();
            if (keep) {
                if (auto tag = db_.exec("COMMIT").tag(); tag != "COMMIT") {
                    throw pg_error("the transaction could not be committed (the server said " +
                                       tag + "); nothing of it was kept",
                                   "");
                }
                return true;
            }
        } catch (...) {
            try {
                db_.rollback_with("ROLLBACK");
            } catch (const std::exception&) {
                // The connection is gone; so is the transaction.
            }
            throw;
        }
        db_.rollback_with("ROLLBACK");
        return false;
    });
}

}  // namespace relbot::storage::postgres
