// Operations on a database file that need no open store: the online backup (`relbot
// backup`), and what both engines say of a schema they will not use. No SQLite header;
// opening and migrating are storage/sqlite/database.hpp's.
#pragma once

#include <optional>
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

// How a store's schema is to be used once open.
enum class schema_use {
    migrate,     // the bot: an older schema (or none) is brought up to this relbot's
    read_as_is,  // a tool that only reads (`relbot export`): only this relbot's schema will do
};

// Why relbot stops at a store whose schema version is `found` (0: no relbot schema) when its
// own is `current`; nullopt when it may go on. A newer schema is always refused; none or an
// older one only when it is to be read as is (and the message says nothing was changed).
// `where` names the store ("database <path>"), `setting` the variable that names it.
std::optional<std::string> schema_refusal(
    const std::string& where, const std::string& setting, int found, int current, schema_use use);

}  // namespace relbot::storage
