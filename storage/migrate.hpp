// `relbot migrate-to-postgres`: a SQLite database copied into an empty PostgreSQL one; and
// `relbot backup` on PostgreSQL: the database copied into a new SQLite file. Names no engine
// in its interface; storage/migrate.cpp knows both.
#pragma once

#include <string>
#include <vector>

namespace relbot::storage {

// Rows copied, per table.
struct table_copy {
    std::string table;
    long long rows = 0;
};

// Copies every row of the SQLite database at `sqlite_path` (migrated to the current schema
// first, as relbot does on start) into the PostgreSQL database at `database_url` (created and
// migrated if needed), in one transaction, then checks that each table holds as many rows on
// both sides and sets the id sequences past the copied ids. All or nothing. Throws
// std::runtime_error, naming what to do, when the file does not exist, when the PostgreSQL
// database already holds relbot data (it must be empty: nothing is merged), or when a count
// differs (nothing is kept then); pg_error when the server refuses.
std::vector<table_copy> migrate_to_postgres(const std::string& sqlite_path,
                                            const std::string& database_url);

// `relbot backup PATH` on PostgreSQL: every row of the database at `database_url`, read in one
// snapshot (REPEATABLE READ, read-only: the instances go on writing), written to a new SQLite
// file at `destination` (replaced whole, or left as it was on any failure), each table's count
// checked on both sides. The file is a relbot database: run one relbot on it (RELBOT_DB), or
// restore it into an empty PostgreSQL database with migrate_to_postgres. Throws
// std::runtime_error when the database's schema lacks a column this relbot has (an older
// relbot's: start this one once to migrate it), pg_error when the server refuses.
std::vector<table_copy> backup_postgres(const std::string& database_url,
                                        const std::string& destination);

}  // namespace relbot::storage
