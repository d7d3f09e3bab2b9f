#include "bot/idle_trim.hpp"

#include <malloc.h>

namespace relbot::bot {

void keep_large_blocks_off_the_heap() {
    // Setting it also fixes the trim threshold at its default (128 KiB): glibc moves both
    // only while neither was set.
    ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

idle_trim::idle_trim(net::any_io_executor ex, std::chrono::milliseconds quiet)
    : timer_(std::move(ex)), quiet_(quiet) {}

void idle_trim::worked() {
    last_ = std::chrono::steady_clock::now();
    if (!armed_) {
        armed_ = true;
        arm();
    }
}

void idle_trim::arm() {
    timer_.expires_at(last_ + quiet_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) {
            return;  // cancelled: the bot is stopping
        }
        if (std::chrono::steady_clock::now() < last_ + quiet_) {
            arm();  // worked again meanwhile
            return;
        }
        armed_ = false;
        ::malloc_trim(0);
        ++trims_;
    });
}

}  // namespace relbot::bot
