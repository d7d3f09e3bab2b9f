// What Slack told relbot about people and channels (storage/ports.hpp, directory) on
// PostgreSQL: a cache that several instances fill; the last answer written wins.
#pragma once

#include "storage/ports.hpp"
#include "storage/postgres/session.hpp"

namespace relbot::storage::postgres {

class people final : public directory {
public:
    explicit people(session& s) : s_(s) {}

    std::optional<int> time_zone_offset(std::string_view user) override;
    void remember_user(std::string_view user,
                       int offset_s,
                       std::string_view name,
                       epoch_seconds now) override;
    std::vector<std::string> owners_needing_time_zone(epoch_seconds now,
                                                      epoch_seconds max_age) override;
    std::vector<std::string> people_needing_name(epoch_seconds now, epoch_seconds max_age) override;
    bool name_looked_up(std::string_view user, epoch_seconds now, epoch_seconds max_age) override;
    std::unordered_map<std::string, std::string> user_names() override;
    void remember_channel_name(std::string_view channel, std::string_view name) override;
    std::string channel_name(std::string_view channel) override;
    std::optional<std::string> dm_channel(std::string_view user) override;
    void remember_dm_channel(std::string_view user, std::string_view channel) override;

private:
    session& s_;
};

}  // namespace relbot::storage::postgres
