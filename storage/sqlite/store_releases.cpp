// The store's queries about releases: finding and reading them (phases, items), listing
// them, writing them (save, insert), the timeline (audit) and the releases with a timer.
// Every statement binds by name; no SQL is built from values.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <algorithm>

#include "storage/sqlite/store.hpp"
#include "storage/sqlite/store_sql.hpp"

namespace relbot::storage::sqlite {

using detail::bind_optional;
using detail::optional_int;
using detail::text_of;

namespace {

// The release's own row, as read_release selects it (its phases and items come after).
checklist::release read_release_row(SQLite::Statement& q) {
    checklist::release r;
    r.id = q.getColumn(0).getInt64();
    r.channel = q.getColumn(1).getString();
    r.version = q.getColumn(2).getString();
    r.template_name = q.getColumn(3).getString();
    r.manager = q.getColumn(4).getString();
    r.status = checklist::parse_release_status(q.getColumn(5).getString())
                   .value_or(checklist::release_status::active);
    r.current_phase = q.getColumn(6).getInt();
    r.started_at = q.getColumn(7).getInt64();
    r.ended_at = optional_int(q.getColumn(8));
    r.oncall = q.getColumn(9).getString();
    r.pm = q.getColumn(10).getString();
    r.handoff_at = optional_int(q.getColumn(11));
    r.handoff_accepted_at = optional_int(q.getColumn(12));
    r.roles = checklist::read_roles(q.getColumn(13).getString());
    return r;
}

// One phase row, as read_release selects it (without its items).
checklist::phase read_phase_row(SQLite::Statement& ph) {
    checklist::phase p;
    p.position = ph.getColumn(0).getInt();
    p.title = ph.getColumn(1).getString();
    if (!ph.getColumn(2).isNull() && !ph.getColumn(3).isNull()) {
        p.window = checklist::phase_window{std::chrono::seconds(ph.getColumn(2).getInt64()),
                                           std::chrono::seconds(ph.getColumn(3).getInt64())};
    }
    p.entered_at = optional_int(ph.getColumn(4));
    p.left_by_force = ph.getColumn(5).getInt() != 0;
    return p;
}

// One item row, as read_release selects it.
checklist::item read_item_row(SQLite::Statement& it) {
    checklist::item i;
    i.id = it.getColumn(0).getInt64();
    i.phase = it.getColumn(1).getInt();
    i.position = it.getColumn(2).getInt();
    i.slug = it.getColumn(3).getString();
    i.title = it.getColumn(4).getString();
    i.description = it.getColumn(5).getString();
    i.state = checklist::parse_item_state(it.getColumn(6).getString())
                  .value_or(checklist::item_state::open);
    i.state_note = it.getColumn(7).getString();
    i.owner = it.getColumn(8).getString();
    i.due_at = optional_int(it.getColumn(9));
    i.snoozed_until = optional_int(it.getColumn(10));
    i.state_by = it.getColumn(11).getString();
    i.policy = checklist::policy_from_annotation(it.getColumn(12).getString());
    i.owner_role = it.getColumn(13).getString();
    i.approvals = checklist::read_approvals(it.getColumn(14).getString());
    i.forced = it.getColumn(15).getInt() != 0;
    i.state_at = optional_int(it.getColumn(16));
    return i;
}

// The parameters of save's UPDATE of the release row.
void bind_release_update(SQLite::Statement& q, const checklist::release& r) {
    q.bind(":manager", r.manager);
    q.bind(":status", std::string(checklist::to_string(r.status)));
    q.bind(":phase", r.current_phase);
    bind_optional(q, ":ended", r.ended_at);
    q.bind(":oncall", r.oncall);
    q.bind(":pm", r.pm);
    bind_optional(q, ":handoff", r.handoff_at);
    bind_optional(q, ":accepted", r.handoff_accepted_at);
    q.bind(":roles", checklist::write_roles(r.roles));
    q.bind(":id", r.id);
}

// insert_release's phase INSERT, reset and bound for phase p of the release.
void bind_phase_insert(SQLite::Statement& ph, std::int64_t release_id, const checklist::phase& p) {
    ph.reset();
    ph.clearBindings();
    ph.bind(":release", release_id);
    ph.bind(":position", p.position);
    ph.bind(":title", p.title);
    bind_optional(ph, ":min",
                  p.window ? std::optional<std::int64_t>(p.window->min.count()) : std::nullopt);
    bind_optional(ph, ":max",
                  p.window ? std::optional<std::int64_t>(p.window->max.count()) : std::nullopt);
    bind_optional(ph, ":entered", p.entered_at);
}

// insert_release's item INSERT, reset and bound for item i of the release.
void bind_item_insert(SQLite::Statement& it,
                      std::int64_t release_id,
                      const checklist::item& i,
                      epoch_seconds updated_at) {
    it.reset();
    it.clearBindings();
    it.bind(":release", release_id);
    it.bind(":phase", i.phase);
    it.bind(":position", i.position);
    it.bind(":slug", i.slug);
    it.bind(":title", i.title);
    it.bind(":description", i.description);
    it.bind(":state", std::string(checklist::to_string(i.state)));
    it.bind(":note", i.state_note);
    it.bind(":owner", i.owner);
    bind_optional(it, ":due", i.due_at);
    it.bind(":updated", updated_at);
    it.bind(":policy", checklist::write_annotation(i.policy));
    it.bind(":role", i.owner_role);
}

}  // namespace

std::optional<checklist::release> store::active_release(std::string_view channel) {
    auto r = active_release_view(channel);
    return r ? std::optional<checklist::release>(*r) : std::nullopt;
}

std::shared_ptr<const checklist::release> store::active_release_view(std::string_view channel) {
    std::string key(channel);
    if (!in_transaction_) {
        forget_if_changed_elsewhere();
    }
    // What this transaction changed in the channel is not in the cache (see end()), but what
    // it staged is.
    bool cacheable = !touched_channels_.contains(key);
    if (cacheable) {
        if (auto it = active_ids_.find(key); it != active_ids_.end()) {
            return remembered_or_read(it->second);
        }
    } else if (auto active = staged_active(key)) {
        return active;
    }
    auto q_lease =
        prepare("SELECT id FROM releases WHERE channel_id = :channel AND status = 'active'");
    auto& q = *q_lease;
    q.bind(":channel", key);
    if (!q.executeStep()) {
        return nullptr;
    }
    auto id = q.getColumn(0).getInt64();
    if (cacheable) {
        if (active_ids_.size() >= max_cached_releases) {
            active_ids_.clear();
        }
        active_ids_.emplace(std::move(key), id);
    }
    return remembered_or_read(id);
}

std::optional<checklist::release> store::latest_release(std::string_view channel) {
    auto q_lease = prepare(
        "SELECT id FROM releases WHERE channel_id = :channel "
        "ORDER BY started_at DESC, id DESC LIMIT 1");
    auto& q = *q_lease;
    q.bind(":channel", std::string(channel));
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return load_release(q.getColumn(0).getInt64());
}

std::optional<checklist::release> store::release_by_version(std::string_view channel,
                                                            std::string_view version) {
    auto q_lease = prepare(
        "SELECT id FROM releases WHERE channel_id = :channel AND version = :version "
        "ORDER BY started_at DESC, id DESC LIMIT 1");
    auto& q = *q_lease;
    q.bind(":channel", std::string(channel));
    q.bind(":version", std::string(version));
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return load_release(q.getColumn(0).getInt64());
}

std::vector<std::pair<std::string, std::int64_t>> store::releases_by_version(
    std::string_view version) {
    auto q_lease = prepare(
        "SELECT channel_id, id FROM releases WHERE version = :version "
        "ORDER BY started_at DESC, id DESC");
    auto& q = *q_lease;
    q.bind(":version", std::string(version));
    std::vector<std::pair<std::string, std::int64_t>> out;
    while (q.executeStep()) {
        out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getInt64());
    }
    return out;
}

long long store::count_active_releases() {
    auto q_lease = prepare("SELECT COUNT(*) FROM releases WHERE status = 'active'");
    auto& q = *q_lease;
    q.executeStep();
    return q.getColumn(0).getInt64();
}

std::optional<checklist::release> store::read_release(std::int64_t id) {
    auto q_lease = prepare(
        "SELECT id, channel_id, version, template_name, manager_id, status, "
        "current_phase, started_at, ended_at, oncall_id, pm_id, handoff_at, "
        "handoff_accepted_at, roles FROM releases WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":id", id);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    checklist::release r = read_release_row(q);

    auto ph_lease = prepare(
        "SELECT position, title, window_min_s, window_max_s, entered_at, left_by_force "
        "FROM phases WHERE release_id = :id ORDER BY position");
    auto& ph = *ph_lease;
    ph.bind(":id", r.id);
    while (ph.executeStep()) {
        r.phases.push_back(read_phase_row(ph));
    }

    auto it_lease = prepare(
        "SELECT id, phase, position, slug, title, description, state, "
        "state_note, owner_id, due_at, snoozed_until, state_by, policy, owner_role, approvals, "
        "forced, state_at FROM items WHERE release_id = :id "
        "ORDER BY phase, position");
    auto& it = *it_lease;
    it.bind(":id", r.id);
    while (it.executeStep()) {
        checklist::item i = read_item_row(it);
        auto index = static_cast<std::size_t>(i.phase - 1);
        if (index < r.phases.size()) {
            r.phases[index].items.push_back(std::move(i));
        }
    }

    read_checkpoints(r);
    return r;
}

std::vector<release_summary> store::list_releases(std::string_view channel, int limit) {
    auto q_lease = prepare(
        "SELECT r.id, r.version, r.status, r.manager_id, r.current_phase, "
        "(SELECT COUNT(*) FROM phases p WHERE p.release_id = r.id), "
        "(SELECT title FROM phases p WHERE p.release_id = r.id AND p.position = r.current_phase), "
        "r.started_at, r.ended_at FROM releases r WHERE r.channel_id = :channel "
        "ORDER BY r.started_at DESC, r.id DESC LIMIT :limit");
    auto& q = *q_lease;
    q.bind(":channel", std::string(channel));
    q.bind(":limit", limit);
    std::vector<release_summary> out;
    while (q.executeStep()) {
        release_summary s;
        s.id = q.getColumn(0).getInt64();
        s.version = q.getColumn(1).getString();
        s.status = checklist::parse_release_status(q.getColumn(2).getString())
                       .value_or(checklist::release_status::active);
        s.manager = q.getColumn(3).getString();
        s.current_phase = q.getColumn(4).getInt();
        s.phase_count = q.getColumn(5).getInt();
        s.current_phase_title = text_of(q.getColumn(6));
        s.started_at = q.getColumn(7).getInt64();
        s.ended_at = optional_int(q.getColumn(8));
        out.push_back(std::move(s));
    }
    return out;
}

std::int64_t store::save(const checklist::release& r,
                         const checklist::change_log& log,
                         std::string_view actor,
                         epoch_seconds now) {
    return save_release(r, nullptr, log, actor, now);
}

std::int64_t store::save(std::shared_ptr<const checklist::release> r,
                         const checklist::change_log& log,
                         std::string_view actor,
                         epoch_seconds now) {
    const auto& saved = *r;
    return save_release(saved, std::move(r), log, actor, now);
}

std::int64_t store::save_release(const checklist::release& r,
                                 std::shared_ptr<const checklist::release> shared,
                                 const checklist::change_log& log,
                                 std::string_view actor,
                                 epoch_seconds now) {
    if (log.release) {
        auto q_lease = prepare(
            "UPDATE releases SET manager_id = :manager, status = :status, "
            "current_phase = :phase, ended_at = :ended, oncall_id = :oncall, "
            "pm_id = :pm, handoff_at = :handoff, handoff_accepted_at = :accepted, roles = :roles "
            "WHERE id = :id");
        auto& q = *q_lease;
        bind_release_update(q, r);
        q.exec();
    }
    for (auto index : log.phases) {
        const auto& p = r.phases.at(index);
        auto q_lease = prepare(
            "UPDATE phases SET entered_at = :entered, left_by_force = :forced WHERE "
            "release_id = :id AND position = :position");
        auto& q = *q_lease;
        bind_optional(q, ":entered", p.entered_at);
        q.bind(":forced", p.left_by_force ? 1 : 0);
        q.bind(":id", r.id);
        q.bind(":position", p.position);
        q.exec();
    }
    for (const auto& pos : log.items) {
        const auto& i = r.phases.at(pos.phase).items.at(pos.index);
        auto q_lease = prepare(
            "UPDATE items SET state = :state, state_note = :note, owner_id = :owner, "
            "due_at = :due, snoozed_until = :snoozed, updated_at = :now, state_by = :by, "
            "owner_role = :role, approvals = :approvals, forced = :forced, state_at = :at WHERE "
            "id = :id");
        auto& q = *q_lease;
        q.bind(":by", i.state_by);
        q.bind(":role", i.owner_role);
        q.bind(":approvals", checklist::write_approvals(i.approvals));
        q.bind(":forced", i.forced ? 1 : 0);
        bind_optional(q, ":at", i.state_at);
        bind_optional(q, ":snoozed", i.snoozed_until);
        q.bind(":state", std::string(checklist::to_string(i.state)));
        q.bind(":note", i.state_note);
        q.bind(":owner", i.owner);
        bind_optional(q, ":due", i.due_at);
        q.bind(":now", now);
        q.bind(":id", i.id);
        q.exec();
    }
    save_checkpoints(r, log);
    // A checkpoint answered (a timeline event) may change the status message (an Investigating
    // hold); one planned, posted or reminded by the scheduler does not.
    bool answered = !log.checkpoints.empty() && !log.events.empty();
    if (log.release || !log.phases.empty() || !log.items.empty() || answered) {
        // The living status message (which shows the release, its phases and its items, not
        // the timeline) is now behind; the notifier catches it up. Raised once per
        // transaction: the notifier only compares it with the version last sent.
        bool raised = in_transaction_ && std::find(status_bumped_.begin(), status_bumped_.end(),
                                                   r.id) != status_bumped_.end();
        if (!raised) {
            auto v_lease =
                prepare("UPDATE releases SET status_version = status_version + 1 WHERE id = :id");
            auto& v = *v_lease;
            v.bind(":id", r.id);
            v.exec();
            if (in_transaction_) {
                status_bumped_.push_back(r.id);
            }
        }
    }
    if (log.release || !log.phases.empty() || !log.items.empty() || !log.checkpoints.empty()) {
        stage(r, std::move(shared));
    }
    std::int64_t last = 0;
    for (const auto& e : log.events) {
        last = append_audit(
            {r.id, now, std::string(actor), e.action, e.item_id, e.from, e.to, e.note});
    }
    return last;
}

void store::insert_release(checklist::release& r) {
    auto q_lease = prepare(
        "INSERT INTO releases (channel_id, version, template_name, manager_id, "
        "status, current_phase, started_at, ended_at, status_version, status_sent_version, roles) "
        "VALUES (:channel, :version, :template, :manager, :status, :phase, :started, :ended, 1, "
        "1, :roles)");
    auto& q = *q_lease;
    q.bind(":channel", r.channel);
    q.bind(":version", r.version);
    q.bind(":template", r.template_name);
    q.bind(":manager", r.manager);
    q.bind(":status", std::string(checklist::to_string(r.status)));
    q.bind(":phase", r.current_phase);
    q.bind(":started", r.started_at);
    bind_optional(q, ":ended", r.ended_at);
    q.bind(":roles", checklist::write_roles(r.roles));
    try {
        q.exec();
    } catch (const SQLite::Exception& e) {
        if (e.getErrorCode() == SQLITE_CONSTRAINT) {
            throw duplicate_release();
        }
        throw;
    }
    r.id = db_->getLastInsertRowid();

    auto ph_lease = prepare(
        "INSERT INTO phases (release_id, position, title, window_min_s, "
        "window_max_s, entered_at) VALUES (:release, :position, :title, :min, "
        ":max, :entered)");
    auto& ph = *ph_lease;
    auto it_lease = prepare(
        "INSERT INTO items (release_id, phase, position, slug, title, "
        "description, state, state_note, owner_id, due_at, updated_at, policy, owner_role) "
        "VALUES (:release, :phase, :position, :slug, :title, :description, :state, "
        ":note, :owner, :due, :updated, :policy, :role)");
    auto& it = *it_lease;
    for (auto& p : r.phases) {
        bind_phase_insert(ph, r.id, p);
        ph.exec();
        for (auto& i : p.items) {
            bind_item_insert(it, r.id, i, r.started_at);
            it.exec();
            i.id = db_->getLastInsertRowid();
        }
    }
    if (in_transaction_) {
        touch_channel(r.channel);
    } else {
        active_ids_.erase(r.channel);
    }
}

std::int64_t store::append_audit(const audit_entry& e) {
    // The timeline is kept in release order (release_id, id); an id is unique across releases
    // because a release numbers its rows from release_id × 2^32 (rows written before that
    // scheme keep their smaller ids; migration 9). The last id is one step down the key.
    std::int64_t id = e.release_id << 32;
    if (auto known = last_audit_ids_.find(e.release_id);
        in_transaction_ && known != last_audit_ids_.end()) {
        id = std::max(id, known->second + 1);
    } else {
        auto last_lease = prepare("SELECT max(id) FROM audit WHERE release_id = :release");
        auto& last = *last_lease;
        last.bind(":release", e.release_id);
        if (last.executeStep() && !last.getColumn(0).isNull()) {
            id = std::max(id, last.getColumn(0).getInt64() + 1);
        }
    }
    auto q_lease = prepare(
        "INSERT INTO audit (release_id, id, at, actor_id, action, item_id, "
        "from_state, to_state, note) VALUES (:release, :id, :at, :actor, :action, :item, "
        ":from, :to, :note)");
    auto& q = *q_lease;
    q.bind(":release", e.release_id);
    q.bind(":id", id);
    q.bind(":at", e.at);
    q.bind(":actor", e.actor);
    q.bind(":action", e.action);
    bind_optional(q, ":item", e.item_id);
    q.bind(":from", e.from_state);
    q.bind(":to", e.to_state);
    q.bind(":note", e.note);
    q.exec();
    ++timeline_rows_;
    if (last_audit_ids_.size() >= max_cached_releases) {
        last_audit_ids_.clear();
    }
    last_audit_ids_.insert_or_assign(e.release_id, id);
    return id;
}

std::vector<audit_entry> store::audit_for(std::int64_t release_id) {
    auto q_lease = prepare(
        "SELECT release_id, at, actor_id, action, item_id, from_state, "
        "to_state, note FROM audit WHERE release_id = :release ORDER BY id");
    auto& q = *q_lease;
    q.bind(":release", release_id);
    std::vector<audit_entry> out;
    while (q.executeStep()) {
        out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                       q.getColumn(2).getString(), q.getColumn(3).getString(),
                       optional_int(q.getColumn(4)), q.getColumn(5).getString(),
                       q.getColumn(6).getString(), q.getColumn(7).getString()});
    }
    return out;
}

std::optional<std::pair<std::string, std::string>> store::deploying_elsewhere(
    std::string_view channel) {
    // One writer at a time (the unit's write lock) serializes the units that ask.
    auto q_lease = prepare(
        "SELECT r.version, r.channel_id FROM releases r WHERE r.status = 'active' AND "
        "r.channel_id <> :channel AND r.current_phase = (SELECT MIN(p.position) FROM phases p "
        "WHERE "
        "p.release_id = r.id AND lower(p.title) LIKE '%deploy%') ORDER BY r.id LIMIT 1");
    auto& q = *q_lease;
    q.bind(":channel", std::string(channel));
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return std::pair{q.getColumn(0).getString(), q.getColumn(1).getString()};
}

std::vector<std::int64_t> store::active_release_ids() {
    auto q_lease = prepare("SELECT id FROM releases WHERE status = 'active' ORDER BY id");
    return detail::ids_of(*q_lease);
}

std::vector<std::int64_t> store::timed_releases() {
    auto q_lease = prepare(
        "SELECT r.id FROM releases r JOIN phases p ON p.release_id = r.id AND p.position = "
        "r.current_phase WHERE r.status = 'active' AND ((p.window_min_s IS NOT NULL AND "
        "p.entered_at IS NOT NULL) OR (r.handoff_at IS NOT NULL AND r.handoff_accepted_at IS "
        "NULL) OR EXISTS (SELECT 1 FROM items i WHERE i.release_id = r.id AND i.phase = "
        "r.current_phase AND i.state = 'done' AND i.policy LIKE '%sign-off%'))");
    return detail::ids_of(*q_lease);
}

}  // namespace relbot::storage::sqlite
