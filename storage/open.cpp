// The factory: the PostgreSQL engine for a database URL, else the SQLite engine at a path.
#include "storage/open.hpp"

#include "storage/database.hpp"
#include "storage/postgres/connection.hpp"
#include "storage/postgres/engine.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/sqlite/store.hpp"

namespace relbot::storage {

std::unique_ptr<engine> open(const storage_options& options) {
    if (!options.database_url.empty()) {
        return std::make_unique<postgres::engine>(options.database_url, options.migrate);
    }
    return std::make_unique<sqlite::store>(options.path, options.recheck_reads, options.migrate);
}

std::string describe_database(const storage_options& options) {
    if (!options.database_url.empty()) {
        return "PostgreSQL " + postgres::describe_url(options.database_url);
    }
    return options.path;
}

std::optional<std::string> database_url_problem(const std::string& url) {
    return postgres::url_problem(url);
}

int backup_database(const std::string& source, const std::string& destination) {
    return sqlite::backup_database(source, destination);
}

std::optional<std::string> schema_refusal(
    const std::string& where, const std::string& setting, int found, int current, schema_use use) {
    auto versions = [&](const char* than) {
        return where + " has schema version " + std::to_string(found) + ", " + than +
               " than this relbot (" + std::to_string(current) + ")";
    };
    if (found > current) {
        return versions("newer") + "; upgrade relbot";
    }
    if (use == schema_use::migrate || found == current) {
        return std::nullopt;
    }
    if (found == 0) {
        return where + " holds no relbot data (no relbot schema); nothing was changed: name the " +
               "store relbot runs on (" + setting + ")";
    }
    return versions("older") +
           "; nothing was changed: use the relbot that runs on it, or start this relbot on it "
           "once (it migrates it)";
}

}  // namespace relbot::storage
