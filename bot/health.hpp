// The operator's endpoint (RELBOT_HEALTH_ADDR): plain HTTP, GET /healthz and GET /metrics,
// 404 for anything else. It runs on the database strand but never waits there: every read is
// asynchronous and bounded (header size, time, connections at once), so a slow or hostile
// client costs a socket, not an acknowledgement.
#pragma once

#include <memory>
#include <string>

#include "bot/net.hpp"

namespace relbot::bot {

struct health_report {
    bool healthy = false;
    std::string reason;  // why not, when not healthy
    int connections = 0;
    bool db_ok = false;
    std::string db_error;
    long long outbox_pending = 0;
    std::string last_hello;  // UTC, ISO 8601; empty before the first hello
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
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace relbot::bot
