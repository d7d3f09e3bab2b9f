#include "storage/postgres/applied.hpp"

namespace relbot::storage::postgres {

std::optional<std::string> applied::applied_reply(std::string_view key) {
    auto r = s_.busy_as_busy(
        [&] { return s_.db().exec("SELECT reply FROM applied_envelopes WHERE key = $1", {key}); });
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return r.text(0, 0);
}

bool applied::record_applied(std::string_view key, std::string_view reply, epoch_seconds now) {
    return s_.busy_as_busy([&] {
        return s_.db()
                   .exec(
                       "INSERT INTO applied_envelopes (key, applied_at, reply) VALUES ($1, $2, "
                       "$3) ON CONFLICT (key) DO NOTHING",
                       {key, now, reply})
                   .affected() == 1;
    });
}

int applied::forget_applied_before(epoch_seconds before) {
    return s_.busy_as_busy([&] {
        return static_cast<int>(
            s_.db()
                .exec("DELETE FROM applied_envelopes WHERE applied_at < $1", {before})
                .affected());
    });
}

}  // namespace relbot::storage::postgres
