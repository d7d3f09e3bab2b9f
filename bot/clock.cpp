// The real clock: the system's clocks and Asio timers.
#include "bot/clock.hpp"

#include <atomic>

namespace relbot::bot {

checklist::epoch_seconds clock::epoch_s() const {
    return std::chrono::duration_cast<std::chrono::seconds>(system_now().time_since_epoch())
        .count();
}

std::int64_t clock::epoch_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(system_now().time_since_epoch())
        .count();
}

namespace {

std::atomic<std::int64_t> wall_offset_ms{0};

class timer_alarm final : public alarm {
public:
    explicit timer_alarm(net::any_io_executor ex) : timer_(std::move(ex)) {}

    net::awaitable<void> wait_until(steady_time deadline) override {
        timer_.expires_at(deadline);
        auto [ec] = co_await timer_.async_wait(use_nothrow_awaitable);
        (void)ec;  // operation_aborted: ring() ended the wait early, which is the point
    }

    void ring() override { timer_.cancel(); }

private:
    net::steady_timer timer_;
};

class system_clock_impl final : public clock {
public:
    steady_time steady_now() const override { return std::chrono::steady_clock::now(); }
    std::chrono::system_clock::time_point system_now() const override {
        return std::chrono::system_clock::now() +
               std::chrono::milliseconds(wall_offset_ms.load(std::memory_order_relaxed));
    }
    std::unique_ptr<alarm> make_alarm(net::any_io_executor ex) override {
        return std::make_unique<timer_alarm>(std::move(ex));
    }
};

}  // namespace

void set_wall_offset(std::chrono::milliseconds offset) {
    wall_offset_ms.store(offset.count(), std::memory_order_relaxed);
}

std::chrono::milliseconds wall_offset() {
    return std::chrono::milliseconds(wall_offset_ms.load(std::memory_order_relaxed));
}

clock& real_clock() {
    static system_clock_impl instance;
    return instance;
}

}  // namespace relbot::bot
