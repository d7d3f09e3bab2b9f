// Every statement takes its values as parameters; no SQL is built from values.
#include "storage/postgres/directory.hpp"

namespace relbot::storage::postgres {

namespace {

std::vector<std::string> first_column(const result& r) {
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(r.text(i, 0));
    }
    return out;
}

}  // namespace

std::optional<int> people::time_zone_offset(std::string_view user) {
    auto r = s_.busy_as_busy(
        [&] { return s_.db().exec("SELECT tz_offset FROM users WHERE user_id = $1", {user}); });
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return static_cast<int>(r.integer(0, 0));
}

void people::remember_user(std::string_view user,
                           int offset_s,
                           std::string_view name,
                           epoch_seconds now) {
    s_.busy_as_busy([&] {
        s_.db().exec(
            "INSERT INTO users (user_id, tz_offset, fetched_at, name) VALUES ($1, $2, $3, $4) ON "
            "CONFLICT (user_id) DO UPDATE SET tz_offset = excluded.tz_offset, fetched_at = "
            "excluded.fetched_at, name = excluded.name",
            {user, offset_s, now, name});
    });
}

std::vector<std::string> people::owners_needing_time_zone(epoch_seconds now,
                                                          epoch_seconds max_age) {
    return first_column(s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT DISTINCT i.owner_id FROM releases r JOIN items i ON i.release_id = r.id LEFT "
            "JOIN users u ON u.user_id = i.owner_id WHERE r.status = 'active' AND i.owner_id <> "
            "'' AND i.due_at IS NOT NULL AND i.state IN ('open', 'blocked') AND (u.user_id IS "
            "NULL OR u.fetched_at < $1)",
            {now - max_age});
    }));
}

std::vector<std::string> people::people_needing_name(epoch_seconds now, epoch_seconds max_age) {
    return first_column(s_.busy_as_busy([&] {
        return s_.db().exec(
            "WITH recent AS (SELECT * FROM releases WHERE status = 'active' OR ended_at >= $1) "
            "SELECT p.user_id FROM (SELECT manager_id AS user_id FROM recent UNION SELECT "
            "oncall_id FROM recent UNION SELECT pm_id FROM recent UNION SELECT i.owner_id FROM "
            "recent r JOIN items i ON i.release_id = r.id WHERE i.owner_id <> '') p LEFT JOIN "
            "users u ON u.user_id = p.user_id WHERE p.user_id <> '' AND (u.user_id IS NULL OR "
            "u.name IS NULL OR u.fetched_at < $1)",
            {now - max_age});
    }));
}

bool people::name_looked_up(std::string_view user, epoch_seconds now, epoch_seconds max_age) {
    return s_.busy_as_busy([&] {
        return s_.db()
                   .exec(
                       "SELECT 1 FROM users WHERE user_id = $1 AND name IS NOT NULL AND "
                       "fetched_at >= $2",
                       {user, now - max_age})
                   .rows() > 0;
    });
}

std::unordered_map<std::string, std::string> people::user_names() {
    auto r = s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT user_id, name FROM users WHERE name IS NOT NULL AND name <> ''");
    });
    std::unordered_map<std::string, std::string> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.emplace(r.text(i, 0), r.text(i, 1));
    }
    return out;
}

void people::remember_channel_name(std::string_view channel, std::string_view name) {
    // The WHERE keeps an unchanged name from writing a row version. In a unit, sent with its
    // next statement that is waited for.
    constexpr const char* sql =
        "INSERT INTO channels (channel_id, name) VALUES ($1, $2) ON CONFLICT (channel_id) DO "
        "UPDATE SET name = excluded.name WHERE channels.name <> excluded.name";
    if (s_.in_unit()) {
        s_.db().defer(sql, {channel, name});
        return;
    }
    s_.busy_as_busy([&] { s_.db().exec(sql, {channel, name}); });
}

std::string people::channel_name(std::string_view channel) {
    auto r = s_.busy_as_busy(
        [&] { return s_.db().exec("SELECT name FROM channels WHERE channel_id = $1", {channel}); });
    return r.rows() == 0 ? std::string() : r.text(0, 0);
}

std::optional<std::string> people::dm_channel(std::string_view user) {
    auto r = s_.busy_as_busy([&] {
        return s_.db().exec("SELECT channel_id FROM dm_channels WHERE user_id = $1", {user});
    });
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return r.text(0, 0);
}

void people::remember_dm_channel(std::string_view user, std::string_view channel) {
    s_.busy_as_busy([&] {
        s_.db().exec(
            "INSERT INTO dm_channels (user_id, channel_id) VALUES ($1, $2) ON CONFLICT (user_id) "
            "DO UPDATE SET channel_id = excluded.channel_id",
            {user, channel});
    });
}

}  // namespace relbot::storage::postgres
