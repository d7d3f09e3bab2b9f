// Operations on a database file that need no open store: the online backup (`relbot
// backup`). No SQLite header; opening and migrating are storage/sqlite/database.hpp's.
#pragma once

#include <string>

namespace relbot::storage {

// Copies the database at `source` to `destination` while other connections may be writing:
// one consistent snapshot, written next to `destination` and renamed into place, so a failed
// backup leaves nothing half-written. Returns the number of pages copied; throws on failure,
// naming the file it could not read or write.
int backup_database(const std::string& source, const std::string& destination);

}  // namespace relbot::storage
