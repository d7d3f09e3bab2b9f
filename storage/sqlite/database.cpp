// Schema and migrations. A migration is appended, never edited: databases in the field
// have already run the old ones.
#include "storage/sqlite/database.hpp"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Transaction.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string_view>

#include "storage/database.hpp"

namespace relbot::storage::sqlite {
namespace {

constexpr std::array<std::string_view, 21> migrations = {
    // 1: releases, phases, items, the audit log, the outbox and applied envelopes.
    R"sql(
CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    channel_id TEXT NOT NULL,
    version TEXT NOT NULL,
    template_name TEXT NOT NULL,
    manager_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'finished', 'aborted')),
    current_phase INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER
);
CREATE UNIQUE INDEX releases_one_active_per_channel ON releases (channel_id)
    WHERE status = 'active';
CREATE INDEX releases_by_channel ON releases (channel_id, started_at DESC);

CREATE TABLE phases (
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    window_min_s INTEGER,
    window_max_s INTEGER,
    entered_at INTEGER,
    PRIMARY KEY (release_id, position)
) WITHOUT ROWID;

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    release_id INTEGER NOT NULL,
    phase INTEGER NOT NULL,
    position INTEGER NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'skipped', 'blocked')),
    state_note TEXT NOT NULL DEFAULT '',
    owner_id TEXT NOT NULL DEFAULT '',
    due_at INTEGER,
    updated_at INTEGER NOT NULL,
    UNIQUE (release_id, phase, position),
    UNIQUE (release_id, slug),
    FOREIGN KEY (release_id, phase) REFERENCES phases (release_id, position) ON DELETE CASCADE
);
CREATE INDEX items_by_owner ON items (owner_id) WHERE owner_id <> '';

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    item_id INTEGER REFERENCES items (id) ON DELETE CASCADE,
    from_state TEXT NOT NULL DEFAULT '',
    to_state TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_release ON audit (release_id, id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    release_id INTEGER REFERENCES releases (id) ON DELETE SET NULL,
    channel_id TEXT NOT NULL,
    method TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    ts TEXT,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_unsent ON outbox (not_before, id) WHERE state IN ('pending', 'sending');

CREATE TABLE applied_envelopes (
    key TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL,
    reply TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX applied_envelopes_by_age ON applied_envelopes (applied_at);
)sql",
    // 2: who the release was handed off to, and when.
    R"sql(
ALTER TABLE releases ADD COLUMN oncall_id TEXT NOT NULL DEFAULT '';
ALTER TABLE releases ADD COLUMN pm_id TEXT NOT NULL DEFAULT '';
ALTER TABLE releases ADD COLUMN handoff_at INTEGER;
CREATE INDEX releases_by_version ON releases (channel_id, version, started_at DESC);
)sql",
    // 3: delivery: per-channel order, what a row is for, DM channels, the living status message.
    R"sql(
CREATE INDEX outbox_unsent_by_channel ON outbox (channel_id, id) WHERE state IN ('pending', 'sending');
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT '';
CREATE TABLE dm_channels (
    user_id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL
) WITHOUT ROWID;
ALTER TABLE releases ADD COLUMN status_ts TEXT NOT NULL DEFAULT '';
ALTER TABLE releases ADD COLUMN status_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN status_sent_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN status_updated_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX releases_status_behind ON releases (id) WHERE status_version > status_sent_version;
)sql",
    // 4: when the on-call engineer accepted the handoff.
    R"sql(
ALTER TABLE releases ADD COLUMN handoff_accepted_at INTEGER;
)sql",
    // 5: reminders sent, by item, due time and slot; escalations.
    R"sql(
CREATE TABLE reminders (
    item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    due_at INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (item_id, due_at, slot)
) WITHOUT ROWID;
ALTER TABLE items ADD COLUMN escalated_at INTEGER;
CREATE INDEX items_due ON items (due_at) WHERE due_at IS NOT NULL AND owner_id <> '';
)sql",
    // 6: people's time zones (users.info), for quiet hours.
    R"sql(
CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    tz_offset INTEGER NOT NULL,
    fetched_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
    // 7: the operator's count of messages Slack refused for good, without reading the history.
    R"sql(
CREATE INDEX outbox_failed ON outbox (id) WHERE state = 'failed';
)sql",
    // 8: one page fewer written by every command that changes something: the redelivery
    // record is looked up by key only; the hourly prune of week-old keys reads the table
    // (a week of commands) instead of keeping an index on its age up to date.
    R"sql(
DROP INDEX applied_envelopes_by_age;
)sql",
    // 9: the timeline stored in release order (one b-tree, no separate index on release_id to
    // keep up to date: one page fewer per change). Ids stay unique across releases: rows
    // written from now on are numbered from release_id × 2^32 within their release (see
    // store::append_audit), above every id written before, which keep their numbers.
    R"sql(
CREATE TABLE audit_by_release_id (
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    item_id INTEGER REFERENCES items (id) ON DELETE CASCADE,
    from_state TEXT NOT NULL DEFAULT '',
    to_state TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (release_id, id)
) WITHOUT ROWID;
INSERT INTO audit_by_release_id
    (release_id, id, at, actor_id, action, item_id, from_state, to_state, note)
    SELECT release_id, id, at, actor_id, action, item_id, from_state, to_state, note FROM audit;
DROP TABLE audit;
ALTER TABLE audit_by_release_id RENAME TO audit;
)sql",
    // 10: people's names (users.info; NULL until looked up), for the markdown export read
    // outside Slack; channels' names (slash commands carry them), for `relbot export
    // --channel '#name'`.
    R"sql(
ALTER TABLE users ADD COLUMN name TEXT;
CREATE TABLE channels (
    channel_id TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;
)sql",
    // 11: whether a phase was left by force (`next force`, `finish force`), for the status;
    // phases left so before learn it from their release's timeline (one pass over it).
    R"sql(
ALTER TABLE phases ADD COLUMN left_by_force INTEGER NOT NULL DEFAULT 0;
UPDATE phases SET left_by_force = 1 WHERE (release_id, title) IN
    (SELECT release_id, from_state FROM audit
     WHERE action IN ('phase.forced', 'release.forced_finish'));
)sql",
    // 12: claiming outbox rows for a lease (store::claim): until when, and by whom. A row left
    // `sending` before this has no lease, and is taken again as unfinished.
    R"sql(
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
)sql",
    // 13: monitoring checkpoints (planned once the deployment phase is left; posted, answered,
    // reminded), and an item's snooze (its owner's next reminder is not before it).
    R"sql(
CREATE TABLE checkpoints (
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    offset_s INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    posted_at INTEGER,
    answer TEXT NOT NULL DEFAULT 'none'
        CHECK (answer IN ('none', 'healthy', 'investigating', 'rolled_back')),
    answered_by TEXT NOT NULL DEFAULT '',
    answered_at INTEGER,
    reminders INTEGER NOT NULL DEFAULT 0,
    last_reminded_at INTEGER,
    PRIMARY KEY (release_id, number)
) WITHOUT ROWID;
ALTER TABLE items ADD COLUMN snoozed_until INTEGER;
)sql",
    // 14: an outbox row whose last delivery failed after the request was sent (the answer was
    // lost): Slack may have it, so the next claim looks for it in the history first.
    R"sql(
ALTER TABLE outbox ADD COLUMN maybe_sent INTEGER NOT NULL DEFAULT 0;
)sql",
    // 15: the App Home view each person was last sent (a hash of it): with several instances
    // following one person, one of them publishes each new view (claim_home_view).
    R"sql(
CREATE TABLE home_views (
    user_id TEXT PRIMARY KEY,
    view_hash TEXT NOT NULL,
    published_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
    // 16: who put each item in its state (a person, or "ci:<source>" for a signal from CI),
    // shown beside a settled item in the status message.
    R"sql(
ALTER TABLE items ADD COLUMN state_by TEXT NOT NULL DEFAULT '';
)sql",
    // 17: release policy (contract: "Release policy in the template"): each item's annotation
    // as written, the role it is owned through, its sign-offs ("U1@<time> U2@<time>") and
    // whether its check was forced; the roles each release's people hold ("qa=U1 pm=U2").
    R"sql(
ALTER TABLE items ADD COLUMN policy TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN owner_role TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN approvals TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN roles TEXT NOT NULL DEFAULT '';
)sql",
    // 18: when each item was put in its state (a sign-off's reminders count from it).
    R"sql(
ALTER TABLE items ADD COLUMN state_at INTEGER;
)sql",
    // 19: when each person last opened their App Home (0: never), so that every instance
    // follows them, not only the one that got the event.
    R"sql(
ALTER TABLE home_views ADD COLUMN opened_ms INTEGER NOT NULL DEFAULT 0;
)sql",
    // 20: one b-tree fewer for every message queued, sent or put off: no query read
    // outbox_unsent (the claim, the next due time, the backlog and the counts read
    // outbox_unsent_by_channel, which holds the same rows).
    R"sql(
DROP INDEX IF EXISTS outbox_unsent;
)sql",
    // 21: the CHECK constraints on a state as comparisons, the same rule: SQLite evaluates
    // `x IN (three or more constants)` by building a temporary b-tree of the constants each
    // time the statement runs, which every item update and every message queued paid for
    // (about 15 % of a write in relbot-bench-writes). Rows do not change, so the tables' text is
    // edited in place, as
    // SQLite's documentation allows for a CHECK constraint (see schema_text_edited below);
    // a table whose text differs from what relbot wrote is left as it is.
    R"sql(
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (status IN (''active'', ''finished'', ''aborted''))',
    'CHECK (status = ''active'' OR status = ''finished'' OR status = ''aborted'')')
    WHERE type = 'table' AND name = 'releases';
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (state IN (''open'', ''done'', ''skipped'', ''blocked''))',
    'CHECK (state = ''open'' OR state = ''done'' OR state = ''skipped'' OR state = ''blocked'')')
    WHERE type = 'table' AND name = 'items';
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (state IN (''pending'', ''sending'', ''sent'', ''failed''))',
    'CHECK (state = ''pending'' OR state = ''sending'' OR state = ''sent'' OR state = ''failed'')')
    WHERE type = 'table' AND name = 'outbox';
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (answer IN (''none'', ''healthy'', ''investigating'', ''rolled_back''))',
    'CHECK (answer = ''none'' OR answer = ''healthy'' OR answer = ''investigating'' OR '
    || 'answer = ''rolled_back'')')
    WHERE type = 'table' AND name = 'checkpoints';
)sql",
};

}  // namespace

int schema_version() {
    return static_cast<int>(migrations.size());
}

namespace {

// Once per process, before SQLite is first used: no global statistics of its memory use,
// which otherwise take a process-wide mutex on every one of its allocations (thousands per
// command; nothing here reads them). If SQLite was already in use, it says so and nothing
// changes.
void configure_sqlite_once() {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

// Whether a migration edits the tables' text in sqlite_schema (SQLite's documented way to
// change a CHECK constraint without copying a table: "Making Other Kinds Of Table Schema
// Changes", ALTER TABLE).
bool schema_text_edited(std::string_view migration) {
    return migration.find("PRAGMA writable_schema = ON") != std::string_view::npos;
}

// Why `path` cannot be opened, in words that say what to do: SQLite says only "unable to open
// database file".
std::string cannot_open(const std::string& path, const std::string& sqlite_says) {
    namespace fs = std::filesystem;
    auto folder = fs::path(path).parent_path();
    if (folder.empty()) {
        folder = ".";
    }
    // Said of the bot's database (RELBOT_DB, which the start-up log names) and of a backup's
    // file alike: the path, not the setting.
    auto said = "cannot open the database " + path + ": ";
    constexpr const char* what_to_do = "; create it, or name a file in a folder relbot may write";
    std::error_code ec;
    auto kind = fs::status(folder, ec).type();
    if (kind == fs::file_type::not_found) {
        return said + "the folder " + folder.string() + " does not exist" + what_to_do;
    }
    if (!ec && kind != fs::file_type::directory) {
        return said + folder.string() + " is not a folder" + what_to_do;
    }
    if (::access(folder.c_str(), W_OK | X_OK) != 0) {
        return said + "relbot may not create files in " + folder.string() +
               " (the database, and its -wal and -shm files beside it); give its user write "
               "access there, or name a file in a folder relbot may write";
    }
    if (fs::exists(path, ec) && ::access(path.c_str(), R_OK | W_OK) != 0) {
        return said +
               "relbot may not read and write the file; give its user read and write "
               "access to it";
    }
    return said + sqlite_says;
}

}  // namespace

std::unique_ptr<SQLite::Database> open_database(const std::string& path,
                                                int up_to,
                                                older_schema older) {
    configure_sqlite_once();
    auto target = up_to < 0 ? schema_version() : std::min(up_to, schema_version());
    // The busy timeout is kept under Slack's 3-second ack deadline: a command that cannot get
    // the write lock in time is answered with "try again" instead of a late ack.
    constexpr int busy_timeout_ms = 2000;
    // One connection per process, used by one thread at a time (the store's contract), so
    // SQLite's own per-call mutexes are not needed.
    bool refuse = older == older_schema::refuse;
    if (refuse && !std::filesystem::exists(path)) {
        throw std::runtime_error("the database " + path + " does not exist");
    }
    std::unique_ptr<SQLite::Database> db;
    try {
        db = std::make_unique<SQLite::Database>(
            path,
            SQLite::OPEN_READWRITE | (refuse ? 0 : SQLite::OPEN_CREATE) | SQLite::OPEN_NOMUTEX,
            busy_timeout_ms);
        if (refuse) {
            // Read before anything is set (journal_mode = WAL would write a file in another
            // mode): a file that is not relbot's current schema is left exactly as it is.
            if (auto no = schema_refusal("database " + path, "RELBOT_DB",
                                         db->execAndGet("PRAGMA user_version").getInt(),
                                         schema_version(), schema_use::read_as_is)) {
                throw std::runtime_error(*no);
            }
        }
        db->exec("PRAGMA journal_mode = WAL");  // the first read: a file that is not one says so
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error(cannot_open(path, e.what()));
    }
    // NORMAL in WAL mode: a committed transaction survives a crash of the process (the
    // operating system still has the write); only a power cut can lose the last commits.
    db->exec("PRAGMA synchronous = NORMAL");
    // When the log starts again from its beginning, a -wal file grown past this (by a
    // migration, or a burst while a reader held checkpoints back) is cut back to it.
    db->exec("PRAGMA journal_size_limit = 67108864");
    db->exec("PRAGMA foreign_keys = ON");
    // Group commit gives every input of a batch a savepoint, whose undo pages go to a
    // statement journal: kept in memory (a batch changes a few hundred pages at most), not in
    // a temporary file per transaction.
    db->exec("PRAGMA temp_store = MEMORY");

    int version = db->execAndGet("PRAGMA user_version").getInt();
    if (auto no = schema_refusal("database " + path, "RELBOT_DB", version, schema_version(),
                                 schema_use::migrate)) {
        throw std::runtime_error(*no);  // newer than this relbot
    }
    if (version < target) {
        SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
        for (auto i = static_cast<std::size_t>(version); i < static_cast<std::size_t>(target);
             ++i) {
            if (!schema_text_edited(migrations[i])) {
                db->exec(std::string(migrations[i]));
                continue;
            }
            // A build of SQLite that is defensive by default refuses writable_schema: off for
            // the migration, then as it was.
            int defensive = 0;
            sqlite3_db_config(db->getHandle(), SQLITE_DBCONFIG_DEFENSIVE, -1, &defensive);
            sqlite3_db_config(db->getHandle(), SQLITE_DBCONFIG_DEFENSIVE, 0,
                              static_cast<int*>(nullptr));
            db->exec(std::string(migrations[i]));
            // The rest of SQLite's procedure: a new schema cookie, so that every connection
            // reads the tables' text again, and this one at once.
            int cookie = db->execAndGet("PRAGMA schema_version").getInt();
            db->exec("PRAGMA schema_version = " + std::to_string(cookie + 1));
            db->exec("PRAGMA writable_schema = RESET");
            sqlite3_db_config(db->getHandle(), SQLITE_DBCONFIG_DEFENSIVE, defensive,
                              static_cast<int*>(nullptr));
        }
        // PRAGMA does not take bound parameters; the value is our own constant.
        db->exec("PRAGMA user_version = " + std::to_string(target));
        tx.commit();
    }
    return db;
}

int backup_database(const std::string& source, const std::string& destination) {
    // SQLite says only "unable to open database file": name the file, and the usual reason.
    namespace fs = std::filesystem;
    auto folder = fs::path(destination).parent_path();
    if (folder.empty()) {
        folder = ".";
    }
    std::error_code ec;
    auto kind = fs::status(folder, ec).type();
    if (kind == fs::file_type::not_found) {
        throw std::runtime_error("cannot write " + destination + ": the folder " + folder.string() +
                                 " does not exist");
    }
    if (!ec && kind != fs::file_type::directory) {
        throw std::runtime_error("cannot write " + destination + ": " + folder.string() +
                                 " is not a folder");
    }
    // The backup is renamed over its destination: never the database itself (the bot would
    // go on writing to a file nobody will open again) nor one of its companion files.
    auto same = [&](const std::string& a, const std::string& b) {
        std::error_code e;
        return fs::equivalent(a, b, e) || fs::weakly_canonical(a, e) == fs::weakly_canonical(b, e);
    };
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        if (same(source + suffix, destination)) {
            throw std::invalid_argument(
                "cannot write " + destination + ": it is " +
                (*suffix == '\0' ? "the database itself"
                                 : "the database's " + std::string(suffix + 1) + " file") +
                "; name a file elsewhere");
        }
    }
    auto temporary = destination + ".partial";
    // Leftovers of a failed backup (a log of it would be replayed into the new copy); if one
    // stays, the open says so.
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        fs::remove(temporary + suffix, ec);
    }
    int pages = 0;
    {
        auto from = [&] {
            try {
                return SQLite::Database(source, SQLite::OPEN_READONLY, 5000);
            } catch (const SQLite::Exception& e) {
                throw std::runtime_error("cannot read " + source + ": " + e.what());
            }
        }();
        auto to = [&] {
            try {
                return SQLite::Database(temporary, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
            } catch (const SQLite::Exception& e) {
                throw std::runtime_error("cannot write " + temporary + " (renamed to " +
                                         destination + " when complete): " + e.what());
            }
        }();
        {
            SQLite::Backup copy(to, from);
            // All pages in one step: one read transaction, so one snapshot. In WAL mode it
            // does not block the bot's writes; a busy source is retried a few times.
            for (int attempt = 0;; ++attempt) {
                int rc = copy.executeStep(-1);
                if (rc == SQLITE_DONE) {
                    break;
                }
                if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && attempt < 50) {
                    sqlite3_sleep(100);
                    continue;
                }
                throw std::runtime_error("backup stopped: " + std::string(sqlite3_errstr(rc)));
            }
            pages = copy.getTotalPageCount();
        }  // finished: the copy's connection may be used again (sqlite3_backup_finish)
        // Restored, the copy goes back in time: a message still queued in it may have been
        // posted since. Each is looked for in the channel's history before it is posted
        // (as a delivery whose answer was lost), so a restore posts nothing twice.
        SQLite::Statement has(to,
                              "SELECT 1 FROM pragma_table_info('outbox') WHERE name = "
                              "'maybe_sent'");
        if (has.executeStep()) {
            to.exec("UPDATE outbox SET maybe_sent = 1 WHERE state IN ('pending', 'sending')");
        }
    }
    std::filesystem::rename(temporary, destination);
    return pages;
}

}  // namespace relbot::storage::sqlite
