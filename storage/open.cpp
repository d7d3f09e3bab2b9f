// The factory: today every configuration means the SQLite engine at a path.
#include "storage/open.hpp"

#include "storage/database.hpp"
#include "storage/sqlite/database.hpp"
#include "storage/sqlite/store.hpp"

namespace relbot::storage {

std::unique_ptr<engine> open(const storage_options& options) {
    return std::make_unique<sqlite::store>(options.path, options.recheck_reads);
}

int backup_database(const std::string& source, const std::string& destination) {
    return sqlite::backup_database(source, destination);
}

}  // namespace relbot::storage
