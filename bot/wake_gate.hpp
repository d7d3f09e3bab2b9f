// Whether the notifier starts the messages that are due now, or holds them while a burst
// goes on. Its work on the database strand (claiming and sending the batches' messages,
// rendering the living status message) takes the strand from the envelopes still waiting,
// whose acks carry Slack's 3-second promise; the messages have no such promise and go out at
// Slack's per-channel pace (about one a second) anyway. So while envelopes wait, the
// notifier's look is held, for at most `hold_at_most` from the first look held: a burst delays
// the messages it decided by that much at most, and a stream that never stops cannot keep
// them from going out. Pure logic; the notifier owns the waiting (bot/notifier.cpp).
#pragma once

#include <chrono>
#include <optional>

namespace relbot::bot {

class wake_gate {
public:
    using time_point = std::chrono::steady_clock::time_point;

    static constexpr std::chrono::milliseconds default_hold{250};

    explicit wake_gate(std::chrono::milliseconds hold_at_most = default_hold)
        : hold_at_most_(hold_at_most) {}

    // A look is due at `now`. True: go on now (the next look held starts a new hold). False:
    // hold it (envelopes are waiting, and the first look held is recent); ask again soon.
    bool wake_now(bool envelopes_waiting, time_point now);

    // How many looks have been held so far (for the tests).
    long held() const { return held_; }

private:
    std::chrono::milliseconds hold_at_most_;
    std::optional<time_point> held_since_;
    long held_ = 0;
};

}  // namespace relbot::bot
