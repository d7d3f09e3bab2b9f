// One PostgreSQL connection over libpq (Debian's libpq-dev), with parameters sent apart from
// the SQL (never spliced into it) and results that free themselves. Nothing outside
// storage/postgres/ includes this header (but storage tests).
//
// Secrets: the connection URL may carry a password. No message this file makes holds the URL;
// it names the server as `user@host:port/database` (describe_url).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/postgres/host_lookup.hpp"

struct pg_conn;
struct pg_result;

namespace relbot::storage::postgres {

// The server's refusal or a broken connection. `sqlstate` is the five-character SQLSTATE
// ("40001" serialization failure, "23505" unique violation, ...), empty when the connection
// itself failed.
class pg_error : public std::runtime_error {
public:
    pg_error(std::string message, std::string sqlstate)
        : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)) {}
    // The server did not answer within the connection's bound (connection::bound_waits), and
    // the connection was closed; or the connection broke after a change was sent.
    // `maybe_kept`: what went unanswered may have been committed (a COMMIT, or outside a
    // transaction a statement that changes data, which commits by itself).
    static pg_error unanswered(std::string message, bool maybe_kept) {
        pg_error e(std::move(message), "08006");
        e.unanswered_ = true;
        e.maybe_kept_ = maybe_kept;
        return e;
    }
    const std::string& sqlstate() const { return sqlstate_; }
    bool unique_violation() const { return sqlstate_ == "23505"; }
    // The transaction lost a race with another one and may be run again from its start.
    bool retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
    bool unanswered() const { return unanswered_; }
    bool maybe_kept() const { return maybe_kept_; }

private:
    std::string sqlstate_;
    bool unanswered_ = false;
    bool maybe_kept_ = false;
};

// A connection URL or key=value string as the operator wrote it, shown without its password:
// "relbot@db.internal:5432/relbot". Never throws; an unreadable string is "(unreadable
// connection string)".
std::string describe_url(const std::string& url);
// What libpq finds wrong in a connection URL or key=value string ("invalid sslmode value"), with
// every quoted value left out (it may be the password); nullopt when it reads, or when libpq
// is not installed (connecting says so).
std::optional<std::string> url_problem(const std::string& url);

// One parameter of a statement, in text form; null when empty().
class param {
public:
    param(std::string_view text) : text_(text) {}          // NOLINT: implicit, as SQL text reads
    param(const std::string& text) : text_(text) {}        // NOLINT
    param(const char* text) : text_(std::string(text)) {}  // NOLINT
    param(std::int64_t n) : text_(std::to_string(n)) {}    // NOLINT
    param(int n) : text_(std::to_string(n)) {}             // NOLINT
    param(std::nullopt_t) {}                               // NOLINT: SQL NULL
    template <typename T>
    param(const std::optional<T>& v) {  // NOLINT
        if (v) {
            *this = param(*v);
        }
    }
    const std::optional<std::string>& text() const { return text_; }

private:
    std::optional<std::string> text_;
};

// The rows a statement returned (none for a command). Values are read as text, which is how
// they come; numbers are parsed here.
class result {
public:
    explicit result(pg_result* r);
    int rows() const;
    int columns() const;
    bool is_null(int row, int column) const;
    std::string text(int row, int column) const;      // "" for NULL
    std::int64_t integer(int row, int column) const;  // throws pg_error for NULL or non-numbers
    std::optional<std::int64_t> optional_integer(int row, int column) const;
    // Rows a command changed (UPDATE, DELETE, INSERT).
    long long affected() const;
    // The command tag ("COMMIT", "ROLLBACK", "UPDATE 3", …).
    std::string tag() const;

private:
    struct free_result {
        void operator()(pg_result* r) const;
    };
    std::unique_ptr<pg_result, free_result> r_;
};

class connection {
public:
    // Connects (at most 10 s) and sets the session up: UTC, no statement longer than
    // `statement_timeout_ms` (0: none). Throws pg_error naming the server (describe_url) and
    // libpq's reason.
    // A host name is looked up with `look_up` (host_lookup.hpp): here, and on a thread of its
    // own when the connection is opened again (tests pass a lookup of their own).
    explicit connection(const std::string& url,
                        int statement_timeout_ms = 0,
                        lookup_function look_up = system_lookup);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    // One or more statements without parameters (a migration, BEGIN, COMMIT). Statements
    // deferred before it go first, in the same round trip when `sql` is one statement.
    result exec(std::string_view sql);
    // One statement with $1, $2, ... parameters.
    result exec(std::string_view sql, std::initializer_list<param> params);
    result exec(std::string_view sql, const std::vector<param>& params);

    // Deferred statements: one statement whose answer nobody waits for (a write inside a
    // transaction, a BEGIN, a SAVEPOINT) is kept here and sent with the next statement that
    // is waited for, all in one round trip (libpq's pipeline mode): a unit of work's writes
    // cost one round trip, not one each. The server runs them in order, each after the one
    // before it has finished (in READ COMMITTED, each with a snapshot taken when it starts).
    // An error in one of them is thrown by the exec (or flush) that sent it, which then runs
    // nothing after it: callers defer only statements whose failure fails the unit of work
    // (or the savepoint) they are in, and roll back with rollback_with (never plain exec).
    // `into`, when given, receives the statement's rows when it is sent.
    void defer(std::string_view sql, std::vector<param> params = {}, result* into = nullptr);
    // While one lives, the connection is in a transaction: a lost connection fails the
    // transaction (nothing of it was kept) instead of being replaced under it.
    class transaction_scope {
    public:
        explicit transaction_scope(connection& db) : db_(&db) { db.in_transaction_ = true; }
        transaction_scope(transaction_scope&& other) noexcept
            : db_(std::exchange(other.db_, nullptr)) {}
        transaction_scope(const transaction_scope&) = delete;
        transaction_scope& operator=(const transaction_scope&) = delete;
        transaction_scope& operator=(transaction_scope&&) = delete;
        ~transaction_scope() {
            if (db_ != nullptr) {
                db_->in_transaction_ = false;
            }
        }

    private:
        connection* db_;
    };
    // Defers `begin` (BEGIN …) as the opening statement of a transaction: the statements sent
    // with it are then the transaction's first, and if the connection turns out to be gone
    // when they are sent, nothing of them ran: they are sent again, once, on a new connection.
    // The connection is in the transaction until the scope ends.
    [[nodiscard]] transaction_scope begin_transaction(std::string_view begin) {
        defer(begin);
        deferred_.back().opens_transaction = true;
        return transaction_scope(*this);
    }

    // A connection the server ended (restart, pg_terminate_backend, network) is opened again
    // on the next statement outside a transaction, or on the next BEGIN, with the same
    // settings: relbot goes on after a database restart without being restarted itself.
    // How many times so far.
    std::uint64_t reconnects() const { return reconnects_; }
    // A setting of the session (`sql` with its one parameter, $1, `value`), run now and again
    // after every reconnection.
    void set_for_session(std::string sql, std::string value);
    // Sends the deferred statements and waits for them; throws the first one's error.
    void flush();
    // Sends the deferred statements, ignoring their errors, then `rollback` (ROLLBACK, or
    // ROLLBACK TO SAVEPOINT …): what the deferred ones did or failed to do is undone either
    // way, and the transaction (or savepoint) is usable again.
    void rollback_with(std::string_view rollback);
    // How many rollbacks rollback_with has begun on this connection: what was read or
    // written since may not be what the database holds (releases.cpp forgets its cache).
    std::uint64_t rollbacks() const { return rollbacks_; }
    // Statements deferred and not yet sent.
    std::size_t deferred() const { return deferred_.size(); }

    // Client-side bounds, off until this is called (tools that migrate or copy a whole
    // database wait as long as the server works). From then on no wait for the server (one
    // round trip, or a new connection) lasts longer than `limit`, or than the deadline given
    // to answer_by when one is set: a server or network that stops answering (a stopped
    // process, packets dropped without a reset) fails the statement with
    // pg_error::unanswered, and the connection is closed, instead of holding the thread for
    // as long as TCP takes to notice. The server's own timeouts (statement_timeout,
    // lock_timeout) end a live server's waits before these do. For `retry_pause` after a
    // wait was given up, statements that need a new connection fail at once the same way,
    // rather than each waiting out its bound again.
    // Statements outside a transaction are also given `server_timeout` as the session's
    // statement_timeout, under `limit`: a live server that is slow cancels them itself (busy),
    // and keeps the connection.
    void bound_waits(std::chrono::milliseconds limit,
                     std::chrono::milliseconds retry_pause,
                     std::chrono::milliseconds server_timeout);
    // While set, a round trip's bound is `at` (a unit of work's deadline plus a margin), or
    // `min_wait` from the moment it is sent if that is later, but never more than
    // `past_answer_by` after `at` (the acks wait on it); nullopt: `limit` again.
    void answer_by(std::optional<std::chrono::steady_clock::time_point> at) { answer_by_ = at; }
    static constexpr std::chrono::milliseconds min_wait{500};
    static constexpr std::chrono::milliseconds past_answer_by{200};
    static constexpr std::chrono::milliseconds at_least{150};

    // Whether the connection is still usable (libpq's status is OK).
    bool healthy() const;
    // The server, as describe_url gives it.
    const std::string& server() const { return server_; }
    // Called before each statement, which waits for the server (and maybe for another
    // instance's lock): the bot lets its other thread answer Slack meanwhile.
    void before_waiting(std::function<void()> waiting) { waiting_ = std::move(waiting); }

private:
    struct pending {
        std::string sql;
        std::vector<param> params;
        result* into = nullptr;
        bool opens_transaction = false;
    };

    void set_up();
    void reconnect();
    // A new session on the same settings, within the current round trip's bound.
    void reset_within_bound();
    // The same with the host names looked up again, off this thread, within the same bound.
    void connect_within_bound();
    // The connection string's hosts with the addresses found, or pg_error (connecting
    // `again` or not) naming why no host has one.
    connect_hosts with_found(const found_addresses& found, std::string_view again) const;
    // Finishes the session and takes `fresh` (from libpq; nullptr: out of memory, thrown).
    void replace_connection(pg_conn* fresh);
    // Asks libpq (PQresetPoll when `resetting`, else PQconnectPoll) until the connection is
    // made or has failed, waiting on its socket within the round trip's bound.
    void poll_within_bound(bool resetting);
    // Starts a round trip's bound (none while bounds are off). `maybe_kept`: it holds a COMMIT,
    // or a change outside a transaction (if it goes unanswered, it may have been kept).
    void start_round_trip(bool maybe_kept);
    // Whether `sql`, once sent, may be kept whatever happens next: a COMMIT, or outside a
    // transaction a statement that changes data (it commits by itself).
    bool may_keep(std::string_view sql) const;
    // Throws pg_error::unanswered (maybe kept) if the round trip may have been kept and the
    // connection broke: nobody can say whether it was committed.
    void throw_if_lost_while_keeping() const;
    // Closes the socket (libpq then sees a broken connection) and throws pg_error::unanswered.
    [[noreturn]] void give_up(std::string_view waiting_for);
    // Reads when this session's server process started (backend_start_).
    void note_backend_start();
    // The error for a statement of a transaction whose connection is gone.
    pg_error lost() const;
    // Waits up to 25 ms for `events` on the socket; gives up (throws) past the round trip's
    // bound.
    void wait_for_socket(short events, std::string_view waiting_for);
    std::optional<result> send_pipeline(std::vector<pending>& batch, bool want_last);
    // Hands libpq's output buffer to the network: the connection is non-blocking, so a network
    // that stops taking bytes (a full send buffer) meets the round trip's bound, as a server
    // that stops answering does, instead of holding the database strand until TCP gives up.
    void send_all();
    // The next result of what was sent, calling `waiting_` every 25 ms while it waits.
    pg_result* next_result();

    result check(pg_result* r, std::string_view sql);
    // Sends what is deferred, then `last` (if any), in one pipeline; returns `last`'s result.
    // Throws the first error (after reading every answer, so the connection stays usable).
    std::optional<result> run_pipeline(pending* last);

    // Statements with parameters are prepared on first use, once per connection (by text;
    // every such text is written in relbot's code, values are parameters), up to this many.
    static constexpr std::size_t max_prepared = 512;

    pg_conn* conn_ = nullptr;
    // What a new connection needs: the operator's string (kept in memory only), its hosts,
    // the names among them that relbot looks up, how, and the lookup under way, if any.
    std::string url_;
    connect_hosts hosts_;
    std::vector<std::string> names_;
    lookup_function look_up_;
    std::optional<background_lookup> lookup_;
    static constexpr std::chrono::seconds lookup_kept_for{30};
    std::vector<pending> deferred_;
    std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
    std::uint64_t statements_named_ = 0;
    std::uint64_t rollbacks_ = 0;
    std::uint64_t reconnects_ = 0;
    bool in_transaction_ = false;
    int statement_timeout_ms_ = 0;
    std::vector<std::pair<std::string, std::string>> session_settings_;
    std::string server_;
    std::function<void()> waiting_;
    // Client-side bounds (bound_waits).
    std::chrono::milliseconds wait_limit_{0};  // 0: off
    std::chrono::milliseconds retry_pause_{0};
    std::optional<std::chrono::steady_clock::time_point> answer_by_;
    std::optional<std::chrono::steady_clock::time_point> round_trip_bound_;
    bool round_trip_maybe_kept_ = false;
    int backend_pid_ = 0;        // the server process of this session
    std::string backend_start_;  // and when it started (bounded connections only)
    std::chrono::steady_clock::time_point unanswered_until_{};  // no new connection before
    bool closed_by_bound_ = false;  // give_up closed it; a new connection clears it
};

}  // namespace relbot::storage::postgres
