// The outbox queue (storage/ports.hpp) on PostgreSQL, shared by several instances: a row is
// claimed under a row lock taken with SKIP LOCKED, so concurrent claimers never wait for each
// other nor take the same row; a destination's rows are numbered in the order their units of
// work commit (an enqueue holds the destination's advisory lock until its unit ends), so the
// head of each destination is always the one to send next.
#pragma once

#include "storage/ports.hpp"
#include "storage/postgres/session.hpp"

namespace relbot::storage::postgres {

class outbox final : public outbox_queue {
public:
    explicit outbox(session& s) : s_(s) {}

    bool enqueue(const outbound_message& m, epoch_seconds now) override;
    void enqueue_in_unit(const outbound_message& m, epoch_seconds now) override;
    std::vector<outbox_row> claim(epoch_seconds now,
                                  epoch_seconds lease,
                                  std::string_view owner,
                                  int limit) override;
    bool mark_sent(std::int64_t id,
                   std::string_view owner,
                   std::string_view ts,
                   epoch_seconds now) override;
    bool mark_failed(std::int64_t id, std::string_view owner, std::string_view error) override;
    bool defer(std::int64_t id,
               std::string_view owner,
               epoch_seconds not_before,
               std::string_view error) override;
    bool defer_unsure(std::int64_t id,
                      std::string_view owner,
                      epoch_seconds not_before,
                      std::string_view error) override;
    bool release(std::int64_t id, std::string_view owner) override;
    std::vector<std::int64_t> renew_claims(std::string_view owner,
                                           const std::vector<std::int64_t>& ids,
                                           epoch_seconds until) override;
    int abandon_claims(std::string_view owner_prefix) override;
    std::string sent_ts(std::string_view dedupe_key) override;
    std::optional<epoch_seconds> next_due(epoch_seconds now) override;
    long long count_outbox(outbox_state state) override;
    std::vector<outbox_row> announcement_backlog(int over) override;
    bool fold(std::int64_t into,
              std::string_view body,
              const std::vector<std::int64_t>& folded,
              epoch_seconds now) override;

private:
    bool give_back(std::int64_t id,
                   std::string_view owner,
                   epoch_seconds not_before,
                   std::string_view error,
                   bool unsure);

    session& s_;
};

}  // namespace relbot::storage::postgres
