// What the fuzz targets share: the input as text, and a check that stops the run with the
// property that failed (libFuzzer then saves the input as a crash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace relbot::fuzz {

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void property_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
    std::abort();
}

}  // namespace relbot::fuzz

// Like assert, but never compiled out: a property of the code under test.
#define FUZZ_CHECK(condition)                                                \
    do {                                                                     \
        if (!(condition)) {                                                  \
            ::relbot::fuzz::property_failed(#condition, __FILE__, __LINE__); \
        }                                                                    \
    } while (false)
