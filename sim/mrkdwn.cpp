// Slack mrkdwn read into pieces (see mrkdwn.hpp).
#include "sim/mrkdwn.hpp"

#include <cctype>
#include <utility>

#include "sim/cast.hpp"

namespace relbot::sim::mrkdwn {
namespace {

// Every emoji code relbot writes, and a few more a template or a person might.
constexpr std::pair<const char*, const char*> emoji[] = {
    {":white_check_mark:", "✅"},
    {":white_large_square:", "⬜"},
    {":no_entry:", "⛔"},
    {":fast_forward:", "⏩"},
    {":arrow_forward:", "▶️ "},
    {":rocket:", "🚀"},
    {":warning:", "⚠️ "},
    {":hourglass:", "⏳"},
    {":rotating_light:", "🚨"},
    {":bell:", "🔔"},
    {":checkered_flag:", "🏁"},
    {":handshake:", "🤝"},
    {":bust_in_silhouette:", "👤"},
    {":busts_in_silhouette:", "👥"},
    {":memo:", "📝"},
    {":crown:", "👑"},
    {":octagonal_sign:", "🛑"},
    {":alarm_clock:", "⏰"},
    {":stethoscope:", "🩺"},
    {":scissors:", "✂️ "},
    {":x:", "❌"},
    {":heavy_check_mark:", "✔️ "},
    {":ballot_box_with_check:", "☑️ "},
    {":snowflake:", "❄️ "},
    {":hourglass_flowing_sand:", "⏳"},
    {":frame_with_picture:", "🖼️ "},
    {":page_facing_up:", "📄"},
    {":bar_chart:", "📊"},
    {":leftwards_arrow_with_hook:", "↩️ "},
    {":repeat:", "🔁"},
    {":calendar:", "📅"},
    {":clipboard:", "📋"},
    {":pushpin:", "📌"},
    {":rewind:", "⏪"},
    {":tada:", "🎉"},
    {":eyes:", "👀"},
    {":lock:", "🔒"},
    {":stopwatch:", "⏱️ "},
    {":hammer_and_wrench:", "🛠️ "},
    {":mag:", "🔍"},
    {":information_source:", "ℹ️ "},
    {":arrows_counterclockwise:", "🔄"},
    {":speech_balloon:", "💬"},
    {":pencil:", "📝"},
    {":wave:", "👋"},
    {":key:", "🔑"},
    {":chart_with_upwards_trend:", "📈"},
    {":page_facing_up:", "📄"},
    {":heavy_minus_sign:", "➖"},
    {":large_green_circle:", "🟢"},
    {":large_yellow_circle:", "🟡"},
    {":red_circle:", "🔴"},
    {":no_bell:", "🔕"},
    {":stop_sign:", "🛑"},
    {":thumbsup:", "👍"},
    {":+1:", "👍"},
};

void replace_all(std::string& text, std::string_view from, std::string_view to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
        text.replace(pos, from.size(), to);
        pos += to.size();
    }
}

// An id as Slack writes them: a letter from `first` then capitals and digits.
bool is_id(std::string_view s, std::string_view first) {
    if (s.size() < 2 || first.find(s[0]) == std::string_view::npos) {
        return false;
    }
    for (char c : s.substr(1)) {
        if (!std::isupper(static_cast<unsigned char>(c)) &&
            !std::isdigit(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

// The piece for the inside of `<…>` (`inner`), which was written as `raw`.
piece read_angle(std::string_view inner, std::string_view raw) {
    piece p{kind::text, std::string(raw), {}, {}};
    auto bar = inner.find('|');
    auto head = inner.substr(0, bar);
    auto label = bar == std::string_view::npos ? std::string_view() : inner.substr(bar + 1);
    if (head.starts_with('@') && is_id(head.substr(1), "UW")) {
        p.what = kind::user;
        p.target = head.substr(1);
    } else if (head.starts_with('#') && is_id(head.substr(1), "CGD")) {
        p.what = kind::channel;
        p.target = head.substr(1);
    } else if (head == "!here" || head == "!channel" || head == "!everyone") {
        p.what = kind::special;
        p.target = head.substr(1);
    } else if (head.starts_with("!date^") && bar != std::string_view::npos) {
        p.what = kind::date;
    } else if (!head.empty() && head[0] != '!' && head[0] != '@' && head[0] != '#' &&
               head.find(':') != std::string_view::npos) {
        p.what = kind::link;
        p.target = head;
    } else {
        return p;
    }
    p.label = label;
    return p;
}

}  // namespace

std::string with_emoji(std::string text) {
    if (text.find(':') == std::string::npos) {
        return text;
    }
    for (const auto& [code, glyph] : emoji) {
        replace_all(text, code, glyph);
    }
    return text;
}

std::string decode_entities(std::string_view text) {
    static constexpr std::pair<std::string_view, char> entities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}};
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        bool decoded = false;
        for (const auto& [entity, c] : entities) {
            if (text.substr(i, entity.size()) == entity) {
                out.push_back(c);
                i += entity.size();
                decoded = true;
                break;
            }
        }
        if (!decoded) {
            out.push_back(text[i++]);
        }
    }
    return out;
}

std::vector<piece> tokenize(std::string_view text) {
    std::vector<piece> out;
    auto add_text = [&out](std::string_view s) {
        if (s.empty()) {
            return;
        }
        if (!out.empty() && out.back().what == kind::text) {
            out.back().raw += s;
        } else {
            out.push_back({kind::text, std::string(s), {}, {}});
        }
    };
    std::size_t i = 0;
    while (i < text.size()) {
        auto open = text.find('<', i);
        auto close = open == std::string_view::npos ? open : text.find_first_of(">\n<", open + 1);
        if (close == std::string_view::npos || text[close] != '>') {
            auto upto = close == std::string_view::npos ? text.size() : close;
            add_text(text.substr(i, upto - i));
            i = upto;
            continue;
        }
        add_text(text.substr(i, open - i));
        auto p = read_angle(text.substr(open + 1, close - open - 1),
                            text.substr(open, close - open + 1));
        if (p.what == kind::text) {
            add_text(p.raw);
        } else {
            out.push_back(std::move(p));
        }
        i = close + 1;
    }
    return out;
}

std::string user_name(const piece& p, bool real_name) {
    if (const person* who = person_by_id(p.target)) {
        return std::string(real_name ? who->real_name : who->name);
    }
    return p.label.empty() ? p.target : p.label;
}

std::string channel_name(const piece& p) {
    if (!p.label.empty()) {
        return p.label;
    }
    return p.target == demo_channel_id ? std::string(demo_channel_name) : p.target;
}

bool safe_url(std::string_view url) {
    auto lower = [](std::string_view s, std::size_t n) {
        std::string out(s.substr(0, n));
        for (auto& c : out) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return out;
    };
    return lower(url, 7) == "http://" || lower(url, 8) == "https://" || lower(url, 7) == "mailto:";
}

}  // namespace relbot::sim::mrkdwn
