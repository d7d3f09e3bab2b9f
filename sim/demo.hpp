// The interactive sandbox (`relbot-sim --demo`): relbot runs as a child process against the
// sandbox's server; what a person types becomes a slash command from one of the cast, and
// what the bot says is drawn in the terminal, channel messages in full and direct messages
// by name, compactly.
#pragma once

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/cast.hpp"
#include "sim/interactive.hpp"
#include "sim/server.hpp"

namespace relbot::sim {

struct demo_options {
    std::string bot;      // path to the relbot binary
    std::string db;       // its database (kept across sessions)
    std::string log;      // its log
    std::string ca_file;  // the sandbox CA it must trust
};

// Reads stdin on its own thread (stdin may be a file, a pipe or a terminal) and hands each line
// to the loop; the end of input arrives as std::nullopt. Used by both modes of relbot-sim.
void read_stdin_lines(boost::asio::io_context& ioc,
                      std::function<void(std::optional<std::string>)> on_line);

class demo {
public:
    demo(boost::asio::io_context& ioc, demo_options options);

    // Everything the server reports; draws what a person would see.
    void on_event(const nlohmann::json& e);
    void show_file(const nlohmann::json& e);

    // Starts relbot, reads stdin until it ends or `quit`, lets relbot finish what it decided
    // to send, stops it; the exit status for relbot-sim.
    int run(server& srv);

private:
    void pump();
    void on_line(const std::string& line);
    void send_command(const person& who, const std::string& text);
    void print(const std::string& text);
    void prompt();
    void quit();
    void wait_for_child();
    static boost::asio::awaitable<void> drain_then_stop(demo* self);
    // Piped input: waits (bounded) until relbot has sent what the last line made it decide
    // to post, so that its channel posts and DMs are printed before the next line runs.
    static boost::asio::awaitable<void> settle(demo* self);
    // Both: every 50 ms, once `ready()` holds, asks relbot's outbox (/healthz) until
    // `done(pending)` holds (pending: its rows, -1 when it cannot be read), relbot is being
    // stopped, or `limit` passes; `waiting` is called once, on the first look that does not
    // end the wait.
    static boost::asio::awaitable<void> wait_for_outbox(demo* self,
                                                        std::chrono::milliseconds limit,
                                                        std::function<bool()> ready,
                                                        std::function<bool(long)> done,
                                                        std::function<void()> waiting);
    // Clicks, modals and App Home (demo_interactive.cpp).
    bool on_interaction_event(const nlohmann::json& e);
    void send_click(const click_target& target);
    void open_home();
    void start_modal(const nlohmann::json& view);
    void ask_next();
    void answer_modal(const std::string& line);
    bool holding() const;  // a modal is open or about to be: typed lines wait or answer it

    // The modal open for `you_`, asked input by input on the prompt.
    struct modal_state {
        std::string view_id;
        std::vector<view_input> inputs;
        std::vector<std::size_t> to_ask;  // indexes into inputs, in order
        nlohmann::json answers = nlohmann::json::object();
        bool submitted = false;  // waiting for relbot's answer to the submission
    };

    boost::asio::io_context& ioc_;
    demo_options opt_;
    server* srv_ = nullptr;
    boost::asio::signal_set child_exit_;
    boost::asio::signal_set interrupt_;
    pid_t child_ = 0;
    unsigned short health_port_ = 0;
    bool color_ = false;        // stdout is a terminal
    bool interactive_ = false;  // stdin is a terminal: prompts, no echo
    bool connected_ = false;
    bool quitting_ = false;
    bool stop_sent_ = false;
    bool told_connecting_ = false;
    int exit_status_ = 0;
    const person* you_ = &cast[0];
    // Lines typed or piped and not yet handled: one command at a time is sent, the next when
    // relbot has answered it (so a transcript reads in order); nullopt is the end of input.
    std::deque<std::optional<std::string>> lines_;
    std::map<std::string, const person*> unanswered_;  // envelope id → who sent it
    std::map<std::string, const person*> sent_by_;     // every envelope this session
    // Piped input only: something was sent since relbot's outbox was last seen empty; the
    // next line waits for settle().
    bool unsettled_ = false;
    bool settling_ = false;
    std::optional<modal_state> modal_;
    bool awaiting_modal_ = false;  // a `…` control was clicked: its modal may open next
    std::optional<boost::asio::steady_timer> modal_wait_;
};

}  // namespace relbot::sim
