// The store's queries. Every statement binds by name; no SQL is built from values.
#include "storage/store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstddef>

#include "checklist/reminders.hpp"
#include "storage/database.hpp"

namespace relbot::storage {
namespace {

// Every row's first column, as text.
std::vector<std::string> first_column(SQLite::Statement& q) {
    std::vector<std::string> out;
    while (q.executeStep()) {
        out.push_back(q.getColumn(0).getString());
    }
    return out;
}

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

std::string text_of(const SQLite::Column& c) {
    return c.isNull() ? std::string() : c.getString();
}

std::optional<std::int64_t> optional_int(const SQLite::Column& c) {
    return c.isNull() ? std::nullopt : std::optional<std::int64_t>(c.getInt64());
}

void bind_optional(SQLite::Statement& q, const char* name, std::optional<std::int64_t> v) {
    if (v) {
        q.bind(name, *v);
    } else {
        q.bind(name);  // NULL
    }
}

// SQL text joined at compile time, so that a query built from shared parts is still a
// constant the statement cache can key by address.
template <std::size_t... N>
constexpr auto sql_join(const char (&... parts)[N]) {
    std::array<char, (N + ...) - sizeof...(N) + 1> out{};
    std::size_t at = 0;
    ((std::copy_n(parts, N - 1, out.begin() + static_cast<std::ptrdiff_t>(at)), at += N - 1), ...);
    return out;
}

constexpr char outbox_columns[] =
    "id, dedupe_key, release_id, channel_id, method, body, state, attempts, not_before, "
    "created_at, ts, error, kind";
constexpr auto due_outbox_sql = sql_join("SELECT ",
                                         outbox_columns,
                                         " FROM outbox WHERE state IN ('pending', 'sending') AND "
                                         "not_before <= :now ORDER BY id LIMIT :limit");
constexpr auto outbox_for_release_sql =
    sql_join("SELECT ", outbox_columns, " FROM outbox WHERE release_id = :release ORDER BY id");
constexpr auto channel_heads_sql =
    sql_join("SELECT ",
             outbox_columns,
             " FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox WHERE state IN "
             "('pending', 'sending') GROUP BY channel_id) ORDER BY id");
constexpr auto rows_sending_sql =
    sql_join("SELECT ", outbox_columns, " FROM outbox WHERE state = 'sending' ORDER BY id");

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
    return r;
}

}  // namespace

store::store(const std::string& path, std::chrono::milliseconds recheck_reads)
    : db_(open_database(path)), recheck_reads_(recheck_reads) {}

store::~store() = default;

void store::leave_checkpoints() {
    db_->exec("PRAGMA wal_autocheckpoint = 0");
}

void store::close() noexcept {
    if (!db_) {
        return;
    }
    // Prepared statements keep the connection open (SQLite refuses to close it under them).
    statements_.clear();
    releases_.clear();
    staged_.clear();
    try {
        db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception&) {
        // Busy, or a transaction left open: closing still keeps every commit (in the log).
    }
    db_.reset();
}

store::transaction::transaction(store& s) : store_(s) {
    try {
        auto begin = s.prepare("BEGIN IMMEDIATE");
        (*begin).exec();
    } catch (const SQLite::Exception& e) {
        if (e.getErrorCode() == SQLITE_BUSY) {
            throw busy_error();
        }
        throw;
    }
    open_ = true;
    s.in_transaction_ = true;
    s.changes_at_begin_ = sqlite3_total_changes64(s.db_->getHandle());
    s.timeline_rows_ = 0;
    // SQLite's pager counts every commit to the file, ours and other connections': if it
    // moved since our last commit, another program wrote (a C call, not a statement).
    if (auto now = s.pager_data_version(); now != s.pager_version_) {
        s.forget_remembered();
        s.pager_version_ = now;
    }
}

store::transaction::~transaction() {
    if (open_) {
        end(false);
    }
}

void store::transaction::commit() {
    try {
        auto commit = store_.prepare("COMMIT");
        (*commit).exec();
    } catch (const SQLite::Exception& e) {
        if (e.getErrorCode() == SQLITE_BUSY) {
            throw busy_error();
        }
        throw;
    }
    end(true);
}

void store::transaction::end(bool committed) {
    if (!committed) {
        // Nothing to report from a destructor: if the rollback fails, SQLite has already
        // rolled back (that is when ROLLBACK fails).
        auto rollback = store_.prepare("ROLLBACK");
        (*rollback).tryExecuteStep();
    } else {
        // Every row SQLite wrote counts; the timeline's and the redelivery record's are ours
        // to subtract, so a write path added later cannot forget to say it changed something.
        store_.last_commit_changed_state_ =
            sqlite3_total_changes64(store_.db_->getHandle()) - store_.changes_at_begin_ >
            store_.timeline_rows_;
        store_.pager_version_ = store_.pager_data_version();
        for (auto& [id, r] : store_.staged_) {
            store_.remember(std::move(r));
        }
        for (const auto& channel : store_.touched_channels_) {
            store_.active_ids_.erase(channel);
        }
    }
    store_.staged_.clear();
    store_.touched_channels_.clear();
    store_.in_transaction_ = false;
    open_ = false;
}

store::statement_lease::statement_lease(SQLite::Statement& q, bool& in_use)
    : q_(&q), in_use_(&in_use) {
    in_use = true;
}

store::statement_lease::statement_lease(std::unique_ptr<SQLite::Statement> own)
    : q_(own.get()), own_(std::move(own)) {}

store::statement_lease::~statement_lease() {
    if (in_use_) {
        q_->tryReset();
        *in_use_ = false;
    }
}

store::statement_lease store::prepare(sql_literal literal) {
    const char* sql = literal.text;
    auto& slot = statements_[sql];
    if (!slot.statement) {
        slot.statement = std::make_unique<SQLite::Statement>(*db_, sql);
    }
    if (slot.in_use) {
        // The same query is still being read further up the stack: use a fresh statement.
        return statement_lease(std::make_unique<SQLite::Statement>(*db_, sql));
    }
    return statement_lease(*slot.statement, slot.in_use);
}

std::optional<std::string> store::applied_reply(std::string_view key) {
    auto q_lease = prepare("SELECT reply FROM applied_envelopes WHERE key = :key");
    auto& q = *q_lease;
    q.bind(":key", std::string(key));
    if (q.executeStep()) {
        return q.getColumn(0).getString();
    }
    return std::nullopt;
}

bool store::record_applied(std::string_view key, std::string_view reply, epoch_seconds now) {
    auto q_lease = prepare(
        "INSERT INTO applied_envelopes (key, applied_at, reply) "
        "VALUES (:key, :at, :reply) ON CONFLICT (key) DO NOTHING");
    auto& q = *q_lease;
    q.bind(":key", std::string(key));
    q.bind(":at", now);
    q.bind(":reply", std::string(reply));
    if (q.exec() != 1) {
        return false;
    }
    ++timeline_rows_;
    return true;
}

std::optional<checklist::release> store::active_release(std::string_view channel) {
    auto r = active_release_view(channel);
    return r ? std::optional<checklist::release>(*r) : std::nullopt;
}

std::shared_ptr<const checklist::release> store::active_release_view(std::string_view channel) {
    std::string key(channel);
    if (!in_transaction_) {
        forget_if_changed_elsewhere();
    }
    // What this transaction changed in the channel is not in the cache (see end()).
    bool cacheable = !touched_channels_.contains(key);
    if (cacheable) {
        if (auto it = active_ids_.find(key); it != active_ids_.end()) {
            return remembered_or_read(it->second);
        }
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

long long store::count_outbox(outbox_state state) {
    // Pending and sending rows are in the outbox_unsent index, failed ones in outbox_failed:
    // neither count reads the delivered history.
    auto q_lease =
        state == outbox_state::failed
            ? prepare("SELECT COUNT(*) FROM outbox WHERE state = 'failed'")
            : prepare("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')");
    auto& q = *q_lease;
    q.executeStep();
    return q.getColumn(0).getInt64();
}

long long store::count_active_releases() {
    auto q_lease = prepare("SELECT COUNT(*) FROM releases WHERE status = 'active'");
    auto& q = *q_lease;
    q.executeStep();
    return q.getColumn(0).getInt64();
}

std::optional<checklist::release> store::load_release(std::int64_t id) {
    auto r = release_view(id);
    return r ? std::optional<checklist::release>(*r) : std::nullopt;
}

std::shared_ptr<const checklist::release> store::release_view(std::int64_t id) {
    if (!in_transaction_) {
        forget_if_changed_elsewhere();
    }
    return remembered_or_read(id);
}

std::shared_ptr<const checklist::release> store::remembered_or_read(std::int64_t id) {
    if (auto staged = staged_.find(id); staged != staged_.end()) {
        return staged->second;
    }
    if (auto cached = releases_.find(id); cached != releases_.end()) {
        return cached->second;
    }
    auto read = read_release(id);
    if (!read) {
        return nullptr;
    }
    auto r = std::make_shared<const checklist::release>(std::move(*read));
    if (in_transaction_) {
        // What this transaction sees is kept only if it commits.
        staged_.insert_or_assign(id, r);
    } else {
        remember(r);
    }
    return r;
}

std::uint32_t store::pager_data_version() {
    unsigned int version = 0;
    sqlite3_file_control(db_->getHandle(), "main", SQLITE_FCNTL_DATA_VERSION, &version);
    return version;
}

void store::forget_if_changed_elsewhere() {
    auto now = std::chrono::steady_clock::now();
    if (now - checked_at_ < recheck_reads_) {
        return;
    }
    checked_at_ = now;
    auto q_lease = prepare("PRAGMA data_version");
    auto& q = *q_lease;
    q.executeStep();
    auto version = q.getColumn(0).getInt64();
    if (version != data_version_) {
        forget_remembered();
        data_version_ = version;
    }
}

void store::forget_remembered() {
    releases_.clear();
    active_ids_.clear();
}

void store::stage(const checklist::release& r) {
    if (!in_transaction_) {
        // Written outside a transaction: already committed, and nothing to stage it for.
        releases_.erase(r.id);
        active_ids_.erase(r.channel);
        return;
    }
    staged_.insert_or_assign(r.id, std::make_shared<const checklist::release>(r));
    touched_channels_.insert(r.channel);
}

void store::remember(std::shared_ptr<const checklist::release> r) {
    if (releases_.size() >= max_cached_releases) {
        releases_.clear();
    }
    auto id = r->id;
    releases_.insert_or_assign(id, std::move(r));
}

std::optional<checklist::release> store::read_release(std::int64_t id) {
    auto q_lease = prepare(
        "SELECT id, channel_id, version, template_name, manager_id, status, "
        "current_phase, started_at, ended_at, oncall_id, pm_id, handoff_at, "
        "handoff_accepted_at FROM releases WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":id", id);
    if (!q.executeStep()) {
        return std::nullopt;
    }
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

    auto ph_lease = prepare(
        "SELECT position, title, window_min_s, window_max_s, entered_at, left_by_force "
        "FROM phases WHERE release_id = :id ORDER BY position");
    auto& ph = *ph_lease;
    ph.bind(":id", r.id);
    while (ph.executeStep()) {
        checklist::phase p;
        p.position = ph.getColumn(0).getInt();
        p.title = ph.getColumn(1).getString();
        if (!ph.getColumn(2).isNull() && !ph.getColumn(3).isNull()) {
            p.window = checklist::phase_window{std::chrono::seconds(ph.getColumn(2).getInt64()),
                                               std::chrono::seconds(ph.getColumn(3).getInt64())};
        }
        p.entered_at = optional_int(ph.getColumn(4));
        p.left_by_force = ph.getColumn(5).getInt() != 0;
        r.phases.push_back(std::move(p));
    }

    auto it_lease = prepare(
        "SELECT id, phase, position, slug, title, description, state, "
        "state_note, owner_id, due_at FROM items WHERE release_id = :id "
        "ORDER BY phase, position");
    auto& it = *it_lease;
    it.bind(":id", r.id);
    while (it.executeStep()) {
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
        auto index = static_cast<std::size_t>(i.phase - 1);
        if (index < r.phases.size()) {
            r.phases[index].items.push_back(std::move(i));
        }
    }
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
    if (log.release) {
        auto q_lease = prepare(
            "UPDATE releases SET manager_id = :manager, status = :status, "
            "current_phase = :phase, ended_at = :ended, oncall_id = :oncall, "
            "pm_id = :pm, handoff_at = :handoff, handoff_accepted_at = :accepted WHERE id = :id");
        auto& q = *q_lease;
        q.bind(":manager", r.manager);
        q.bind(":status", std::string(checklist::to_string(r.status)));
        q.bind(":phase", r.current_phase);
        bind_optional(q, ":ended", r.ended_at);
        q.bind(":oncall", r.oncall);
        q.bind(":pm", r.pm);
        bind_optional(q, ":handoff", r.handoff_at);
        bind_optional(q, ":accepted", r.handoff_accepted_at);
        q.bind(":id", r.id);
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
            "due_at = :due, updated_at = :now WHERE id = :id");
        auto& q = *q_lease;
        q.bind(":state", std::string(checklist::to_string(i.state)));
        q.bind(":note", i.state_note);
        q.bind(":owner", i.owner);
        bind_optional(q, ":due", i.due_at);
        q.bind(":now", now);
        q.bind(":id", i.id);
        q.exec();
    }
    if (log.release || !log.phases.empty() || !log.items.empty()) {
        // The living status message (which shows the release, its phases and its items, not
        // the timeline) is now behind; the notifier catches it up.
        auto v_lease =
            prepare("UPDATE releases SET status_version = status_version + 1 WHERE id = :id");
        auto& v = *v_lease;
        v.bind(":id", r.id);
        v.exec();
        stage(r);
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
        "status, current_phase, started_at, ended_at, status_version, status_sent_version) "
        "VALUES (:channel, :version, :template, :manager, :status, :phase, :started, :ended, 1, "
        "1)");
    auto& q = *q_lease;
    q.bind(":channel", r.channel);
    q.bind(":version", r.version);
    q.bind(":template", r.template_name);
    q.bind(":manager", r.manager);
    q.bind(":status", std::string(checklist::to_string(r.status)));
    q.bind(":phase", r.current_phase);
    q.bind(":started", r.started_at);
    bind_optional(q, ":ended", r.ended_at);
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
        "description, state, state_note, owner_id, due_at, updated_at) VALUES "
        "(:release, :phase, :position, :slug, :title, :description, :state, "
        ":note, :owner, :due, :updated)");
    auto& it = *it_lease;
    for (auto& p : r.phases) {
        ph.reset();
        ph.clearBindings();
        ph.bind(":release", r.id);
        ph.bind(":position", p.position);
        ph.bind(":title", p.title);
        bind_optional(ph, ":min",
                      p.window ? std::optional<std::int64_t>(p.window->min.count()) : std::nullopt);
        bind_optional(ph, ":max",
                      p.window ? std::optional<std::int64_t>(p.window->max.count()) : std::nullopt);
        bind_optional(ph, ":entered", p.entered_at);
        ph.exec();
        for (auto& i : p.items) {
            it.reset();
            it.clearBindings();
            it.bind(":release", r.id);
            it.bind(":phase", i.phase);
            it.bind(":position", i.position);
            it.bind(":slug", i.slug);
            it.bind(":title", i.title);
            it.bind(":description", i.description);
            it.bind(":state", std::string(checklist::to_string(i.state)));
            it.bind(":note", i.state_note);
            it.bind(":owner", i.owner);
            bind_optional(it, ":due", i.due_at);
            it.bind(":updated", r.started_at);
            it.exec();
            i.id = db_->getLastInsertRowid();
        }
    }
    if (in_transaction_) {
        touched_channels_.insert(r.channel);
    } else {
        active_ids_.erase(r.channel);
    }
}

std::int64_t store::append_audit(const audit_entry& e) {
    // The timeline is kept in release order (release_id, id); an id is unique across releases
    // because a release numbers its rows from release_id × 2^32 (rows written before that
    // scheme keep their smaller ids; migration 9). The last id is one step down the key.
    std::int64_t id = e.release_id << 32;
    {
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

std::vector<outbox_row> store::due_outbox(epoch_seconds now, int limit) {
    auto q_lease = prepare(due_outbox_sql.data());
    auto& q = *q_lease;
    q.bind(":now", now);
    q.bind(":limit", limit);
    std::vector<outbox_row> out;
    while (q.executeStep()) {
        out.push_back(read_outbox_row(q));
    }
    return out;
}

std::optional<epoch_seconds> store::next_outbox_due() {
    auto q_lease =
        prepare("SELECT MIN(not_before) FROM outbox WHERE state IN ('pending', 'sending')");
    auto& q = *q_lease;
    if (q.executeStep()) {
        return optional_int(q.getColumn(0));
    }
    return std::nullopt;
}

void store::mark_sending(std::int64_t id) {
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1 "
        "WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":id", id);
    q.exec();
}

void store::mark_sent(std::int64_t id, std::string_view ts, epoch_seconds now) {
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'sent', ts = :ts, sent_at = :now, error = '' "
        "WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":id", id);
    q.bind(":ts", std::string(ts));
    q.bind(":now", now);
    q.exec();
}

void store::mark_failed(std::int64_t id, std::string_view error) {
    auto q_lease = prepare("UPDATE outbox SET state = 'failed', error = :error WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":id", id);
    q.bind(":error", std::string(error));
    q.exec();
}

void store::defer(std::int64_t id, epoch_seconds not_before, std::string_view error) {
    auto q_lease = prepare(
        "UPDATE outbox SET state = 'pending', not_before = :nb, error = :error "
        "WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":id", id);
    q.bind(":nb", not_before);
    q.bind(":error", std::string(error));
    q.exec();
}

std::vector<outbox_row> store::outbox_for_release(std::int64_t release_id) {
    auto q_lease = prepare(outbox_for_release_sql.data());
    auto& q = *q_lease;
    q.bind(":release", release_id);
    std::vector<outbox_row> out;
    while (q.executeStep()) {
        out.push_back(read_outbox_row(q));
    }
    return out;
}

}  // namespace relbot::storage

namespace relbot::storage {

std::vector<outbox_row> store::channel_heads() {
    auto q_lease = prepare(channel_heads_sql.data());
    auto& q = *q_lease;
    std::vector<outbox_row> out;
    while (q.executeStep()) {
        out.push_back(read_outbox_row(q));
    }
    return out;
}

std::vector<outbox_row> store::rows_sending() {
    auto q_lease = prepare(rows_sending_sql.data());
    auto& q = *q_lease;
    std::vector<outbox_row> out;
    while (q.executeStep()) {
        out.push_back(read_outbox_row(q));
    }
    return out;
}

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

}  // namespace relbot::storage

namespace relbot::storage {

std::vector<reminder_candidate> store::reminder_candidates() {
    auto q_lease = prepare(
        "SELECT r.id, i.id, r.channel_id, r.version, r.manager_id, i.owner_id, i.phase, "
        "i.position, "
        "i.title, (SELECT title FROM phases p WHERE p.release_id = r.id AND p.position = "
        "r.current_phase), i.due_at, "
        "(SELECT MAX(slot) FROM reminders m WHERE m.item_id = i.id AND m.due_at = i.due_at), "
        "(SELECT MAX(sent_at) FROM reminders m WHERE m.item_id = i.id AND m.due_at = i.due_at), "
        "(SELECT COUNT(*) FROM reminders m WHERE m.item_id = i.id AND m.sent_at >= i.updated_at), "
        "COALESCE(i.escalated_at >= i.updated_at, 0) "
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

void store::mark_escalated(std::int64_t item_id, epoch_seconds now) {
    auto q_lease = prepare("UPDATE items SET escalated_at = :now WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":now", now);
    q.bind(":id", item_id);
    q.exec();
}

}  // namespace relbot::storage

namespace relbot::storage {

std::vector<std::int64_t> store::timed_releases() {
    auto q_lease = prepare(
        "SELECT r.id FROM releases r JOIN phases p ON p.release_id = r.id AND p.position = "
        "r.current_phase WHERE r.status = 'active' AND ((p.window_min_s IS NOT NULL AND "
        "p.entered_at IS NOT NULL) OR (r.handoff_at IS NOT NULL AND r.handoff_accepted_at IS "
        "NULL))");
    auto& q = *q_lease;
    std::vector<std::int64_t> out;
    while (q.executeStep()) {
        out.push_back(q.getColumn(0).getInt64());
    }
    return out;
}

}  // namespace relbot::storage

namespace relbot::storage {

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

void store::remember_time_zone(std::string_view user, int offset_s, epoch_seconds now) {
    auto q_lease = prepare(
        "INSERT INTO users (user_id, tz_offset, fetched_at) VALUES (:user, :tz, :now) "
        "ON CONFLICT (user_id) DO UPDATE SET tz_offset = excluded.tz_offset, "
        "fetched_at = excluded.fetched_at");
    auto& q = *q_lease;
    q.bind(":user", std::string(user));
    q.bind(":tz", offset_s);
    q.bind(":now", now);
    q.exec();
}

std::vector<std::string> store::people_needing_name(epoch_seconds now, epoch_seconds max_age) {
    auto q_lease = prepare(
        "SELECT p.user_id FROM (SELECT manager_id AS user_id FROM releases WHERE status = "
        "'active' UNION SELECT oncall_id FROM releases WHERE status = 'active' UNION SELECT "
        "pm_id FROM releases WHERE status = 'active' UNION SELECT i.owner_id FROM releases r "
        "CROSS JOIN items i ON i.release_id = r.id WHERE r.status = 'active' AND "
        "i.owner_id <> '') p LEFT JOIN users u ON u.user_id = p.user_id WHERE p.user_id <> '' "
        "AND (u.user_id IS NULL OR u.name IS NULL OR u.fetched_at < :stale)");
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
    auto q_lease = prepare(
        "INSERT INTO channels (channel_id, name) VALUES (:channel, :name) ON CONFLICT "
        "(channel_id) DO UPDATE SET name = excluded.name WHERE name <> excluded.name");
    auto& q = *q_lease;
    q.bind(":channel", std::string(channel));
    q.bind(":name", std::string(name));
    q.exec();
}

std::string store::channel_name(std::string_view channel) {
    auto q_lease = prepare("SELECT name FROM channels WHERE channel_id = :channel");
    auto& q = *q_lease;
    q.bind(":channel", std::string(channel));
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

}  // namespace relbot::storage

namespace relbot::storage {

std::string store::status_ts(std::int64_t release_id) {
    auto q_lease = prepare("SELECT status_ts FROM releases WHERE id = :id");
    auto& q = *q_lease;
    q.bind(":id", release_id);
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

}  // namespace relbot::storage

namespace relbot::storage {

int store::forget_applied_before(epoch_seconds before) {
    auto q_lease = prepare("DELETE FROM applied_envelopes WHERE applied_at < :before");
    auto& q = *q_lease;
    q.bind(":before", before);
    return q.exec();
}

}  // namespace relbot::storage
