// The signed endpoint for CI and deploy tools (RELBOT_HOOKS_ADDR, contract: "Signals from CI
// and deploy tools"): plain HTTP, POST /hooks/v1/signal only. Apart from the health endpoint:
// this one acts, and believes only requests signed with RELBOT_HOOKS_SECRET (bot/signal.hpp).
// Bounded like the health endpoint (connections at once, header and body size, time to read
// and answer); every read and write is asynchronous on the database strand, so a slow or
// hostile client costs a socket, never an acknowledgement. In order: a body over 64 KiB is 413,
// a missing header, a bad signature or a time more than 5 minutes off is 401, a bad body 400;
// then the sink applies it (404 unknown item or no release, 409 refused, 200 done).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "bot/http_listener.hpp"
#include "bot/net.hpp"
#include "bot/signal.hpp"

namespace relbot::bot {

struct hook_answer {
    unsigned status = 200;
    std::string body;  // JSON
};

// Applies a believed signal. Called on the database strand.
class signal_sink {
public:
    virtual ~signal_sink() = default;
    virtual hook_answer apply(const signal_request& s) = 0;
    // The first answer to a signal of this `id`, if one was kept: a repeat gets it back, whatever
    // its body (contract), so it is asked before the body is read.
    // `action` is the body's, as it reads (for the count of signals by action).
    virtual std::optional<hook_answer> answered_before(const std::string& id,
                                                       const std::string& action) = 0;
};

struct hooks_limits {
    std::size_t max_connections = 32;  // more are accepted and closed at once
    std::size_t max_header_bytes = 8 * 1024;
    std::size_t max_body_bytes = max_signal_body_bytes;
    std::chrono::milliseconds request_timeout{5000};  // to read the request and write the answer
};

// The answer to one request read whole (or whose body was over the limit: `too_large`), given
// the secret and the time. Pure but for `sink`, which it calls only for a believed, well-formed
// signal. Counts every refusal in relbot_signal_refusals_total{reason}.
hook_answer answer_hook(std::string_view method,
                        std::string_view target,
                        std::string_view timestamp,
                        std::string_view signature,
                        std::string_view body,
                        bool too_large,
                        std::string_view secret,
                        std::int64_t now_s,
                        signal_sink& sink);

// `relbot signal`: signs `body` with `secret` at `now_s` and POSTs it to host:port (an
// address relbot listens on: 0.0.0.0 and :: are reached on the loopback), waiting at most
// `within` for the answer. Throws std::runtime_error when nothing answers.
hook_answer send_signal(const std::string& host,
                        unsigned short port,
                        std::string_view secret,
                        const std::string& body,
                        std::int64_t now_s,
                        std::chrono::milliseconds within = std::chrono::seconds(10));

class hooks_server {
public:
    // Binds `host:port` (throws boost::system::system_error if it cannot). `secret` is kept in
    // memory only.
    hooks_server(const net::any_io_executor& ioc,
                 const std::string& host,
                 unsigned short port,
                 std::string secret,
                 signal_sink& sink,
                 hooks_limits limits = {});
    ~hooks_server();
    hooks_server(const hooks_server&) = delete;
    hooks_server& operator=(const hooks_server&) = delete;

    void start();
    void stop();
    unsigned short port() const;

private:
    std::unique_ptr<http_listener> listener_;
};

}  // namespace relbot::bot
