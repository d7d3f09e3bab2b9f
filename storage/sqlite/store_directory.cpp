// The store's directory and reminder records: DM channels, users (time zones, names),
// channel names, and the reminders sent and escalations made for items.
// Every statement binds by name; no SQL is built from values.
#include <SQLiteCpp/Statement.h>

#include "checklist/reminders.hpp"
#include "storage/sqlite/store.hpp"
#include "storage/sqlite/store_sql.hpp"

namespace relbot::storage::sqlite {
namespace {

// Every row's first column, as text.
std::vector<std::string> first_column(SQLite::Statement& q) {
    std::vector<std::string> out;
    while (q.executeStep()) {
        out.push_back(q.getColumn(0).getString());
    }
    return out;
}

}  // namespace

using detail::optional_int;
using detail::text_of;

std::optional<std::string> store::dm_channel(std::string_view user) {
    auto q_lease = prepare("SELECT channel_id FROM dm_channels WHERE user_id = :user");
    auto& q = *q_lease;
    q.bind(":user", std::string(user));
    if (q.executeStep()) {
        return q.getColumn(0).getString();
    }
    return std::nullopt;
}

void store::remember_dm_channel(std::string_view user, std::string_view channel) {
    auto q_lease = prepare(
        "INSERT INTO dm_channels (user_id, channel_id) VALUES (:user, :channel) "
        "ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id");
    auto& q = *q_lease;
    q.bind(":user", std::string(user));
    q.bind(":channel", std::string(channel));
    q.exec();
}

std::vector<reminder_candidate> store::reminder_candidates() {
    auto q_lease = prepare(
        "SELECT r.id, i.id, r.channel_id, r.version, r.manager_id, i.owner_id, i.phase, "
        "i.position, "
        "i.title, (SELECT title FROM phases p WHERE p.release_id = r.id AND p.position = "
        "r.current_phase), i.due_at, "
        "(SELECT MAX(slot) FROM reminders m WHERE m.item_id = i.id AND m.due_at = i.due_at), "
        "(SELECT MAX(sent_at) FROM reminders m WHERE m.item_id = i.id AND m.due_at = i.due_at), "
        "(SELECT COUNT(*) FROM reminders m WHERE m.item_id = i.id AND m.sent_at >= i.updated_at), "
        "COALESCE(i.escalated_at >= i.updated_at, 0), i.snoozed_until "
        // From the active releases to their items (CROSS JOIN fixes that order): the cost
        // follows what is active, not the whole history of items with due times.
        "FROM releases r CROSS JOIN items i ON i.release_id = r.id "
        "WHERE r.status = 'active' AND i.owner_id <> '' AND i.due_at IS NOT NULL "
        "AND i.state IN ('open', 'blocked') ORDER BY i.due_at");
    auto& q = *q_lease;
    std::vector<reminder_candidate> out;
    while (q.executeStep()) {
        reminder_candidate c;
        c.release_id = q.getColumn(0).getInt64();
        c.item_id = q.getColumn(1).getInt64();
        c.channel = q.getColumn(2).getString();
        c.version = q.getColumn(3).getString();
        c.manager = q.getColumn(4).getString();
        c.owner = q.getColumn(5).getString();
        c.ref =
            std::to_string(q.getColumn(6).getInt()) + "." + std::to_string(q.getColumn(7).getInt());
        c.title = q.getColumn(8).getString();
        c.deployment_phase = checklist::is_deployment_phase(text_of(q.getColumn(9)));
        c.due_at = q.getColumn(10).getInt64();
        c.last_slot = optional_int(q.getColumn(11));
        c.last_sent_at = optional_int(q.getColumn(12));
        c.reminders_since_change = q.getColumn(13).getInt();
        c.escalated = q.getColumn(14).getInt() != 0;
        c.snoozed_until = optional_int(q.getColumn(15));
        out.push_back(std::move(c));
    }
    return out;
}

void store::record_reminder(std::int64_t item_id,
                            epoch_seconds due_at,
                            std::int64_t slot,
                            epoch_seconds now) {
    auto q_lease = prepare(
        "INSERT INTO reminders (item_id, due_at, slot, sent_at) VALUES (:item, :due, :slot, :now) "
        "ON CONFLICT DO NOTHING");
    auto& q = *q_lease;
    q.bind(":item", item_id);
    q.bind(":due", due_at);
    q.bind(":slot", slot);
    q.bind(":now", now);
    q.exec();
}

std::map<std::int64_t, epoch_seconds> store::first_reminders(std::int64_t release_id) {
    auto q_lease = prepare(
        "SELECT m.item_id, MIN(m.sent_at) FROM reminders m JOIN items i ON i.id = m.item_id "
        "WHERE i.release_id = :id GROUP BY m.item_id");
    auto& q = *q_lease;
    q.bind(":id", release_id);
    std::map<std::int64_t, epoch_seconds> out;
    while (q.executeStep()) {
        out[q.getColumn(0).getInt64()] = q.getColumn(1).getInt64();
    }
    return out;
}

void store::mark_escalated(std::int64_t item_id, epoch_seconds now) {
    auto q_lease = prepare("UPDATE items SET escalated_at = :now WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":now", now);
    q.bind(":id", item_id);
    q.exec();
}

std::vector<std::string> store::owners_needing_time_zone(epoch_seconds now, epoch_seconds max_age) {
    auto q_lease = prepare(
        "SELECT DISTINCT i.owner_id FROM releases r CROSS JOIN items i ON i.release_id = r.id "
        "LEFT JOIN users u ON u.user_id = i.owner_id WHERE r.status = 'active' AND "
        "i.owner_id <> '' AND i.due_at IS NOT NULL AND i.state IN ('open', 'blocked') AND "
        "(u.user_id IS NULL OR u.fetched_at < :stale)");
    auto& q = *q_lease;
    q.bind(":stale", now - max_age);
    return first_column(q);
}

std::optional<int> store::time_zone_offset(std::string_view user) {
    auto q_lease = prepare("SELECT tz_offset FROM users WHERE user_id = :user");
    auto& q = *q_lease;
    q.bind(":user", std::string(user));
    if (q.executeStep()) {
        return q.getColumn(0).getInt();
    }
    return std::nullopt;
}

std::vector<std::string> store::people_needing_name(epoch_seconds now, epoch_seconds max_age) {
    auto q_lease = prepare(
        "WITH recent AS (SELECT * FROM releases WHERE status = 'active' OR ended_at >= :stale) "
        "SELECT p.user_id FROM (SELECT manager_id AS user_id FROM recent UNION SELECT "
        "oncall_id FROM recent UNION SELECT pm_id FROM recent UNION SELECT i.owner_id FROM "
        "recent r CROSS JOIN items i ON i.release_id = r.id WHERE i.owner_id <> '') p LEFT "
        "JOIN users u ON u.user_id = p.user_id WHERE p.user_id <> '' AND (u.user_id IS NULL OR "
        "u.name IS NULL OR u.fetched_at < :stale)");
    auto& q = *q_lease;
    q.bind(":stale", now - max_age);
    return first_column(q);
}

bool store::name_looked_up(std::string_view user, epoch_seconds now, epoch_seconds max_age) {
    auto q_lease = prepare(
        "SELECT 1 FROM users WHERE user_id = :user AND name IS NOT NULL AND fetched_at >= "
        ":stale");
    auto& q = *q_lease;
    q.bind(":user", std::string(user));
    q.bind(":stale", now - max_age);
    return q.executeStep();
}

void store::remember_user(std::string_view user,
                          int offset_s,
                          std::string_view name,
                          epoch_seconds now) {
    auto q_lease = prepare(
        "INSERT INTO users (user_id, tz_offset, fetched_at, name) VALUES (:user, :tz, :now, "
        ":name) ON CONFLICT (user_id) DO UPDATE SET tz_offset = excluded.tz_offset, "
        "fetched_at = excluded.fetched_at, name = excluded.name");
    auto& q = *q_lease;
    q.bind(":user", std::string(user));
    q.bind(":tz", offset_s);
    q.bind(":now", now);
    q.bind(":name", std::string(name));
    q.exec();
}

std::unordered_map<std::string, std::string> store::user_names() {
    auto q_lease = prepare("SELECT user_id, name FROM users WHERE name IS NOT NULL AND name <> ''");
    auto& q = *q_lease;
    std::unordered_map<std::string, std::string> out;
    while (q.executeStep()) {
        out.emplace(q.getColumn(0).getString(), q.getColumn(1).getString());
    }
    return out;
}

void store::remember_channel_name(std::string_view channel, std::string_view name) {
    std::string key(channel);
    if (auto known = channel_names_.find(key);
        known != channel_names_.end() && known->second == name) {
        return;  // written (or found) before, and nothing has rolled back since
    }
    auto q_lease = prepare(
        "INSERT INTO channels (channel_id, name) VALUES (:channel, :name) ON CONFLICT "
        "(channel_id) DO UPDATE SET name = excluded.name WHERE name <> excluded.name");
    auto& q = *q_lease;
    q.bind(":channel", key);
    q.bind(":name", std::string(name));
    q.exec();
    if (channel_names_.size() >= max_cached_releases) {
        channel_names_.clear();
    }
    channel_names_.insert_or_assign(std::move(key), std::string(name));
}

std::string store::channel_name(std::string_view channel) {
    auto q_lease = prepare("SELECT name FROM channels WHERE channel_id = :channel");
    auto& q = *q_lease;
    q.bind(":channel", std::string(channel));
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

}  // namespace relbot::storage::sqlite
