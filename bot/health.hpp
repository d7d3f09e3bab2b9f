// The operator's endpoint (RELBOT_HEALTH_ADDR): plain HTTP, GET /healthz and GET /metrics,
// 404 for anything else. It runs on the database strand but never waits there: every read is
// asynchronous and bounded (header size, time, connections at once), so a slow or hostile
// client costs a socket, not an acknowledgement.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bot/http_listener.hpp"
#include "bot/net.hpp"

namespace relbot::bot {

struct health_report {
    bool healthy = false;
    std::string reason;  // why not, when not healthy
    int connections = 0;
    bool db_ok = false;
    bool db_busy = false;  // it answers, but does not take writes (another process's lock)
    std::string db_error;
    long long outbox_pending = 0;
    std::string last_hello;  // UTC, ISO 8601; empty before the first hello
    // Which database, never with a password ("PostgreSQL user@host:port/db", or the SQLite
    // file), and this process as the database's claims name it (several instances may share
    // the database; each reports its own view).
    std::string database;
    std::string engine;  // "sqlite" or "postgresql"
    std::string instance;
    std::optional<long long> clock_offset_ms;  // a shared database's clock minus this host's
};

// The JSON body of /healthz.
std::string health_json(const health_report& r);

// Supplied by the app: what the endpoint reports. Called on the database strand.
class health_source {
public:
    virtual ~health_source() = default;
    virtual health_report health() = 0;
    virtual std::string metrics_page() = 0;
};

struct health_limits {
    std::size_t max_connections = 32;  // more are accepted and closed at once
    std::size_t max_header_bytes = 8 * 1024;
    std::chrono::milliseconds request_timeout{5000};  // to read the request and write the answer
};

// Reading one request and answering it, apart from the socket: the server and the fuzz target
// (fuzz/http_request.cpp) share these.
using health_request_parser = http::request_parser<http::empty_body>;

// Sets the parser's limits: headers up to `max_header_bytes`, no body.
void configure(health_request_parser& parser, const health_limits& limits);

// The answer to what `parser` read, given the read's error: the page asked for, 405, 404,
// 431 for headers over the limit, 400 for a body or a malformed target or method; nullopt when
// there is nothing to answer (the client timed out, went away or sent something that is not
// HTTP). Never throws.
std::optional<http::response<http::string_body>> respond(error_code read,
                                                         const health_request_parser& parser,
                                                         health_source& source);

// `bytes` as everything a connection sent, read with `limits` and answered as the server
// would; nullopt where the server would answer nothing. Pure but for `source`.
std::optional<http::response<http::string_body>> respond_to_bytes(std::string_view bytes,
                                                                  const health_limits& limits,
                                                                  health_source& source);

class health_server {
public:
    // Binds `host:port` (throws boost::system::system_error if it cannot).
    health_server(const net::any_io_executor& ioc,
                  const std::string& host,
                  unsigned short port,
                  health_source& source,
                  health_limits limits = {});
    ~health_server();

    void start();
    void stop();
    unsigned short port() const;

private:
    std::unique_ptr<http_listener> listener_;
};

}  // namespace relbot::bot
