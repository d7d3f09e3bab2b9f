// Block Kit as HTML fragments, for the sandbox's web page that looks like Slack: the server
// renders messages, App Home and modals here and the page's script only swaps fragments in and
// turns clicks into requests. Pure functions of JSON (no I/O, no clock); they never throw on odd
// JSON (wrong types, missing fields) and escape everything they take from it, so a note holding
// `<script>` is shown as text.
//
// What the script reads: every control (button, overflow option, select) has class `control` and
// data-action-id, data-block-id, data-type (button, overflow, static_select, users_select),
// data-surface, data-ts, data-channel; a button also data-value, an overflow option
// data-option-value, a control with a `confirm` object data-confirm (that object's JSON). An
// overflow is a `button.control.overflow` followed by a hidden `div.menu` of
// `button.control.option`. A modal is a `form.modal` whose fields are named by their input block's
// block_id.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace relbot::sim::web {

// `text` with & < > " ' escaped for HTML text and attribute values. Bytes pass through as they
// are otherwise (invalid UTF-8 included; never throws).
std::string escape_html(std::string_view text);

// Slack mrkdwn as HTML. Escapes first (markup in the text is shown as text), then: *bold* <b>,
// _italic_ <i>, ~strike~ <s>, `code` <code>, ```pre``` <pre>, newlines <br>, `>` lines
// <blockquote>; <https://x|label> and <https://x> links (http, https, mailto only; any other
// link is shown as written); <@U…> as <span class="mention">@Real Name</span> from the sandbox's
// cast (an unknown id as its label, else the id); <#C…|name> as #name (C0DEMO as #release-demo);
// <!here>, <!channel>, <!everyone> as an inert <span class="mention special">; a date as its
// fallback; Slack's &amp; &lt; &gt; as & < >; emoji codes as glyphs.
std::string mrkdwn_to_html(std::string_view mrkdwn);

// A text object {"type": "plain_text" | "mrkdwn", "text": …}: plain text escaped (emoji codes as
// glyphs), mrkdwn as mrkdwn_to_html. Anything else is "".
std::string text_to_html(const nlohmann::json& text_object);

// Where a message is shown, stamped on its controls.
struct message_place {
    std::string surface;  // "channel", "dm", "ephemeral", "home", "modal"
    std::string ts;       // the message's ts ("" for a view)
    std::string channel;  // the message's channel ("" for a view)
};

// The blocks of a message or view, each a <div class="block block-<type>" data-block-id="…">;
// a block of a type not rendered here is a grey "[unsupported block: type]".
std::string blocks_to_html(const nlohmann::json& blocks, const message_place& where);

// A modal as a <form class="modal">: its title, blocks and, for each input block, its label and
// its element as a form field named by the block id (plain_text_input, users_select of the cast,
// datetimepicker as datetime-local in UTC with data-epoch, static_select, conversations_select of
// `channels` id→name), "(optional)", the hint, and errors[block_id] (a string) in
// <div class="error"> under that field; then its close and submit buttons (default "Cancel" and
// "Submit"). A conversations_select with default_to_current_conversation and no
// initial_conversation preselects the demo channel (the page's only channel).
std::string modal_to_html(const nlohmann::json& view,
                          const nlohmann::json& errors,
                          const std::map<std::string, std::string>& channels);

struct message_marks {
    bool ephemeral = false;
    bool edited = false;
    bool pinned = false;
};

// A message (chat.postMessage's arguments, an ack's payload, a stored message) as a Slack-like
// row: author "relbot" with an APP badge, the time (HH:MM UTC, from where.ts, else the message's
// ts), its blocks (or its `text` as mrkdwn when it has none) and the marks: "Only visible to you",
// "(edited)", "📌 Pinned".
std::string message_to_html(const nlohmann::json& message,
                            const message_place& where,
                            const message_marks& marks);

}  // namespace relbot::sim::web
