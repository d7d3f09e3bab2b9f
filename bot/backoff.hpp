// Reconnect and retry delays: capped exponential backoff with jitter. Pure.
#pragma once

#include <algorithm>
#include <chrono>

namespace relbot::bot {

// The delay before attempt number `failures` (1 = first retry): 1 s, 2 s, 4 s, … capped at
// `cap`, scaled by a jitter factor between 0.5 and 1 taken from `unit_random` in [0, 1).
inline std::chrono::milliseconds backoff_delay(
    int failures,
    double unit_random,
    std::chrono::milliseconds base = std::chrono::seconds(1),
    std::chrono::milliseconds cap = std::chrono::seconds(30)) {
    auto exponent = std::clamp(failures - 1, 0, 20);
    auto full = std::min<long long>(cap.count(), base.count() * (1LL << exponent));
    auto jitter = 0.5 + 0.5 * std::clamp(unit_random, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<long long>(static_cast<double>(full) * jitter));
}

}  // namespace relbot::bot
