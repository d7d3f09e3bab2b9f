#include "bot/second_thread.hpp"

namespace relbot::bot {

second_thread::second_thread(net::io_context& ioc) : ioc_(ioc), thread_([this] { run(); }) {}

second_thread::~second_thread() {
    leave();
}

void second_thread::leave() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void second_thread::wanted() {
    auto until = std::chrono::steady_clock::now() + stay;
    bool was_idle = false;
    {
        std::lock_guard lock(mutex_);
        was_idle = until_ < std::chrono::steady_clock::now();
        until_ = until;
    }
    if (was_idle) {
        wake_.notify_one();
    }
}

bool second_thread::is_wanted() const {
    std::lock_guard lock(mutex_);
    return until_ > std::chrono::steady_clock::now();
}

long second_thread::joins() const {
    std::lock_guard lock(mutex_);
    return joins_;
}

void second_thread::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || until_ > std::chrono::steady_clock::now(); });
        if (stopping_) {
            return;
        }
        ++joins_;
        // Runs handlers until `stay` after the last call of wanted(); the io_context decides
        // which thread takes which handler, each strand one handler at a time.
        while (!stopping_ && until_ > std::chrono::steady_clock::now() && !ioc_.stopped()) {
            auto until = until_;
            lock.unlock();
            ioc_.run_until(until);
            lock.lock();
        }
        if (ioc_.stopped()) {
            // The process is ending (the main thread's run() has returned or is returning).
            wake_.wait(lock, [&] { return stopping_; });
            return;
        }
    }
}

}  // namespace relbot::bot
