// Bursts of envelopes, as pure logic (times are arguments; the callers own the clocks, the
// locks and the waiting).
//
// In a burst the acks of the envelopes still waiting come first: they carry Slack's 3-second
// promise, while the messages the burst decides (announcements, DMs, the living status
// message's update) have no such promise and go out at Slack's pace of about one a second per
// channel anyway. The notifier's work on the database strand (claiming, each delivery's HTTP
// call and the transaction that records it, the status message's render) would take the strand
// and the CPU from those envelopes, so the notifier holds its looks while a burst is on
// (`burst_watch` says when, `burst_hold` for how long), each for a quarter of a second at
// most: in a longer burst it looks once every quarter of a second.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace relbot::bot {

using burst_time = std::chrono::steady_clock::time_point;

// Whether a burst is on: envelopes handed over and not yet taken by the database strand, or
// less than `lingers` since the last envelope that came in a burst (within 1 ms of the one
// before, or while others waited) or since the last batch of several envelopes was answered
// (its acks may still be being written). A lock wait alone is not a burst. Not thread-safe:
// the dispatcher guards it with the lock of its queue (bot/app.cpp).
class burst_watch {
public:
    static constexpr std::chrono::milliseconds lingers{50};

    // An envelope came at `at`; `alone`: nothing was waiting and the one before came more
    // than 1 ms earlier.
    void arrived(burst_time at, bool alone);
    // The acks of a batch of `envelopes` were handed over at `at`. One envelope alone is not a
    // burst (on PostgreSQL every batch waits for the server, which is not one either).
    void answered(burst_time at, std::size_t envelopes);
    // Whether a burst is on at `now`, with `waiting`: envelopes not yet taken.
    bool on(burst_time now, bool waiting) const;

private:
    burst_time until_{};
};

// How long the notifier holds while a burst is on: from the first look held, at most
// `hold_at_most`; then one look goes on, and the next one held starts a new hold.
class burst_hold {
public:
    static constexpr std::chrono::milliseconds default_hold{250};

    explicit burst_hold(std::chrono::milliseconds hold_at_most = default_hold)
        : hold_at_most_(hold_at_most) {}

    // A look at `now`, with a burst on or not. True: go on now. False: hold; look again soon.
    bool go_on(bool burst, burst_time now);

private:
    std::chrono::milliseconds hold_at_most_;
    std::optional<burst_time> held_since_;
};

}  // namespace relbot::bot
