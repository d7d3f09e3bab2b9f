// The PostgreSQL schema and its numbered migrations, applied under an advisory lock so that
// instances starting together do not race. Nothing outside storage/postgres/ includes this
// header (but storage tests).
#pragma once

#include <cstdint>

#include "storage/postgres/connection.hpp"

namespace relbot::storage::postgres {

// The schema version a fully migrated database has (the row of relbot_schema).
int schema_version();

// The advisory lock every instance takes (pg_advisory_lock, held by the session) while it
// reads and migrates the schema: one migrates, the others wait and find it done.
inline constexpr std::int64_t migration_lock_key = 0x72656c626f74;  // "relbot"
// The transaction advisory lock one scheduler pass holds (reminder_log::serialize_ticks).
inline constexpr std::int64_t scheduler_lock_key = 0x72656c626f7473;  // "relbots"
// Held by a unit that asks whether another release is deploying (one deployment at a time).
inline constexpr std::int64_t deploy_lock_key = 0x72656c6465706c;  // "reldepl"

// Brings the database up to schema_version() (or `up_to`, for the tests of a migration), each
// migration in its own transaction, under migration_lock_key. Returns the version found
// before. Throws pg_error if the server refuses, and std::runtime_error naming both versions
// if the database is newer than this binary (a rolling upgrade never runs old code on a new
// schema).
int migrate(connection& db, int up_to = -1);

// For a tool that only reads (`relbot export`): returns if the database is at
// schema_version(); otherwise throws std::runtime_error saying whether it holds no relbot
// schema, an older one (nothing was changed) or a newer one. Creates nothing, takes no lock.
void require_current_schema(connection& db);

}  // namespace relbot::storage::postgres
