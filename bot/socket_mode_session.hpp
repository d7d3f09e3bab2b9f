// Private to the Socket Mode client (socket_mode.cpp: slots, reconnects and closing;
// socket_mode_connect.cpp: opening a socket; socket_mode_session.cpp: a socket's read, write
// and ping loops): one WebSocket connection and the frames queued on it.
#pragma once

#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "bot/net.hpp"
#include "bot/socket_mode.hpp"

namespace relbot::bot {

using ws_stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

namespace socket_mode_detail {

// One frame to send. Acks remember their envelope for the log line written once it is sent.
struct outgoing {
    // The frame: `text`, then (an ack with a payload) the shared payload and "}".
    std::string text;
    std::optional<slack::json_text> payload;
    bool ping = false;
    std::string envelope_id;
    std::string type;
    int retry_attempt = 0;
    steady::time_point received{};
    std::optional<handled_note> note;  // for the ack's log line
};

// Logs `e` (if any) as an error named `what`.
void log_exception(const char* what, std::exception_ptr e);

// The ack frame for an envelope, remembering what the log line needs.
outgoing ack_for(const frame& f,
                 std::string envelope_id,
                 std::optional<slack::json_text> payload,
                 steady::time_point received);

}  // namespace socket_mode_detail

// One WebSocket connection. Beast allows one write at a time, so every frame we send (acks,
// pings, the close frame) goes through `queue` and its single writer.
struct socket_mode_client::session {
    session(const net::any_io_executor& ex,
            ssl::context& ctx,
            int id_,
            std::shared_ptr<net::steady_timer> signal_)
        : id(id_),
          ws(ex, ctx),
          wake(ex),
          ping_timer(ex),
          close_timer(ex),
          signal(std::move(signal_)) {}

    void push(socket_mode_detail::outgoing o) {
        queue.push_back(std::move(o));
        wake.cancel();
    }
    // Tells the slot that this session's state changed.
    void notify() {
        if (signal) {
            signal->cancel();
        }
    }

    int id;
    ws_stream ws;
    std::deque<socket_mode_detail::outgoing> queue;
    net::steady_timer wake;         // cancelled to wake the writer
    net::steady_timer ping_timer;   // cancelled when the session ends
    net::steady_timer close_timer;  // paces the close; cancelled when the session ends
    std::shared_ptr<net::steady_timer> signal;
    std::string host;
    steady::time_point last_frame = steady::now();
    std::string disconnect_reason;  // set when Slack sends `disconnect`
    bool hello = false;
    bool closing = false;  // a close frame is wanted
    // Envelopes read on this socket and not yet answered: a replaced socket is closed only once
    // they are (or after answer_within), so that their acks go out on it.
    std::size_t unanswered = 0;
    bool awaiting_answers = false;  // close_after waits on close_timer for the last answer
    bool close_sent = false;
    bool taking_envelopes = true;  // false once shutting down
    bool ended = false;
};

// One slot's state across its reconnects. Lives in run_slot's frame; the steps it awaits
// directly take it by reference.
struct socket_mode_client::slot_state {
    slot_state(int slot_, const net::any_io_executor& ex)
        : slot(slot_),
          signal(std::make_shared<net::steady_timer>(ex)),
          nap(std::make_shared<net::steady_timer>(ex)) {}

    int slot;
    std::shared_ptr<net::steady_timer> signal;  // cancelled when a session's state changes
    std::shared_ptr<net::steady_timer> nap;     // the wait before the next attempt
    std::shared_ptr<session> previous;          // being replaced after a refresh request
    std::shared_ptr<session> current;
    int failures = 0;
};

}  // namespace relbot::bot
