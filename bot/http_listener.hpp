// What the operator's endpoint (bot/health) and the signal endpoint (bot/hooks) share: a
// plain-HTTP listener on host:port that accepts at most `max_connections` at once (more are
// accepted and closed at once, counted in relbot_limits_hit_total under `limit`) and serves
// each connection with a coroutine of the owner's. Runs on the executor it is given; never
// throws from its coroutines (a crash is logged as `<name>.crashed`).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "bot/net.hpp"

namespace relbot::bot {

// A listener that could not start, in words that name its setting ("RELBOT_HOOKS_ADDR=…: no
// such host"); `configuration` when the setting itself is wrong (no such host, not an address
// of this machine), not when the port is merely taken.
struct listen_error : std::runtime_error {
    listen_error(const std::string& what, bool configuration_)
        : std::runtime_error(what), configuration(configuration_) {}
    bool configuration;
};

class http_listener {
public:
    // One connection, read and answered by the owner; it is counted as open until this ends.
    using serve_fn = std::function<net::awaitable<void>(tcp::socket)>;

    // Binds `host:port`, which `setting` (the variable) gave; throws listen_error if it cannot.
    http_listener(const net::any_io_executor& ioc,
                  const std::string& host,
                  unsigned short port,
                  std::string_view setting,
                  std::size_t max_connections,
                  std::string limit,
                  std::string name,
                  serve_fn serve);
    ~http_listener();
    http_listener(const http_listener&) = delete;
    http_listener& operator=(const http_listener&) = delete;

    void start();
    void stop();
    unsigned short port() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace relbot::bot
