#include "storage/postgres/engine.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "storage/migrate.hpp"
#include "storage/postgres/schema.hpp"

namespace relbot::storage::postgres {

namespace {

// The URL, once its database is at this relbot's schema: migrated, or (a tool that only
// reads) checked and left as it is.
const std::string& migrated(const std::string& url, bool may_migrate) {
    connection db(url);
    if (may_migrate) {
        migrate(db);
    } else {
        require_current_schema(db);
    }
    return url;
}

}  // namespace

engine::engine(const std::string& url, bool may_migrate)
    : url_(url),
      session_(migrated(url, may_migrate)),
      releases_(session_),
      outbox_(session_),
      applied_(session_),
      people_(session_),
      timed_(session_, outbox_) {}

std::optional<std::int64_t> engine::clock_ms() {
    // clock_timestamp(), not now(): the time of this statement, not of a transaction.
    return session_.busy_as_busy([&] {
        return session_.db()
            .exec("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")
            .integer(0, 0);
    });
}

int engine::backup(const std::string& destination) {
    long long rows = 0;
    for (const auto& t : backup_postgres(url_, destination)) {
        rows += t.rows;
    }
    return static_cast<int>(std::min<long long>(rows, std::numeric_limits<int>::max()));
}

}  // namespace relbot::storage::postgres
