// Destinations and kinds of outgoing messages (see outbound.hpp).
#include "checklist/outbound.hpp"

#include <array>
#include <utility>

namespace relbot::checklist {
namespace {

constexpr std::array<std::pair<message_kind, std::string_view>, 7> kind_names = {{
    {message_kind::announcement, ""},
    {message_kind::status, "status"},
    {message_kind::pin, "pin"},
    {message_kind::dm, "dm"},
    {message_kind::briefing, "briefing"},
    {message_kind::briefing_dm, "briefing-dm"},
    {message_kind::reply_page, "reply-page"},
}};

}  // namespace

std::string destination::stored() const {
    return to == type::direct ? "@" + id : id;
}

destination parse_destination(std::string_view stored) {
    if (stored.starts_with('@')) {
        return destination::direct(std::string(stored.substr(1)));
    }
    if (stored.starts_with("https://") || stored.starts_with("http://")) {
        return destination::reply(std::string(stored));
    }
    return destination::channel(std::string(stored));
}

std::string_view to_string(message_kind k) {
    for (const auto& [kind, name] : kind_names) {
        if (kind == k) {
            return name;
        }
    }
    return "";
}

message_kind parse_message_kind(std::string_view s) {
    for (const auto& [kind, name] : kind_names) {
        if (name == s) {
            return kind;
        }
    }
    return message_kind::announcement;
}

}  // namespace relbot::checklist
