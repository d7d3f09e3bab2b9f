// Slack mrkdwn read into pieces, shared by the sandbox's two renderers (the terminal's text in
// terminal.cpp and the web page's HTML in block_html.cpp): the emoji codes relbot writes and their
// glyphs, Slack's three entities, and the `<…>` forms (links, mentions, channels, specials, dates)
// told apart from the text around them. Pure functions of text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relbot::sim::mrkdwn {

// Every emoji code (":rocket:") in `text` replaced by its glyph; unknown codes stay as typed.
std::string with_emoji(std::string text);

// Slack's entities &amp; &lt; &gt; decoded in one pass ("&amp;lt;" becomes "&lt;", not "<").
std::string decode_entities(std::string_view text);

// One piece of a mrkdwn text.
enum class kind {
    text,     // `raw` as written (entities not yet decoded); also any `<…>` not understood
    link,     // <url> or <url|label>: `target` the url, `label` the label ("" when none)
    user,     // <@U…> or <@U…|label>: `target` the user id
    channel,  // <#C…> or <#C…|label>: `target` the channel id
    special,  // <!here>, <!channel>, <!everyone>: `target` the word
    date,     // <!date^…^…|fallback>: `label` the fallback
};
struct piece {
    kind what = kind::text;
    std::string raw;     // the piece as written, `<` and `>` included
    std::string target;  // see kind
    std::string label;   // the part after `|`, or ""
};

// `text` as pieces in order; concatenating their `raw` gives `text` back. A `<` without its `>`
// on the same line is text.
std::vector<piece> tokenize(std::string_view text);

// The name a mention is shown with: the cast's handle ("pat") or real name ("Pat Chen") when
// known, else the label Slack sent, else the id.
std::string user_name(const piece& p, bool real_name);
// The name of a channel without its `#`: the label, the demo channel's name, else the id.
std::string channel_name(const piece& p);

// True for a link Slack would make clickable and we may put in an href: http, https, mailto.
bool safe_url(std::string_view url);

}  // namespace relbot::sim::mrkdwn
