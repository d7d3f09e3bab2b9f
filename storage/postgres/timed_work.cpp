// Every statement takes its values as parameters; no SQL is built from values.
#include "storage/postgres/timed_work.hpp"

#include "checklist/reminders.hpp"
#include "storage/postgres/schema.hpp"

namespace relbot::storage::postgres {

namespace {

std::vector<std::int64_t> ids_of(const result& r) {
    std::vector<std::int64_t> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(r.integer(i, 0));
    }
    return out;
}

}  // namespace

std::vector<status_job> timed_work::status_jobs() {
    auto r = s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT id, channel_id, status_ts, status_version, status_updated_ms FROM releases "
            "WHERE status_version > status_sent_version ORDER BY id");
    });
    std::vector<status_job> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(
            {r.integer(i, 0), r.text(i, 1), r.text(i, 2), r.integer(i, 3), r.integer(i, 4)});
    }
    return out;
}

std::string timed_work::status_ts(std::int64_t release_id) {
    auto r = s_.busy_as_busy(
        [&] { return s_.db().exec("SELECT status_ts FROM releases WHERE id = $1", {release_id}); });
    return r.rows() == 0 ? std::string() : r.text(0, 0);
}

void timed_work::status_sent(std::int64_t release_id,
                             std::string_view ts,
                             std::int64_t version,
                             std::int64_t now_ms) {
    s_.busy_as_busy([&] {
        s_.db().exec(
            "UPDATE releases SET status_ts = $2, status_sent_version = GREATEST("
            "status_sent_version, $3), status_updated_ms = $4 WHERE id = $1",
            {release_id, ts, version, now_ms});
    });
}

bool timed_work::claim_status(std::int64_t release_id, std::int64_t seen, std::int64_t until_ms) {
    return s_.busy_as_busy([&] {
        return s_.db()
                   .exec(
                       "UPDATE releases SET status_updated_ms = $3 WHERE id = $1 AND "
                       "status_updated_ms = $2 AND status_version > status_sent_version",
                       {release_id, seen, until_ms})
                   .affected() == 1;
    });
}

void timed_work::statuses_behind(std::int64_t except, int at_most) {
    s_.busy_as_busy([&] {
        s_.db().exec(
            "UPDATE releases SET status_version = status_version + 1 WHERE status = 'active' AND "
            "id <> $1 AND ($2 = 0 OR id IN (SELECT id FROM releases WHERE status = 'active' "
            "ORDER BY id DESC LIMIT $2))",
            {except, at_most});
    });
}

bool timed_work::claim_home_view(std::string_view user,
                                 std::string_view view_hash,
                                 bool even_if_same,
                                 std::int64_t now_ms) {
    // Two instances claiming the same new view: the second waits for the first's row, then
    // finds its view there and writes nothing (READ COMMITTED re-reads the row it waited for).
    return s_.busy_as_busy([&] {
        return s_.db()
                   .exec(
                       "INSERT INTO home_views (user_id, view_hash, published_ms) VALUES ($1, "
                       "$2, $3) ON CONFLICT (user_id) DO UPDATE SET view_hash = "
                       "excluded.view_hash, published_ms = excluded.published_ms WHERE $4 = 1 OR "
                       "home_views.view_hash <> excluded.view_hash",
                       {user, view_hash, now_ms, even_if_same ? 1 : 0})
                   .affected() == 1;
    });
}

void timed_work::home_opened(std::string_view user, std::int64_t now_ms) {
    constexpr const char* sql =
        "INSERT INTO home_views (user_id, view_hash, published_ms, opened_ms) VALUES ($1, '', 0, "
        "$2) ON CONFLICT (user_id) DO UPDATE SET opened_ms = GREATEST(home_views.opened_ms, "
        "excluded.opened_ms)";
    if (s_.in_unit()) {
        s_.db().defer(sql, {user, now_ms});  // sent with the unit's next statement
        return;
    }
    s_.busy_as_busy([&] { s_.db().exec(sql, {user, now_ms}); });
}

std::vector<std::pair<std::string, std::int64_t>> timed_work::home_followers(
    std::int64_t since_ms) {
    return s_.busy_as_busy([&] {
        auto r = s_.db().exec("SELECT user_id, opened_ms FROM home_views WHERE opened_ms >= $1",
                              {since_ms});
        std::vector<std::pair<std::string, std::int64_t>> out;
        out.reserve(static_cast<std::size_t>(r.rows()));
        for (int i = 0; i < r.rows(); ++i) {
            out.emplace_back(r.text(i, 0), r.integer(i, 1));
        }
        return out;
    });
}

void timed_work::status_lost(std::int64_t release_id,
                             const outbound_message& repost,
                             epoch_seconds now) {
    s_.own_transaction([&] {
        s_.db().exec("UPDATE releases SET status_ts = '' WHERE id = $1", {release_id});
        queue_.enqueue(repost, now);
        return true;
    });
}

std::vector<reminder_candidate> timed_work::reminder_candidates() {
    auto r = s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT r.id, i.id, r.channel_id, r.version, r.manager_id, i.owner_id, i.phase, "
            "i.position, i.title, (SELECT title FROM phases p WHERE p.release_id = r.id AND "
            "p.position = r.current_phase), i.due_at, (SELECT MAX(slot) FROM reminders m WHERE "
            "m.item_id = i.id AND m.due_at = i.due_at), (SELECT MAX(sent_at) FROM reminders m "
            "WHERE m.item_id = i.id AND m.due_at = i.due_at), (SELECT COUNT(*) FROM reminders m "
            "WHERE m.item_id = i.id AND m.sent_at >= i.updated_at), CASE WHEN i.escalated_at >= "
            "i.updated_at THEN 1 ELSE 0 END, i.snoozed_until FROM releases r JOIN items i ON "
            "i.release_id = r.id WHERE r.status = 'active' AND i.owner_id <> '' AND i.due_at IS "
            "NOT NULL AND i.state IN ('open', 'blocked') ORDER BY i.due_at, i.id");
    });
    std::vector<reminder_candidate> out;
    for (int i = 0; i < r.rows(); ++i) {
        reminder_candidate c;
        c.release_id = r.integer(i, 0);
        c.item_id = r.integer(i, 1);
        c.channel = r.text(i, 2);
        c.version = r.text(i, 3);
        c.manager = r.text(i, 4);
        c.owner = r.text(i, 5);
        c.ref = std::to_string(r.integer(i, 6)) + "." + std::to_string(r.integer(i, 7));
        c.title = r.text(i, 8);
        c.deployment_phase = checklist::is_deployment_phase(r.text(i, 9));
        c.due_at = r.integer(i, 10);
        c.last_slot = r.optional_integer(i, 11);
        c.last_sent_at = r.optional_integer(i, 12);
        c.reminders_since_change = static_cast<int>(r.integer(i, 13));
        c.escalated = r.integer(i, 14) != 0;
        c.snoozed_until = r.optional_integer(i, 15);
        out.push_back(std::move(c));
    }
    return out;
}

std::map<std::int64_t, epoch_seconds> timed_work::first_reminders(std::int64_t release_id) {
    auto r = s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT m.item_id, MIN(m.sent_at) FROM reminders m JOIN items i ON i.id = m.item_id "
            "WHERE i.release_id = $1 GROUP BY m.item_id",
            {release_id});
    });
    std::map<std::int64_t, epoch_seconds> out;
    for (int i = 0; i < r.rows(); ++i) {
        out[r.integer(i, 0)] = r.integer(i, 1);
    }
    return out;
}

std::vector<std::int64_t> timed_work::timed_releases() {
    return ids_of(s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT r.id FROM releases r JOIN phases p ON p.release_id = r.id AND p.position = "
            "r.current_phase WHERE r.status = 'active' AND ((p.window_min_s IS NOT NULL AND "
            "p.entered_at IS NOT NULL) OR (r.handoff_at IS NOT NULL AND r.handoff_accepted_at IS "
            "NULL) OR EXISTS (SELECT 1 FROM items i WHERE i.release_id = r.id AND i.phase = "
            "r.current_phase AND i.state = 'done' AND i.policy LIKE '%sign-off%')) ORDER BY r.id");
    }));
}

std::vector<std::int64_t> timed_work::checkpoint_releases() {
    // ILIKE: case-insensitive, as is_deployment_phase.
    return ids_of(s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT r.id FROM releases r WHERE r.status = 'active' AND (EXISTS (SELECT 1 FROM "
            "phases p WHERE p.release_id = r.id AND p.position < r.current_phase AND p.title "
            "ILIKE '%deploy%') OR EXISTS (SELECT 1 FROM checkpoints c WHERE c.release_id = "
            "r.id)) ORDER BY r.id");
    }));
}

void timed_work::record_reminder(std::int64_t item_id,
                                 epoch_seconds due_at,
                                 std::int64_t slot,
                                 epoch_seconds now) {
    s_.busy_as_busy([&] {
        s_.db().exec(
            "INSERT INTO reminders (item_id, due_at, slot, sent_at) VALUES ($1, $2, $3, $4) ON "
            "CONFLICT DO NOTHING",
            {item_id, due_at, slot, now});
    });
}

void timed_work::mark_escalated(std::int64_t item_id, epoch_seconds now) {
    s_.busy_as_busy([&] {
        s_.db().exec("UPDATE items SET escalated_at = $2 WHERE id = $1", {item_id, now});
    });
}

void timed_work::serialize_ticks() {
    s_.busy_as_busy(
        [&] { s_.db().exec("SELECT pg_advisory_xact_lock($1)", {scheduler_lock_key}); });
}

}  // namespace relbot::storage::postgres
