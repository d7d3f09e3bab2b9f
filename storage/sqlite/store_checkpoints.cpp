// The store's queries about monitoring checkpoints (migration 13): reading a release's
// checkpoints, saving those a change log names, and the releases the scheduler looks at.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "checklist/checkpoints.hpp"
#include "storage/sqlite/store.hpp"
#include "storage/sqlite/store_sql.hpp"

namespace relbot::storage::sqlite {

using detail::bind_optional;
using detail::optional_int;

namespace {

// One checkpoint row, as read_release selects it.
checklist::checkpoint read_checkpoint_row(SQLite::Statement& q) {
    checklist::checkpoint c;
    c.number = q.getColumn(0).getInt();
    c.offset_s = q.getColumn(1).getInt64();
    c.due_at = q.getColumn(2).getInt64();
    c.posted_at = optional_int(q.getColumn(3));
    c.answer = checklist::parse_checkpoint_answer(q.getColumn(4).getString())
                   .value_or(checklist::checkpoint_answer::none);
    c.answered_by = q.getColumn(5).getString();
    c.answered_at = optional_int(q.getColumn(6));
    c.reminders = q.getColumn(7).getInt();
    c.last_reminded_at = optional_int(q.getColumn(8));
    return c;
}

// save's upsert of one checkpoint, bound.
void bind_checkpoint(SQLite::Statement& q,
                     std::int64_t release_id,
                     const checklist::checkpoint& c) {
    q.bind(":release", release_id);
    q.bind(":number", c.number);
    q.bind(":offset", c.offset_s);
    q.bind(":due", c.due_at);
    bind_optional(q, ":posted", c.posted_at);
    q.bind(":answer", std::string(checklist::to_string(c.answer)));
    q.bind(":by", c.answered_by);
    bind_optional(q, ":answered", c.answered_at);
    q.bind(":reminders", c.reminders);
    bind_optional(q, ":reminded", c.last_reminded_at);
}

}  // namespace

void store::read_checkpoints(checklist::release& r) {
    auto cp_lease = prepare(
        "SELECT number, offset_s, due_at, posted_at, answer, answered_by, answered_at, "
        "reminders, last_reminded_at FROM checkpoints WHERE release_id = :id ORDER BY number");
    auto& cp = *cp_lease;
    cp.bind(":id", r.id);
    while (cp.executeStep()) {
        r.checkpoints.push_back(read_checkpoint_row(cp));
    }
}

void store::save_checkpoints(const checklist::release& r, const checklist::change_log& log) {
    for (auto number : log.checkpoints) {
        const auto* c = checklist::find_checkpoint(r, number);
        if (c == nullptr) {
            continue;
        }
        auto q_lease = prepare(
            "INSERT INTO checkpoints (release_id, number, offset_s, due_at, posted_at, answer, "
            "answered_by, answered_at, reminders, last_reminded_at) VALUES (:release, :number, "
            ":offset, :due, :posted, :answer, :by, :answered, :reminders, :reminded) "
            "ON CONFLICT (release_id, number) DO UPDATE SET offset_s = excluded.offset_s, "
            "due_at = excluded.due_at, posted_at = excluded.posted_at, answer = excluded.answer, "
            "answered_by = excluded.answered_by, answered_at = excluded.answered_at, "
            "reminders = excluded.reminders, last_reminded_at = excluded.last_reminded_at");
        auto& q = *q_lease;
        bind_checkpoint(q, r.id, *c);
        q.exec();
    }
}

std::vector<std::int64_t> store::checkpoint_releases() {
    // LIKE is case-insensitive for ASCII, as is_deployment_phase.
    auto q_lease = prepare(
        "SELECT r.id FROM releases r WHERE r.status = 'active' AND (EXISTS (SELECT 1 FROM "
        "phases p WHERE p.release_id = r.id AND p.position < r.current_phase AND p.title LIKE "
        "'%deploy%') OR EXISTS (SELECT 1 FROM checkpoints c WHERE c.release_id = r.id))");
    return detail::ids_of(*q_lease);
}

}  // namespace relbot::storage::sqlite
