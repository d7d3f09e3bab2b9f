// The Block Kit building blocks and limits every renderer shares: a message is a plain `text`
// fallback plus `blocks`, always within Block Kit's limits. The JSON Slack reads is built here
// and nowhere else, one function per block shape.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relbot::commands {

// A Slack message body: `text` is the notification and fallback, `blocks` the layout.
struct message {
    std::string text;
    nlohmann::json blocks = nlohmann::json::array();
    // The renderer stopped here: what follows would pass the number of messages allowed.
    bool cut_short = false;
};

// A JSON object from its members, `json_object("type", "section", "text", t)`, each built in
// place. nlohmann's `{{"type", "section"}, {"text", t}}` first makes every member a
// two-element array and then copies it into the object: 2-3 times slower for the small
// objects Block Kit is made of, which every write that messages someone builds dozens of.
namespace detail {
template <class Value, class... Rest>
void put_members(nlohmann::json& j, const char* key, Value&& value, Rest&&... rest) {
    j.emplace(key, std::forward<Value>(value));
    if constexpr (sizeof...(Rest) > 0) {
        put_members(j, std::forward<Rest>(rest)...);
    }
}
}  // namespace detail

template <class... Members>
nlohmann::json json_object(Members&&... members) {
    static_assert(sizeof...(Members) % 2 == 0, "json_object takes key, value pairs");
    nlohmann::json j(nlohmann::json::value_t::object);
    if constexpr (sizeof...(Members) > 0) {
        detail::put_members(j, std::forward<Members>(members)...);
    }
    return j;
}

// Block Kit limits we render within (docs/SLACK.md, "Block Kit limits relbot respects").
inline constexpr std::size_t max_blocks = 50;
inline constexpr std::size_t max_section_text = 3000;
inline constexpr std::size_t max_header_text = 150;
inline constexpr std::size_t max_fallback_text = 4000;
// Slack rejects a message whose blocks hold more than about 12,000 characters of text in all
// (`msg_blocks_too_long`, undocumented); we stay under this.
inline constexpr std::size_t max_total_block_text = 11000;
// Room kept for the blocks a renderer adds after a list, and for the "…and N more" line.
inline constexpr std::size_t reserved_text = 600;

// A section of mrkdwn text, cut to max_section_text.
nlohmann::json section_block(std::string_view mrkdwn);

// A header of plain text (emoji shown), cut to max_header_text.
nlohmann::json header_block(std::string_view plain);

// A context block of one mrkdwn element, cut to max_section_text.
nlohmann::json context_block(std::string_view mrkdwn);

nlohmann::json divider_block();

// The characters of text held by `blocks` (what Slack's total-text budget counts).
std::size_t block_text_size(const nlohmann::json& blocks);

// Appends `lines` as sections of at most 3,000 characters each, leaving room for `reserve`
// more blocks and within the message's total text budget; what does not fit is summarised
// in a last line.
void append_lines(nlohmann::json& blocks,
                  const std::vector<std::string>& lines,
                  std::size_t reserve);

// Splits `lines` into pages of sections within Block Kit's limits; the first page starts with
// the blocks of `head`. After `max_pages` the last page ends with `cut_note`.
std::vector<message> paginate(const std::string& fallback,
                              const nlohmann::json& head,
                              const std::vector<std::string>& lines,
                              std::size_t max_pages,
                              const std::string& cut_note);

// A reply of one mrkdwn section; `mrkdwn` must already be escaped where it holds user text.
message render_text(std::string_view mrkdwn);

// `<@user>`, or `if_empty` when there is no user.
// A CI or deploy tool is shown by name ("CI (github-actions)"), not as a Slack mention.
std::string mention(std::string_view user, std::string_view if_empty = "someone");

// The actor a signal from a CI or deploy tool acts as: "ci:<source>". Never a Slack user ID
// (those have no colon).
std::string signal_actor(std::string_view source);
// The tool an actor is, if it is one: "github-actions" for "ci:github-actions".
std::optional<std::string_view> signal_source(std::string_view actor);
// "CI (github-actions)".
std::string signal_actor_name(std::string_view source);

// User text inside a message: cut to `max` bytes and escaped, so it cannot mention or link.
std::string user_text(std::string_view text, std::size_t max = 500);

// The acknowledgement payload of a slash command (`response_type` ephemeral unless asked).
nlohmann::json to_ack_payload(const message& m, bool in_channel = false);

// The arguments of chat.postMessage except `channel`.
nlohmann::json to_post_body(const message& m);

// Serialises JSON so that invalid UTF-8 in user text never throws.
std::string dump_json(const nlohmann::json& j);

// dump_json(to_ack_payload(m, in_channel)) and dump_json(to_post_body(m)), the same bytes,
// without copying the blocks into a new document first (every command's ack and every message
// it queues is serialized this way).
std::string ack_payload_json(const message& m, bool in_channel = false);
std::string post_body_json(const message& m);

// The redelivery record of an acknowledgement (what a redelivered envelope is answered with).
// A plain reply, render_text's one section of its text and ephemeral, is recorded as its text
// alone, a JSON string: a third of the bytes, and every command that changes something writes
// one. Null for any other reply, which is recorded as sent.
std::optional<std::string> plain_reply_record(const message& m, bool in_channel);
// The acknowledgement's payload a record stands for: ack_payload_json(m) byte for byte for a
// plain reply's record, any other record as it is.
std::string payload_of_record(std::string record);

}  // namespace relbot::commands
