// The sandbox's people: a small cast with names, so a release can be walked with several
// people in the terminal. users.info answers with these names, the demo turns `@pat` into the
// mention Slack would send (`<@UPAT|pat>`) and draws mentions back as names.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace relbot::sim {

struct person {
    std::string_view id;
    std::string_view name;       // the handle people type after @
    std::string_view real_name;  // users.info real_name and profile.display_name
    std::string_view part;       // what this person does in the demo
};

inline constexpr std::array<person, 7> cast = {{
    {"UALEX", "alex", "Alex Rivera", "release manager (you, at first)"},
    {"UPAT", "pat", "Pat Chen", "engineer, owns deployment items"},
    {"UKIM", "kim", "Kim Okafor", "engineer, owns verification items"},
    {"USAM", "sam", "Sam Novak", "on-call engineer"},
    {"ULEE", "lee", "Lee Park", "product manager"},
    {"UMAX", "max", "Max Berg", "in the channel, not on the release"},
    {"UROBIN", "robin", "Robin Diaz", "relbot admin (RELBOT_ADMINS): may act on any release"},
}};

// The sandbox starts relbot with this person as its admin.
inline constexpr std::string_view sandbox_admin = "UROBIN";

inline constexpr std::string_view demo_channel_id = "C0DEMO";
inline constexpr std::string_view demo_channel_name = "release-demo";

// The id of `user`'s direct-message channel with relbot in the sandbox: "UPAT" → "DPAT"
// ("" for no user). chat.postMessage to a user id and conversations.open both land there.
inline std::string dm_channel_of(std::string_view user) {
    return user.empty() ? std::string() : "D" + std::string(user.substr(1));
}

inline const person* person_by_id(std::string_view id) {
    for (const auto& p : cast) {
        if (p.id == id) {
            return &p;
        }
    }
    return nullptr;
}

inline const person* person_by_name(std::string_view name) {
    for (const auto& p : cast) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

}  // namespace relbot::sim
