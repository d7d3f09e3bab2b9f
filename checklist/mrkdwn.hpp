// Slack text escaping: what keeps user text from becoming a mention or a link.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace relbot::checklist {

// Escapes `&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;` (and nothing else, as Slack asks), so
// that user text such as `<!channel>` is shown, not acted on.
std::string escape_mrkdwn(std::string_view text);

// Turns Slack's `&amp;`, `&lt;`, `&gt;` in text it sent us back into the characters.
std::string unescape_slack(std::string_view text);

// mrkdwn as plain text, for a reader that is not Slack (a CI log): links, mentions and dates
// become their text (`<!date^…|2024-04-05 19:34 UTC>` its fallback, `<@U1|pat>` `@pat`,
// `<@U1>` `@U1`, `<#C1>` `#C1`, `<https://x|build>` `build (https://x)`), the `` ` `` and `*`
// of code and bold go, and `&amp;`, `&lt;`, `&gt;` are the characters again.
std::string plain_text(std::string_view mrkdwn);

// A Slack date that each reader sees in their own time zone, with a UTC fallback:
// `<!date^1712345678^{date_short_pretty} {time}|2024-04-05 19:34 UTC>`.
std::string date_token(std::int64_t epoch_seconds);

// `text` on one line, for markdown read outside Slack: every line break (`\n`, `\r`, U+2028,
// U+2029, U+0085) becomes " ⏎ " and other control characters a space, so that nothing in it
// can start a line of its own (a `## ` phase or a `- [ ]` item, once pasted as a template).
std::string one_line(std::string_view text);

// A count and its word in the number the count takes: "1 item", "3 items", "0 items".
// `many` is `one` + "s" unless given ("1 person", "2 people"; "1 item is", "2 items are").
// Every count relbot prints goes through here.
std::string plural(std::size_t n, std::string_view one, std::string_view many = {});

// `text` without the spaces, tabs and line breaks (ASCII whitespace) at either end.
std::string_view trim(std::string_view text);

// Cuts `text` to at most `max_bytes` bytes on a UTF-8 character boundary, ending with "…"
// when something was cut.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

}  // namespace relbot::checklist
