// The store's queries about the outbox (queued Web API calls and their delivery) and the
// living status message of each release.
// Every statement binds by name; no SQL is built from values.
#include <SQLiteCpp/Statement.h>

#include "storage/sqlite/store.hpp"
#include "storage/sqlite/store_sql.hpp"

namespace relbot::storage::sqlite {

using detail::bind_optional;
using detail::optional_int;
using detail::sql_join;
using detail::text_of;

namespace {

std::string_view to_string(outbox_state s) {
    switch (s) {
        case outbox_state::pending:
            return "pending";
        case outbox_state::sending:
            return "sending";
        case outbox_state::sent:
            return "sent";
        case outbox_state::failed:
            return "failed";
    }
    return "pending";
}

outbox_state parse_outbox_state(std::string_view s) {
    for (auto v :
         {outbox_state::pending, outbox_state::sending, outbox_state::sent, outbox_state::failed}) {
        if (to_string(v) == s) {
            return v;
        }
    }
    return outbox_state::failed;
}

constexpr char outbox_columns[] =
    "id, dedupe_key, release_id, channel_id, method, body, state, attempts, not_before, "
    "created_at, ts, error, kind, lease_until, claimed_by, maybe_sent";
// The head of each destination (outbox_unsent_by_channel), if due and not held by a live
// lease. A claimed row stays its destination's head until sent or failed, so looking at the
// heads is enough; the NOT EXISTS keeps that true even for a row marked sending otherwise
// (its `state IN` lets SQLite read the partial index outbox_unsent_by_channel).
constexpr auto claimable_sql = sql_join(
    "SELECT ",
    outbox_columns,
    " FROM outbox o WHERE o.id IN (SELECT MIN(id) FROM outbox WHERE state IN "
    "('pending', 'sending') GROUP BY channel_id) AND o.not_before <= :now AND NOT EXISTS "
    "(SELECT 1 FROM outbox s WHERE s.channel_id = o.channel_id AND s.state IN ('pending', "
    "'sending') AND s.state = 'sending' AND s.lease_until > :now) ORDER BY o.id LIMIT :limit");
// When claim() may next take a row it cannot take at :now: per destination, its head's
// not_before, or the end of the live lease on it.
constexpr char next_due_sql[] =
    "SELECT MIN(due) FROM (SELECT CASE WHEN state = 'sending' AND lease_until > :now THEN "
    "MAX(not_before, lease_until) ELSE not_before END AS due FROM outbox WHERE id IN (SELECT "
    "MIN(id) FROM outbox WHERE state IN ('pending', 'sending') GROUP BY channel_id)) WHERE due "
    "> :now";

// The untried announcements of channels with more than :over of them (kind '' is an
// announcement: checklist::to_string(message_kind::announcement)); never one that may have been
// sent (maybe_sent: a restored backup's queue, an answer lost), which is looked for first. `state
// IN ('pending', 'sending')` is the partial index's own condition, which SQLite needs to see to use
// it: without it this read every message ever sent, every few seconds.
constexpr auto backlog_sql =
    sql_join("SELECT ",
             outbox_columns,
             " FROM outbox WHERE state IN ('pending', 'sending') AND state = 'pending' AND "
             "attempts = 0 AND maybe_sent = 0 AND kind = '' AND method = 'chat.postMessage' AND "
             "channel_id IN "
             "(SELECT channel_id FROM outbox WHERE state IN ('pending', 'sending') AND state = "
             "'pending' AND attempts = 0 AND maybe_sent = 0 AND kind = '' AND method = "
             "'chat.postMessage' GROUP BY "
             "channel_id HAVING COUNT(*) > :over) ORDER BY channel_id, id");

outbox_row read_outbox_row(SQLite::Statement& q) {
    outbox_row r;
    r.id = q.getColumn(0).getInt64();
    r.dedupe_key = q.getColumn(1).getString();
    r.release_id = optional_int(q.getColumn(2));
    r.to = checklist::parse_destination(q.getColumn(3).getString());
    r.method = q.getColumn(4).getString();
    r.body = q.getColumn(5).getString();
    r.state = parse_outbox_state(q.getColumn(6).getString());
    r.attempts = q.getColumn(7).getInt();
    r.not_before = q.getColumn(8).getInt64();
    r.created_at = q.getColumn(9).getInt64();
    r.ts = text_of(q.getColumn(10));
    r.error = q.getColumn(11).getString();
    r.kind = checklist::parse_message_kind(q.getColumn(12).getString());
    r.lease_until = optional_int(q.getColumn(13));
    r.claimed_by = q.getColumn(14).getString();
    r.unfinished = q.getColumn(15).getInt() != 0;  // claim() adds rows it finds sending
    return r;
}

// Every row of a query that selects outbox_columns.
std::vector<outbox_row> read_outbox_rows(SQLite::Statement& q) {
    std::vector<outbox_row> out;
    while (q.executeStep()) {
        out.push_back(read_outbox_row(q));
    }
    return out;
}

}  // namespace

long long store::count_outbox(outbox_state state) {
    // Pending and sending rows are in outbox_unsent_by_channel, failed ones in outbox_failed:
    // neither count reads the delivered history.
    auto q_lease =
        state == outbox_state::failed
            ? prepare("SELECT COUNT(*) FROM outbox WHERE state = 'failed'")
            : prepare("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')");
    auto& q = *q_lease;
    q.executeStep();
    return q.getColumn(0).getInt64();
}

std::vector<outbox_row> store::announcement_backlog(int over) {
    auto q_lease = prepare(backlog_sql.data());
    auto& q = *q_lease;
    q.bind(":over", over);
    return read_outbox_rows(q);
}

bool store::fold(std::int64_t into,
                 std::string_view body,
                 const std::vector<std::int64_t>& folded,
                 epoch_seconds now) {
    transaction tx(*this);
    {
        auto q_lease = prepare(
            "UPDATE outbox SET body = :body WHERE id = :id AND state = 'pending' AND "
            "attempts = 0 AND maybe_sent = 0");
        auto& q = *q_lease;
        q.bind(":body", std::string(body));
        q.bind(":id", into);
        if (q.exec() != 1) {
            return false;  // rolled back by tx
        }
    }
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'sent', sent_at = :now, error = :error WHERE id = :id AND "
        "state = 'pending' AND attempts = 0 AND maybe_sent = 0");
    auto& q = *q_lease;
    q.bind(":now", now);
    q.bind(":error", "folded into " + std::to_string(into));
    for (auto id : folded) {
        q.bind(":id", id);
        if (q.exec() != 1) {
            return false;
        }
        q.reset();
    }
    tx.commit();
    return true;
}

bool store::enqueue(const outbound_message& m, epoch_seconds now) {
    auto q_lease = prepare(
        "INSERT INTO outbox (dedupe_key, release_id, channel_id, method, body, "
        "created_at, kind) VALUES (:key, :release, :channel, :method, :body, :now, :kind) "
        "ON CONFLICT (dedupe_key) DO NOTHING");
    auto& q = *q_lease;
    q.bind(":kind", std::string(checklist::to_string(m.kind)));
    q.bind(":key", m.dedupe_key);
    bind_optional(q, ":release", m.release_id);
    q.bind(":channel", m.to.stored());
    q.bind(":method", m.method);
    q.bind(":body", m.body);
    q.bind(":now", now);
    return q.exec() == 1;
}

std::vector<outbox_row> store::claim(epoch_seconds now,
                                     epoch_seconds lease,
                                     std::string_view owner,
                                     int limit) {
    transaction tx(*this);
    std::vector<outbox_row> rows;
    {
        auto q_lease = prepare(claimable_sql.data());
        auto& q = *q_lease;
        q.bind(":now", now);
        q.bind(":limit", limit);
        rows = read_outbox_rows(q);
    }
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'sending', lease_until = :until, claimed_by = :owner "
        "WHERE id = :id");
    auto& q = *q_lease;
    for (auto& r : rows) {
        // Sending and taken again: its lease ran out, or it had none (abandoned by a run that
        // stopped, or left by an older relbot); nobody knows whether Slack got it.
        r.unfinished = r.unfinished || r.state == outbox_state::sending;
        r.state = outbox_state::sending;
        r.lease_until = now + lease;
        r.claimed_by = std::string(owner);
        q.bind(":until", *r.lease_until);
        q.bind(":owner", r.claimed_by);
        q.bind(":id", r.id);
        q.exec();
        q.reset();
    }
    tx.commit();
    return rows;
}

// mark_sent, mark_failed, defer and release act only on a row the owner still holds: a
// claimer whose lease ran out must not undo what the row's new claimer does.
bool store::mark_sent(std::int64_t id,
                      std::string_view owner,
                      std::string_view ts,
                      epoch_seconds now) {
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'sent', ts = :ts, sent_at = :now, error = '', "
        "attempts = attempts + 1, lease_until = NULL, claimed_by = '' WHERE id = :id AND "
        "state = 'sending' AND claimed_by = :owner");
    auto& q = *q_lease;
    q.bind(":id", id);
    q.bind(":owner", std::string(owner));
    q.bind(":ts", std::string(ts));
    q.bind(":now", now);
    return q.exec() == 1;
}

bool store::mark_failed(std::int64_t id, std::string_view owner, std::string_view error) {
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'failed', error = :error, attempts = attempts + 1, "
        "lease_until = NULL, claimed_by = '' WHERE id = :id AND state = 'sending' AND "
        "claimed_by = :owner");
    auto& q = *q_lease;
    q.bind(":id", id);
    q.bind(":owner", std::string(owner));
    q.bind(":error", std::string(error));
    return q.exec() == 1;
}

bool store::defer(std::int64_t id,
                  std::string_view owner,
                  epoch_seconds not_before,
                  std::string_view error) {
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'pending', not_before = :nb, error = :error, "
        "attempts = attempts + 1, lease_until = NULL, claimed_by = '', maybe_sent = 0 WHERE "
        "id = :id AND state = 'sending' AND claimed_by = :owner");
    return give_back(*q_lease, id, owner, not_before, error);
}

bool store::defer_unsure(std::int64_t id,
                         std::string_view owner,
                         epoch_seconds not_before,
                         std::string_view error) {
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'pending', not_before = :nb, error = :error, "
        "attempts = attempts + 1, lease_until = NULL, claimed_by = '', maybe_sent = 1 WHERE "
        "id = :id AND state = 'sending' AND claimed_by = :owner");
    return give_back(*q_lease, id, owner, not_before, error);
}

bool store::give_back(SQLite::Statement& q,
                      std::int64_t id,
                      std::string_view owner,
                      epoch_seconds not_before,
                      std::string_view error) {
    q.bind(":id", id);
    q.bind(":owner", std::string(owner));
    q.bind(":nb", not_before);
    q.bind(":error", std::string(error));
    return q.exec() == 1;
}

bool store::release(std::int64_t id, std::string_view owner) {
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'pending', lease_until = NULL, claimed_by = '' WHERE id = "
        ":id AND state = 'sending' AND claimed_by = :owner");
    auto& q = *q_lease;
    q.bind(":id", id);
    q.bind(":owner", std::string(owner));
    return q.exec() == 1;
}

std::vector<std::int64_t> store::renew_claims(std::string_view owner,
                                              const std::vector<std::int64_t>& ids,
                                              epoch_seconds until) {
    std::vector<std::int64_t> renewed;
    if (ids.empty()) {
        return renewed;
    }
    transaction tx(*this);
    auto q_lease = prepare(
        "UPDATE outbox SET lease_until = MAX(COALESCE(lease_until, :until), :until) WHERE id = "
        ":id AND state = 'sending' AND claimed_by = :owner");
    auto& q = *q_lease;
    for (auto id : ids) {
        q.reset();
        q.bind(":until", until);
        q.bind(":owner", std::string(owner));
        q.bind(":id", id);
        if (q.exec() == 1) {
            renewed.push_back(id);
        }
    }
    tx.commit();
    return renewed;
}

int store::abandon_claims(std::string_view owner_prefix) {
    if (owner_prefix.empty()) {
        return 0;  // would end every claimer's leases
    }
    // State `sending` without a lease is what claim() takes as unfinished.
    auto q_lease = prepare(
        "UPDATE outbox SET lease_until = NULL, claimed_by = '' WHERE state IN ('pending', "
        "'sending') AND state = 'sending' AND claimed_by <> '' AND substr(claimed_by, 1, "
        "length(:prefix)) = :prefix");
    auto& q = *q_lease;
    q.bind(":prefix", std::string(owner_prefix));
    return q.exec();
}

std::optional<epoch_seconds> store::next_due(epoch_seconds now) {
    auto q_lease = prepare(next_due_sql);
    auto& q = *q_lease;
    q.bind(":now", now);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return optional_int(q.getColumn(0));
}

std::vector<status_job> store::status_jobs() {
    auto q_lease = prepare(
        "SELECT id, channel_id, status_ts, status_version, status_updated_ms FROM releases "
        "WHERE status_version > status_sent_version ORDER BY id");
    auto& q = *q_lease;
    std::vector<status_job> out;
    while (q.executeStep()) {
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                       q.getColumn(2).getString(), q.getColumn(3).getInt64(),
                       q.getColumn(4).getInt64()});
    }
    return out;
}

std::string store::sent_ts(std::string_view dedupe_key) {
    auto q_lease = prepare("SELECT ts FROM outbox WHERE dedupe_key = :key AND state = 'sent'");
    auto& q = *q_lease;
    q.bind(":key", std::string(dedupe_key));
    return q.executeStep() ? text_of(q.getColumn(0)) : std::string();
}

bool store::claim_status(std::int64_t release_id, std::int64_t seen, std::int64_t until_ms) {
    auto q_lease = prepare(
        "UPDATE releases SET status_updated_ms = :until WHERE id = :id AND status_updated_ms = "
        ":seen AND status_version > status_sent_version");
    auto& q = *q_lease;
    q.bind(":until", until_ms);
    q.bind(":id", release_id);
    q.bind(":seen", seen);
    return q.exec() == 1;
}

void store::home_opened(std::string_view user, std::int64_t now_ms) {
    auto q_lease = prepare(
        "INSERT INTO home_views (user_id, view_hash, published_ms, opened_ms) VALUES (:user, '', "
        "0, :now) ON CONFLICT (user_id) DO UPDATE SET opened_ms = MAX(home_views.opened_ms, "
        "excluded.opened_ms)");
    auto& q = *q_lease;
    q.bind(":user", std::string(user));
    q.bind(":now", now_ms);
    q.exec();
}

std::vector<std::pair<std::string, std::int64_t>> store::home_followers(std::int64_t since_ms) {
    auto q_lease = prepare("SELECT user_id, opened_ms FROM home_views WHERE opened_ms >= :since");
    auto& q = *q_lease;
    q.bind(":since", since_ms);
    std::vector<std::pair<std::string, std::int64_t>> out;
    while (q.executeStep()) {
        out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getInt64());
    }
    return out;
}

void store::statuses_behind(std::int64_t except, int at_most) {
    auto q_lease = prepare(
        "UPDATE releases SET status_version = status_version + 1 WHERE status = 'active' AND "
        "id <> :id AND (:n = 0 OR id IN (SELECT id FROM releases WHERE status = 'active' ORDER "
        "BY id DESC LIMIT :n))");
    auto& q = *q_lease;
    q.bind(":id", except);
    q.bind(":n", at_most);
    q.exec();
}

bool store::claim_home_view(std::string_view user,
                            std::string_view view_hash,
                            bool even_if_same,
                            std::int64_t now_ms) {
    auto q_lease = prepare(
        "INSERT INTO home_views (user_id, view_hash, published_ms) VALUES (:user, :hash, :now) "
        "ON CONFLICT (user_id) DO UPDATE SET view_hash = excluded.view_hash, published_ms = "
        "excluded.published_ms WHERE :force = 1 OR home_views.view_hash <> excluded.view_hash");
    auto& q = *q_lease;
    q.bind(":user", std::string(user));
    q.bind(":hash", std::string(view_hash));
    q.bind(":now", now_ms);
    q.bind(":force", even_if_same ? 1 : 0);
    return q.exec() == 1;
}

void store::status_sent(std::int64_t release_id,
                        std::string_view ts,
                        std::int64_t version,
                        std::int64_t now_ms) {
    auto q_lease = prepare(
        "UPDATE releases SET status_ts = :ts, status_sent_version = MAX(status_sent_version, "
        ":version), status_updated_ms = :now WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":ts", std::string(ts));
    q.bind(":version", version);
    q.bind(":now", now_ms);
    q.bind(":id", release_id);
    q.exec();
}

void store::status_lost(std::int64_t release_id,
                        const outbound_message& repost,
                        epoch_seconds now) {
    transaction tx(*this);
    auto q_lease = prepare("UPDATE releases SET status_ts = '' WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":id", release_id);
    q.exec();
    enqueue(repost, now);
    tx.commit();
}

std::string store::status_ts(std::int64_t release_id) {
    auto q_lease = prepare("SELECT status_ts FROM releases WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":id", release_id);
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

}  // namespace relbot::storage::sqlite
