// Time as the notifier and the scheduler see it: the steady time (pacing, waits), the wall
// clock (what is stored: epoch seconds and milliseconds), and a wait that can be ended early.
// real_clock() reads the system's clocks and waits on Asio timers; the unit tests use a
// virtual clock that jumps to the next deadline instead of waiting.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "bot/net.hpp"
#include "checklist/release.hpp"

namespace relbot::bot {

using steady_time = std::chrono::steady_clock::time_point;

// A wait one loop sleeps in, which another part of the program may end early (the loop's
// wake()). Belongs to one executor, used only there. Destroy it only when no wait is in
// progress.
class alarm {
public:
    virtual ~alarm() = default;

    // Returns at `deadline`, or earlier when ring() is called during the wait. Never throws.
    virtual net::awaitable<void> wait_until(steady_time deadline) = 0;

    // Ends the wait in progress, if there is one; otherwise does nothing (the caller keeps its
    // own "woken" flag for a ring between two waits).
    virtual void ring() = 0;
};

class clock {
public:
    virtual ~clock() = default;

    // Monotonic time, for pacing and deadlines.
    virtual steady_time steady_now() const = 0;

    // Wall-clock time, for what is stored and compared with stored times.
    virtual std::chrono::system_clock::time_point system_now() const = 0;

    // A new alarm whose waits run on `ex`.
    virtual std::unique_ptr<alarm> make_alarm(net::any_io_executor ex) = 0;

    // system_now() as epoch seconds and as epoch milliseconds.
    checklist::epoch_seconds epoch_s() const;
    std::int64_t epoch_ms() const;
};

// The process's clock: std::chrono::steady_clock and system_clock (plus the wall offset
// below), asio::steady_timer waits. One shared instance.
clock& real_clock();

// What real_clock() adds to the system's wall clock: the shared database's clock minus this
// host's, measured by the app (storage::engine::clock_ms), so that instances on hosts whose
// clocks differ agree on due times and leases. Zero unless set. Any thread.
void set_wall_offset(std::chrono::milliseconds offset);
std::chrono::milliseconds wall_offset();

}  // namespace relbot::bot
