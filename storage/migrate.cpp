// SQLite → PostgreSQL, table by table in the order their foreign keys need, inside one
// PostgreSQL transaction and one SQLite read transaction (a consistent snapshot even if a
// relbot is still writing the file); and back (a backup of a PostgreSQL database as a SQLite
// file), in one read-only PostgreSQL snapshot and one SQLite transaction.
#include "storage/migrate.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <stdexcept>
#include <string_view>

#include "storage/postgres/connection.hpp"
#include "storage/postgres/schema.hpp"
#include "storage/sqlite/database.hpp"

namespace relbot::storage {

namespace {

// Every table both schemas have, parents before children (home_views is left out: which App
// Home view was last claimed, and who opened Home in the last 30 minutes, are worth nothing
// elsewhere; the next change publishes again, and people are followed again once they open).
constexpr std::array<std::string_view, 11> tables = {
    "releases",    "phases",    "items", "audit",    "outbox",     "applied_envelopes",
    "dm_channels", "reminders", "users", "channels", "checkpoints"};

// Tables whose ids come from a sequence on PostgreSQL (set past the copied ids).
constexpr std::array<std::string_view, 4> sequenced = {"releases", "items", "audit", "outbox"};

// The columns of `table` on both sides, in SQLite's order. The table's name comes from
// `tables` above; a column name comes from the file but is used only if PostgreSQL's table has
// a column of that very name, and is quoted.
std::vector<std::string> columns_of(SQLite::Database& db,
                                    postgres::connection& pg,
                                    std::string_view table,
                                    std::string_view which_is_newer) {
    auto there = pg.exec(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = $1",
        {table});
    std::vector<std::string> target;
    for (int i = 0; i < there.rows(); ++i) {
        target.push_back(there.text(i, 0));
    }
    SQLite::Statement q(db, "SELECT name FROM pragma_table_info(?) ORDER BY cid");
    q.bind(1, std::string(table));
    std::vector<std::string> out;
    while (q.executeStep()) {
        auto name = q.getColumn(0).getString();
        if (std::find(target.begin(), target.end(), name) == target.end()) {
            throw std::runtime_error("the SQLite table " + std::string(table) + " has a column " +
                                     "PostgreSQL's has not; is " + std::string(which_is_newer) +
                                     "?");
        }
        out.push_back(name);
    }
    return out;
}

std::string quoted_name(const std::string& name) {
    return "\"" + name + "\"";  // checked above against the target's own column names
}

long long count_sqlite(SQLite::Database& db, std::string_view table) {
    return db.execAndGet("SELECT COUNT(*) FROM " + std::string(table)).getInt64();
}

long long count_postgres(postgres::connection& pg, std::string_view table) {
    return pg.exec("SELECT COUNT(*) FROM " + std::string(table)).integer(0, 0);
}

// Copies one table's rows; returns how many.
long long copy_table(SQLite::Database& from, postgres::connection& to, std::string_view table) {
    auto columns = columns_of(from, to, table, "the file from a newer relbot");
    if (columns.empty()) {
        throw std::runtime_error("the SQLite database has no table " + std::string(table));
    }
    std::string names;
    std::string placeholders;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        names += (i ? ", " : "") + quoted_name(columns[i]);
        placeholders += (i ? ", $" : "$") + std::to_string(i + 1);
    }
    auto insert =
        "INSERT INTO " + std::string(table) + " (" + names + ") VALUES (" + placeholders + ")";
    SQLite::Statement rows(from, "SELECT " + names + " FROM " + std::string(table));
    long long copied = 0;
    std::vector<postgres::param> values;
    while (rows.executeStep()) {
        values.clear();
        for (int c = 0; c < static_cast<int>(columns.size()); ++c) {
            auto v = rows.getColumn(c);
            if (v.isNull()) {
                values.emplace_back(std::nullopt);
            } else if (v.isInteger()) {
                values.emplace_back(static_cast<std::int64_t>(v.getInt64()));
            } else {
                values.emplace_back(v.getString());
            }
        }
        to.exec(insert, values);
        ++copied;
    }
    return copied;
}

}  // namespace

std::vector<table_copy> migrate_to_postgres(const std::string& sqlite_path,
                                            const std::string& database_url) {
    if (!std::filesystem::exists(sqlite_path)) {
        throw std::runtime_error("the SQLite database " + sqlite_path +
                                 " does not exist (RELBOT_DB names it)");
    }
    auto from = sqlite::open_database(sqlite_path);  // brought to the current schema
    postgres::connection to(database_url);
    postgres::migrate(to);
    std::vector<table_copy> copied;
    SQLite::Transaction snapshot(*from);  // read in one snapshot; rolled back at the end
    to.exec("BEGIN");
    try {
        // Held until the copy commits: a relbot starting meanwhile waits in its migration.
        to.exec("SELECT pg_advisory_xact_lock($1)", {postgres::migration_lock_key});
        for (auto table : tables) {
            if (count_postgres(to, table) != 0) {
                throw std::runtime_error("the PostgreSQL database at " + to.server() +
                                         " already holds relbot data (" + std::string(table) +
                                         " is not empty); migrate into a new, empty database "
                                         "(createdb), nothing is merged");
            }
        }
        for (auto table : tables) {
            copied.push_back({std::string(table), copy_table(*from, to, table)});
        }
        for (auto table : sequenced) {
            auto t = std::string(table);
            to.exec("SELECT setval(pg_get_serial_sequence('" + t +
                    "', 'id'), GREATEST((SELECT "
                    "COALESCE(MAX(id), 0) FROM " +
                    t + "), 1))");
        }
        for (const auto& c : copied) {
            auto there = count_postgres(to, c.table);
            if (there != c.rows || count_sqlite(*from, c.table) != c.rows) {
                throw std::runtime_error("table " + c.table + ": " + std::to_string(c.rows) +
                                         " rows read, " + std::to_string(there) +
                                         " in PostgreSQL; nothing was kept");
            }
        }
        to.exec("COMMIT");
    } catch (...) {
        try {
            to.exec("ROLLBACK");
        } catch (const std::exception&) {
            // The connection is gone; so is the transaction.
        }
        throw;
    }
    return copied;
}

std::vector<table_copy> backup_postgres(const std::string& database_url,
                                        const std::string& destination) {
    namespace fs = std::filesystem;
    postgres::connection from(database_url);
    auto partial = destination + ".partial";
    fs::remove(partial);
    std::vector<table_copy> copied;
    try {
        // Writing a large table into the file may take a while: the server must not end this
        // session as idle in its transaction meanwhile.
        from.exec("SET idle_in_transaction_session_timeout = 0");
        // One snapshot of the whole database, taken without blocking the instances' writes.
        from.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        // A newer relbot's database has columns this one does not know: its copy would lose
        // them without a word. Refused, as relbot itself refuses to run on it.
        auto schema = from.exec("SELECT version FROM relbot_schema");
        if (schema.rows() > 0 && schema.integer(0, 0) > postgres::schema_version()) {
            throw std::runtime_error("the PostgreSQL database at " + from.server() +
                                     " has schema version " + std::to_string(schema.integer(0, 0)) +
                                     ", newer than this relbot (" +
                                     std::to_string(postgres::schema_version()) +
                                     "); take the backup with the relbot that runs on it");
        }
        {
            auto to = sqlite::open_database(partial);  // created at this relbot's schema
            SQLite::Transaction write(*to);
            for (auto table : tables) {
                auto columns = columns_of(*to, from, table,
                                          "the database from an older relbot (start it once)");
                std::string names;
                std::string placeholders;
                for (std::size_t i = 0; i < columns.size(); ++i) {
                    names += (i ? ", " : "") + quoted_name(columns[i]);
                    placeholders += i ? ", ?" : "?";
                }
                auto rows = from.exec("SELECT " + names + " FROM " + std::string(table));
                SQLite::Statement insert(*to, "INSERT INTO " + std::string(table) + " (" + names +
                                                  ") VALUES (" + placeholders + ")");
                for (int r = 0; r < rows.rows(); ++r) {
                    insert.reset();
                    insert.clearBindings();
                    for (int c = 0; c < rows.columns(); ++c) {
                        if (!rows.is_null(r, c)) {
                            // Text: SQLite's column affinity stores numbers as numbers.
                            insert.bind(c + 1, rows.text(r, c));
                        }
                    }
                    insert.exec();
                }
                copied.push_back({std::string(table), rows.rows()});
            }
            for (const auto& c : copied) {
                auto here = count_sqlite(*to, c.table);
                if (here != c.rows || count_postgres(from, c.table) != c.rows) {
                    throw std::runtime_error("table " + c.table + ": " + std::to_string(c.rows) +
                                             " rows read, " + std::to_string(here) +
                                             " written; no backup was made");
                }
            }
            // Restored, the copy goes back in time: a message still queued in it is looked
            // for in Slack's history before it is posted (see sqlite::backup_database).
            to->exec("UPDATE outbox SET maybe_sent = 1 WHERE state IN ('pending', 'sending')");
            write.commit();
        }
        from.exec("COMMIT");
        fs::rename(partial, destination);  // whole or not at all
    } catch (...) {
        std::error_code ignored;
        fs::remove(partial, ignored);
        fs::remove(partial + "-wal", ignored);
        fs::remove(partial + "-shm", ignored);
        throw;
    }
    return copied;
}

}  // namespace relbot::storage
