// The redelivery records (storage/ports.hpp, applied_envelopes) on PostgreSQL: the key is the
// table's primary key, so two instances applying the same envelope at once cannot both record
// it. The second waits for the first's unit of work; if that commits, the second gets false
// (ON CONFLICT DO NOTHING, READ COMMITTED) and its caller rolls back what it did; if that
// rolls back, the second records it.
#pragma once

#include "storage/ports.hpp"
#include "storage/postgres/session.hpp"

namespace relbot::storage::postgres {

class applied final : public applied_envelopes {
public:
    explicit applied(session& s) : s_(s) {}

    std::optional<std::string> applied_reply(std::string_view key) override;
    bool record_applied(std::string_view key, std::string_view reply, epoch_seconds now) override;
    int forget_applied_before(epoch_seconds before) override;

private:
    session& s_;
};

}  // namespace relbot::storage::postgres
