// Gives the heap memory that work freed back to the system once the bot is quiet again.
// glibc keeps freed memory for reuse: without this, an idle bot goes on holding (and showing
// in its RSS) what start-up or its last burst of commands freed, for hours. Once `quiet` has
// passed with no call of worked(), malloc_trim(0) returns the free pages; busy, it is never
// called (it walks the heap).
#pragma once

#include <chrono>

#include "bot/net.hpp"

namespace relbot::bot {

// Allocations of 128 KiB and more get pages of their own (mmap), returned when freed, for the
// life of the process. glibc otherwise raises that threshold to the size of the largest such
// block freed so far (a timeline picture's pixels, 2-3 MiB), and from then on carves blocks
// that size out of the heap, which keeps them: a soak's RSS held some 3 MiB more that way.
// Called once, before the bot starts.
void keep_large_blocks_off_the_heap();

class idle_trim {
public:
    static constexpr std::chrono::milliseconds default_quiet{250};

    // `ex`: the strand every call of worked() comes from (the database strand).
    explicit idle_trim(net::any_io_executor ex, std::chrono::milliseconds quiet = default_quiet);

    // Something was done: trim once `quiet` has passed without another call.
    void worked();
    // How many times the heap has been trimmed (for the tests).
    long trims() const { return trims_; }

private:
    void arm();

    net::steady_timer timer_;
    std::chrono::milliseconds quiet_;
    std::chrono::steady_clock::time_point last_{};
    bool armed_ = false;
    long trims_ = 0;
};

}  // namespace relbot::bot
