// The SQLite store's machinery: opening and closing, the statement cache, transactions and what a
// commit changed, the cache of releases, and the record of applied envelopes (redelivery).
// The queries live by concern in store_releases.cpp, store_outbox.cpp and store_directory.cpp.
// Every statement binds by name; no SQL is built from values.
#include "storage/sqlite/store.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "storage/sqlite/database.hpp"

namespace relbot::storage::sqlite {

store::store(const std::string& path, std::chrono::milliseconds recheck_reads, bool migrate)
    : path_(path),
      db_(open_database(path, -1, migrate ? older_schema::migrate : older_schema::refuse)),
      recheck_reads_(recheck_reads) {
    // Replaces the busy timeout open_database set: the same wait, but a transaction may
    // bring its end forward.
    sqlite3_busy_handler(db_->getHandle(), &store::on_busy, this);
}

store::~store() = default;

int store::on_busy(void* self, int count) {
    auto& s = *static_cast<store*>(self);
    auto now = std::chrono::steady_clock::now();
    if (count == 0) {
        s.busy_since_ = now;
    }
    auto deadline =
        s.lock_deadline_ != lock_deadline{} ? s.lock_deadline_ : s.busy_since_ + default_lock_wait;
    if (now >= deadline) {
        return 0;  // SQLITE_BUSY: the caller says "try again"
    }
    if (s.lock_wait_) {
        s.lock_wait_();
    }
    // Short sleeps first (a commit of another connection takes well under a millisecond),
    // then a few milliseconds at a time.
    std::chrono::microseconds step(count < 4 ? 250 : count < 20 ? 1000 : 5000);
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(step, deadline - now));
    return 1;
}

std::unique_ptr<write_transaction> store::begin() {
    return std::make_unique<transaction>(*this);
}

std::unique_ptr<write_transaction> store::begin_until(lock_deadline give_up_at) {
    return std::make_unique<transaction>(*this, give_up_at);
}

bool store::spoiled() const {
    return spoiled_ || (in_transaction_ && sqlite3_get_autocommit(db_->getHandle()) != 0);
}

std::unique_ptr<write_transaction> store::begin_without_savepoints(lock_deadline give_up_at) {
    if (in_transaction_) {
        return begin_until(give_up_at);  // an input of the open unit: as that unit does
    }
    auto tx = std::make_unique<transaction>(*this, give_up_at);
    without_savepoints_ = true;
    return tx;
}

int store::backup(const std::string& destination) {
    return backup_database(path_, destination);
}

void store::start_housekeeping(std::chrono::milliseconds every) {
    if (checkpointer_) {
        return;
    }
    db_->exec("PRAGMA wal_autocheckpoint = 0");
    // Counts the commits that write to the log, for the checkpointer (log_restart); the hook
    // that automatic checkpoints used, now free.
    sqlite3_wal_hook(db_->getHandle(), &store::on_wal_commit, this);
    checkpointer_ = std::make_unique<checkpointer>(path_, every, &restart_);
}

engine::housekeeping_state store::housekeeping() const {
    if (!checkpointer_) {
        return {};
    }
    auto p = checkpointer_->state();
    return {p.rounds, p.failures, p.log_frames};
}

bool store::quiet_moment_wanted() const {
    auto due = restart_.due_at.load();
    return checkpointer_ && due >= 0 && static_cast<std::uint64_t>(due) == restart_.commits.load();
}

void store::use_quiet_moment() {
    auto due = restart_.due_at.load();
    if (!checkpointer_ || !db_ || due < 0 || in_transaction_) {
        return;  // nothing due, closed, or not a quiet moment after all (asked again later)
    }
    // Asked once: if this one cannot, the next checkpoint that finds the whole log moved asks
    // again. If the store committed since that checkpoint, its commit started the log (or
    // wrote frames not moved yet): nothing to do.
    restart_.due_at.compare_exchange_strong(due, -1);
    if (static_cast<std::uint64_t>(due) != restart_.commits.load()) {
        return;
    }
    // The first write after a checkpoint that moved the whole log starts the log again (new
    // salts, the header synced). This one changes nothing: the file's application_id written
    // back as it is, one page in the log, in a unit of work of the store's own (which notices
    // another program's commit as any does). If the lock is held, it gives up at once: the
    // other process's commit starts the log instead.
    try {
        transaction tx(*this, std::chrono::steady_clock::now());
        auto id = db_->execAndGet("PRAGMA application_id").getInt();
        db_->exec("PRAGMA application_id = " + std::to_string(id));
        tx.commit();
    } catch (const std::exception&) {
        return;  // busy, or it failed and was rolled back: nothing written
    }
    restart_.started_at = restart_.commits.load();  // the WAL hook counted this commit
    ++log_restarts_;
}

int store::on_wal_commit(void* self, ::sqlite3* /*db*/, const char* /*schema*/, int /*frames*/) {
    static_cast<store*>(self)->restart_.commits.fetch_add(1);
    return SQLITE_OK;
}

void store::close() noexcept {
    if (checkpointer_) {
        try {
            checkpointer_->stop();  // its last checkpoint, then its connection closes
        } catch (const std::exception&) {
            // Joining its thread failed: the checkpoint below still keeps every commit.
        }
    }
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

store::transaction::transaction(store& s, lock_deadline give_up_at) : store_(s) {
    if (s.in_transaction_) {
        // Group commit: one input of several in the open transaction.
        if (!s.without_savepoints_) {
            auto savepoint = s.prepare("SAVEPOINT input");
            (*savepoint).exec();
        }
        s.savepoints_.push_back({sqlite3_total_changes64(s.db_->getHandle()), s.timeline_rows_,
                                 s.staged_undo_.size(), s.touched_undo_.size(),
                                 s.status_bumped_.size()});
        open_ = true;
        savepoint_ = true;
        return;
    }
    s.lock_deadline_ = give_up_at != lock_deadline{}
                           ? give_up_at
                           : std::chrono::steady_clock::now() + default_lock_wait;
    try {
        auto begin = s.prepare("BEGIN IMMEDIATE");
        (*begin).exec();
    } catch (const SQLite::Exception& e) {
        s.lock_deadline_ = {};
        if (e.getErrorCode() == SQLITE_BUSY) {
            throw busy_error();
        }
        throw;
    }
    s.lock_deadline_ = {};
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
        if (savepoint_) {
            end_savepoint(false);
        } else {
            end(false);
        }
    }
}

void store::transaction::commit() {
    if (savepoint_) {
        end_savepoint(true);
        return;
    }
    if (store_.spoiled_) {
        // The writes of an input that was undone are still in it: roll back (the destructor)
        // and apply the inputs again.
        throw std::logic_error("a unit of work spoiled by an undone input cannot be committed");
    }
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

void store::transaction::end_savepoint(bool committed) {
    auto& s = store_;
    auto mark = std::move(s.savepoints_.back());
    s.savepoints_.pop_back();
    open_ = false;
    auto changes = sqlite3_total_changes64(s.db_->getHandle()) - mark.changes_at;
    if (committed) {
        if (!s.without_savepoints_) {
            auto release = s.prepare("RELEASE input");
            (*release).exec();
        }
        s.last_commit_changed_state_ = changes > s.timeline_rows_ - mark.timeline_rows_at;
        if (s.savepoints_.empty()) {
            // Kept: only the whole transaction can still be rolled back, which forgets
            // everything staged anyway (and the journal would keep every version alive).
            s.staged_undo_.clear();
            s.touched_undo_.clear();
        }
        return;
    }
    // Undone: its rows are not the transaction's (they would count as changes at commit),
    // and what it staged is forgotten.
    if (!s.without_savepoints_) {
        auto rollback = s.prepare("ROLLBACK TO input");
        (*rollback).tryExecuteStep();
        auto release = s.prepare("RELEASE input");
        (*release).tryExecuteStep();
    } else if (changes != 0) {
        // Its rows stay in the transaction, which must not be committed now. (What it only
        // remembered, below, is undone as ever.)
        s.spoiled_ = true;
    }
    s.changes_at_begin_ += changes;
    for (auto& enclosing : s.savepoints_) {
        enclosing.changes_at += changes;  // not theirs either (counted once, not again)
    }
    s.timeline_rows_ = mark.timeline_rows_at;
    s.forget_written();
    while (s.staged_undo_.size() > mark.staged_undo_at) {
        auto& undo = s.staged_undo_.back();
        if (undo.before) {
            s.staged_.insert_or_assign(undo.id, std::move(undo.before));
        } else {
            s.staged_.erase(undo.id);
        }
        s.staged_undo_.pop_back();
    }
    while (s.touched_undo_.size() > mark.touched_undo_at) {
        s.touched_channels_.erase(s.touched_undo_.back());
        s.touched_undo_.pop_back();
    }
    s.status_bumped_.resize(mark.status_bumped_at);
}

void store::transaction::end(bool committed) {
    if (!committed) {
        // Nothing to report from a destructor: if the rollback fails, SQLite has already
        // rolled back (that is when ROLLBACK fails).
        // (A spoiled one wrote rows its undone input no longer counts.)
        bool wrote = sqlite3_total_changes64(store_.db_->getHandle()) != store_.changes_at_begin_ ||
                     store_.spoiled();
        auto rollback = store_.prepare("ROLLBACK");
        (*rollback).tryExecuteStep();
        // What the caches learnt from writes is undone with them; a transaction that wrote
        // nothing (the health endpoint's lock probe, a read) leaves them true.
        if (wrote) {
            store_.forget_written();
        }
    } else {
        // Every row SQLite wrote counts; the timeline's and the redelivery record's are ours
        // to subtract, so a write path added later cannot forget to say it changed something.
        store_.last_commit_changed_state_ =
            sqlite3_total_changes64(store_.db_->getHandle()) - store_.changes_at_begin_ >
            store_.timeline_rows_;
        store_.pager_version_ = store_.pager_data_version();
        for (const auto& channel : store_.touched_channels_) {
            if (auto active = store_.staged_active(channel);
                active && store_.active_ids_.size() < max_cached_releases) {
                store_.active_ids_.insert_or_assign(channel, active->id);
            } else {
                store_.active_ids_.erase(channel);
            }
        }
        for (auto& [id, r] : store_.staged_) {
            store_.remember(std::move(r));
        }
    }
    store_.staged_.clear();
    store_.staged_ids_by_channel_.clear();
    store_.touched_channels_.clear();
    store_.savepoints_.clear();
    store_.staged_undo_.clear();
    store_.touched_undo_.clear();
    store_.status_bumped_.clear();
    store_.without_savepoints_ = false;
    store_.spoiled_ = false;
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
        stage_entry(id, r);
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

void store::forget_written() {
    last_audit_ids_.clear();
    channel_names_.clear();
}

void store::forget_remembered() {
    releases_.clear();
    active_ids_.clear();
    forget_written();
}

void store::stage(const checklist::release& r, std::shared_ptr<const checklist::release> shared) {
    if (!in_transaction_) {
        // Written outside a transaction: already committed, and nothing to stage it for.
        releases_.erase(r.id);
        active_ids_.erase(r.channel);
        return;
    }
    stage_entry(r.id, shared ? std::move(shared) : std::make_shared<const checklist::release>(r));
    touch_channel(r.channel);
}

void store::stage_entry(std::int64_t id, std::shared_ptr<const checklist::release> r) {
    if (!savepoints_.empty()) {
        auto was = staged_.find(id);
        staged_undo_.push_back({id, was != staged_.end() ? was->second : nullptr});
    }
    auto& ids = staged_ids_by_channel_[r->channel];
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) {
        ids.push_back(id);
    }
    staged_.insert_or_assign(id, std::move(r));
}

std::shared_ptr<const checklist::release> store::staged_active(const std::string& channel) const {
    auto ids = staged_ids_by_channel_.find(channel);
    if (ids == staged_ids_by_channel_.end()) {
        return nullptr;
    }
    for (auto id : ids->second) {
        auto r = staged_.find(id);
        if (r != staged_.end() && r->second->status == checklist::release_status::active) {
            return r->second;
        }
    }
    return nullptr;
}

void store::touch_channel(const std::string& channel) {
    if (touched_channels_.insert(channel).second && !savepoints_.empty()) {
        touched_undo_.push_back(channel);
    }
}

void store::remember(std::shared_ptr<const checklist::release> r) {
    if (r->status != checklist::release_status::active) {
        // An ended release is rarely read again (a report, an export, `owners-from`): read
        // from the file then, rather than held for the life of the process.
        releases_.erase(r->id);
        return;
    }
    if (releases_.size() >= max_cached_releases) {
        releases_.clear();
    }
    auto id = r->id;
    releases_.insert_or_assign(id, std::move(r));
}

int store::forget_applied_before(epoch_seconds before) {
    auto q_lease = prepare("DELETE FROM applied_envelopes WHERE applied_at < :before");
    auto& q = *q_lease;
    q.bind(":before", before);
    return q.exec();
}

}  // namespace relbot::storage::sqlite
