// Releases (with their phases, items and checkpoints) and the timeline (storage/ports.hpp,
// release_repository and timeline) on PostgreSQL. Nothing is cached: several instances write
// the same releases, so every read asks the database. A unit of work locks each release it
// reads (FOR UPDATE) until it ends: two instances changing one release take turns, the second
// deciding on what the first committed. A release is read in one statement (its phases,
// items and checkpoints as JSON arrays), so it is one snapshot and one round trip.
#pragma once

#include "storage/ports.hpp"
#include "storage/postgres/session.hpp"

namespace relbot::storage::postgres {

class releases final : public release_repository, public timeline {
public:
    explicit releases(session& s) : s_(s) {}

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
    std::vector<std::int64_t> active_release_ids() override;
    void insert_release(checklist::release& r) override;
    std::int64_t save(const checklist::release& r,
                      const checklist::change_log& log,
                      std::string_view actor,
                      epoch_seconds now) override;

    // --- timeline ----------------------------------------------------------------------------
    std::int64_t append_audit(const audit_entry& e) override;
    std::vector<audit_entry> audit_for(std::int64_t release_id) override;

private:
    // The release with this id, read whole, or nullopt.
    std::optional<checklist::release> read_release(std::int64_t id);
    // The release the query's first row names (column 0, an id), or nullopt.
    std::optional<checklist::release> release_named_by(const result& ids);
    void save_checkpoints(const checklist::release& r, const checklist::change_log& log);

    session& s_;
};

}  // namespace relbot::storage::postgres
