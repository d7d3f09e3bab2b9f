// Private to storage/: the small helpers the store's files share for reading and binding
// columns, and the compile-time join of SQL text. Not part of the store's interface.
#pragma once

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace relbot::storage::sqlite::detail {

// The first column of every row of `q`, as ids.
inline std::vector<std::int64_t> ids_of(SQLite::Statement& q) {
    std::vector<std::int64_t> out;
    while (q.executeStep()) {
        out.push_back(q.getColumn(0).getInt64());
    }
    return out;
}

inline std::string text_of(const SQLite::Column& c) {
    return c.isNull() ? std::string() : c.getString();
}

inline std::optional<std::int64_t> optional_int(const SQLite::Column& c) {
    return c.isNull() ? std::nullopt : std::optional<std::int64_t>(c.getInt64());
}

inline void bind_optional(SQLite::Statement& q, const char* name, std::optional<std::int64_t> v) {
    if (v) {
        q.bind(name, *v);
    } else {
        q.bind(name);  // NULL
    }
}

// SQL text joined at compile time, so that a query built from shared parts is still a
// constant the statement cache can key by address.
template <std::size_t... N>
constexpr auto sql_join(const char (&... parts)[N]) {
    std::array<char, (N + ...) - sizeof...(N) + 1> out{};
    std::size_t at = 0;
    ((std::copy_n(parts, N - 1, out.begin() + static_cast<std::ptrdiff_t>(at)), at += N - 1), ...);
    return out;
}

}  // namespace relbot::storage::sqlite::detail
