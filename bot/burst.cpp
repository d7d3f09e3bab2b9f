#include "bot/burst.hpp"

#include <algorithm>

namespace relbot::bot {

void burst_watch::arrived(burst_time at, bool alone) {
    if (!alone) {
        until_ = std::max(until_, at + lingers);
    }
}

void burst_watch::answered(burst_time at, std::size_t envelopes) {
    if (envelopes > 1) {
        until_ = std::max(until_, at + lingers);
    }
}

bool burst_watch::on(burst_time now, bool waiting) const {
    return waiting || now < until_;
}

bool burst_hold::go_on(bool burst, burst_time now) {
    if (burst) {
        if (!held_since_) {
            held_since_ = now;
        }
        if (now - *held_since_ < hold_at_most_) {
            return false;
        }
    }
    held_since_.reset();
    return true;
}

}  // namespace relbot::bot
