// Operations on a database file that need no open store: the online backup (`relbot
// backup`). No SQLite header; opening and migrating are storage/sqlite/database.hpp's.
#pragma once

#include <string>

namespace relbot::storage {

// Copies the database at `source` to `destination` while other connections may be writing:
// one consistent snapshot, written next to `destination` and renamed into place, so a failed
// backup leaves nothing half-written. Messages still queued in the copy are marked as maybe
// sent, so that a restore looks for them in Slack's history before posting them. Returns the
// number of pages copied; throws std::invalid_argument when `destination` is the database
// itself or one of its -wal, -shm or -journal files, and std::runtime_error on other failures,
// naming the file it could not read or write.
int backup_database(const std::string& source, const std::string& destination);

}  // namespace relbot::storage
