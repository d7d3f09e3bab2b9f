// What the sandbox's demo shows a person, and how it reads what they type. Pure functions of
// text (no I/O), so they are unit-tested: mrkdwn drawn for a terminal (emoji, mentions and
// channels as names, dates), messages as text, and typed lines turned into what Slack would
// send (`@pat` becomes the mention `<@UPAT|pat>`).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "sim/cast.hpp"
#include "sim/interactive.hpp"

namespace relbot::sim {

// `s` in the ANSI style `code` ("1" bold, "2" dim, "33" yellow…) when `color`, else as it is.
std::string ansi(const std::string& s, const char* code, bool color);

// `s` without the spaces, tabs and carriage returns around it.
std::string trim(std::string_view s);

// Slack mrkdwn as terminal text: emoji codes as glyphs, `<@U…>` and `<#C…>` as names, dates
// as their fallback text, links as "text (url)", entities decoded; with `color`, bold, code
// and italics become ANSI styles, otherwise their marks are dropped.
std::string render_mrkdwn(std::string text, bool color);

// A message (a chat.postMessage's arguments, an ack's payload) as indented terminal lines,
// under `heading`. `compact` shows only the first lines of the plain-text fallback (for
// direct messages, whose content the channel usually shows in full already).
std::string render_message(const std::string& heading,
                           const nlohmann::json& body,
                           bool color,
                           bool compact);

// Who a channel id is in the demo's words: `#release-demo`, `@pat (direct message)`.
std::string destination_name(std::string_view channel);

// One line a person typed in the demo.
struct typed_release {
    std::string text;  // after `/release`, with mentions as Slack sends them
};
struct typed_switch {
    const person* to;                 // `as @sam`: from now on, you are sam
    std::optional<std::string> once;  // `as @sam /release accept`: only this command
};
struct typed_people {};  // `people`: who is who
// `click Done 2.3`, `click "Next phase"`, `click Snooze 2.3 4 hours`: click the control with
// that label (a known label may be typed without its `…`) in the latest message that has it,
// on the item whose line contains `match` (an item ref becomes "`2.3`").
struct typed_click {
    click_target target;
};
struct typed_home {};  // `home`: open the App Home tab
struct typed_quit {};
struct typed_nothing {};
struct typed_error {
    std::string message;  // what was wrong and what to type instead
};
using typed_line = std::variant<typed_release,
                                typed_switch,
                                typed_people,
                                typed_quit,
                                typed_nothing,
                                typed_error,
                                typed_click,
                                typed_home>;

typed_line read_typed_line(std::string_view line);

// `@pat` → `<@UPAT|pat>` for every person of the cast; an unknown `@name` is an error that
// lists the cast. `@` inside a word (an e-mail address) is left alone.
std::variant<std::string, typed_error> resolve_mentions(std::string_view text);

// What follows `click ` on a typed line.
typed_line read_click(std::string_view rest);

// A person's answer to one input of a modal, as the sandbox's submit op takes it: text as is,
// `@pat` as UPAT for a person, a channel as its id, an option by its text, a date-time as epoch
// seconds (`2026-12-01 14:00` is read as UTC). An empty answer is null (fine when the input is
// optional, else an error).
std::variant<nlohmann::json, typed_error> read_modal_answer(const view_input& input,
                                                            std::string_view line);

// A modal or Home view as terminal lines: title, texts, inputs by label, controls.
std::string render_view(const nlohmann::json& view, bool color);

// The cast as lines, for the demo's greeting and `people`.
std::string cast_lines(const person& current);

}  // namespace relbot::sim
