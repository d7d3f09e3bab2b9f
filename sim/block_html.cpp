// Block Kit as HTML: escaping, mrkdwn, text objects, blocks and their controls (see
// block_html.hpp). Inputs, modals and message rows are in block_html_forms.cpp.
#include "sim/block_html.hpp"

#include <cctype>
#include <charconv>
#include <vector>

#include "sim/block_html_parts.hpp"
#include "sim/mrkdwn.hpp"

namespace relbot::sim::web {
namespace {

using nlohmann::json;
using namespace detail;

// --- mrkdwn --------------------------------------------------------------------------------------

// Parts already HTML (links, mentions, code) are held out of the text as "\x01<n>\x02" while
// the style marks are read, so that a `*` or `_` inside them is not taken for one.
struct held_parts {
    std::vector<std::string> html;

    std::string hold(std::string part) {
        html.push_back(std::move(part));
        return "\x01" + std::to_string(html.size() - 1) + "\x02";
    }

    std::string release(std::string_view text) const {
        std::string out;
        for (std::size_t i = 0; i < text.size(); ++i) {
            auto end = text[i] == '\x01' ? text.find('\x02', i) : std::string_view::npos;
            std::size_t n = html.size();
            if (end != std::string_view::npos) {
                std::from_chars(text.data() + i + 1, text.data() + end, n);
            }
            if (n >= html.size()) {
                out.push_back(text[i]);
                continue;
            }
            out += release(html[n]);  // a code span may hold a mention held before it
            i = end;
        }
        return out;
    }
};

// Text as written in mrkdwn (entities decoded once) as escaped HTML, emoji as glyphs.
std::string text_html(std::string_view raw) {
    return mrkdwn::with_emoji(escape_html(mrkdwn::decode_entities(raw)));
}

std::string piece_html(const mrkdwn::piece& p) {
    switch (p.what) {
        case mrkdwn::kind::user:
            return "<span class=\"mention\"" + attr("data-user-id", p.target) + ">@" +
                   text_html(mrkdwn::user_name(p, true)) + "</span>";
        case mrkdwn::kind::channel:
            return "<span class=\"channel\">#" + text_html(mrkdwn::channel_name(p)) + "</span>";
        case mrkdwn::kind::special:
            return "<span class=\"mention special\">@" + escape_html(p.target) + "</span>";
        case mrkdwn::kind::date:
            return text_html(p.label);
        case mrkdwn::kind::link:
            if (mrkdwn::safe_url(p.target)) {
                return "<a" + attr("href", mrkdwn::decode_entities(p.target)) +
                       " target=\"_blank\" rel=\"noopener\">" +
                       text_html(p.label.empty() ? p.target : p.label) + "</a>";
            }
            break;
        case mrkdwn::kind::text:
            break;
    }
    return text_html(p.raw);
}

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// `mark`…`mark` around non-blank text, not inside a word, as <tag>…</tag>.
std::string style(std::string_view s, char mark, std::string_view tag) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        bool opens = s[i] == mark && (i == 0 || (!word_char(s[i - 1]) && s[i - 1] != mark));
        auto j = opens ? s.find(mark, i + 1) : std::string_view::npos;
        if (j == std::string_view::npos || j == i + 1 || s[i + 1] == ' ' || s[j - 1] == ' ' ||
            (j + 1 < s.size() && word_char(s[j + 1]))) {
            out.push_back(s[i]);
            continue;
        }
        out += "<" + std::string(tag) + ">" + std::string(s.substr(i + 1, j - i - 1)) + "</" +
               std::string(tag) + ">";
        i = j;
    }
    return out;
}

// `code` spans held out (their text is not styled).
std::string hold_code(std::string_view s, held_parts& held) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto j = s[i] == '`' ? s.find('`', i + 1) : std::string_view::npos;
        if (j == std::string_view::npos || j == i + 1) {
            out.push_back(s[i]);
            continue;
        }
        out += held.hold("<code>" + std::string(s.substr(i + 1, j - i - 1)) + "</code>");
        i = j;
    }
    return out;
}

// One line of mrkdwn (no newline) as HTML.
std::string line_html(std::string_view line) {
    held_parts held;
    std::string text;
    for (const auto& p : mrkdwn::tokenize(line)) {
        text += p.what == mrkdwn::kind::text ? text_html(p.raw) : held.hold(piece_html(p));
    }
    text = hold_code(text, held);
    text = style(style(style(text, '*', "b"), '_', "i"), '~', "s");
    return held.release(text);
}

// Lines of mrkdwn (no ``` in them) as HTML: <br> between lines, `>` lines in <blockquote>.
std::string lines_html(std::string_view text) {
    std::string out;
    bool quoting = false;
    for (std::size_t start = 0, n = 0; start <= text.size(); ++n) {
        auto end = std::min(text.find('\n', start), text.size());
        auto line = text.substr(start, end - start);
        bool quote = line.starts_with('>');
        if (quote) {
            line.remove_prefix(line.starts_with("> ") ? 2 : 1);
        }
        if (quote != quoting) {
            out += quote ? "<blockquote>" : "</blockquote>";
            quoting = quote;
        } else if (n > 0) {
            out += "<br>";
        }
        out += line_html(line);
        start = end + 1;
    }
    return quoting ? out + "</blockquote>" : out;
}

// --- controls ------------------------------------------------------------------------------------

// The data attributes every control carries, and data-confirm when the element has one.
std::string control_attrs(const json& e, const spot& at, std::string_view type) {
    auto out = attr("data-action-id", string_at(e, "action_id")) +
               attr("data-block-id", at.block_id) + attr("data-type", type) +
               attr("data-surface", at.where.surface) + attr("data-ts", at.where.ts) +
               attr("data-channel", at.where.channel);
    if (const auto& confirm = member(e, "confirm"); confirm.is_object()) {
        out += attr("data-confirm", confirm.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    return out;
}

std::string button_html(const json& e, const spot& at) {
    auto style = string_at(e, "style");
    std::string cls = style == "primary" || style == "danger" ? "control " + style : "control";
    return "<button type=\"button\"" + attr("class", cls) + control_attrs(e, at, "button") +
           attr("data-value", string_at(e, "value")) + ">" + plain_html(member(e, "text")) +
           "</button>";
}

std::string overflow_html(const json& e, const spot& at) {
    auto attrs = control_attrs(e, at, "overflow");
    std::string out = "<button type=\"button\" class=\"control overflow\"" + attrs +
                      " aria-label=\"More actions\">⋯</button><div class=\"menu\" hidden>";
    if (const auto& options = member(e, "options"); options.is_array()) {
        for (const auto& o : options) {
            out += "<button type=\"button\" class=\"control option\"" + attrs +
                   attr("data-option-value", string_at(o, "value")) + ">" +
                   plain_html(member(o, "text")) + "</button>";
        }
    }
    return out + "</div>";
}

std::string select_html(const json& e, const spot& at, std::string_view type) {
    auto selected = initial_value(e, at.channels);
    return "<select class=\"control\"" + control_attrs(e, at, type) + ">" +
           placeholder_option(e, "Select an option", !selected.empty()) +
           select_options(e, type, selected, at.channels) + "</select>";
}

// An interactive element of an actions block or a section's accessory.
std::string element_html(const json& e, const spot& at) {
    auto type = string_at(e, "type");
    if (type == "button") {
        return button_html(e, at);
    }
    if (type == "overflow") {
        return overflow_html(e, at);
    }
    if (type == "static_select" || type == "users_select" || type == "conversations_select" ||
        type == "channels_select") {
        return select_html(e, at, type);
    }
    return "<span class=\"unsupported\">[unsupported element: " + escape_html(type) + "]</span>";
}

// --- blocks --------------------------------------------------------------------------------------

std::string header_html(const json& b, const spot&) {
    return "<h3>" + plain_html(member(b, "text")) + "</h3>";
}

std::string section_html(const json& b, const spot& at) {
    std::string out;
    if (const auto& text = member(b, "text"); text.is_object()) {
        out += "<div class=\"section-text\">" + text_to_html(text) + "</div>";
    }
    if (const auto& fields = member(b, "fields"); fields.is_array()) {
        out += "<div class=\"fields\">";
        for (const auto& f : fields) {
            out += "<div class=\"field\">" + text_to_html(f) + "</div>";
        }
        out += "</div>";
    }
    if (const auto& accessory = member(b, "accessory"); accessory.is_object()) {
        out += "<div class=\"accessory\">" + element_html(accessory, at) + "</div>";
    }
    return out;
}

std::string context_html(const json& b, const spot&) {
    std::string out = "<div class=\"context\">";
    if (const auto& elements = member(b, "elements"); elements.is_array()) {
        for (const auto& e : elements) {
            out += string_at(e, "type") == "image"
                       ? "<span class=\"context-item image-alt\">" +
                             escape_html(string_at(e, "alt_text")) + "</span>"
                       : "<span class=\"context-item\">" + text_to_html(e) + "</span>";
        }
    }
    return out + "</div>";
}

std::string divider_html(const json&, const spot&) {
    return "<hr>";
}

std::string actions_html(const json& b, const spot& at) {
    std::string out = "<div class=\"actions\">";
    if (const auto& elements = member(b, "elements"); elements.is_array()) {
        for (const auto& e : elements) {
            out += element_html(e, at);
        }
    }
    return out + "</div>";
}

std::string image_html(const json& b, const spot&) {
    auto title = plain_html(member(b, "title"));
    return (title.empty() ? std::string() : "<div class=\"image-title\">" + title + "</div>") +
           "<div class=\"image-alt\">[image: " + escape_html(string_at(b, "alt_text")) + "]</div>";
}

struct block_renderer {
    std::string_view type;
    std::string (*render)(const json&, const spot&);
};

constexpr block_renderer renderers[] = {
    {"header", header_html},   {"section", section_html}, {"context", context_html},
    {"divider", divider_html}, {"actions", actions_html}, {"image", image_html},
    {"input", input_html},
};

std::string block_html(const json& b, const spot& outer) {
    auto type = string_at(b, "type");
    spot at{outer.where, string_at(b, "block_id"), outer.errors, outer.channels};
    for (const auto& r : renderers) {
        if (r.type == type) {
            return "<div" + attr("class", "block block-" + type) +
                   attr("data-block-id", at.block_id) + ">" + r.render(b, at) + "</div>";
        }
    }
    return "<div class=\"block block-unsupported\"" + attr("data-block-id", at.block_id) +
           ">[unsupported block: " + escape_html(type.empty() ? "?" : type) + "]</div>";
}

}  // namespace

// --- public --------------------------------------------------------------------------------------

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

std::string mrkdwn_to_html(std::string_view mrkdwn) {
    std::string text(mrkdwn);
    std::erase_if(text, [](char c) { return c == '\x01' || c == '\x02'; });  // held-part marks
    std::string_view rest = text;
    std::string out;
    for (bool after_pre = false;;) {
        auto open = rest.find("```");
        auto close = open == std::string_view::npos ? open : rest.find("```", open + 3);
        auto before = rest.substr(0, close == std::string_view::npos ? rest.size() : open);
        if (after_pre && before.starts_with('\n')) {
            before.remove_prefix(1);
        }
        if (close == std::string_view::npos) {
            return out + lines_html(before);
        }
        if (before.ends_with('\n')) {
            before.remove_suffix(1);
        }
        out += lines_html(before) + "<pre>" + text_html(rest.substr(open + 3, close - open - 3)) +
               "</pre>";
        rest.remove_prefix(close + 3);
        after_pre = true;
    }
}

std::string text_to_html(const json& text_object) {
    if (string_at(text_object, "type") == "mrkdwn") {
        return mrkdwn_to_html(string_at(text_object, "text"));
    }
    return plain_html(text_object);
}

std::string blocks_to_html(const json& blocks, const message_place& where) {
    static const json no_errors = json::object();
    static const std::map<std::string, std::string> no_channels;
    return blocks_html(blocks, spot{where, {}, no_errors, no_channels});
}

namespace detail {

const json& member(const json& j, std::string_view key) {
    static const json none;
    if (!j.is_object()) {
        return none;
    }
    auto it = j.find(key);
    return it == j.end() ? none : *it;
}

std::string string_at(const json& j, std::string_view key) {
    const auto& v = member(j, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

std::string attr(std::string_view name, std::string_view value) {
    return " " + std::string(name) + "=\"" + escape_html(value) + "\"";
}

std::string plain_html(const json& text_object) {
    return mrkdwn::with_emoji(escape_html(string_at(text_object, "text")));
}

std::string blocks_html(const json& blocks, const spot& at) {
    std::string out;
    if (blocks.is_array()) {
        for (const auto& b : blocks) {
            out += block_html(b, at);
        }
    }
    return out;
}

}  // namespace detail
}  // namespace relbot::sim::web
