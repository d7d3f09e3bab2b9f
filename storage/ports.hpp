// The storage contract: narrow interfaces over what relbot keeps, in domain types, that any
// engine (SQLite today, PostgreSQL for several instances later) implements. No engine's
// headers here. Each method says what an engine MUST promise; "the unit of work" is the
// write transaction begun with unit_of_work::begin() and still open on this connection.
//
// Common promises, for every port:
// - Reads inside an open unit of work see its own writes; writes become visible to other
//   connections (and other processes) all at once when it commits, and never if it does not.
// - A write made outside a unit of work is committed by itself, at once.
// - Every method may throw: busy_error when the store is locked by another writer past a
//   short timeout (nothing was changed), anything else for a broken store.
// - One port object is used from one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "checklist/outbound.hpp"
#include "checklist/records.hpp"
#include "checklist/release.hpp"
#include "checklist/rules.hpp"

namespace relbot::storage {

using checklist::epoch_seconds;

// The records read for rendering live in checklist/records.hpp (they are the domain's, not
// the database's); these names keep storage's callers as they were.
using checklist::audit_entry;
using checklist::outbound_message;
using checklist::release_summary;
using checklist::reminder_candidate;

enum class outbox_state { pending, sending, sent, failed };

struct outbox_row {
    std::int64_t id = 0;
    std::string dedupe_key;
    std::optional<std::int64_t> release_id;
    checklist::destination to;
    std::string method;
    std::string body;
    outbox_state state = outbox_state::pending;
    int attempts = 0;
    epoch_seconds not_before = 0;
    epoch_seconds created_at = 0;
    std::string ts;  // Slack's message ts once sent
    std::string error;
    checklist::message_kind kind = checklist::message_kind::announcement;
    std::optional<epoch_seconds> lease_until;  // while claimed
    std::string claimed_by;                    // the claimer, while claimed
    // Set by claim() only: the row was being sent by a claimer whose lease ran out (or by a
    // process that stopped), so whether Slack got it is unknown. Check before sending again.
    bool unfinished = false;
};

// A release whose living status message is behind its state.
struct status_job {
    std::int64_t release_id = 0;
    std::string channel;
    std::string ts;  // empty: not posted (yet, or again)
    std::int64_t version = 0;
    // When it was last posted or updated; while an update is in hand (claim_status), when
    // that claim runs out.
    std::int64_t updated_ms = 0;
};

// Thrown when the store stays locked by another writer past the busy timeout; nothing was
// changed and the caller may try again.
class busy_error : public std::exception {
public:
    busy_error() = default;
    // Why, when it is not another writer's lock (a database server that stopped answering).
    explicit busy_error(std::string why) : why_(std::move(why)) {}
    const char* what() const noexcept override {
        return why_.empty() ? "the database is locked by another process" : why_.c_str();
    }

private:
    std::string why_;
};

// Thrown by commit() when the database stopped answering after it was asked to commit: the
// unit may or may not have been kept, and nobody can tell before the database answers again
// (a redelivered envelope is then answered from what was kept).
class outcome_unknown : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// How a unit of work that threw ended, for what the people whose changes were in it are told:
// the database was busy (nothing was kept: try again), it broke (nothing was kept), or it
// stopped answering while asked to commit (outcome_unknown: nobody can tell yet).
enum class failure { busy, broken, unknown };

inline failure failure_of(const std::exception& e) {
    if (dynamic_cast<const busy_error*>(&e) != nullptr) {
        return failure::busy;
    }
    return dynamic_cast<const outcome_unknown*>(&e) != nullptr ? failure::unknown : failure::broken;
}

// Thrown by insert_release when the channel already has an active release.
class duplicate_release : public std::exception {
public:
    const char* what() const noexcept override {
        return "the channel already has an active release";
    }
};

// An open write transaction. Destroying it without commit() rolls back everything written
// through any port of the same engine since it began.
class write_transaction {
public:
    virtual ~write_transaction() = default;
    // Makes everything written since begin() durable and visible, atomically. Throws
    // busy_error if the commit cannot get the store (then nothing was written), and
    // outcome_unknown if a database server stopped answering once asked to commit.
    virtual void commit() = 0;
};

// When a unit of work gives up waiting for the write lock (steady clock).
using lock_deadline = std::chrono::steady_clock::time_point;

class unit_of_work {
public:
    // How long begin() waits for the write lock when no deadline is given: under Slack's
    // 3-second ack deadline.
    static constexpr std::chrono::milliseconds default_lock_wait{2000};

    virtual ~unit_of_work() = default;
    // Begins a write transaction and takes the write lock AT ONCE (so a busy store is found,
    // as busy_error, before anything is done), waiting for it at most default_lock_wait.
    // MUST: all writes of every port until commit() are one atomic unit (all or nothing,
    // across crashes); while it is open no other writer changes what it read (serialisable).
    //
    // Inside an open unit, begin() opens a savepoint instead (group commit: one unit holds
    // several inputs, each in its own savepoint). MUST: its commit() keeps its writes in the
    // enclosing unit (durable only when that commits); destroying it without commit() undoes
    // its writes only, and everything the engine remembered of them, leaving the enclosing
    // unit as it was before the savepoint began. Never busy (the lock is already held).
    virtual std::unique_ptr<write_transaction> begin() = 0;
    // The same, giving up on the write lock at `give_up_at` (busy_error) instead of after
    // default_lock_wait: a batch of commands waits no longer than its oldest command may.
    virtual std::unique_ptr<write_transaction> begin_until(lock_deadline give_up_at) = 0;
    // begin_until, with the savepoints of the inputs inside it left out where the engine can
    // (on SQLite each costs about an eighth of a command's work). An input undone inside it
    // after it wrote something (it failed, or was a redelivery) cannot then be undone alone:
    // it spoils the unit (spoiled() is true until the unit ends), and the caller rolls the unit
    // back and applies its inputs again in one begun with begin_until. An engine MAY keep the
    // savepoints (then nothing is ever spoiled).
    virtual std::unique_ptr<write_transaction> begin_without_savepoints(lock_deadline give_up_at) {
        return begin_until(give_up_at);
    }
    // Whether the open unit, begun by begin_without_savepoints, holds writes of an input that
    // was undone: committing it would keep them.
    virtual bool spoiled() const { return false; }
    // Whether the last committed unit (or savepoint) wrote anything besides timeline rows and
    // redelivery records (a message queued, a release or item changed, a status message
    // behind): only such a commit can give the notifier or the scheduler something to do. MAY
    // say true when unsure; MUST NOT say false after such a write.
    virtual bool last_commit_changed_state() const = 0;
};

class release_repository {
public:
    virtual ~release_repository() = default;
    // The channel's active release (status active) with all phases and items. MUST: at most
    // one active release per channel, ever (insert_release enforces it).
    virtual std::optional<checklist::release> active_release(std::string_view channel) = 0;
    // The same, shared and read-only: no copy. MUST: the object is never changed afterwards
    // (a later save gives a new object), so a reader may keep it and compare pointers.
    virtual std::shared_ptr<const checklist::release> active_release_view(
        std::string_view channel) = 0;
    // The channel's most recent release (by start time, active or ended), if any.
    virtual std::optional<checklist::release> latest_release(std::string_view channel) = 0;
    // The channel's most recent release of `version`, if any.
    virtual std::optional<checklist::release> release_by_version(std::string_view channel,
                                                                 std::string_view version) = 0;
    virtual std::optional<checklist::release> load_release(std::int64_t id) = 0;
    // The channel's releases, newest first, at most `limit`.
    virtual std::vector<release_summary> list_releases(std::string_view channel, int limit) = 0;
    // Every release of `version` in any channel, newest first: (channel, release id).
    virtual std::vector<std::pair<std::string, std::int64_t>> releases_by_version(
        std::string_view version) = 0;
    virtual long long count_active_releases() = 0;
    // An active release of another channel than `channel` that is in its deployment phase (the
    // first phase whose title holds "deploy"), as (version, channel); nullopt if none. MUST:
    // two units asking this at once are serialized until the first ends (one deployment at a
    // time across channels, even with several instances).
    virtual std::optional<std::pair<std::string, std::string>> deploying_elsewhere(
        std::string_view channel) = 0;
    // The ids of every active release, in any channel, oldest first (App Home lists them).
    virtual std::vector<std::int64_t> active_release_ids() = 0;
    // Stores a new release with its phases and items and fills in every id. MUST: ids are
    // unique, and a committed id is never given again; throws duplicate_release (writing nothing)
    // if the channel already has an active release, also when another instance inserted it
    // concurrently.
    virtual void insert_release(checklist::release& r) = 0;
    // Saves what a transition changed (the release row, the phases, items and checkpoints the
    // log names; a checkpoint not stored yet is added)
    // and appends one timeline row per event of the log (by `actor`, at `now`), in the log's
    // order. Called inside a unit of work. Returns the id of the last timeline row written
    // (0 if none). MUST: that id is unique across all releases, forever (it keys the
    // messages the change announces). Bumps the status version when anything the status
    // message shows changed (see status_board).
    virtual std::int64_t save(const checklist::release& r,
                              const checklist::change_log& log,
                              std::string_view actor,
                              epoch_seconds now) = 0;
    // The same for a release already shared read-only (a decision's new state): an engine
    // that keeps releases keeps this object rather than a copy of it.
    virtual std::int64_t save(std::shared_ptr<const checklist::release> r,
                              const checklist::change_log& log,
                              std::string_view actor,
                              epoch_seconds now) {
        return save(*r, log, actor, now);
    }
};

class timeline {
public:
    virtual ~timeline() = default;
    // Appends one row; returns its id. MUST: ids are unique across releases and increase
    // within a release in the order of appending (audit_for's order).
    virtual std::int64_t append_audit(const audit_entry& e) = 0;
    // The release's rows in the order they were appended.
    virtual std::vector<audit_entry> audit_for(std::int64_t release_id) = 0;
};

// Queued Web API calls. A channel here is a row's destination (a channel, a user's DM, a
// response_url): rows of one destination are delivered in the order they were queued.
class outbox_queue {
public:
    virtual ~outbox_queue() = default;
    // Queues a message. MUST: a dedupe key is accepted once, forever (also by concurrent
    // instances); a second enqueue of it writes nothing and returns false.
    virtual bool enqueue(const outbound_message& m, epoch_seconds now) = 0;
    // The same, inside a unit of work, for a caller that needs no answer: an engine may send
    // it with the unit's next statement instead of waiting for it now.
    virtual void enqueue_in_unit(const outbound_message& m, epoch_seconds now) { enqueue(m, now); }
    // In a transaction of its own (never inside a unit of work), takes for each destination
    // its OLDEST unsent row, if that row is due (not_before <= now) and no row of that
    // destination is claimed under a live lease (lease_until > now); marks each `sending`,
    // lease_until = now + lease, claimed_by = owner; returns at most `limit` of them, oldest
    // first. A row whose lease ran out while `sending` (or that was left `sending` without a
    // lease) is taken again and returned with unfinished = true, and so is a row last given
    // back with defer_unsure. MUST: atomic against every
    // other claimer, in this process or another: no row is held by two live leases, and a
    // destination never has two rows in flight, so its rows go out in order.
    virtual std::vector<outbox_row> claim(epoch_seconds now,
                                          epoch_seconds lease,
                                          std::string_view owner,
                                          int limit) = 0;
    // The ends of a delivery. Each acts only on a row that `owner` still holds (state sending,
    // claimed_by = owner), ends its lease and counts the attempt it ends; false, and nothing
    // written, when the lease was lost (ran out and another claimer took the row, or it was
    // abandoned): the claimer then logs it and leaves the row to whoever holds it now.
    // Sent, with Slack's ts. The next row of the destination becomes claimable.
    virtual bool mark_sent(std::int64_t id,
                           std::string_view owner,
                           std::string_view ts,
                           epoch_seconds now) = 0;
    // Refused for good. The next row of the destination becomes claimable.
    virtual bool mark_failed(std::int64_t id, std::string_view owner, std::string_view error) = 0;
    // Back to pending, not before `not_before`, with the error that caused the delay. The row
    // stays its destination's head, so nothing later of that destination goes before it.
    virtual bool defer(std::int64_t id,
                       std::string_view owner,
                       epoch_seconds not_before,
                       std::string_view error) = 0;
    // The same, after a delivery that failed once the request was sent (the answer was lost):
    // whether Slack has the message is unknown, so the next claim returns the row unfinished
    // and it is looked for before it is sent again.
    virtual bool defer_unsure(std::int64_t id,
                              std::string_view owner,
                              epoch_seconds not_before,
                              std::string_view error) = 0;
    // Gives a row `owner` holds back untried: pending, lease ended, attempts and not_before
    // unchanged (it was claimed but never sent, e.g. it waited on pacing). Not for a row
    // claimed unfinished before its history was checked: that would lose the flag. False,
    // and nothing written, if `owner` no longer holds it.
    virtual bool release(std::int64_t id, std::string_view owner) = 0;
    // Extends to `until` the leases of the rows of `ids` that `owner` still holds (sending,
    // claimed by it), in a transaction of its own; returns the ids it extended. A claimer whose
    // leases are short (several instances: a dead one's rows are taken over within seconds)
    // calls it for the rows it holds and is delivering. MUST: a row another claimer has taken
    // meanwhile is not touched (and not returned).
    virtual std::vector<std::int64_t> renew_claims(std::string_view owner,
                                                   const std::vector<std::int64_t>& ids,
                                                   epoch_seconds until) = 0;
    // Ends the leases of every row whose claimer's name starts with `owner_prefix` (non-empty:
    // the claims of earlier runs of this instance, which stopped without ending them): the
    // next claim() takes those rows at once, as unfinished. Returns how many. Call it at
    // start, before this run claims anything.
    virtual int abandon_claims(std::string_view owner_prefix) = 0;
    // The Slack ts of the message sent under `dedupe_key`; "" when it is not sent (yet).
    virtual std::string sent_ts(std::string_view dedupe_key) = 0;
    // The earliest moment after `now` at which claim() may take a row it would not take at
    // `now`: a destination's oldest unsent row becoming due (not_before), or a lease on one
    // running out. nullopt if there is none.
    virtual std::optional<epoch_seconds> next_due(epoch_seconds now) = 0;
    // Unsent rows (pending or sending) for outbox_state::pending; failed rows for ::failed.
    virtual long long count_outbox(outbox_state state) = 0;
    // The announcements waiting untried (pending, never attempted) in each channel that has
    // more than `over` of them, oldest first: what fold() may fold. Other kinds (the status
    // message, DMs, briefings, reply pages) are never folded.
    virtual std::vector<outbox_row> announcement_backlog(int over) = 0;
    // Folds rows of one channel into one message, in a transaction of its own: `into` (the
    // oldest of them) gets `body`, keeping its key and its place in the channel's order, and
    // each row of `folded` is marked sent without being posted (error "folded into <into>").
    // MUST: all or nothing; false, and nothing written, if any of them is no longer pending
    // and untried (another claimer took it meanwhile).
    virtual bool fold(std::int64_t into,
                      std::string_view body,
                      const std::vector<std::int64_t>& folded,
                      epoch_seconds now) = 0;
};

// What makes a redelivered envelope harmless.
class applied_envelopes {
public:
    virtual ~applied_envelopes() = default;
    // The reply given when the envelope with this key was first applied, if it was.
    virtual std::optional<std::string> applied_reply(std::string_view key) = 0;
    // Records that the envelope with this key was applied, with its reply. MUST: one record
    // per key (also across instances: the second of two concurrent units of work recording
    // the same key gets false or fails to commit); false, and nothing written, if recorded
    // before. Called in the unit of work that applied the envelope, so both commit together.
    virtual bool record_applied(std::string_view key,
                                std::string_view reply,
                                epoch_seconds now) = 0;
    // Forgets records older than `before`; returns how many.
    virtual int forget_applied_before(epoch_seconds before) = 0;
};

// What Slack told us about people and channels (a cache: losing it costs lookups only).
class directory {
public:
    virtual ~directory() = default;
    virtual std::optional<int> time_zone_offset(std::string_view user) = 0;
    // What users.info said of `user`: time zone and display name ("" if it gave none).
    virtual void remember_user(std::string_view user,
                               int offset_s,
                               std::string_view name,
                               epoch_seconds now) = 0;
    // Owners of open or blocked items with a due time in active releases whose time zone is
    // unknown or older than `max_age` seconds.
    virtual std::vector<std::string> owners_needing_time_zone(epoch_seconds now,
                                                              epoch_seconds max_age) = 0;
    // The people of active releases and of releases ended within `max_age` (managers, on-call
    // engineers, PMs, item owners: their reports and exports show names) whose name was never
    // looked up, or not within `max_age` seconds.
    virtual std::vector<std::string> people_needing_name(epoch_seconds now,
                                                         epoch_seconds max_age) = 0;
    // Whether `user`'s name was looked up within `max_age` seconds.
    virtual bool name_looked_up(std::string_view user,
                                epoch_seconds now,
                                epoch_seconds max_age) = 0;
    // Every known, non-empty display name by user ID.
    virtual std::unordered_map<std::string, std::string> user_names() = 0;
    // Remembers the channel's name. MUST write nothing when the name is unchanged (it is
    // called on every slash command).
    virtual void remember_channel_name(std::string_view channel, std::string_view name) = 0;
    // The channel's name without `#`, "" if unknown.
    virtual std::string channel_name(std::string_view channel) = 0;
    virtual std::optional<std::string> dm_channel(std::string_view user) = 0;
    virtual void remember_dm_channel(std::string_view user, std::string_view channel) = 0;
};

// The living status message of each release: a version bumped by every save that changes
// what it shows, and the version Slack shows.
class status_board {
public:
    virtual ~status_board() = default;
    // Releases whose status version is ahead of the version sent, by release id.
    virtual std::vector<status_job> status_jobs() = 0;
    // The ts of the release's status message ("" if not posted).
    virtual std::string status_ts(std::int64_t release_id) = 0;
    // The message is at `ts` and shows `version`. MUST: the sent version never goes back (a
    // late answer for an older version does not undo a newer one).
    virtual void status_sent(std::int64_t release_id,
                             std::string_view ts,
                             std::int64_t version,
                             std::int64_t now_ms) = 0;
    // Takes the release's next status update for this caller: MUST succeed for one caller
    // only (also across instances) when the job's `updated_ms` is still `seen` (what
    // status_jobs() said), setting it to `until_ms` so that nobody else takes the job before
    // then; status_sent ends the claim. False, and nothing written, if someone else took it.
    virtual bool claim_status(std::int64_t release_id,
                              std::int64_t seen,
                              std::int64_t until_ms) = 0;
    // Takes the publication of `user`'s App Home showing the view `view_hash` names: MUST be
    // true for one caller only (also across instances) for each new view of a user, and
    // false, with nothing written, when the user's last claimed view is this one (someone
    // published it already) unless `even_if_same` (they opened or clicked their Home: it is
    // published again, and claimed). Claiming "" forgets the view (a publish that failed).
    virtual bool claim_home_view(std::string_view user,
                                 std::string_view view_hash,
                                 bool even_if_same,
                                 std::int64_t now_ms) = 0;
    // `user` opened their App Home at `now_ms`: every instance follows them from then on
    // (home_followers), not only the one that got the event, which may stop meanwhile.
    virtual void home_opened(std::string_view user, std::int64_t now_ms) = 0;
    // Who opened their App Home at or after `since_ms`, and when they last did.
    virtual std::vector<std::pair<std::string, std::int64_t>> home_followers(
        std::int64_t since_ms) = 0;
    // The living status messages of every active release but `except` (0: none) are behind:
    // something outside each release changed what it shows (a freeze window began or ended,
    // another release entered or left its deployment phase), or relbot started. With `at_most`
    // above 0, only that many, the newest releases first. In the caller's unit of work.
    virtual void statuses_behind(std::int64_t except, int at_most) = 0;
    // Slack lost the message: forget its ts and queue `repost` (by its dedupe key, as
    // enqueue), both in one transaction of its own.
    virtual void status_lost(std::int64_t release_id,
                             const outbound_message& repost,
                             epoch_seconds now) = 0;
};

// Reminders sent and escalations made for items with due times.
class reminder_log {
public:
    virtual ~reminder_log() = default;
    // Open or blocked items with an owner and a due time in active releases, by due time,
    // with what was sent for the current due time (last slot, when, how many since the item
    // last changed, whether escalated since).
    virtual std::vector<reminder_candidate> reminder_candidates() = 0;
    // Active releases whose current phase has a window, whose handoff awaits acceptance, or
    // whose current phase has a checked item with a sign-off rule (it may await sign-offs).
    virtual std::vector<std::int64_t> timed_releases() = 0;
    // Active releases that may have monitoring checkpoints to plan, post or remind: those past
    // a phase whose title contains "deploy" (any case), or with checkpoints.
    virtual std::vector<std::int64_t> checkpoint_releases() = 0;
    // MUST: one record per (item, due time, slot); a second is ignored.
    virtual void record_reminder(std::int64_t item_id,
                                 epoch_seconds due_at,
                                 std::int64_t slot,
                                 epoch_seconds now) = 0;
    virtual void mark_escalated(std::int64_t item_id, epoch_seconds now) = 0;
    // When each item of the release was first reminded, by item id (items never reminded are
    // not listed): what the trends count from a reminder to the item being done.
    virtual std::map<std::int64_t, epoch_seconds> first_reminders(std::int64_t release_id) = 0;
    // Call first in a unit of work: holds, until the unit ends, the lock that lets one
    // scheduler pass at a time decide and queue timed work, across every instance sharing the
    // store, so that a pass reads (after it) everything the one before it committed. MUST: a
    // second caller waits (bounded by its unit's deadline: busy_error).
    virtual void serialize_ticks() = 0;
};

}  // namespace relbot::storage
