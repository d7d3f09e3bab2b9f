// A second thread for the io_context, there only while it is wanted: while envelopes come
// faster than one thread answers them (the Socket Mode strand reads the next frames while the
// database strand applies a batch), and while the database strand waits for a lock another
// process holds (the Socket Mode strand must still answer, "try again" if need be, within
// Slack's 3 seconds). The rest of the time one thread runs everything: on a machine where
// waking another thread costs tens of microseconds, an envelope that comes alone is answered
// without any thread switch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "bot/net.hpp"

namespace relbot::bot {

class second_thread {
public:
    // How long the thread stays in the io_context after it was last wanted.
    static constexpr std::chrono::milliseconds stay{50};

    explicit second_thread(net::io_context& ioc);
    ~second_thread();  // leaves the io_context and joins
    second_thread(const second_thread&) = delete;
    second_thread& operator=(const second_thread&) = delete;

    // Any thread: run the io_context for the next `stay` too (from now).
    void wanted();
    // Once the io_context has stopped: returns when the thread has finished the handlers it
    // was running (a strand runs all its ready handlers in one go, even after stop()) and
    // has been joined. Idempotent; the destructor does it too.
    void leave();
    // Whether it is (or is about to be) in the io_context: wanted within the last `stay`.
    bool is_wanted() const;
    // How many times it has joined the io_context (for the metrics and tests).
    long joins() const;

private:
    void run();

    net::io_context& ioc_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::chrono::steady_clock::time_point until_{};
    bool stopping_ = false;
    long joins_ = 0;
    std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace relbot::bot
