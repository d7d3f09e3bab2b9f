// A virtual clock for the notifier and scheduler tests: time stands still while the loop runs
// and jumps to the next wait's deadline when nothing is left to run, so a test of minutes of
// pacing takes milliseconds and never waits in real time. Single thread; tests only.
#pragma once

#include <chrono>
#include <functional>
#include <set>

#include "bot/clock.hpp"

namespace relbot::test {

namespace net = bot::net;
using bot::steady_time;

class virtual_alarm;

class virtual_clock final : public bot::clock {
public:
    // The wall clock starts at `epoch` (seconds); the steady clock at an arbitrary point.
    explicit virtual_clock(checklist::epoch_seconds epoch);
    ~virtual_clock() override;

    steady_time steady_now() const override { return now_; }
    std::chrono::system_clock::time_point system_now() const override;
    std::unique_ptr<bot::alarm> make_alarm(net::any_io_executor ex) override;

    // Virtual seconds since the clock was made.
    double elapsed() const;
    // The steady time `seconds` after the clock was made.
    steady_time at(double seconds) const;

    // Moves time to the earliest deadline of the waits in progress, if it is not after
    // `limit`, and ends those waits; true then. Otherwise moves time to `limit` (if later) and
    // returns false.
    bool advance(steady_time limit);

private:
    friend class virtual_alarm;
    steady_time start_;
    steady_time now_;
    checklist::epoch_seconds epoch_;
    std::set<virtual_alarm*> alarms_;
};

// Runs `ioc`'s ready handlers, then moves virtual time to the next deadline, again and again,
// until `done()` holds or virtual time reaches `limit` seconds from now. Returns done().
// Throws if the loop never settles (a busy loop at one instant is a bug the test must show).
bool run_until(net::io_context& ioc,
               virtual_clock& clock,
               const std::function<bool()>& done,
               double limit_s);

// Runs for `seconds` of virtual time.
void run_for(net::io_context& ioc, virtual_clock& clock, double seconds);

}  // namespace relbot::test
