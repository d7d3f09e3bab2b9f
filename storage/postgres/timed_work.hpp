// The living status message's versions (storage/ports.hpp, status_board) and the records of
// reminders and escalations (reminder_log) on PostgreSQL.
#pragma once

#include "storage/ports.hpp"
#include "storage/postgres/outbox.hpp"
#include "storage/postgres/session.hpp"

namespace relbot::storage::postgres {

class timed_work final : public status_board, public reminder_log {
public:
    // `queue` is the engine's outbox (status_lost queues the repost through it).
    timed_work(session& s, outbox& queue) : s_(s), queue_(queue) {}

    // --- status_board ------------------------------------------------------------------------
    std::vector<status_job> status_jobs() override;
    std::string status_ts(std::int64_t release_id) override;
    void status_sent(std::int64_t release_id,
                     std::string_view ts,
                     std::int64_t version,
                     std::int64_t now_ms) override;
    bool claim_status(std::int64_t release_id, std::int64_t seen, std::int64_t until_ms) override;
    void statuses_behind(std::int64_t except, int at_most) override;
    bool claim_home_view(std::string_view user,
                         std::string_view view_hash,
                         bool even_if_same,
                         std::int64_t now_ms) override;
    void home_opened(std::string_view user, std::int64_t now_ms) override;
    std::vector<std::pair<std::string, std::int64_t>> home_followers(
        std::int64_t since_ms) override;
    void status_lost(std::int64_t release_id,
                     const outbound_message& repost,
                     epoch_seconds now) override;

    // --- reminder_log ------------------------------------------------------------------------
    std::vector<reminder_candidate> reminder_candidates() override;
    std::vector<std::int64_t> timed_releases() override;
    std::vector<std::int64_t> checkpoint_releases() override;
    void record_reminder(std::int64_t item_id,
                         epoch_seconds due_at,
                         std::int64_t slot,
                         epoch_seconds now) override;
    void mark_escalated(std::int64_t item_id, epoch_seconds now) override;
    std::map<std::int64_t, epoch_seconds> first_reminders(std::int64_t release_id) override;
    void serialize_ticks() override;

private:
    session& s_;
    outbox& queue_;
};

}  // namespace relbot::storage::postgres
