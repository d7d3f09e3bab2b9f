// The Socket Mode client: holds RELBOT_CONNECTIONS WebSocket connections to Slack, hands every
// envelope to the handler and acknowledges it on the socket it came on. A refresh opens the
// replacement before the old socket is closed; drops reconnect with capped, jittered backoff;
// a socket that is silent for 30 s is replaced. Runs on the loop thread only.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "bot/envelope.hpp"
#include "bot/net.hpp"
#include "bot/net_result.hpp"
#include "bot/web_api.hpp"
#include "slack/json_text.hpp"

namespace relbot::bot {

// An ack done: written on the socket, or not (the socket failed or closed first).
struct ack_report {
    std::string_view envelope_id;
    std::string_view type;
    int retry_attempt = 0;
    int session = 0;
    long long ack_us = 0;  // from reading the envelope to writing its ack
    bool written = false;
};

// The per-envelope log line: `event=envelope type=… envelope_id=… ack_us=…`.
void log_ack(const ack_report& r);

// Receives every envelope; returns the ack's `payload` as JSON text (nullopt: a bare ack).
// Must not throw and must not wait on the network: the ack waits for it.
class envelope_handler {
public:
    virtual ~envelope_handler() = default;
    virtual std::optional<slack::json_text> handle(const frame& f) = 0;
    // Called when an ack has been written (or could not be): work that follows from the
    // envelope but that its ack must not wait for (waking the notifier, the log line) goes
    // here. By default, logs the ack.
    virtual void acknowledged(const ack_report& r) { log_ack(r); }
};

enum class client_end { stopped, fatal };

// Timing of the connection lifecycle (the defaults are the product's; tests use them too).
struct socket_timing {
    std::chrono::milliseconds ping_interval{10'000};
    std::chrono::milliseconds dead_after{30'000};  // no frame at all for this long
    std::chrono::milliseconds hello_within{10'000};
    std::chrono::milliseconds drain_before_close{500};  // old socket, after the new one's hello
    std::chrono::milliseconds close_limit{1'000};       // close handshake, then drop
};

class socket_mode_client {
public:
    // `ctx`, `api` and `handler` must outlive the client. `connections` is 1–10.
    socket_mode_client(ssl::context& ctx,
                       web_api& api,
                       envelope_handler& handler,
                       int connections,
                       socket_timing timing = {});
    ~socket_mode_client();

    // Holds the connections until stop(). Returns `fatal` when Slack says the app token is
    // wrong (retrying cannot help).
    net::awaitable<client_end> run();

    // Stops reconnecting, stops taking envelopes, and closes every socket with a close frame.
    void stop();

    // Sockets that have said `hello` and are not closing.
    int live_connections() const;
    // Slack said Socket Mode is turned off for the app (link_disabled).
    bool disabled() const { return disabled_; }
    // When a socket last said hello (nullopt: never yet).
    std::optional<std::chrono::system_clock::time_point> last_hello() const { return last_hello_; }

private:
    struct session;
    struct slot_state;
    enum class slot_next { again, stop };

    // A slot: sockets one after another (a refresh overlaps two) until stop() or a fatal end.
    net::awaitable<void> run_slot(int slot);
    // One socket of a slot, from apps.connections.open to its end; the steps below.
    net::awaitable<slot_next> run_one_socket(slot_state& st);
    net::awaitable<slot_next> after_open_failed(slot_state& st, api_result open);
    net::awaitable<bool> await_hello(slot_state& st, std::shared_ptr<session> s);
    void adopt(slot_state& st, const std::shared_ptr<session>& s);
    net::awaitable<slot_next> hold(slot_state& st, std::shared_ptr<session> s);
    void close_slot(slot_state& st);

    // Opens a socket and starts its loops, or says (and logs) what failed.
    net::awaitable<net_result<std::shared_ptr<session>>> connect(
        std::string url, std::shared_ptr<net::steady_timer> signal);
    net::awaitable<net_result<void>> open_tls(std::shared_ptr<session> s,
                                              std::string host,
                                              std::string port);
    net::awaitable<net_result<void>> upgrade(std::shared_ptr<session> s, std::string target);
    void start_loops(const std::shared_ptr<session>& s);
    net::awaitable<void> read_loop(std::shared_ptr<session> s);
    net::awaitable<void> write_loop(std::shared_ptr<session> s);
    net::awaitable<void> ping_loop(std::shared_ptr<session> s);
    // hello and disconnect: taken by the session and its slot, not the handler (true).
    bool take_control_frame(const std::shared_ptr<session>& s, const frame& f);
    // The reader has ended: the session's timers stop and its slot is told.
    void end_session(const std::shared_ptr<session>& s, const std::string& reason);
    static net::awaitable<void> close_after(std::shared_ptr<session> s,
                                            std::chrono::milliseconds drain,
                                            std::chrono::milliseconds limit);
    void begin_close(const std::shared_ptr<session>& s, std::chrono::milliseconds drain);
    net::awaitable<void> sleep(net::steady_timer& timer, std::chrono::milliseconds d);
    // Counts one more failure of `slot`, logs the reconnect, and returns how long to wait.
    std::chrono::milliseconds retry_delay(int slot, std::string_view reason, int& failures);

    ssl::context& ctx_;
    web_api& api_;
    envelope_handler& handler_;
    int connections_;
    socket_timing timing_;
    std::set<std::shared_ptr<session>> sessions_;
    std::set<std::shared_ptr<net::steady_timer>> signals_;  // one per slot: cancelled to wake it
    bool stopping_ = false;
    bool fatal_ = false;
    bool disabled_ = false;
    std::optional<std::chrono::system_clock::time_point> last_hello_;
    int next_session_id_ = 1;
    std::minstd_rand rng_;
};

}  // namespace relbot::bot
