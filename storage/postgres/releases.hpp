// Releases (with their phases, items and checkpoints) and the timeline (storage/ports.hpp,
// release_repository and timeline) on PostgreSQL. Several instances write the same releases,
// so every read asks the database, but a release this instance already holds is not sent
// again: each change of a release's content raises its row_version, and a read sends the
// release whole only when its version is not the one held here. A unit of work locks each release
// it reads (FOR NO KEY UPDATE) until it ends: two instances changing one release take turns, the
// second deciding on what the first committed. A release is read in one statement (its
// phases, items and checkpoints as JSON arrays), so it is one snapshot, and sent with its
// lock: one round trip. A save's writes are deferred (connection::defer): they go with the
// unit's next statement that is waited for.
#pragma once

#include <unordered_map>

#include "storage/ports.hpp"
#include "storage/postgres/session.hpp"

namespace relbot::storage::postgres {

class releases final : public release_repository, public timeline {
public:
    explicit releases(session& s);

    // --- release_repository ------------------------------------------------------------------
    std::optional<checklist::release> active_release(std::string_view channel) override;
    std::shared_ptr<const checklist::release> active_release_view(
        std::string_view channel) override;
    std::optional<checklist::release> latest_release(std::string_view channel) override;
    std::optional<checklist::release> release_by_version(std::string_view channel,
                                                         std::string_view version) override;
    std::optional<checklist::release> load_release(std::int64_t id) override;
    std::vector<release_summary> list_releases(std::string_view channel, int limit) override;
    std::vector<std::pair<std::string, std::int64_t>> releases_by_version(
        std::string_view version) override;
    long long count_active_releases() override;
    std::optional<std::pair<std::string, std::string>> deploying_elsewhere(
        std::string_view channel) override;
    std::vector<std::int64_t> active_release_ids() override;
    void insert_release(checklist::release& r) override;
    std::int64_t save(const checklist::release& r,
                      const checklist::change_log& log,
                      std::string_view actor,
                      epoch_seconds now) override;
    std::int64_t save(std::shared_ptr<const checklist::release> r,
                      const checklist::change_log& log,
                      std::string_view actor,
                      epoch_seconds now) override;

    // --- timeline ----------------------------------------------------------------------------
    std::int64_t append_audit(const audit_entry& e) override;
    std::vector<audit_entry> audit_for(std::int64_t release_id) override;

private:
    using shared_release = std::shared_ptr<const checklist::release>;
    // Which release a read names: the channel's active one, or the one with this id.
    struct release_key {
        std::string channel;  // empty: by id
        std::int64_t id = 0;
        static release_key active_in(std::string_view channel) { return {std::string(channel), 0}; }
        static release_key with_id(std::int64_t id) { return {"", id}; }
        bool by_channel() const { return !channel.empty(); }
        postgres::param value() const {
            return by_channel() ? postgres::param(channel) : postgres::param(id);
        }
    };
    // The release `key` names, or null. Sent whole unless it is the release held here at the
    // same version.
    shared_release read_release(const release_key& key);
    // The release `key` names, locked (in a unit) and read, in one round trip.
    struct locked_release {
        shared_release release;   // null: none, or the lock and the read disagree (a race)
        bool locked_any = false;  // the lock found a row (with no release: the race)
    };
    locked_release locked_read(const release_key& key);
    // The release the query's first row names (column 0, an id), or nullopt.
    std::optional<checklist::release> release_named_by(const result& ids);
    void save_checkpoints(const checklist::release& r, const checklist::change_log& log);
    // Both saves: `shared` is `r` when the caller shares it (else null: copied if kept).
    std::int64_t save_shared(const checklist::release& r,
                             shared_release shared,
                             const checklist::change_log& log,
                             std::string_view actor,
                             epoch_seconds now);
    // Writes the change (deferred, but the timeline rows); raises the versions now or not.
    void write_change(const checklist::release& r,
                      const checklist::change_log& log,
                      std::string_view actor,
                      epoch_seconds now,
                      bool status_changed,
                      bool raise_versions,
                      std::int64_t& last_audit_id);
    // Forgets the held releases after any rollback on the connection since the last look.
    void forget_if_rolled_back();

    struct held {
        std::int64_t version = 0;
        shared_release release;
    };
    // A release locked by the open unit of work: until the unit ends nobody else changes it,
    // so it is read once per unit and its later reads are answered from here.
    struct locked {
        std::int64_t version_read = 0;  // its row_version when the unit read it
        shared_release release;         // as the unit last saved it
    };
    // The unit ends: its locks are released; committed, what it held is kept in held_.
    void unit_ended(bool committed);
    // Before the unit commits: one version (and status version) raise per release changed.
    void before_commit();
    // Remembers what a save in the unit changed; false when the release is not locked here.
    bool note_change(std::int64_t id, const shared_release& state, bool status_changed);
    static constexpr std::size_t max_held = 1024;
    session& s_;
    // Releases as last read or saved here, by id, at their row_version. Kept across units: a
    // read compares versions in the database. After a rollback they may hold what was never
    // committed (and another instance may then commit other content at the same version):
    // forgotten then.
    std::unordered_map<std::int64_t, held> held_;
    std::uint64_t rollbacks_seen_ = 0;
    // The last release read for each channel, to offer its version to the next read by channel.
    std::unordered_map<std::string, std::int64_t> channel_release_;
    // The open unit's locked releases (by id, and the channel each is active in), cleared by
    // any rollback (a savepoint's rollback may release a lock taken in it).
    std::unordered_map<std::int64_t, locked> unit_locked_;
    std::unordered_map<std::string, std::int64_t> unit_channel_;
    std::uint64_t unit_rollbacks_seen_ = 0;
    // Releases whose content the unit changed, with whether the status message changed: their
    // row_version (and status_version) are raised once, just before the unit commits.
    struct raise {
        std::int64_t release_id = 0;
        bool status_changed = false;
        std::uint64_t savepoint = 0;  // the savepoint whose save owes it (0: the unit's own)
    };
    std::vector<raise> raises_;
    // A savepoint ended: released, what it owes passes to its parent; rolled back, what it
    // owes goes with its writes (and with the locks it took, which the raise would need again).
    void savepoint_ended(std::uint64_t serial, std::uint64_t parent, bool kept);
    bool raised(std::int64_t release_id) const;
};

}  // namespace relbot::storage::postgres
