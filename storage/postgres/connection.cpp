#include "storage/postgres/connection.hpp"

#include <libpq-fe.h>

#include <charconv>

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

}  // namespace

std::string describe_url(const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (options == nullptr) {
        PQfreemem(error);  // it may quote the string, password included
        return "(unreadable connection string)";
    }
    std::string user, host, port, dbname;
    for (auto* o = options; o->keyword != nullptr; ++o) {
        std::string_view key = o->keyword;
        std::string value = o->val == nullptr ? "" : o->val;
        if (key == "user") {
            user = value;
        } else if (key == "host" || (key == "hostaddr" && host.empty())) {
            host = value;
        } else if (key == "port") {
            port = value;
        } else if (key == "dbname") {
            dbname = value;
        }
    }
    PQconninfoFree(options);
    std::string out = user.empty() ? "" : user + "@";
    out += host.empty() ? "localhost" : host;
    if (!port.empty()) {
        out += ":" + port;
    }
    return out + "/" + dbname;
}

void result::free_result::operator()(pg_result* r) const {
    PQclear(r);
}

result::result(pg_result* r) : r_(r) {}

int result::rows() const {
    return PQntuples(r_.get());
}

int result::columns() const {
    return PQnfields(r_.get());
}

bool result::is_null(int row, int column) const {
    return PQgetisnull(r_.get(), row, column) != 0;
}

std::string result::text(int row, int column) const {
    return std::string(PQgetvalue(r_.get(), row, column),
                       static_cast<std::size_t>(PQgetlength(r_.get(), row, column)));
}

std::int64_t result::integer(int row, int column) const {
    auto v = optional_integer(row, column);
    if (!v) {
        throw pg_error("column " + std::string(PQfname(r_.get(), column)) + " is null", "");
    }
    return *v;
}

std::optional<std::int64_t> result::optional_integer(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    const char* text = PQgetvalue(r_.get(), row, column);
    auto length = static_cast<std::size_t>(PQgetlength(r_.get(), row, column));
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text, text + length, n);
    if (ec != std::errc{} || end != text + length) {
        throw pg_error("column " + std::string(PQfname(r_.get(), column)) +
                           " is not an integer: " + std::string(text, length),
                       "");
    }
    return n;
}

long long result::affected() const {
    const char* n = PQcmdTuples(r_.get());
    return n == nullptr || *n == '\0' ? 0 : std::stoll(n);
}

std::string result::tag() const {
    const char* t = PQcmdStatus(r_.get());
    return t == nullptr ? std::string() : std::string(t);
}

connection::connection(const std::string& url, int statement_timeout_ms)
    : server_(describe_url(url)) {
    // Defaults first: what the operator's string says (dbname, expanded) comes after and wins.
    // Keepalives and a TCP user timeout: a server or network that goes silent fails this
    // connection's statements within about 20 s instead of holding the loop for hours.
    const char* const keywords[] = {"connect_timeout",
                                    "application_name",
                                    "keepalives",
                                    "keepalives_idle",
                                    "keepalives_interval",
                                    "keepalives_count",
                                    "tcp_user_timeout",
                                    "dbname",
                                    nullptr};
    const char* const values[] = {"10", "relbot", "1",         "10",   "3",
                                  "3",  "20000",  url.c_str(), nullptr};
    conn_ = PQconnectdbParams(keywords, values, 1);
    if (conn_ == nullptr) {
        throw pg_error("cannot connect to PostgreSQL at " + server_ + ": out of memory", "");
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
        auto reason = one_line(PQerrorMessage(conn_));
        PQfinish(conn_);
        conn_ = nullptr;
        throw pg_error("cannot connect to PostgreSQL at " + server_ + ": " + reason, "");
    }
    // The server's notices ("relation already exists, skipping") would go to stderr, outside
    // relbot's log format; none of them needs an operator.
    PQsetNoticeProcessor(
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
         {std::to_string(statement_timeout_ms)});
}

connection::~connection() {
    if (conn_ != nullptr) {
        PQfinish(conn_);
    }
}

bool connection::healthy() const {
    return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

result connection::exec(std::string_view sql) {
    if (waiting_) {
        waiting_();
    }
    return check(PQexec(conn_, std::string(sql).c_str()), sql);
}

result connection::exec(std::string_view sql, std::initializer_list<param> params) {
    return exec(sql, std::vector<param>(params));
}

result connection::exec(std::string_view sql, const std::vector<param>& params) {
    if (waiting_) {
        waiting_();
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) {
        values.push_back(p.text() ? p.text()->c_str() : nullptr);
    }
    return check(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(values.size()),
                              nullptr, values.data(), nullptr, nullptr, 0),
                 sql);
}

result connection::check(pg_result* r, std::string_view sql) {
    result out(r);
    auto status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
        return out;
    }
    const char* state = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
    auto message =
        r == nullptr ? one_line(PQerrorMessage(conn_)) : one_line(PQresultErrorMessage(r));
    throw pg_error("PostgreSQL at " + server_ + ": " + message + " (in: " + first_line(sql) + ")",
                   state == nullptr ? "" : state);
}

}  // namespace relbot::storage::postgres
