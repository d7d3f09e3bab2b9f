// Where a message the bot decided to send goes, and what kind of message it is: typed values,
// so that nobody compares strings such as "briefing-dm" or tells a channel from "@U…" by its
// first character. The outbox stores them as text (`stored`, `to_string`) and reads them back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relbot::checklist {

struct destination {
    enum class type {
        channel,       // a channel id (C…, G…): posted there
        direct,        // a user id: posted in the DM channel conversations.open gives
        response_url,  // a slash command's response_url: the rest of a long reply
    };
    type to = type::channel;
    std::string id;  // the channel id, the user id or the URL

    static destination channel(std::string id) { return {type::channel, std::move(id)}; }
    static destination direct(std::string user) { return {type::direct, std::move(user)}; }
    static destination reply(std::string url) { return {type::response_url, std::move(url)}; }

    // The outbox's column: the channel id, "@" and the user id, or the URL.
    std::string stored() const;

    friend bool operator==(const destination&, const destination&) = default;
};

// The outbox's column back as a destination.
destination parse_destination(std::string_view stored);

enum class message_kind {
    announcement,  // a message in the release channel
    status,        // the living status message (posted once, then edited)
    pin,           // pins.add of the status message
    dm,            // a direct message (assignment, reminder, escalation, …)
    briefing,      // the handoff briefing in the channel (gets a link to the status message)
    briefing_dm,   // the same briefing by DM
    reply_page,    // a page of a long reply, to a response_url
};

// The outbox's column: "", "status", "pin", "dm", "briefing", "briefing-dm", "reply-page".
std::string_view to_string(message_kind k);
// Unknown text (a row written by a newer relbot) reads as an announcement.
message_kind parse_message_kind(std::string_view s);

// A message the bot has decided to send; it becomes an outbox row.
struct outbound_message {
    std::string dedupe_key;  // unique forever: the same key is never queued twice
    std::optional<std::int64_t> release_id;
    destination to;                           // a channel, a person's DM, or a response_url
    std::string method = "chat.postMessage";  // "response_url" for a response_url post
    std::string body;  // JSON object of the call's arguments except `channel`
    message_kind kind = message_kind::announcement;
};

}  // namespace relbot::checklist
