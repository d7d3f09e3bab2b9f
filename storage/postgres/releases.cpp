// Every statement takes its values as parameters; no SQL is built from values.
#include "storage/postgres/releases.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "checklist/checkpoints.hpp"
#include "storage/postgres/schema.hpp"

namespace relbot::storage::postgres {

namespace {

std::optional<std::int64_t> window_bound(const checklist::phase& p, bool max) {
    if (!p.window) {
        return std::nullopt;
    }
    return max ? p.window->max.count() : p.window->min.count();
}

}  // namespace

releases::releases(session& s) : s_(s) {
    s_.on_unit([this] { before_commit(); }, [this](bool committed) { unit_ended(committed); },
               [this](std::uint64_t serial, std::uint64_t parent, bool kept) {
                   savepoint_ended(serial, parent, kept);
               });
}

void releases::savepoint_ended(std::uint64_t serial, std::uint64_t parent, bool kept) {
    if (kept) {
        for (auto& r : raises_) {
            if (r.savepoint == serial) {
                r.savepoint = parent;
            }
        }
        return;
    }
    std::erase_if(raises_, [serial](const raise& r) { return r.savepoint == serial; });
}

bool releases::raised(std::int64_t release_id) const {
    return std::any_of(raises_.begin(), raises_.end(),
                       [release_id](const raise& r) { return r.release_id == release_id; });
}

void releases::before_commit() {
    forget_if_rolled_back();
    std::unordered_map<std::int64_t, bool> owed;  // release -> status changed
    for (const auto& r : raises_) {
        owed[r.release_id] = owed[r.release_id] || r.status_changed;
    }
    for (const auto& [id, status_changed] : owed) {
        s_.db().defer(
            "UPDATE releases SET row_version = row_version + 1, status_version = status_version "
            "+ $2 WHERE id = $1",
            {id, status_changed ? 1 : 0});
    }
}

void releases::unit_ended(bool committed) {
    forget_if_rolled_back();
    if (committed) {
        for (auto& [id, l] : unit_locked_) {
            if (l.release && l.release->status != checklist::release_status::active) {
                // An ended release is rarely read again (a report, an export, `owners-from`):
                // read from the database then, rather than held for the life of the process.
                held_.erase(id);
                continue;
            }
            held_[id] = {l.version_read + (raised(id) ? 1 : 0), std::move(l.release)};
        }
    } else {
        held_.clear();
    }
    unit_locked_.clear();
    unit_channel_.clear();
    raises_.clear();
}

bool releases::note_change(std::int64_t id, const shared_release& state, bool status_changed) {
    auto it = unit_locked_.find(id);
    if (it == unit_locked_.end()) {
        return false;
    }
    it->second.release = state;
    raises_.push_back({id, status_changed, s_.current_savepoint()});
    return true;
}

std::optional<checklist::release> releases::active_release(std::string_view channel) {
    auto r = active_release_view(channel);
    return r ? std::optional<checklist::release>(*r) : std::nullopt;
}

std::shared_ptr<const checklist::release> releases::active_release_view(std::string_view channel) {
    auto key = release_key::active_in(channel);
    if (!s_.in_unit()) {
        return s_.busy_as_busy([&] { return read_release(key); });
    }
    // Locked by this unit already (an earlier input of its batch read it): nobody else can
    // have changed it since.
    forget_if_rolled_back();
    if (auto it = unit_channel_.find(std::string(channel)); it != unit_channel_.end()) {
        if (auto l = unit_locked_.find(it->second);
            l != unit_locked_.end() &&
            l->second.release->status == checklist::release_status::active) {
            return l->second.release;
        }
        unit_channel_.erase(it);  // ended in this unit: which one is active is asked again
    }
    // In a unit the release is locked, then read. Another instance may have ended the
    // release, or started one, between the two: then they disagree, and the channel's active
    // release is looked up again.
    for (int attempt = 0; attempt < 3; ++attempt) {
        auto found = s_.busy_as_busy([&] { return locked_read(key); });
        if (found.release) {
            unit_channel_[std::string(channel)] = found.release->id;
        }
        if (found.release || !found.locked_any) {
            return found.release;  // nullptr: none was locked, and none was read
        }
    }
    return nullptr;  // a start and a finish racing on and on: "no release" for now
}

std::optional<checklist::release> releases::latest_release(std::string_view channel) {
    return release_named_by(s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT id FROM releases WHERE channel_id = $1 ORDER BY started_at DESC, id DESC "
            "LIMIT 1",
            {channel});
    }));
}

std::optional<checklist::release> releases::release_by_version(std::string_view channel,
                                                               std::string_view version) {
    return release_named_by(s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT id FROM releases WHERE channel_id = $1 AND version = $2 ORDER BY started_at "
            "DESC, id DESC LIMIT 1",
            {channel, version});
    }));
}

std::optional<checklist::release> releases::load_release(std::int64_t id) {
    auto key = release_key::with_id(id);
    auto r = s_.busy_as_busy([&] {
        if (!s_.in_unit()) {
            return read_release(key);
        }
        forget_if_rolled_back();
        if (auto l = unit_locked_.find(id); l != unit_locked_.end()) {
            return l->second.release;  // locked by this unit already
        }
        // Locked until the unit ends: every unit that changes a release has read it first, so
        // units changing one release take turns, and each reads (in the statement after the
        // lock, sent with it: READ COMMITTED) what the one before it committed.
        return locked_read(key).release;
    });
    return r ? std::optional<checklist::release>(*r) : std::nullopt;
}

std::optional<checklist::release> releases::release_named_by(const result& ids) {
    if (ids.rows() == 0) {
        return std::nullopt;
    }
    return load_release(ids.integer(0, 0));
}

releases::locked_release releases::locked_read(const release_key& key) {
    // NO KEY UPDATE: the id never changes, so inserts of rows that refer to the release
    // (outbox, timeline) by other sessions are not held up.
    result locked(nullptr);
    s_.db().defer(key.by_channel() ? "SELECT id FROM releases WHERE channel_id = $1 AND status = "
                                     "'active' FOR NO KEY UPDATE"
                                   : "SELECT id FROM releases WHERE id = $1 FOR NO KEY UPDATE",
                  {key.value()}, &locked);
    auto r = read_release(key);
    bool locked_any = locked.rows() > 0;
    if (r && locked_any && locked.integer(0, 0) == r->id) {
        unit_locked_[r->id] = {held_.at(r->id).version, r};
        return {r, true};
    }
    return {nullptr, locked_any};
}

void releases::forget_if_rolled_back() {
    if (s_.db().rollbacks() != rollbacks_seen_) {
        rollbacks_seen_ = s_.db().rollbacks();
        held_.clear();
        unit_locked_.clear();  // raises_ stay: savepoint_ended keeps or drops each
        unit_channel_.clear();
    }
}

releases::shared_release releases::read_release(const release_key& key) {
    forget_if_rolled_back();
    // The release this instance holds for the same key, offered by id and version: if the
    // database has that version, the phases, items and checkpoints are not sent again.
    std::int64_t offered_id = 0;
    std::int64_t offered_version = -1;
    const held* offered = nullptr;
    std::optional<std::int64_t> id;
    if (!key.by_channel()) {
        id = key.id;
    } else if (auto it = channel_release_.find(key.channel); it != channel_release_.end()) {
        id = it->second;
    }
    if (id) {
        if (auto it = held_.find(*id); it != held_.end()) {
            offered = &it->second;
            offered_id = *id;
            offered_version = it->second.version;
        }
    }
    // One statement, so one snapshot and one round trip: the release row, and its phases,
    // items and checkpoints as JSON arrays of rows (null when the offered version is current).
    auto row = s_.db().exec(
        std::string(
            "SELECT r.id, r.channel_id, r.version, r.template_name, r.manager_id, r.status, "
            "r.current_phase, r.started_at, r.ended_at, r.oncall_id, r.pm_id, r.handoff_at, "
            "r.handoff_accepted_at, r.row_version, "
            "CASE WHEN r.id = $2 AND r.row_version = $3 THEN NULL ELSE "
            "(SELECT COALESCE(json_agg(json_build_array(position, title, window_min_s, "
            "window_max_s, "
            "entered_at, left_by_force) ORDER BY position), '[]') FROM phases WHERE release_id = "
            "r.id) END, CASE WHEN r.id = $2 AND r.row_version = $3 THEN NULL ELSE "
            "(SELECT COALESCE(json_agg(json_build_array(id, phase, position, slug, title, "
            "description, state, state_note, owner_id, due_at, snoozed_until, state_by, policy, "
            "owner_role, approvals, forced, state_at) ORDER BY "
            "phase, "
            "position), '[]') FROM items WHERE release_id = r.id) END, CASE WHEN r.id = $2 AND "
            "r.row_version = $3 THEN NULL ELSE "
            "(SELECT COALESCE(json_agg(json_build_array(number, offset_s, due_at, posted_at, "
            "answer, "
            "answered_by, answered_at, reminders, last_reminded_at) ORDER BY number), '[]') FROM "
            "checkpoints WHERE release_id = r.id) END, r.roles "
            "FROM releases r WHERE ") +
            (key.by_channel() ? "r.channel_id = $1 AND r.status = 'active'" : "r.id = $1"),
        {key.value(), offered_id, offered_version});
    if (row.rows() == 0) {
        return nullptr;
    }
    auto found_id = row.integer(0, 0);
    auto version = row.integer(0, 13);
    if (key.by_channel()) {
        if (channel_release_.size() >= max_held) {
            channel_release_.clear();
        }
        channel_release_[key.channel] = found_id;
    }
    if (offered != nullptr && found_id == offered_id && version == offered_version &&
        row.is_null(0, 14)) {
        return offered->release;
    }
    checklist::release r;
    r.id = row.integer(0, 0);
    r.channel = row.text(0, 1);
    r.version = row.text(0, 2);
    r.template_name = row.text(0, 3);
    r.manager = row.text(0, 4);
    r.status =
        checklist::parse_release_status(row.text(0, 5)).value_or(checklist::release_status::active);
    r.current_phase = static_cast<int>(row.integer(0, 6));
    r.started_at = row.integer(0, 7);
    r.ended_at = row.optional_integer(0, 8);
    r.oncall = row.text(0, 9);
    r.pm = row.text(0, 10);
    r.handoff_at = row.optional_integer(0, 11);
    r.handoff_accepted_at = row.optional_integer(0, 12);
    r.roles = checklist::read_roles(row.text(0, 17));

    auto optional_at = [](const nlohmann::json& v) -> std::optional<std::int64_t> {
        if (v.is_null()) {
            return std::nullopt;
        }
        return v.get<std::int64_t>();
    };
    for (const auto& p_row : nlohmann::json::parse(row.text(0, 14))) {
        checklist::phase p;
        p.position = p_row[0].get<int>();
        p.title = p_row[1].get<std::string>();
        auto min = optional_at(p_row[2]);
        auto max = optional_at(p_row[3]);
        if (min && max) {
            p.window =
                checklist::phase_window{std::chrono::seconds(*min), std::chrono::seconds(*max)};
        }
        p.entered_at = optional_at(p_row[4]);
        p.left_by_force = p_row[5].get<int>() != 0;
        r.phases.push_back(std::move(p));
    }
    for (const auto& i_row : nlohmann::json::parse(row.text(0, 15))) {
        checklist::item i;
        i.id = i_row[0].get<std::int64_t>();
        i.phase = i_row[1].get<int>();
        i.position = i_row[2].get<int>();
        i.slug = i_row[3].get<std::string>();
        i.title = i_row[4].get<std::string>();
        i.description = i_row[5].get<std::string>();
        i.state = checklist::parse_item_state(i_row[6].get<std::string>())
                      .value_or(checklist::item_state::open);
        i.state_note = i_row[7].get<std::string>();
        i.state_by = i_row[11].get<std::string>();
        i.owner = i_row[8].get<std::string>();
        i.due_at = optional_at(i_row[9]);
        i.snoozed_until = optional_at(i_row[10]);
        i.policy = checklist::policy_from_annotation(i_row[12].get<std::string>());
        i.owner_role = i_row[13].get<std::string>();
        i.approvals = checklist::read_approvals(i_row[14].get<std::string>());
        i.forced = i_row[15].get<int>() != 0;
        i.state_at = optional_at(i_row[16]);
        auto index = static_cast<std::size_t>(i.phase - 1);
        if (index < r.phases.size()) {
            r.phases[index].items.push_back(std::move(i));
        }
    }
    for (const auto& c_row : nlohmann::json::parse(row.text(0, 16))) {
        checklist::checkpoint c;
        c.number = c_row[0].get<int>();
        c.offset_s = c_row[1].get<std::int64_t>();
        c.due_at = c_row[2].get<std::int64_t>();
        c.posted_at = optional_at(c_row[3]);
        c.answer = checklist::parse_checkpoint_answer(c_row[4].get<std::string>())
                       .value_or(checklist::checkpoint_answer::none);
        c.answered_by = c_row[5].get<std::string>();
        c.answered_at = optional_at(c_row[6]);
        c.reminders = c_row[7].get<int>();
        c.last_reminded_at = optional_at(c_row[8]);
        r.checkpoints.push_back(std::move(c));
    }
    auto shared = std::make_shared<const checklist::release>(std::move(r));
    // Held with its version (a unit that locks it reads the version here); one that has
    // ended is let go when the unit that read it ends (unit_ended).
    if (held_.size() >= max_held) {
        held_.clear();
    }
    held_[found_id] = {version, shared};
    return shared;
}

std::vector<release_summary> releases::list_releases(std::string_view channel, int limit) {
    auto rows = s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT r.id, r.version, r.status, r.manager_id, r.current_phase, (SELECT COUNT(*) "
            "FROM phases p WHERE p.release_id = r.id), (SELECT title FROM phases p WHERE "
            "p.release_id = r.id AND p.position = r.current_phase), r.started_at, r.ended_at "
            "FROM releases r WHERE r.channel_id = $1 ORDER BY r.started_at DESC, r.id DESC "
            "LIMIT $2",
            {channel, limit});
    });
    std::vector<release_summary> out;
    for (int i = 0; i < rows.rows(); ++i) {
        release_summary s;
        s.id = rows.integer(i, 0);
        s.version = rows.text(i, 1);
        s.status = checklist::parse_release_status(rows.text(i, 2))
                       .value_or(checklist::release_status::active);
        s.manager = rows.text(i, 3);
        s.current_phase = static_cast<int>(rows.integer(i, 4));
        s.phase_count = static_cast<int>(rows.integer(i, 5));
        s.current_phase_title = rows.text(i, 6);
        s.started_at = rows.integer(i, 7);
        s.ended_at = rows.optional_integer(i, 8);
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<std::pair<std::string, std::int64_t>> releases::releases_by_version(
    std::string_view version) {
    auto rows = s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT channel_id, id FROM releases WHERE version = $1 ORDER BY started_at DESC, id "
            "DESC",
            {version});
    });
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (int i = 0; i < rows.rows(); ++i) {
        out.emplace_back(rows.text(i, 0), rows.integer(i, 1));
    }
    return out;
}

long long releases::count_active_releases() {
    return s_.busy_as_busy([&] {
        return s_.db().exec("SELECT COUNT(*) FROM releases WHERE status = 'active'").integer(0, 0);
    });
}

std::optional<std::pair<std::string, std::string>> releases::deploying_elsewhere(
    std::string_view channel) {
    auto rows = s_.busy_as_busy([&] {
        // Units that ask wait for each other until the first ends: its move into the
        // deployment phase is committed (and seen) before the next one looks.
        s_.db().exec("SELECT pg_advisory_xact_lock($1)", {deploy_lock_key});
        return s_.db().exec(
            "SELECT r.version, r.channel_id FROM releases r WHERE r.status = 'active' AND "
            "r.channel_id <> $1 AND r.current_phase = (SELECT MIN(p.position) FROM phases p WHERE "
            "p.release_id = r.id AND lower(p.title) LIKE '%deploy%') ORDER BY r.id LIMIT 1",
            {std::string(channel)});
    });
    if (rows.rows() == 0) {
        return std::nullopt;
    }
    return std::pair{rows.text(0, 0), rows.text(0, 1)};
}

std::vector<std::int64_t> releases::active_release_ids() {
    auto rows = s_.busy_as_busy([&] {
        return s_.db().exec("SELECT id FROM releases WHERE status = 'active' ORDER BY id");
    });
    std::vector<std::int64_t> out;
    for (int i = 0; i < rows.rows(); ++i) {
        out.push_back(rows.integer(i, 0));
    }
    return out;
}

void releases::insert_release(checklist::release& r) {
    s_.busy_as_busy([&] {
        // In a savepoint: a refused insert leaves the enclosing unit usable (PostgreSQL ends a
        // transaction at its first error otherwise).
        bool own = !s_.in_unit();
        std::optional<connection::transaction_scope> scope;
        if (own) {
            scope.emplace(s_.db().begin_transaction("BEGIN"));
        } else {
            s_.db().defer("SAVEPOINT insert_release");
        }
        try {
            r.id = s_.db()
                       .exec(
                           "INSERT INTO releases (channel_id, version, template_name, "
                           "manager_id, status, current_phase, started_at, ended_at, "
                           "status_version, status_sent_version, roles) VALUES ($1, $2, $3, "
                           "$4, $5, $6, $7, $8, 1, 1, $9) RETURNING id",
                           {r.channel, r.version, r.template_name, r.manager,
                            std::string(checklist::to_string(r.status)), r.current_phase,
                            r.started_at, r.ended_at, checklist::write_roles(r.roles)})
                       .integer(0, 0);
            // Every phase and item in one round trip; each item's id comes back into its slot.
            std::vector<result> item_ids;
            std::size_t item_count = 0;
            for (const auto& p : r.phases) {
                item_count += p.items.size();
            }
            item_ids.reserve(item_count);  // the slots must not move while deferred
            for (auto& p : r.phases) {
                s_.db().defer(
                    "INSERT INTO phases (release_id, position, title, window_min_s, "
                    "window_max_s, entered_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    {r.id, p.position, p.title, window_bound(p, false), window_bound(p, true),
                     p.entered_at});
                for (auto& i : p.items) {
                    item_ids.emplace_back(nullptr);
                    s_.db().defer(
                        "INSERT INTO items (release_id, phase, position, slug, title, "
                        "description, state, state_note, owner_id, due_at, updated_at, policy, "
                        "owner_role) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                        "$13) RETURNING id",
                        {r.id, i.phase, i.position, i.slug, i.title.str(), i.description.str(),
                         std::string(checklist::to_string(i.state)), i.state_note, i.owner,
                         i.due_at, r.started_at, checklist::write_annotation(i.policy),
                         i.owner_role},
                        &item_ids.back());
                }
            }
            s_.db().flush();
            std::size_t k = 0;
            for (auto& p : r.phases) {
                for (auto& i : p.items) {
                    i.id = item_ids.at(k++).integer(0, 0);
                }
            }
            auto tag = s_.db().exec(own ? "COMMIT" : "RELEASE SAVEPOINT insert_release").tag();
            if (own && tag != "COMMIT") {
                throw pg_error(
                    "the new release could not be committed (the server said " + tag + ")", "");
            }
        } catch (const pg_error& e) {
            s_.db().rollback_with(own ? "ROLLBACK"
                                      : "ROLLBACK TO SAVEPOINT insert_release; RELEASE "
                                        "SAVEPOINT insert_release");
            if (e.unique_violation()) {
                throw duplicate_release();
            }
            throw;
        }
    });
}

std::int64_t releases::save(const checklist::release& r,
                            const checklist::change_log& log,
                            std::string_view actor,
                            epoch_seconds now) {
    return save_shared(r, nullptr, log, actor, now);
}

std::int64_t releases::save(std::shared_ptr<const checklist::release> r,
                            const checklist::change_log& log,
                            std::string_view actor,
                            epoch_seconds now) {
    const auto& ref = *r;
    return save_shared(ref, std::move(r), log, actor, now);
}

std::int64_t releases::save_shared(const checklist::release& r,
                                   shared_release shared,
                                   const checklist::change_log& log,
                                   std::string_view actor,
                                   epoch_seconds now) {
    // A checkpoint answered (a timeline event) may change the status message (an
    // Investigating hold); one planned, posted or reminded by the scheduler does not.
    bool answered = !log.checkpoints.empty() && !log.events.empty();
    bool status_changed = log.release || !log.phases.empty() || !log.items.empty() || answered;
    bool content_changed =
        log.release || !log.phases.empty() || !log.items.empty() || !log.checkpoints.empty();
    forget_if_rolled_back();
    // Locked by this unit: its version is raised once, when the unit commits (raising it on
    // every save would make a batch's saves of one release a chain of row versions that each
    // later statement on the row walks).
    bool locked_here = s_.in_unit() && unit_locked_.count(r.id) > 0;
    std::int64_t last = 0;
    write_change(r, log, actor, now, status_changed, content_changed && !locked_here, last);
    if (content_changed) {
        if (locked_here) {
            note_change(r.id, shared ? shared : std::make_shared<const checklist::release>(r),
                        status_changed);
        } else {
            held_.erase(r.id);  // read again next time
        }
    }
    return last;
}

void releases::write_change(const checklist::release& r,
                            const checklist::change_log& log,
                            std::string_view actor,
                            epoch_seconds now,
                            bool status_changed,
                            bool raise_versions,
                            std::int64_t& last_audit_id) {
    s_.busy_as_busy([&] {
        auto& db = s_.db();
        int raise = raise_versions ? 1 : 0;
        if (log.release) {
            db.defer(
                "UPDATE releases SET manager_id = $2, status = $3, current_phase = $4, ended_at "
                "= $5, oncall_id = $6, pm_id = $7, handoff_at = $8, handoff_accepted_at = $9, "
                "row_version = row_version + $10, status_version = status_version + $10, roles = "
                "$11 WHERE id = $1",
                {r.id, r.manager, std::string(checklist::to_string(r.status)), r.current_phase,
                 r.ended_at, r.oncall, r.pm, r.handoff_at, r.handoff_accepted_at, raise,
                 checklist::write_roles(r.roles)});
        } else if (raise_versions) {
            db.defer(
                "UPDATE releases SET row_version = row_version + 1, status_version = "
                "status_version + $2 WHERE id = $1",
                {r.id, status_changed ? 1 : 0});
        }
        for (auto index : log.phases) {
            const auto& p = r.phases.at(index);
            db.defer(
                "UPDATE phases SET entered_at = $3, left_by_force = $4 WHERE release_id = $1 AND "
                "position = $2",
                {r.id, p.position, p.entered_at, p.left_by_force ? 1 : 0});
        }
        for (const auto& pos : log.items) {
            const auto& i = r.phases.at(pos.phase).items.at(pos.index);
            db.defer(
                "UPDATE items SET state = $2, state_note = $3, owner_id = $4, due_at = $5, "
                "snoozed_until = $6, updated_at = $7, state_by = $8, owner_role = $9, approvals = "
                "$10, forced = $11, state_at = $12 WHERE id = $1",
                {i.id, std::string(checklist::to_string(i.state)), i.state_note, i.owner, i.due_at,
                 i.snoozed_until, now, i.state_by, i.owner_role,
                 checklist::write_approvals(i.approvals), i.forced ? 1 : 0, i.state_at});
        }
        save_checkpoints(r, log);
        for (const auto& e : log.events) {
            // Waited for (its id is the answer): sends the writes above with it.
            last_audit_id = append_audit(
                {r.id, now, std::string(actor), e.action, e.item_id, e.from, e.to, e.note});
        }
        if (!s_.in_unit()) {
            db.flush();  // no unit to send them with: each is its own transaction
        }
    });
}

void releases::save_checkpoints(const checklist::release& r, const checklist::change_log& log) {
    for (auto number : log.checkpoints) {
        const auto* c = checklist::find_checkpoint(r, number);
        if (c == nullptr) {
            continue;
        }
        s_.db().defer(
            "INSERT INTO checkpoints (release_id, number, offset_s, due_at, posted_at, answer, "
            "answered_by, answered_at, reminders, last_reminded_at) VALUES ($1, $2, $3, $4, $5, "
            "$6, $7, $8, $9, $10) ON CONFLICT (release_id, number) DO UPDATE SET offset_s = "
            "excluded.offset_s, due_at = excluded.due_at, posted_at = excluded.posted_at, answer "
            "= excluded.answer, answered_by = excluded.answered_by, answered_at = "
            "excluded.answered_at, reminders = excluded.reminders, last_reminded_at = "
            "excluded.last_reminded_at",
            {r.id, c->number, c->offset_s, c->due_at, c->posted_at,
             std::string(checklist::to_string(c->answer)), c->answered_by, c->answered_at,
             c->reminders, c->last_reminded_at});
    }
}

std::int64_t releases::append_audit(const audit_entry& e) {
    return s_.busy_as_busy([&] {
        return s_.db()
            .exec(
                "INSERT INTO audit (release_id, at, actor_id, action, item_id, from_state, "
                "to_state, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                {e.release_id, e.at, e.actor, e.action, e.item_id, e.from_state, e.to_state,
                 e.note})
            .integer(0, 0);
    });
}

std::vector<audit_entry> releases::audit_for(std::int64_t release_id) {
    auto rows = s_.busy_as_busy([&] {
        return s_.db().exec(
            "SELECT release_id, at, actor_id, action, item_id, from_state, to_state, note FROM "
            "audit WHERE release_id = $1 ORDER BY id",
            {release_id});
    });
    std::vector<audit_entry> out;
    out.reserve(static_cast<std::size_t>(rows.rows()));
    for (int i = 0; i < rows.rows(); ++i) {
        out.push_back({rows.integer(i, 0), rows.integer(i, 1), rows.text(i, 2), rows.text(i, 3),
                       rows.optional_integer(i, 4), rows.text(i, 5), rows.text(i, 6),
                       rows.text(i, 7)});
    }
    return out;
}

}  // namespace relbot::storage::postgres
