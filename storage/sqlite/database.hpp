// Opening the SQLite file: pragmas and numbered migrations, and the online backup. Nothing
// outside storage/ includes this header (but storage tests, which migrate older schemas).
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>

namespace relbot::storage::sqlite {

// The schema version a fully migrated database has (`PRAGMA user_version`).
int schema_version();

// What opening does with a file whose schema is older than this relbot's (or that has none).
enum class older_schema {
    migrate,  // the bot: creates a missing file, applies the missing migrations
    refuse,   // a tool that only reads (`relbot export`): changes nothing, says why it stops
};

// Opens (creating if needed) the database at `path`, sets WAL, synchronous=NORMAL, foreign
// keys and a busy timeout, and applies any missing migrations in one transaction.
// Throws SQLite::Exception if the file cannot be opened or migrated, and std::runtime_error
// if the file is newer than this binary.
// `up_to` stops at an older schema version (for the tests of a migration). With
// `older_schema::refuse` a file that does not exist, holds no relbot schema or an older one
// is not touched: std::runtime_error says which.
std::unique_ptr<SQLite::Database> open_database(const std::string& path,
                                                int up_to = -1,
                                                older_schema older = older_schema::migrate);

// Copies the database at `source` to `destination` with SQLite's online backup, while other
// connections may be writing: the copy is one consistent snapshot. Written to a temporary file
// next to `destination` and renamed into place, so a failed backup leaves nothing half-written.
// Returns the number of pages copied; throws on failure, with a message that names the file
// it could not read or write (and says so when the destination's folder does not exist).
int backup_database(const std::string& source, const std::string& destination);

}  // namespace relbot::storage::sqlite
