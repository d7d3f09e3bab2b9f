// The Socket Mode client: holds RELBOT_CONNECTIONS WebSocket connections to Slack, hands every
// envelope to the handler and acknowledges it on the socket it came on. A refresh opens the
// replacement before the old socket is closed; drops reconnect with capped, jittered backoff;
// a socket that is silent for 30 s is replaced. Runs on its own strand (bot/app.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bot/envelope.hpp"
#include "bot/net.hpp"
#include "bot/net_result.hpp"
#include "bot/web_api.hpp"
#include "slack/json_text.hpp"

namespace relbot::bot {

// What the handler made of an envelope, for the ack's log line (written by the Socket Mode
// thread once the ack is out).
struct handled_note {
    // The decision's name ("check", "bad_input"); when the database failed, the command's
    // first word as typed (the outcome says busy or error).
    std::string command;
    std::string outcome;  // ok, refused, busy, error
    std::string channel;
    std::string user;
    long long us = 0;  // how long the handler took
    // From reading the envelope to the database strand taking its batch, then the batch's
    // BEGIN and COMMIT when it wrote (every ack of the batch waits for them); -1 when there
    // was none (a batch of reads; an envelope answered without a batch).
    long long wait_us = -1;
    long long begin_us = -1;
    long long commit_us = -1;
};

// An ack done: written on the socket, or not (the socket failed or closed first).
struct ack_report {
    std::string_view envelope_id;
    std::string_view type;
    int retry_attempt = 0;
    int session = 0;
    long long ack_us = 0;  // from reading the envelope to writing its ack
    bool written = false;
    const handled_note* note = nullptr;  // what the handler said about it, if anything
    // Where log_ack appends its line (written with others by the caller); null: written now.
    std::string* log_into = nullptr;
};

// The per-envelope log line: `event=envelope type=… envelope_id=… ack_us=…` (and the
// command, outcome, channel, user and us of the note, when there is one).
void log_ack(const ack_report& r);

using steady = std::chrono::steady_clock;

// One envelope read from a socket and handed to the handler. Answered once: by the handler
// (through socket_mode_client::answer, from any thread) once it has taken the job, or by the
// client itself with the handler's late_answer if the handler has not taken it within
// socket_timing::answer_within (so an envelope waiting behind a locked database still gets
// its ack before Slack's 3 seconds, and is then never acted on).
class envelope_job {
public:
    envelope_job(frame f, std::string envelope_id, steady::time_point received)
        : frame_(std::move(f)), envelope_id_(std::move(envelope_id)), received_(received) {}

    const frame& envelope() const { return frame_; }
    const std::string& envelope_id() const { return envelope_id_; }
    steady::time_point received() const { return received_; }

    // The handler claims the job before acting on it. False when the client has answered it
    // already (too late): the handler must then leave it alone.
    bool take() {
        int expected = waiting;
        return state_.compare_exchange_strong(expected, taken);
    }

private:
    friend class socket_mode_client;
    enum : int { waiting, taken, late };
    // The client's claim, once the deadline has passed: false if the handler took it first.
    bool expire() {
        int expected = waiting;
        return state_.compare_exchange_strong(expected, late);
    }

    frame frame_;
    std::string envelope_id_;
    steady::time_point received_;
    std::atomic<int> state_{waiting};
    std::shared_ptr<void> session_;  // the socket it came on (the client's session)
    bool answered_ = false;          // the Socket Mode strand only
};
using job_ptr = std::shared_ptr<envelope_job>;

// A job's ack: its payload (JSON text; nullopt: a bare ack) and the note for its log line.
struct envelope_answer {
    job_ptr job;
    std::optional<slack::json_text> payload;
    std::optional<handled_note> note;
};

// Receives every envelope (not hello or disconnect) on the Socket Mode strand.
class envelope_handler {
public:
    virtual ~envelope_handler() = default;
    // A new envelope. Must not block: the handler queues it (or answers at once) and answers
    // it later through socket_mode_client::answer, after envelope_job::take().
    virtual void take(job_ptr job) = 0;
    // The ack for an envelope the handler did not take in time (Socket Mode strand; must not
    // block, must not throw). By default a bare ack.
    virtual std::optional<slack::json_text> late_answer(const frame&) { return std::nullopt; }
    // Called (Socket Mode strand) when an ack has been written, or could not be. By default,
    // logs the ack.
    virtual void acknowledged(const ack_report& r) { log_ack(r); }
};

enum class client_end { stopped, fatal };

// Timing of the connection lifecycle (the defaults are the product's; tests use them too).
struct socket_timing {
    std::chrono::milliseconds ping_interval{10'000};
    std::chrono::milliseconds dead_after{30'000};  // no frame at all for this long
    std::chrono::milliseconds hello_within{10'000};
    // The old socket, after the new one's hello: closed once quiet for drain_before_close and
    // every envelope read on it is answered, or after drain_limit.
    std::chrono::milliseconds drain_before_close{500};
    std::chrono::milliseconds drain_limit{5'000};
    std::chrono::milliseconds close_limit{1'000};  // close handshake, then drop
    // An envelope the handler has not taken by then is acked by the client (late_answer).
    std::chrono::milliseconds answer_within{2'500};
};

// What a peer on the socket cannot push past (README, "Limits").
struct socket_limits {
    // The largest message read. Slack's are far below this; of a larger one no more than this
    // (and one 64 KiB piece) is held: the connection is dropped and replaced.
    std::size_t max_frame_bytes = 1024 * 1024;
    // Envelopes read and not yet answered (counting those answered after the oldest that is
    // not). Past it, a new envelope is answered at once with
    // the handler's late_answer ("try again") instead of waiting in memory for the database.
    std::size_t max_in_flight = 8192;
};

// Runs on its executor (the Socket Mode strand); answer() and the three accessors below may
// be called from any thread.
class socket_mode_client {
public:
    // Runs on `ex` (a strand, or an io_context one thread runs). `ctx`, `api` and `handler`
    // must outlive the client; `api` is used on `ex` only.
    // `connections` is 1–10.
    socket_mode_client(net::any_io_executor ex,
                       ssl::context& ctx,
                       web_api& api,
                       envelope_handler& handler,
                       int connections,
                       socket_timing timing = {},
                       socket_limits limits = {});
    ~socket_mode_client();

    // Holds the connections until stop(). Returns `fatal` when Slack says the app token is
    // wrong (retrying cannot help). Runs on the client's executor.
    net::awaitable<client_end> run();

    // Stops reconnecting, stops taking envelopes, and closes every socket with a close frame.
    // On the client's executor.
    void stop();

    // Acks for jobs the handler took, each on the socket its envelope came on (one that has
    // closed meanwhile writes none: Slack delivers the envelope again). Any thread. `at_once`:
    // written by the calling thread when the Socket Mode strand is free (a lone envelope's ack,
    // with no thread switch); otherwise queued on the strand, so that in a burst the thread
    // applying envelopes goes on to the next batch while the other one writes these acks.
    void answer(std::vector<envelope_answer> answers, bool at_once = true);

    // Sockets that have said `hello` and are not closing.
    int live_connections() const { return live_.load(); }
    // Slack said Socket Mode is turned off for the app (link_disabled).
    bool disabled() const { return disabled_.load(); }
    // When a socket last said hello (nullopt: never yet).
    std::optional<std::chrono::system_clock::time_point> last_hello() const;

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
    net::awaitable<void> close_after(std::shared_ptr<session> s,
                                     std::chrono::milliseconds drain,
                                     std::chrono::milliseconds limit);
    void begin_close(const std::shared_ptr<session>& s, std::chrono::milliseconds drain);
    net::awaitable<void> sleep(net::steady_timer& timer, std::chrono::milliseconds d);
    // Socket Mode strand: an envelope read on `s`, handed to the handler.
    void hand_over(const std::shared_ptr<session>& s,
                   frame f,
                   std::string envelope_id,
                   steady::time_point received);
    void deliver(envelope_answer a);
    // Acks with late_answer the jobs nobody took within answer_within.
    net::awaitable<void> expire_loop();
    // live_ again, after a session's state changed.
    void recount();
    // Counts one more failure of `slot`, logs the reconnect, and returns how long to wait.
    std::chrono::milliseconds retry_delay(int slot, std::string_view reason, int& failures);

    net::any_io_executor ex_;
    ssl::context& ctx_;
    web_api& api_;
    envelope_handler& handler_;
    int connections_;
    socket_timing timing_;
    socket_limits limits_;
    bool refusing_ = false;  // over max_in_flight: said once in the log until it is not
    std::set<std::shared_ptr<session>> sessions_;
    std::set<std::shared_ptr<net::steady_timer>> signals_;  // one per slot: cancelled to wake it
    // Each slot's wait before its next attempt (a backoff, a Retry-After): cut short by stop().
    // Shared, as `signals_`: a slot that ended by an exception leaves its timer here, alive.
    std::set<std::shared_ptr<net::steady_timer>> naps_;
    bool stopping_ = false;
    bool fatal_ = false;
    std::atomic<bool> disabled_{false};
    std::atomic<int> live_{0};
    std::atomic<std::int64_t> last_hello_ns_{0};  // system clock; 0: never
    // Jobs handed over and not answered yet, in arrival order; the timer wakes the expirer.
    std::deque<job_ptr> waiting_;
    net::steady_timer expiry_timer_;
    int next_session_id_ = 1;
    std::minstd_rand rng_;
};

}  // namespace relbot::bot
