#include "checklist/zone.hpp"

#include <algorithm>

namespace relbot::checklist {
namespace {

// Big-endian reads from a TZif body, bounds checked by the caller.
std::int64_t be(std::string_view b, std::size_t at, std::size_t width) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) {
        v = (v << 8) | static_cast<unsigned char>(b[at + i]);
    }
    if (width == 4) {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    }
    return static_cast<std::int64_t>(v);
}

struct header {
    std::size_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
    std::size_t body(std::size_t time_width) const {
        return time * time_width + time + type * 6 + chars + leap * (time_width + 4) + isstd + isut;
    }
};

std::optional<header> read_header(std::string_view b, std::size_t at) {
    if (b.size() < at + 44 || b.substr(at, 4) != "TZif") {
        return std::nullopt;
    }
    auto count = [&](std::size_t k) {
        return static_cast<std::size_t>(static_cast<std::uint32_t>(be(b, at + 20 + 4 * k, 4)));
    };
    header h{count(0), count(1), count(2), count(3), count(4), count(5)};
    // Far beyond any real zone; keeps the sizes below from overflowing.
    if (h.time > 100'000 || h.type > 256 || h.type == 0 || h.chars > 100'000 || h.leap > 100'000 ||
        h.isstd > 256 || h.isut > 256) {
        return std::nullopt;
    }
    return h;
}

}  // namespace

time_zone time_zone::utc() {
    time_zone z;
    z.name_ = "UTC";
    return z;
}

std::optional<time_zone> time_zone::from_tzif(std::string name, std::string_view b) {
    auto v1 = read_header(b, 0);
    if (!v1) {
        return std::nullopt;
    }
    std::size_t at = 44;
    std::size_t width = 4;
    header h = *v1;
    if (b[4] >= '2') {
        // Version 2+: a second header and body with 64-bit times follow the first body.
        auto skip = at + v1->body(4);
        auto v2 = read_header(b, skip);
        if (!v2) {
            return std::nullopt;
        }
        h = *v2;
        at = skip + 44;
        width = 8;
    }
    if (b.size() < at + h.body(width)) {
        return std::nullopt;
    }
    time_zone z;
    z.name_ = std::move(name);
    auto times_at = at;
    auto index_at = times_at + h.time * width;
    auto types_at = index_at + h.time;
    std::vector<int> type_offsets(h.type);
    std::vector<bool> type_dst(h.type);
    for (std::size_t t = 0; t < h.type; ++t) {
        auto off = be(b, types_at + 6 * t, 4);
        if (off < -25 * 3600 || off > 26 * 3600) {
            return std::nullopt;
        }
        type_offsets[t] = static_cast<int>(off);
        type_dst[t] = b[types_at + 6 * t + 4] != 0;
    }
    // Before the first transition: the first standard-time type (RFC 8536 §3.2), else type 0.
    z.offset_before_ = type_offsets[0];
    for (std::size_t t = 0; t < h.type; ++t) {
        if (!type_dst[t]) {
            z.offset_before_ = type_offsets[t];
            break;
        }
    }
    for (std::size_t k = 0; k < h.time; ++k) {
        auto when = be(b, times_at + k * width, width);
        auto type = static_cast<unsigned char>(b[index_at + k]);
        if (type >= h.type || (!z.transitions_.empty() && when <= z.transitions_.back())) {
            return std::nullopt;
        }
        z.transitions_.push_back(when);
        z.offsets_after_.push_back(type_offsets[type]);
    }
    return z;
}

int time_zone::offset_at(std::int64_t utc) const {
    auto after = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
    if (after == transitions_.begin()) {
        return offset_before_;
    }
    return offsets_after_[static_cast<std::size_t>(after - transitions_.begin() - 1)];
}

std::int64_t time_zone::to_utc(std::int64_t local) const {
    // The wall time read with the offset in force a day before and a day after: when both
    // readings agree on an offset whose instant maps back to `local`, that is it.
    auto early = offset_at(local - 86400);
    auto late = offset_at(local + 86400);
    if (auto first = local - early; offset_at(first) == early) {
        return first;  // also the first of two occurrences in the autumn
    }
    if (auto second = local - late; offset_at(second) == late) {
        return second;
    }
    // Skipped (spring forward): as far past the change as the wall time is past it.
    return local - early;
}

bool valid_zone_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/' ||
        name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '+' || c == '/';
    });
}

}  // namespace relbot::checklist
