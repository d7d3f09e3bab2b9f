// Every statement takes its values as parameters; no SQL is built from values.
#include "storage/postgres/outbox.hpp"

#include <string>

namespace relbot::storage::postgres {

namespace {

constexpr char columns[] =
    "id, dedupe_key, release_id, channel_id, method, body, state, attempts, not_before, "
    "created_at, ts, error, kind, lease_until, claimed_by, maybe_sent";

// The advisory lock class of the outbox's destinations (the other key is the destination's
// hash): an enqueue holds its destination's lock until its transaction ends.
constexpr int destination_lock_class = 0x6f757462;  // "outb"

outbox_state parse_state(const std::string& s) {
    if (s == "pending") {
        return outbox_state::pending;
    }
    if (s == "sending") {
        return outbox_state::sending;
    }
    if (s == "sent") {
        return outbox_state::sent;
    }
    return outbox_state::failed;
}

std::vector<outbox_row> read_rows(const result& r) {
    std::vector<outbox_row> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        outbox_row row;
        row.id = r.integer(i, 0);
        row.dedupe_key = r.text(i, 1);
        row.release_id = r.optional_integer(i, 2);
        row.to = checklist::parse_destination(r.text(i, 3));
        row.method = r.text(i, 4);
        row.body = r.text(i, 5);
        row.state = parse_state(r.text(i, 6));
        row.attempts = static_cast<int>(r.integer(i, 7));
        row.not_before = r.integer(i, 8);
        row.created_at = r.integer(i, 9);
        row.ts = r.text(i, 10);
        row.error = r.text(i, 11);
        row.kind = checklist::parse_message_kind(r.text(i, 12));
        row.lease_until = r.optional_integer(i, 13);
        row.claimed_by = r.text(i, 14);
        row.unfinished = r.integer(i, 15) != 0;
        out.push_back(std::move(row));
    }
    return out;
}

// "{1,2,3}": a bigint[] parameter.
std::string array_of(const std::vector<std::int64_t>& ids) {
    std::string out = "{";
    for (auto id : ids) {
        out += (out.size() > 1 ? "," : "") + std::to_string(id);
    }
    return out + "}";
}

}  // namespace

namespace {

// The lock comes first, then the id: a destination's ids follow the order in which their
// transactions commit, so no claimer sees a later row of it before an earlier one.
constexpr const char* enqueue_sql =
    "WITH locked AS (SELECT pg_advisory_xact_lock($1::integer, hashtext($4::text))) "
    "INSERT INTO outbox (dedupe_key, release_id, channel_id, method, body, created_at, kind) "
    "SELECT $2::text, $3::bigint, $4::text, $5::text, $6::text, $7::bigint, $8::text FROM "
    "locked ON CONFLICT (dedupe_key) DO NOTHING";

std::vector<param> enqueue_params(const outbound_message& m, epoch_seconds now) {
    return {destination_lock_class,
            m.dedupe_key,
            m.release_id,
            m.to.stored(),
            m.method,
            m.body,
            now,
            std::string(checklist::to_string(m.kind))};
}

}  // namespace

bool outbox::enqueue(const outbound_message& m, epoch_seconds now) {
    return s_.busy_as_busy(
        [&] { return s_.db().exec(enqueue_sql, enqueue_params(m, now)).affected() == 1; });
}

void outbox::enqueue_in_unit(const outbound_message& m, epoch_seconds now) {
    if (!s_.in_unit()) {
        enqueue(m, now);
        return;
    }
    s_.db().defer(enqueue_sql, enqueue_params(m, now));
}

std::vector<outbox_row> outbox::claim(epoch_seconds now,
                                      epoch_seconds lease,
                                      std::string_view owner,
                                      int limit) {
    std::vector<outbox_row> rows;
    s_.own_transaction([&] {
        // The heads of the destinations, as of this statement; a head another claimer holds
        // locked is skipped, and one it claimed and committed meanwhile is seen as it is now
        // (PostgreSQL checks the conditions on `o` again on the newest version of a row it
        // locks), so no row is taken twice.
        rows = read_rows(s_.db().exec(
            std::string("SELECT ") + columns +
                " FROM outbox o WHERE o.id IN (SELECT DISTINCT ON (channel_id) id FROM outbox "
                "WHERE state IN ('pending', 'sending') ORDER BY channel_id, id) AND o.state IN "
                "('pending', 'sending') AND o.not_before <= $1 AND NOT (o.state = 'sending' AND "
                "COALESCE(o.lease_until, 0) > $1) ORDER BY o.id LIMIT $2 FOR UPDATE SKIP LOCKED",
            {now, limit}));
        if (rows.empty()) {
            return false;
        }
        std::vector<std::int64_t> ids;
        for (auto& r : rows) {
            // Sending and taken again: its lease ran out, or it had none (abandoned by a run
            // that stopped); nobody knows whether Slack got it.
            r.unfinished = r.unfinished || r.state == outbox_state::sending;
            r.state = outbox_state::sending;
            r.lease_until = now + lease;
            r.claimed_by = std::string(owner);
            ids.push_back(r.id);
        }
        s_.db().exec(
            "UPDATE outbox SET state = 'sending', lease_until = $1, claimed_by = $2 WHERE id = "
            "ANY($3::bigint[])",
            {now + lease, owner, array_of(ids)});
        return true;
    });
    return rows;
}

std::string outbox::sent_ts(std::string_view dedupe_key) {
    auto r = s_.busy_as_busy([&] {
        return s_.db().exec("SELECT ts FROM outbox WHERE dedupe_key = $1 AND state = 'sent'",
                            {dedupe_key});
    });
    return r.rows() == 0 ? std::string() : r.text(0, 0);
}

// The ends of a delivery act only on a row the owner still holds: a claimer whose lease ran
// out must not undo what the row's new claimer does.
bool outbox::mark_sent(std::int64_t id,
                       std::string_view owner,
                       std::string_view ts,
                       epoch_seconds now) {
    return s_.busy_as_busy([&] {
        return s_.db()
                   .exec(
                       "UPDATE outbox SET state = 'sent', ts = $3, sent_at = $4, error = '', "
                       "attempts = attempts + 1, lease_until = NULL, claimed_by = '' WHERE id = "
                       "$1 AND state = 'sending' AND claimed_by = $2",
                       {id, owner, ts, now})
                   .affected() == 1;
    });
}

bool outbox::mark_failed(std::int64_t id, std::string_view owner, std::string_view error) {
    return s_.busy_as_busy([&] {
        return s_.db()
                   .exec(
                       "UPDATE outbox SET state = 'failed', error = $3, attempts = attempts + "
                       "1, lease_until = NULL, claimed_by = '' WHERE id = $1 AND state = "
                       "'sending' AND claimed_by = $2",
                       {id, owner, error})
                   .affected() == 1;
    });
}

bool outbox::defer(std::int64_t id,
                   std::string_view owner,
                   epoch_seconds not_before,
                   std::string_view error) {
    return give_back(id, owner, not_before, error, false);
}

bool outbox::defer_unsure(std::int64_t id,
                          std::string_view owner,
                          epoch_seconds not_before,
                          std::string_view error) {
    return give_back(id, owner, not_before, error, true);
}

bool outbox::give_back(std::int64_t id,
                       std::string_view owner,
                       epoch_seconds not_before,
                       std::string_view error,
                       bool unsure) {
    return s_.busy_as_busy([&] {
        return s_.db()
                   .exec(
                       "UPDATE outbox SET state = 'pending', not_before = $3, error = $4, "
                       "attempts = attempts + 1, lease_until = NULL, claimed_by = '', "
                       "maybe_sent = $5 WHERE id = $1 AND state = 'sending' AND claimed_by = $2",
                       {id, owner, not_before, error, unsure ? 1 : 0})
                   .affected() == 1;
    });
}

bool outbox::release(std::int64_t id, std::string_view owner) {
    return s_.busy_as_busy([&] {
        return s_.db()
                   .exec(
                       "UPDATE outbox SET state = 'pending', lease_until = NULL, claimed_by = "
                       "'' WHERE id = $1 AND state = 'sending' AND claimed_by = $2",
                       {id, owner})
                   .affected() == 1;
    });
}

std::vector<std::int64_t> outbox::renew_claims(std::string_view owner,
                                               const std::vector<std::int64_t>& ids,
                                               epoch_seconds until) {
    if (ids.empty()) {
        return {};
    }
    auto r = s_.busy_as_busy([&] {
        return s_.db().exec(
            "UPDATE outbox SET lease_until = GREATEST(lease_until, $2) WHERE id = "
            "ANY($3::bigint[]) AND state = 'sending' AND claimed_by = $1 RETURNING id",
            {owner, until, array_of(ids)});
    });
    std::vector<std::int64_t> renewed;
    for (int i = 0; i < r.rows(); ++i) {
        renewed.push_back(r.integer(i, 0));
    }
    return renewed;
}

int outbox::abandon_claims(std::string_view owner_prefix) {
    if (owner_prefix.empty()) {
        return 0;  // would end every claimer's leases
    }
    // State `sending` without a lease is what claim() takes as unfinished.
    return s_.busy_as_busy([&] {
        return static_cast<int>(
            s_.db()
                .exec("UPDATE outbox SET lease_until = NULL, claimed_by = '' WHERE state = "
                      "'sending' AND claimed_by <> '' AND left(claimed_by, length($1)) = $1",
                      {owner_prefix})
                .affected());
    });
}

std::optional<epoch_seconds> outbox::next_due(epoch_seconds now) {
    auto r = s_.db().exec(
        "SELECT MIN(due) FROM (SELECT CASE WHEN state = 'sending' AND lease_until > $1 THEN "
        "GREATEST(not_before, lease_until) ELSE not_before END AS due FROM (SELECT DISTINCT ON "
        "(channel_id) state, not_before, lease_until FROM outbox WHERE state IN ('pending', "
        "'sending') ORDER BY channel_id, id) heads) dues WHERE due > $1",
        {now});
    return r.optional_integer(0, 0);
}

long long outbox::count_outbox(outbox_state state) {
    auto r =
        s_.db().exec(state == outbox_state::failed
                         ? "SELECT COUNT(*) FROM outbox WHERE state = 'failed'"
                         : "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')");
    return r.integer(0, 0);
}

std::vector<outbox_row> outbox::announcement_backlog(int over) {
    // Kind '' is an announcement (checklist::to_string(message_kind::announcement)); a row that
    // may have been sent (maybe_sent) is looked for first, never folded.
    return read_rows(s_.db().exec(
        std::string("SELECT ") + columns +
            " FROM outbox WHERE state = 'pending' AND attempts = 0 AND maybe_sent = 0 AND kind = "
            "'' AND method = "
            "'chat.postMessage' AND channel_id IN (SELECT channel_id FROM outbox WHERE state = "
            "'pending' AND attempts = 0 AND maybe_sent = 0 AND kind = '' AND method = "
            "'chat.postMessage' GROUP BY "
            "channel_id HAVING COUNT(*) > $1) ORDER BY channel_id, id",
        {over}));
}

bool outbox::fold(std::int64_t into,
                  std::string_view body,
                  const std::vector<std::int64_t>& folded,
                  epoch_seconds now) {
    return s_.own_transaction([&] {
        if (s_.db()
                .exec("UPDATE outbox SET body = $2 WHERE id = $1 AND state = 'pending' AND "
                      "attempts = 0 AND maybe_sent = 0",
                      {into, body})
                .affected() != 1) {
            return false;
        }
        auto marked = s_.db()
                          .exec(
                              "UPDATE outbox SET state = 'sent', sent_at = $2, error = $3 "
                              "WHERE id = ANY($1::bigint[]) AND state = 'pending' AND "
                              "attempts = 0 AND maybe_sent = 0",
                              {array_of(folded), now, "folded into " + std::to_string(into)})
                          .affected();
        return marked == static_cast<long long>(folded.size());
    });
}

}  // namespace relbot::storage::postgres
