// The virtual clock: alarms are timers that never expire on their own; the clock ends them
// when it moves time to their deadline.
#include "support/virtual_time.hpp"

#include <optional>
#include <stdexcept>

namespace relbot::test {

class virtual_alarm final : public bot::alarm {
public:
    virtual_alarm(virtual_clock& clock, net::any_io_executor ex) : clock_(clock), timer_(ex) {
        clock_.alarms_.insert(this);
    }
    ~virtual_alarm() override { clock_.alarms_.erase(this); }

    net::awaitable<void> wait_until(steady_time deadline) override {
        deadline_ = deadline <= clock_.now_ ? clock_.now_ : deadline;
        // Even a deadline that has passed completes through the loop, as a real timer does.
        timer_.expires_at(steady_time::max());
        auto [ec] = co_await timer_.async_wait(bot::use_nothrow_awaitable);
        (void)ec;  // ended by the clock or by ring(): both are the point
        deadline_.reset();
    }

    void ring() override {
        deadline_.reset();
        timer_.cancel();
    }

    // Called by the clock: ends the wait if its deadline has come.
    bool fire_if_due() {
        if (!deadline_ || *deadline_ > clock_.now_) {
            return false;
        }
        deadline_.reset();
        timer_.cancel();
        return true;
    }

    std::optional<steady_time> deadline() const { return deadline_; }

private:
    virtual_clock& clock_;
    net::steady_timer timer_;
    std::optional<steady_time> deadline_;
};

virtual_clock::virtual_clock(checklist::epoch_seconds epoch)
    : start_(std::chrono::hours(1000)), now_(start_), epoch_(epoch) {}

virtual_clock::~virtual_clock() = default;

std::chrono::system_clock::time_point virtual_clock::system_now() const {
    return std::chrono::system_clock::time_point(std::chrono::seconds(epoch_)) +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(now_ - start_);
}

std::unique_ptr<bot::alarm> virtual_clock::make_alarm(net::any_io_executor ex) {
    return std::make_unique<virtual_alarm>(*this, std::move(ex));
}

double virtual_clock::elapsed() const {
    return std::chrono::duration<double>(now_ - start_).count();
}

steady_time virtual_clock::at(double seconds) const {
    return start_ + std::chrono::duration_cast<steady_time::duration>(
                        std::chrono::duration<double>(seconds));
}

bool virtual_clock::advance(steady_time limit) {
    std::optional<steady_time> earliest;
    for (auto* a : alarms_) {
        if (auto d = a->deadline(); d && (!earliest || *d < *earliest)) {
            earliest = d;
        }
    }
    if (!earliest || *earliest > limit) {
        now_ = std::max(now_, limit);
        return false;
    }
    now_ = std::max(now_, *earliest);
    for (auto* a : alarms_) {
        a->fire_if_due();
    }
    return true;
}

namespace {

// Runs every ready handler (the io_context stops when it runs out of work; restart it).
void settle(net::io_context& ioc) {
    for (int round = 0; round < 100000; ++round) {
        if (ioc.stopped()) {
            ioc.restart();
        }
        if (ioc.poll() == 0) {
            return;
        }
    }
    throw std::runtime_error("the loop never settles at one virtual instant");
}

}  // namespace

bool run_until(net::io_context& ioc,
               virtual_clock& clock,
               const std::function<bool()>& done,
               double limit_s) {
    auto limit = clock.at(clock.elapsed() + limit_s);
    for (int step = 0; step < 1000000; ++step) {
        settle(ioc);
        if (done()) {
            return true;
        }
        if (!clock.advance(limit)) {
            settle(ioc);
            return done();
        }
    }
    throw std::runtime_error("too many steps of virtual time");
}

void run_for(net::io_context& ioc, virtual_clock& clock, double seconds) {
    run_until(
        ioc, clock, [] { return false; }, seconds);
}

}  // namespace relbot::test
