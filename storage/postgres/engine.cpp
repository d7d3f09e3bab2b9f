#include "storage/postgres/engine.hpp"

#include <stdexcept>

#include "storage/postgres/schema.hpp"

namespace relbot::storage::postgres {

namespace {

const std::string& migrated(const std::string& url) {
    connection db(url);
    migrate(db);
    return url;
}

}  // namespace

engine::engine(const std::string& url, bool single_instance)
    : session_(migrated(url)),
      releases_(session_),
      outbox_(session_),
      applied_(session_),
      people_(session_),
      timed_(session_, outbox_) {
    if (single_instance &&
        session_.db().exec("SELECT pg_try_advisory_lock($1)", {instance_lock_key}).text(0, 0) !=
            "t") {
        throw std::runtime_error(
            "another relbot process is using the PostgreSQL database at " +
            session_.db().server() +
            "; this version runs one process per database: stop the other one first");
    }
}

int engine::backup(const std::string& destination) {
    throw std::runtime_error("cannot back up to " + destination + ": relbot's backup copies a " +
                             "SQLite file; back up the PostgreSQL database at " +
                             session_.db().server() + " with pg_dump");
}

}  // namespace relbot::storage::postgres
