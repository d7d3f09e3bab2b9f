#include "storage/postgres/connection.hpp"

#include <dlfcn.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <type_traits>

namespace relbot::storage::postgres {

namespace {

// libpq's messages end with a newline; ours are one line.
std::string one_line(const char* text) {
    std::string s = text == nullptr ? "" : text;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    for (auto& c : s) {
        if (c == '\n') {
            c = ' ';
        }
    }
    return s;
}

// The first line of a statement, for an error message (statements hold no secrets).
std::string first_line(std::string_view sql) {
    auto start = sql.find_first_not_of(" \n");
    if (start == std::string_view::npos) {
        return "";
    }
    sql.remove_prefix(start);
    auto line = sql.substr(0, sql.find('\n'));
    return std::string(line.substr(0, 80));
}

// Whether a statement changes data (outside a transaction it commits by itself): it is an
// INSERT, UPDATE or DELETE, or a WITH holding one (every statement is relbot's own text).
bool data_change(std::string_view sql) {
    auto start = sql.find_first_not_of(" \n");
    if (start == std::string_view::npos) {
        return false;
    }
    sql.remove_prefix(start);
    for (std::string_view word : {"INSERT", "UPDATE", "DELETE"}) {
        if (sql.substr(0, word.size()) == word) {
            return true;
        }
    }
    // A WITH changes data when one of its parts does (relbot writes these words in capitals).
    return sql.substr(0, 4) == "WITH" && (sql.find("INSERT ") != std::string_view::npos ||
                                          sql.find("UPDATE ") != std::string_view::npos ||
                                          sql.find("DELETE ") != std::string_view::npos);
}

// A result this code owns until it hands it on (result's constructor takes it).
struct clear_result {
    void operator()(pg_result* r) const;
};
using owned_result = std::unique_ptr<pg_result, clear_result>;

// libpq is loaded the first time relbot talks to PostgreSQL, not linked: a relbot on SQLite
// never maps it and the dozen libraries it brings (Kerberos, LDAP, SASL, GnuTLS …), which
// cost some 4 MiB of resident memory in every process. The calls below go through `pq()`.
struct libpq_functions {
    decltype(&PQbackendPID) backendPID = nullptr;
    decltype(&PQclear) clear = nullptr;
    decltype(&PQcmdStatus) cmdStatus = nullptr;
    decltype(&PQcmdTuples) cmdTuples = nullptr;
    decltype(&PQconnectdbParams) connectdbParams = nullptr;
    decltype(&PQconnectPoll) connectPoll = nullptr;
    decltype(&PQconnectStartParams) connectStartParams = nullptr;
    decltype(&PQconninfoFree) conninfoFree = nullptr;
    decltype(&PQconninfoParse) conninfoParse = nullptr;
    decltype(&PQenterPipelineMode) enterPipelineMode = nullptr;
    decltype(&PQerrorMessage) errorMessage = nullptr;
    decltype(&PQexitPipelineMode) exitPipelineMode = nullptr;
    decltype(&PQfinish) finish = nullptr;
    decltype(&PQflush) flush = nullptr;
    decltype(&PQfname) fname = nullptr;
    decltype(&PQfreemem) freemem = nullptr;
    decltype(&PQgetResult) getResult = nullptr;
    decltype(&PQisBusy) isBusy = nullptr;
    decltype(&PQsocket) socket = nullptr;
    decltype(&PQconsumeInput) consumeInput = nullptr;
    decltype(&PQgetisnull) getisnull = nullptr;
    decltype(&PQgetlength) getlength = nullptr;
    decltype(&PQgetvalue) getvalue = nullptr;
    decltype(&PQnfields) nfields = nullptr;
    decltype(&PQntuples) ntuples = nullptr;
    decltype(&PQpipelineSync) pipelineSync = nullptr;
    decltype(&PQreset) reset = nullptr;
    decltype(&PQresetPoll) resetPoll = nullptr;
    decltype(&PQresetStart) resetStart = nullptr;
    decltype(&PQresultErrorField) resultErrorField = nullptr;
    decltype(&PQresultErrorMessage) resultErrorMessage = nullptr;
    decltype(&PQresultStatus) resultStatus = nullptr;
    decltype(&PQsendPrepare) sendPrepare = nullptr;
    decltype(&PQsendQuery) sendQuery = nullptr;
    decltype(&PQsendQueryParams) sendQueryParams = nullptr;
    decltype(&PQsendQueryPrepared) sendQueryPrepared = nullptr;
    decltype(&PQsetNoticeProcessor) setNoticeProcessor = nullptr;
    decltype(&PQsetnonblocking) setnonblocking = nullptr;
    decltype(&PQstatus) status = nullptr;
};

const libpq_functions& pq() {
    static const libpq_functions loaded = [] {
        void* lib = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
        if (lib == nullptr) {
            const char* why = ::dlerror();
            throw pg_error(
                std::string("cannot load PostgreSQL's client library libpq.so.5 (install "
                            "Debian's libpq5): ") +
                    (why == nullptr ? "not found" : why),
                "");
        }
        libpq_functions f;
        auto resolve = [lib](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
            if (fn == nullptr) {
                throw pg_error(std::string("libpq.so.5 has no ") + name +
                                   " (PostgreSQL 14 or later is needed)",
                               "");
            }
        };
        resolve(f.backendPID, "PQbackendPID");
        resolve(f.clear, "PQclear");
        resolve(f.cmdStatus, "PQcmdStatus");
        resolve(f.cmdTuples, "PQcmdTuples");
        resolve(f.connectdbParams, "PQconnectdbParams");
        resolve(f.connectPoll, "PQconnectPoll");
        resolve(f.connectStartParams, "PQconnectStartParams");
        resolve(f.conninfoFree, "PQconninfoFree");
        resolve(f.conninfoParse, "PQconninfoParse");
        resolve(f.enterPipelineMode, "PQenterPipelineMode");
        resolve(f.errorMessage, "PQerrorMessage");
        resolve(f.exitPipelineMode, "PQexitPipelineMode");
        resolve(f.finish, "PQfinish");
        resolve(f.flush, "PQflush");
        resolve(f.fname, "PQfname");
        resolve(f.freemem, "PQfreemem");
        resolve(f.getResult, "PQgetResult");
        resolve(f.isBusy, "PQisBusy");
        resolve(f.socket, "PQsocket");
        resolve(f.consumeInput, "PQconsumeInput");
        resolve(f.getisnull, "PQgetisnull");
        resolve(f.getlength, "PQgetlength");
        resolve(f.getvalue, "PQgetvalue");
        resolve(f.nfields, "PQnfields");
        resolve(f.ntuples, "PQntuples");
        resolve(f.pipelineSync, "PQpipelineSync");
        resolve(f.reset, "PQreset");
        resolve(f.resetPoll, "PQresetPoll");
        resolve(f.resetStart, "PQresetStart");
        resolve(f.resultErrorField, "PQresultErrorField");
        resolve(f.resultErrorMessage, "PQresultErrorMessage");
        resolve(f.resultStatus, "PQresultStatus");
        resolve(f.sendPrepare, "PQsendPrepare");
        resolve(f.sendQuery, "PQsendQuery");
        resolve(f.sendQueryParams, "PQsendQueryParams");
        resolve(f.sendQueryPrepared, "PQsendQueryPrepared");
        resolve(f.setNoticeProcessor, "PQsetNoticeProcessor");
        resolve(f.setnonblocking, "PQsetnonblocking");
        resolve(f.status, "PQstatus");
        return f;  // `lib` stays loaded for the life of the process
    }();
    return loaded;
}

// What a connection string sets (keyword → value, unset ones left out), as libpq reads it;
// nullopt when it cannot (its error, which may quote the password, is dropped).
std::optional<std::map<std::string, std::string>> conninfo_of(const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* options = pq().conninfoParse(url.c_str(), &error);
    if (options == nullptr) {
        pq().freemem(error);
        return std::nullopt;
    }
    std::map<std::string, std::string> said;
    for (auto* o = options; o->keyword != nullptr; ++o) {
        if (o->val != nullptr) {
            said.emplace(o->keyword, o->val);
        }
    }
    pq().conninfoFree(options);
    return said;
}

}  // namespace

std::string describe_url(const std::string& url) {
    try {
        pq();
    } catch (const pg_error&) {
        // Never throws: connecting will say what is missing.
        return "(a PostgreSQL server; libpq.so.5 is not installed)";
    }
    auto said = conninfo_of(url);
    if (!said) {
        return "(unreadable connection string)";
    }
    auto user = (*said)["user"];
    auto host = (*said)["host"].empty() ? (*said)["hostaddr"] : (*said)["host"];
    auto port = (*said)["port"];
    auto dbname = (*said)["dbname"];
    std::string out = user.empty() ? "" : user + "@";
    out += host.empty() ? "localhost" : host;
    if (!port.empty()) {
        out += ":" + port;
    }
    return out + "/" + dbname;
}

std::optional<std::string> url_problem(const std::string& url) {
    const libpq_functions* lib = nullptr;
    try {
        lib = &pq();
    } catch (const pg_error&) {
        return std::nullopt;
    }
    char* error = nullptr;
    PQconninfoOption* options = lib->conninfoParse(url.c_str(), &error);
    if (options != nullptr) {
        // libpq reads sslmode's value only when it connects: checked here, so that a typo is
        // a configuration error rather than a start-up failure.
        std::optional<std::string> problem;
        for (auto* o = options; o->keyword != nullptr; ++o) {
            if (std::string_view(o->keyword) == "sslmode" && o->val != nullptr) {
                std::string_view v = o->val;
                if (v != "disable" && v != "allow" && v != "prefer" && v != "require" &&
                    v != "verify-ca" && v != "verify-full") {
                    problem =
                        "invalid sslmode value; it is one of disable, allow, prefer, "
                        "require, verify-ca, verify-full";
                }
            }
        }
        lib->conninfoFree(options);
        return problem;
    }
    std::string said = error == nullptr ? "out of memory" : one_line(error);
    lib->freemem(error);
    // libpq quotes what it could not read, which may be the password (and may itself hold a
    // quote): only its words before the first quote stay.
    std::string words = said.substr(0, said.find('"'));
    while (!words.empty() && (words.back() == ' ' || words.back() == ':')) {
        words.pop_back();
    }
    return words.empty() ? std::string("unreadable") : words;
}

void clear_result::operator()(pg_result* r) const {
    pq().clear(r);
}

void result::free_result::operator()(pg_result* r) const {
    pq().clear(r);
}

result::result(pg_result* r) : r_(r) {}

int result::rows() const {
    return pq().ntuples(r_.get());
}

int result::columns() const {
    return pq().nfields(r_.get());
}

bool result::is_null(int row, int column) const {
    return pq().getisnull(r_.get(), row, column) != 0;
}

std::string result::text(int row, int column) const {
    return std::string(pq().getvalue(r_.get(), row, column),
                       static_cast<std::size_t>(pq().getlength(r_.get(), row, column)));
}

std::int64_t result::integer(int row, int column) const {
    auto v = optional_integer(row, column);
    if (!v) {
        throw pg_error("column " + std::string(pq().fname(r_.get(), column)) + " is null", "");
    }
    return *v;
}

std::optional<std::int64_t> result::optional_integer(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    const char* text = pq().getvalue(r_.get(), row, column);
    auto length = static_cast<std::size_t>(pq().getlength(r_.get(), row, column));
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text, text + length, n);
    if (ec != std::errc{} || end != text + length) {
        throw pg_error("column " + std::string(pq().fname(r_.get(), column)) +
                           " is not an integer: " + std::string(text, length),
                       "");
    }
    return n;
}

long long result::affected() const {
    const char* n = pq().cmdTuples(r_.get());
    return n == nullptr || *n == '\0' ? 0 : std::stoll(n);
}

std::string result::tag() const {
    const char* t = pq().cmdStatus(r_.get());
    return t == nullptr ? std::string() : std::string(t);
}

namespace {

// The hosts, addresses and ports a connection string gives (an unreadable one: none).
connect_hosts hosts_of(const std::string& url) {
    auto said = conninfo_of(url);
    if (!said) {
        return {};
    }
    return {(*said)["host"], (*said)["hostaddr"], (*said)["port"]};
}

// libpq's keywords and values for a connection, in the order libpq reads them (a later one
// wins): relbot's defaults; the operator's string (`dbname`, expanded), whose settings win
// over them; then, when relbot looked the host names up, the hosts with their addresses.
// Keepalives and a TCP user timeout: a server or network that goes silent fails this
// connection's statements within about 20 s instead of holding the loop for hours.
struct connect_params {
    // `url` must outlive the object; the hosts are its own.
    connect_params(const std::string& url, std::optional<connect_hosts> hosts_given)
        : hosts(std::move(hosts_given)) {
        add("connect_timeout", "10");
        add("application_name", "relbot");
        add("keepalives", "1");
        add("keepalives_idle", "10");
        add("keepalives_interval", "3");
        add("keepalives_count", "3");
        add("tcp_user_timeout", "20000");
        add("dbname", url.c_str());
        if (hosts) {
            add("host", hosts->host.c_str());
            add("hostaddr", hosts->hostaddr.c_str());
            add("port", hosts->port.c_str());
        }
        keywords.push_back(nullptr);
        values.push_back(nullptr);
    }
    void add(const char* k, const char* v) {
        keywords.push_back(k);
        values.push_back(v);
    }
    connect_params(const connect_params&) = delete;
    connect_params& operator=(const connect_params&) = delete;
    std::optional<connect_hosts> hosts;  // the lists below point into it
    std::vector<const char*> keywords;
    std::vector<const char*> values;
};

}  // namespace

connection::connection(const std::string& url, int statement_timeout_ms, lookup_function look_up)
    : server_(describe_url(url)) {
    if (auto problem = url_problem(url)) {
        // libpq's own message would quote the unreadable part, password included.
        throw pg_error("cannot read the PostgreSQL connection string: " + *problem, "");
    }
    url_ = url;
    look_up_ = std::move(look_up);
    hosts_ = hosts_of(url);
    names_ = names_to_look_up(hosts_);
    if (const char* given = std::getenv("PGHOSTADDR"); given != nullptr && *given != '\0') {
        names_.clear();  // libpq connects to the addresses the environment gives
    }
    // Starting: the names are looked up here, on this thread, as libpq would (nothing else
    // waits yet); afterwards by reconnect(), off the database strand when bounds are on.
    std::optional<connect_hosts> addressed;
    if (!names_.empty()) {
        addressed = with_found(look_up_now(names_, look_up_), "");
    }
    connect_params params(url_, addressed);
    conn_ = pq().connectdbParams(params.keywords.data(), params.values.data(), 1);
    if (conn_ == nullptr) {
        throw pg_error("cannot connect to PostgreSQL at " + server_ + ": out of memory", "");
    }
    if (pq().status(conn_) != CONNECTION_OK) {
        auto reason = one_line(pq().errorMessage(conn_));
        pq().finish(conn_);
        conn_ = nullptr;
        throw pg_error("cannot connect to PostgreSQL at " + server_ + ": " + reason, "");
    }
    statement_timeout_ms_ = statement_timeout_ms;
    set_up();
}

void connection::set_up() {
    // Sending never blocks: what the network does not take at once is sent by send_all,
    // within the round trip's bound.
    if (pq().setnonblocking(conn_, 1) != 0) {
        throw pg_error("PostgreSQL at " + server_ + ": cannot make the connection non-blocking: " +
                           one_line(pq().errorMessage(conn_)),
                       "");
    }
    backend_pid_ = pq().backendPID(conn_);
    backend_start_.clear();
    // The server's notices ("relation already exists, skipping") would go to stderr, outside
    // relbot's log format; none of them needs an operator.
    pq().setNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    exec("SET TimeZone = 'UTC'");
    exec("SET client_encoding = 'UTF8'");
    // The server side of the same: if this host dies without closing the connection, the
    // server ends the session (and releases its locks, which other instances may be waiting
    // for) within about 20 s, not after the kernel's two hours; a transaction left idle is
    // ended after 30 s (relbot never leaves one idle).
    exec(
        "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 3; "
        "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 20000; "
        "SET idle_in_transaction_session_timeout = 30000");
    exec("SELECT set_config('statement_timeout', $1, false)",
         {std::to_string(statement_timeout_ms_)});
    for (const auto& [sql, value] : session_settings_) {
        exec(sql, {value});
    }
    if (wait_limit_.count() > 0) {
        note_backend_start();
    }
}

void connection::note_backend_start() {
    // With the pid, names this session for pg_terminate_backend after a give-up (a pid is
    // reused, and one behind a pooler is not the server's).
    auto r = exec("SELECT backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()");
    backend_start_ = r.rows() == 1 ? r.text(0, 0) : std::string();
}

void connection::set_for_session(std::string sql, std::string value) {
    exec(sql, {value});
    session_settings_.emplace_back(std::move(sql), std::move(value));
}

void connection::reconnect() {
    // A new session: what the old one prepared, and any statement meant for its transaction,
    // went with it.
    deferred_.clear();
    prepared_.clear();
    if (wait_limit_.count() == 0 && names_.empty()) {
        pq().reset(conn_);
    } else if (wait_limit_.count() == 0) {
        // Looked up again (PQreset would keep the addresses found at the start).
        connect_params params(url_, with_found(look_up_now(names_, look_up_), " again"));
        replace_connection(pq().connectdbParams(params.keywords.data(), params.values.data(), 1));
    } else {
        if (std::chrono::steady_clock::now() < unanswered_until_) {
            throw pg_error::unanswered("PostgreSQL at " + server_ +
                                           " did not answer a moment ago; relbot connects "
                                           "again in a few seconds",
                                       false);
        }
        start_round_trip(false);
        if (names_.empty()) {
            reset_within_bound();
        } else {
            connect_within_bound();
        }
    }
    if (pq().status(conn_) != CONNECTION_OK) {
        throw pg_error("cannot connect to PostgreSQL at " + server_ +
                           " again: " + one_line(pq().errorMessage(conn_)),
                       "08006");
    }
    // A session given up on may still hold its transaction's locks on the server (its end
    // has not reached the server yet, if the network drops packets): ended below.
    bool gave_up = closed_by_bound_;
    auto old_pid = backend_pid_;
    auto old_start = backend_start_;
    closed_by_bound_ = false;
    ++reconnects_;
    try {
        set_up();
    } catch (...) {
        closed_by_bound_ = gave_up;  // not set up: connected again next time
        throw;
    }
    if (gave_up && old_pid > 0 && old_pid != backend_pid_ && !old_start.empty()) {
        try {
            exec(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND "
                "backend_start::text = $2",
                {old_pid, old_start});
        } catch (const pg_error&) {
            // Best effort: the server ends it anyway once it notices (keepalives, 30 s idle).
        }
        if (!healthy()) {
            throw pg_error::unanswered(
                "PostgreSQL at " + server_ + " did not answer a new connection in time", false);
        }
    }
}

void connection::reset_within_bound() {
    if (pq().resetStart(conn_) != 1) {
        return;  // the status says it failed, and errorMessage why
    }
    poll_within_bound(true);
}

void connection::connect_within_bound() {
    // One lookup at a time: a reconnection given up on while its lookup went on waits for
    // that lookup next time, rather than starting another beside it (a resolver that hangs
    // costs one thread per name, not one per attempt); an answer that came long ago may no
    // longer be the name's, and is asked again.
    if (lookup_ && lookup_->done() &&
        std::chrono::steady_clock::now() - lookup_->started() > lookup_kept_for) {
        lookup_.reset();
    }
    std::optional<found_addresses> found;
    try {
        if (!lookup_) {
            lookup_.emplace(names_, look_up_);
        }
        found = lookup_->wait_until(
            round_trip_bound_.value_or(std::chrono::steady_clock::now() + wait_limit_), waiting_);
    } catch (const std::exception& e) {
        lookup_.reset();
        throw pg_error("cannot connect to PostgreSQL at " + server_ + " again: " + e.what(),
                       "08006");
    }
    if (!found) {
        round_trip_bound_.reset();
        unanswered_until_ = std::chrono::steady_clock::now() + retry_pause_;
        throw pg_error::unanswered("the host name of PostgreSQL at " + server_ +
                                       " was not looked up in time; relbot connects again in "
                                       "a few seconds",
                                   false);
    }
    lookup_.reset();  // looked up again at the next reconnection: addresses change
    connect_params params(url_, with_found(*found, " again"));
    replace_connection(pq().connectStartParams(params.keywords.data(), params.values.data(), 1));
    if (pq().status(conn_) == CONNECTION_BAD) {
        return;  // the status says it failed, and errorMessage why
    }
    poll_within_bound(false);
}

connect_hosts connection::with_found(const found_addresses& found, std::string_view again) const {
    // Names that did not resolve are left out; an IP address or a socket folder beside them
    // is still tried, as libpq would.
    auto hosts = with_addresses(hosts_, found.addresses);
    if (hosts.host.empty()) {
        throw pg_error("cannot connect to PostgreSQL at " + server_ + std::string(again) + ": " +
                           found.first_error(),
                       again.empty() ? "" : "08006");
    }
    return hosts;
}

void connection::replace_connection(pg_conn* fresh) {
    if (fresh == nullptr) {
        throw pg_error("cannot connect to PostgreSQL at " + server_ + " again: out of memory",
                       "08006");
    }
    pq().finish(conn_);
    conn_ = fresh;
}

void connection::poll_within_bound(bool resetting) {
    auto* poll = resetting ? pq().resetPoll : pq().connectPoll;
    // libpq says which way the socket must be ready before it is asked again.
    auto state = PGRES_POLLING_WRITING;
    while (state != PGRES_POLLING_OK && state != PGRES_POLLING_FAILED) {
        wait_for_socket(state == PGRES_POLLING_READING ? POLLIN : POLLOUT, "a new connection");
        state = poll(conn_);
    }
}

void connection::bound_waits(std::chrono::milliseconds limit,
                             std::chrono::milliseconds retry_pause,
                             std::chrono::milliseconds server_timeout) {
    // The server's own timeout first: a live server that is slow answers "cancelled" (busy),
    // and the connection is kept; only one that does not answer at all meets the bound.
    statement_timeout_ms_ = static_cast<int>(server_timeout.count());
    wait_limit_ = limit;
    retry_pause_ = retry_pause;
    try {
        exec("SELECT set_config('statement_timeout', $1, false)",
             {std::to_string(statement_timeout_ms_)});
        note_backend_start();
    } catch (const pg_error&) {
        // Set again by the next connection (set_up); the bounds hold meanwhile.
    }
}

void connection::start_round_trip(bool maybe_kept) {
    round_trip_maybe_kept_ = maybe_kept;
    if (wait_limit_.count() == 0) {
        round_trip_bound_.reset();
        return;
    }
    auto now = std::chrono::steady_clock::now();
    // Never less than `at_least` from now: a round trip sent late (a batch whose inputs waited
    // for locks until its deadline) still gives a live server time to answer, rather than being
    // given up on as it is sent.
    round_trip_bound_ =
        answer_by_ ? std::max(std::clamp(now + min_wait, *answer_by_, *answer_by_ + past_answer_by),
                              now + at_least)
                   : now + wait_limit_;
}

bool connection::may_keep(std::string_view sql) const {
    return sql == "COMMIT" || (!in_transaction_ && data_change(sql));
}

void connection::throw_if_lost_while_keeping() const {
    if (round_trip_maybe_kept_ && conn_ != nullptr && pq().status(conn_) != CONNECTION_OK) {
        throw pg_error::unanswered(
            "PostgreSQL at " + server_ + ": the connection was lost after a change was sent (" +
                one_line(pq().errorMessage(conn_)) + "), so whether it was committed is unknown",
            true);
    }
}

void connection::wait_for_socket(short events, std::string_view waiting_for) {
    for (;;) {
        int timeout_ms = 25;
        if (round_trip_bound_) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            *round_trip_bound_ - std::chrono::steady_clock::now())
                            .count();
            if (left <= 0) {
                give_up(waiting_for);
            }
            timeout_ms = static_cast<int>(std::min<long long>(timeout_ms, left));
        }
        pollfd ready{pq().socket(conn_), events, 0};
        if (ready.fd < 0) {
            return;  // no socket: libpq says why when asked next
        }
        int n = ::poll(&ready, 1, timeout_ms);
        // While the server works (or waits for another session's lock), say so every 25 ms:
        // the bot keeps its second thread answering Slack for as long as this waits.
        if (waiting_) {
            waiting_();
        }
        if (n != 0) {
            return;  // ready, or an error libpq will read
        }
    }
}

void connection::give_up(std::string_view waiting_for) {
    bool maybe_kept = round_trip_maybe_kept_;
    round_trip_bound_.reset();
    unanswered_until_ = std::chrono::steady_clock::now() + retry_pause_;
    closed_by_bound_ = true;
    if (int fd = pq().socket(conn_); fd >= 0) {
        // libpq reads the end of the connection next, and marks it broken; the server ends
        // the session (rolling back what it had not committed) when it sees the same.
        ::shutdown(fd, SHUT_RDWR);
        pq().consumeInput(conn_);
    }
    throw pg_error::unanswered(
        "PostgreSQL at " + server_ + " did not answer (waiting for " + std::string(waiting_for) +
            ") in time; relbot closed the connection" +
            (maybe_kept ? ", so whether the transaction was committed is unknown" : ""),
        maybe_kept);
}

connection::~connection() {
    if (conn_ != nullptr) {
        pq().finish(conn_);
    }
}

bool connection::healthy() const {
    return conn_ != nullptr && !closed_by_bound_ && pq().status(conn_) == CONNECTION_OK;
}

pg_error connection::lost() const {
    if (closed_by_bound_) {
        return pg_error::unanswered("PostgreSQL at " + server_ +
                                        " did not answer; the transaction went with the "
                                        "connection (nothing of it was kept)",
                                    false);
    }
    // Never a COMMIT on a new session: it would answer COMMIT for a transaction the old one
    // lost.
    return pg_error("PostgreSQL at " + server_ +
                        ": the connection was lost; the transaction with it (nothing of it was "
                        "kept)",
                    "08006");
}

result connection::exec(std::string_view sql) {
    if (!deferred_.empty()) {
        if (sql.find(';') == std::string_view::npos) {
            pending last{std::string(sql), {}, nullptr};
            return std::move(*run_pipeline(&last));
        }
        flush();  // a pipeline takes one statement at a time
    }
    if (!healthy()) {
        if (in_transaction_) {
            throw lost();
        }
        reconnect();
    }
    if (waiting_) {
        waiting_();
    }
    start_round_trip(may_keep(sql));
    if (pq().sendQuery(conn_, std::string(sql).c_str()) != 1) {
        return check(nullptr, sql);  // nothing was sent: throws, in libpq's words
    }
    send_all();
    // As PQexec answers: the last result, or the first error (the statements after it did
    // not run).
    auto failed = [](pg_result* r) {
        auto st = pq().resultStatus(r);
        return st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE;
    };
    owned_result kept;
    while (pg_result* r = next_result()) {
        if (kept && failed(kept.get())) {
            pq().clear(r);
        } else {
            kept.reset(r);
        }
    }
    throw_if_lost_while_keeping();
    return check(kept.release(), sql);
}

result connection::exec(std::string_view sql, std::initializer_list<param> params) {
    return exec(sql, std::vector<param>(params));
}

result connection::exec(std::string_view sql, const std::vector<param>& params) {
    pending last{std::string(sql), params, nullptr};
    return std::move(*run_pipeline(&last));
}

void connection::defer(std::string_view sql, std::vector<param> params, result* into) {
    deferred_.push_back({std::string(sql), std::move(params), into});
}

void connection::flush() {
    if (!deferred_.empty()) {
        run_pipeline(nullptr);
    }
}

void connection::rollback_with(std::string_view rollback) {
    ++rollbacks_;
    try {
        flush();
    } catch (const pg_error&) {
        // Undone by the rollback below, like everything else the deferred statements did.
    }
    exec(rollback);
}

std::optional<result> connection::run_pipeline(pending* last) {
    // Taken now: whatever happens below, these statements are sent at most once (but below).
    auto batch = std::move(deferred_);
    deferred_.clear();
    if (last != nullptr) {
        batch.push_back(std::move(*last));
    }
    // A batch that opens a transaction holds all of it so far: if the connection turns out to
    // be gone (the server restarted, or ended the session), nothing of it ran, and it is sent
    // once more on a new connection. Any other batch fails; the next one reconnects.
    bool opens = !batch.empty() && batch.front().opens_transaction;
    // Never sent again if it ends its transaction: the server may have committed it before the
    // connection went (its answer lost), and a second run would apply it twice.
    bool ends = std::any_of(batch.begin(), batch.end(), [](const pending& p) {
        return p.sql == "COMMIT" || p.sql == "ROLLBACK";
    });
    bool resendable = opens && !ends;
    if (!healthy()) {
        if (!opens && in_transaction_) {
            throw lost();
        }
        reconnect();
    }
    try {
        return send_pipeline(batch, last != nullptr);
    } catch (const pg_error& e) {
        // A server that did not answer is not asked again at once (the bound was its chance).
        if (!resendable || healthy() || e.unanswered()) {
            throw;
        }
    }
    reconnect();
    return send_pipeline(batch, last != nullptr);
}

void connection::send_all() {
    // 1: some is still in libpq's buffer; 0: all sent; -1: the connection broke (the next
    // read says how).
    while (pq().flush(conn_) == 1) {
        // The server may be sending meanwhile (libpq reads it first, so that neither side
        // waits for the other).
        wait_for_socket(POLLOUT | POLLIN, "the network to take the statements");
        if (pq().consumeInput(conn_) == 0) {
            return;
        }
    }
}

pg_result* connection::next_result() {
    while (pq().isBusy(conn_) != 0) {
        if (pq().socket(conn_) < 0) {
            break;  // no connection: getResult says so
        }
        wait_for_socket(POLLIN, "an answer");
        if (pq().consumeInput(conn_) == 0) {
            break;  // the connection broke: getResult returns the error
        }
    }
    return pq().getResult(conn_);
}

std::optional<result> connection::send_pipeline(std::vector<pending>& batch, bool want_last) {
    pending* last = want_last ? &batch.back() : nullptr;
    if (waiting_) {
        waiting_();
    }
    start_round_trip(
        std::any_of(batch.begin(), batch.end(), [&](const pending& p) { return may_keep(p.sql); }));
    auto broken = [&](const std::string& what) {
        return pg_error(
            "PostgreSQL at " + server_ + ": " + what + ": " + one_line(pq().errorMessage(conn_)),
            "");
    };
    if (pq().enterPipelineMode(conn_) != 1) {
        throw broken("cannot send statements together");
    }
    // What comes back, in order: for a statement not yet prepared on this connection, first
    // the answer to its preparation (a statement with parameters is prepared once: the
    // server parses and plans it once, not on every call), then its rows.
    struct expected {
        std::size_t index;             // into batch
        const std::string* preparing;  // the name being prepared, or null: the statement's rows
    };
    std::vector<expected> answers;
    std::optional<pg_error> first_error;
    std::vector<std::string> names;  // stable storage for names prepared in this pipeline
    names.reserve(batch.size());
    std::unordered_map<std::string_view, const std::string*> preparing;
    for (std::size_t i = 0; i < batch.size() && !first_error; ++i) {
        const auto& p = batch[i];
        std::vector<const char*> values;
        values.reserve(p.params.size());
        for (const auto& v : p.params) {
            values.push_back(v.text() ? v.text()->c_str() : nullptr);
        }
        auto n = static_cast<int>(values.size());
        const std::string* name = nullptr;
        bool sent = false;
        if (n > 0) {
            if (auto it = prepared_.find(p.sql); it != prepared_.end()) {
                name = &it->second;
            } else if (auto here = preparing.find(p.sql); here != preparing.end()) {
                name = here->second;  // prepared earlier in this same pipeline
            } else if (prepared_.size() + names.size() < max_prepared) {
                names.push_back("relbot_" + std::to_string(++statements_named_));
                preparing.emplace(p.sql, &names.back());
                if (pq().sendPrepare(conn_, names.back().c_str(), p.sql.c_str(), n, nullptr) != 1) {
                    first_error = broken("cannot send (in: " + first_line(p.sql) + ")");
                    break;
                }
                answers.push_back({i, &names.back()});
                name = &names.back();
            }
        }
        if (name != nullptr) {
            sent = pq().sendQueryPrepared(conn_, name->c_str(), n, values.data(), nullptr, nullptr,
                                          0) == 1;
        } else {
            sent = pq().sendQueryParams(conn_, p.sql.c_str(), n, nullptr, values.data(), nullptr,
                                        nullptr, 0) == 1;
        }
        if (!sent) {
            first_error = broken("cannot send (in: " + first_line(p.sql) + ")");
            break;
        }
        answers.push_back({i, nullptr});
    }
    std::optional<result> last_result;
    if (pq().pipelineSync(conn_) != 1) {
        // Nothing can be read back: the connection is gone (healthy() says so). What was
        // flushed before may have run.
        throw_if_lost_while_keeping();
        throw first_error ? *first_error : broken("cannot send statements together");
    }
    send_all();
    for (const auto& a : answers) {
        owned_result r(next_result());
        if (!r) {
            first_error = first_error ? first_error : broken("no answer");
            break;
        }
        auto status = pq().resultStatus(r.get());
        // Each answer is followed by a null (the end of that statement's results).
        while (pg_result* extra = next_result()) {
            pq().clear(extra);
        }
        if (status == PGRES_PIPELINE_ABORTED) {
            continue;  // not run: a statement before it failed
        }
        const auto& p = batch[a.index];
        try {
            auto checked = check(r.release(), p.sql);
            if (a.preparing != nullptr) {
                prepared_.emplace(p.sql, *a.preparing);
            } else if (p.into != nullptr) {
                *p.into = std::move(checked);
            } else if (last != nullptr && a.index + 1 == batch.size()) {
                last_result.emplace(std::move(checked));
            }
        } catch (const pg_error& e) {
            if (!first_error) {
                first_error = e;
            }
        }
    }
    // The synchronization point ends the pipeline (and, after an error, its aborted state).
    while (pg_result* r = next_result()) {
        bool sync = pq().resultStatus(r) == PGRES_PIPELINE_SYNC;
        pq().clear(r);
        if (sync) {
            break;
        }
    }
    pq().exitPipelineMode(conn_);
    throw_if_lost_while_keeping();
    if (first_error) {
        throw *first_error;
    }
    if (last != nullptr && !last_result) {
        throw broken("no answer");
    }
    return last_result;
}

result connection::check(pg_result* r, std::string_view sql) {
    result out(r);
    auto status = r == nullptr ? PGRES_FATAL_ERROR : pq().resultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
        return out;
    }
    const char* state = r == nullptr ? nullptr : pq().resultErrorField(r, PG_DIAG_SQLSTATE);
    auto message =
        r == nullptr ? one_line(pq().errorMessage(conn_)) : one_line(pq().resultErrorMessage(r));
    throw pg_error("PostgreSQL at " + server_ + ": " + message + " (in: " + first_line(sql) + ")",
                   state == nullptr ? "" : state);
}

}  // namespace relbot::storage::postgres
