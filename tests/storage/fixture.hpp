// What the storage tests share: a fresh file, a row count, and commands run through the real
// router, each in a transaction of its own, as the bot runs them: on a SQLite file's store
// (router_fixture), or on an engine of either kind (engine_router, engines.hpp).
#pragma once

#include <SQLiteCpp/Database.h>

#include <string>
#include <vector>

#include "checklist/template.hpp"
#include "commands/apply.hpp"
#include "engines.hpp"
#include "storage/sqlite/store.hpp"
#include "temp_db.hpp"

namespace relbot::test {

inline int count(const std::string& path, const std::string& table) {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT COUNT(*) FROM " + table).getInt();
}

struct router_fixture {
    explicit router_fixture(const std::string& path) : store(path) {}

    commands::outcome run(const std::string& text,
                          const std::string& channel = "C1",
                          const std::string& user = "U1") {
        storage::sqlite::store::transaction tx(store);
        commands::context ctx{store, templates, admins};
        auto out = commands::route({"T1", channel, user, text, 1795669235, "", ""}, ctx);
        tx.commit();
        return out;
    }

    storage::sqlite::store store;
    checklist::template_library templates;
    std::vector<std::string> admins;
};

// The same on any engine: a connection of its own to `db`, each command in a unit of work of
// its own (work().begin() ... commit()).
struct engine_router {
    explicit engine_router(const fresh_store& db)
        : connection(db.connect()), store(connection->engine()) {}

    commands::outcome run(const std::string& text,
                          const std::string& channel = "C1",
                          const std::string& user = "U1") {
        return run({"T1", channel, user, text, 1795669235, "", ""});
    }
    commands::outcome run(const commands::request& request) {
        auto tx = store.work().begin();
        commands::context ctx{store, templates, admins};
        auto out = commands::route(request, ctx);
        tx->commit();
        return out;
    }

    checklist::template_library templates;
    std::vector<std::string> admins;
    std::unique_ptr<store_connection> connection;
    storage::engine& store;
};

inline std::string reply_text(const commands::outcome& o) {
    return o.reply.text;
}

}  // namespace relbot::test
