// Schema and migrations. A migration is appended, never edited once a release has shipped it.
// The tables are SQLite's (storage/sqlite/database.cpp: migration 1 holds its first fourteen,
// and each later one follows SQLite's next) in PostgreSQL's
// types, so that `relbot migrate-to-postgres` copies rows as they are: times are UTC epoch
// seconds (BIGINT), flags 0 or 1.
#include "storage/postgres/schema.hpp"

#include <array>
#include <string>
#include <string_view>

#include "storage/database.hpp"

namespace relbot::storage::postgres {

namespace {

constexpr std::array<std::string_view, 6> migrations = {
    // 1: everything SQLite's fourteen migrations built, and what several instances need: a
    // version per release row (a write made from a cached release checks it in the same
    // transaction).
    R"sql(
CREATE TABLE releases (
    id BIGSERIAL PRIMARY KEY,
    channel_id TEXT NOT NULL,
    version TEXT NOT NULL,
    template_name TEXT NOT NULL,
    manager_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'finished', 'aborted')),
    current_phase INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    oncall_id TEXT NOT NULL DEFAULT '',
    pm_id TEXT NOT NULL DEFAULT '',
    handoff_at BIGINT,
    handoff_accepted_at BIGINT,
    status_ts TEXT NOT NULL DEFAULT '',
    status_version BIGINT NOT NULL DEFAULT 0,
    status_sent_version BIGINT NOT NULL DEFAULT 0,
    status_updated_ms BIGINT NOT NULL DEFAULT 0,
    row_version BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX releases_one_active_per_channel ON releases (channel_id)
    WHERE status = 'active';
CREATE INDEX releases_by_channel ON releases (channel_id, started_at DESC);
CREATE INDEX releases_by_version ON releases (channel_id, version, started_at DESC);
CREATE INDEX releases_status_behind ON releases (id) WHERE status_version > status_sent_version;

CREATE TABLE phases (
    release_id BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    window_min_s BIGINT,
    window_max_s BIGINT,
    entered_at BIGINT,
    left_by_force INTEGER NOT NULL DEFAULT 0 CHECK (left_by_force IN (0, 1)),
    PRIMARY KEY (release_id, position)
);

CREATE TABLE items (
    id BIGSERIAL PRIMARY KEY,
    release_id BIGINT NOT NULL,
    phase INTEGER NOT NULL,
    position INTEGER NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'skipped', 'blocked')),
    state_note TEXT NOT NULL DEFAULT '',
    owner_id TEXT NOT NULL DEFAULT '',
    due_at BIGINT,
    updated_at BIGINT NOT NULL,
    escalated_at BIGINT,
    snoozed_until BIGINT,
    UNIQUE (release_id, phase, position),
    UNIQUE (release_id, slug),
    FOREIGN KEY (release_id, phase) REFERENCES phases (release_id, position) ON DELETE CASCADE
);
CREATE INDEX items_by_owner ON items (owner_id) WHERE owner_id <> '';
CREATE INDEX items_due ON items (due_at) WHERE due_at IS NOT NULL AND owner_id <> '';

-- Ids from one sequence: unique across releases, increasing within one (its writes are
-- serialized by its row's lock).
CREATE TABLE audit (
    release_id BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    id BIGSERIAL NOT NULL,
    at BIGINT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    item_id BIGINT REFERENCES items (id) ON DELETE CASCADE,
    from_state TEXT NOT NULL DEFAULT '',
    to_state TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (release_id, id)
);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    release_id BIGINT REFERENCES releases (id) ON DELETE SET NULL,
    channel_id TEXT NOT NULL,
    method TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    ts TEXT,
    error TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    lease_until BIGINT,
    claimed_by TEXT NOT NULL DEFAULT '',
    maybe_sent INTEGER NOT NULL DEFAULT 0 CHECK (maybe_sent IN (0, 1))
);
CREATE INDEX outbox_unsent ON outbox (not_before, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_unsent_by_channel ON outbox (channel_id, id)
    WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_failed ON outbox (id) WHERE state = 'failed';

CREATE TABLE applied_envelopes (
    key TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL,
    reply TEXT NOT NULL
);

CREATE TABLE dm_channels (
    user_id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL
);

CREATE TABLE reminders (
    item_id BIGINT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    due_at BIGINT NOT NULL,
    slot BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (item_id, due_at, slot)
);

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    tz_offset INTEGER NOT NULL,
    fetched_at BIGINT NOT NULL,
    name TEXT
);

CREATE TABLE channels (
    channel_id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE checkpoints (
    release_id BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    offset_s BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    posted_at BIGINT,
    answer TEXT NOT NULL DEFAULT 'none'
        CHECK (answer IN ('none', 'healthy', 'investigating', 'rolled_back')),
    answered_by TEXT NOT NULL DEFAULT '',
    answered_at BIGINT,
    reminders INTEGER NOT NULL DEFAULT 0,
    last_reminded_at BIGINT,
    PRIMARY KEY (release_id, number)
);
)sql",
    // 2 (SQLite's 15): the App Home view each person was last sent (a hash of it): with several
    // instances following one person, one of them publishes each new view (claim_home_view).
    R"sql(
CREATE TABLE home_views (
    user_id TEXT PRIMARY KEY,
    view_hash TEXT NOT NULL,
    published_ms BIGINT NOT NULL
);
)sql",
    // 3 (SQLite's 16): who put each item in its state.
    R"sql(
ALTER TABLE items ADD COLUMN state_by TEXT NOT NULL DEFAULT '';
)sql",
    // 4 (SQLite's 17): release policy: each item's annotation, the role it is owned through,
    // its sign-offs and whether its check was forced; the roles each release's people hold.
    R"sql(
ALTER TABLE items ADD COLUMN policy TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN owner_role TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN approvals TEXT NOT NULL DEFAULT '';
ALTER TABLE items ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN roles TEXT NOT NULL DEFAULT '';
)sql",
    // 5 (SQLite's 18): when each item was put in its state.
    R"sql(
ALTER TABLE items ADD COLUMN state_at BIGINT;
)sql",
    // 6 (SQLite's 19): when each person last opened their App Home.
    R"sql(
ALTER TABLE home_views ADD COLUMN opened_ms BIGINT NOT NULL DEFAULT 0;
)sql",
};

}  // namespace

int schema_version() {
    return static_cast<int>(migrations.size());
}

int migrate(connection& db, int up_to) {
    auto target = up_to < 0 ? schema_version() : std::min(up_to, schema_version());
    db.exec("SELECT pg_advisory_lock($1)", {migration_lock_key});
    // The lock is the session's: released however this ends.
    struct unlock {
        connection& db;
        ~unlock() {
            try {
                db.exec("SELECT pg_advisory_unlock($1)", {migration_lock_key});
            } catch (const std::exception&) {
                // A broken connection has lost the lock with the session.
            }
        }
    } unlock_at_end{db};

    db.exec("CREATE TABLE IF NOT EXISTS relbot_schema (version INTEGER NOT NULL)");
    auto found = db.exec("SELECT version FROM relbot_schema");
    int version = found.rows() == 0 ? 0 : static_cast<int>(found.integer(0, 0));
    if (auto no = schema_refusal("the PostgreSQL database at " + db.server(), "RELBOT_DATABASE_URL",
                                 version, schema_version(), schema_use::migrate)) {
        throw std::runtime_error(*no);  // newer than this relbot
    }
    for (int next = version + 1; next <= target; ++next) {
        db.exec("BEGIN");
        try {
            db.exec(migrations[static_cast<std::size_t>(next - 1)]);
            if (next == 1) {
                db.exec("INSERT INTO relbot_schema (version) VALUES (1)");
            } else {
                db.exec("UPDATE relbot_schema SET version = $1", {next});
            }
            db.exec("COMMIT");
        } catch (...) {
            try {
                db.exec("ROLLBACK");
            } catch (const std::exception&) {
                // The connection is gone; the server rolled back with it.
            }
            throw;
        }
    }
    return version;
}

void require_current_schema(connection& db) {
    int version = 0;
    if (!db.exec("SELECT to_regclass('relbot_schema')").is_null(0, 0)) {
        auto found = db.exec("SELECT version FROM relbot_schema");
        version = found.rows() == 0 ? 0 : static_cast<int>(found.integer(0, 0));
    }
    if (auto no = schema_refusal("the PostgreSQL database at " + db.server(), "RELBOT_DATABASE_URL",
                                 version, schema_version(), schema_use::read_as_is)) {
        throw std::runtime_error(*no);
    }
}

}  // namespace relbot::storage::postgres
