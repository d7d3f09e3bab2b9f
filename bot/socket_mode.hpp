// The Socket Mode client: gets a WebSocket URL with the app token, holds the connection,
// hands every envelope to the handler and acknowledges it on the socket it came on.
// Reconnects with capped, jittered backoff. Runs on the loop thread only.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>

#include "bot/envelope.hpp"
#include "bot/net.hpp"
#include "bot/web_api.hpp"

namespace relbot::bot {

// Receives every envelope; returns the ack's `payload` (nullopt: a bare ack). Must not
// throw and must not wait on the network: the ack waits for it.
class envelope_handler {
public:
    virtual ~envelope_handler() = default;
    virtual std::optional<nlohmann::json> handle(const frame& f) = 0;
};

enum class client_end { stopped, fatal };

class socket_mode_client {
public:
    // `ctx`, `api` and `handler` must outlive the client.
    socket_mode_client(ssl::context& ctx, web_api& api, envelope_handler& handler);
    ~socket_mode_client();

    // Connects and stays connected until stop(). Returns `fatal` when Slack says the app token
    // is wrong (retrying cannot help).
    net::awaitable<client_end> run();

    // Stops reconnecting and closes the open socket with a close frame.
    void stop();

    // True while a socket has said `hello` and is open.
    bool connected() const;

private:
    struct session;
    struct session_end {
        bool hello = false;
        bool reconnect_now = false;  // Slack asked us to (disconnect frame)
        std::string reason;
    };

    net::awaitable<session_end> run_session(std::string url);
    static net::awaitable<void> write_loop(std::shared_ptr<session> s);
    net::awaitable<void> sleep(std::chrono::milliseconds d);

    ssl::context& ctx_;
    web_api& api_;
    envelope_handler& handler_;
    std::shared_ptr<session> current_;
    std::unique_ptr<net::steady_timer> sleep_timer_;
    bool stopping_ = false;
    std::minstd_rand rng_;
};

}  // namespace relbot::bot
