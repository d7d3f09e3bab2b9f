#include "bot/wake_gate.hpp"

namespace relbot::bot {

bool wake_gate::wake_now(bool envelopes_waiting, time_point now) {
    if (envelopes_waiting) {
        if (!held_since_) {
            held_since_ = now;
        }
        if (now - *held_since_ < hold_at_most_) {
            ++held_;
            return false;
        }
    }
    held_since_.reset();
    return true;
}

}  // namespace relbot::bot
