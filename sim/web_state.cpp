// What the sandbox's web page shows one person (see web_state.hpp).
#include "sim/web_state.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "sim/block_html.hpp"

namespace relbot::sim::web {
namespace {

using json = nlohmann::json;

std::string str(const json& j, const char* key) {
    auto v = j.is_object() ? j.find(key) : j.end();
    return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
}

// The texts a message shows: each block's text and fields, context elements; else its `text`.
std::vector<std::string> texts_of(const json& message) {
    std::vector<std::string> out;
    auto blocks = message.is_object() ? message.value("blocks", json::array()) : json::array();
    for (const auto& b : blocks.is_array() ? blocks : json::array()) {
        if (!b.is_object()) {
            continue;
        }
        if (auto t = b.find("text"); t != b.end() && t->is_object()) {
            out.push_back(str(*t, "text"));
        }
        for (const char* list : {"fields", "elements"}) {
            auto items = b.value(list, json::array());
            for (const auto& e : items.is_array() ? items : json::array()) {
                if (str(e, "type") == "mrkdwn" || str(e, "type") == "plain_text") {
                    out.push_back(str(e, "text"));
                }
            }
        }
    }
    if (out.empty()) {
        out.push_back(str(message, "text"));
    }
    return out;
}

// The first `<!date^EPOCH^…>` of a line, if any.
std::optional<std::int64_t> date_in(const std::string& line) {
    constexpr std::string_view mark = "<!date^";
    auto at = line.find(mark);
    if (at == std::string::npos) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    std::size_t i = at + mark.size();
    std::size_t digits = 0;
    for (; i < line.size() && line[i] >= '0' && line[i] <= '9' && digits < 12; ++i, ++digits) {
        value = value * 10 + (line[i] - '0');
    }
    if (digits == 0) {
        return std::nullopt;
    }
    return value;
}

json rows_html(const json& rows, const std::string& surface) {
    std::string html;
    for (const auto& r : rows) {
        auto ephemeral = r.value("ephemeral", false);
        message_place where{ephemeral ? "ephemeral" : surface, str(r, "ts"), str(r, "channel")};
        html += message_to_html(r["message"], where,
                                {ephemeral, r.value("edited", false), r.value("pinned", false)});
    }
    return html;
}

}  // namespace

std::vector<upcoming_line> upcoming(const json& messages, std::int64_t now, std::size_t max) {
    std::vector<upcoming_line> out;
    std::set<std::string> seen;
    for (const auto& m : messages.is_array() ? messages : json::array()) {
        for (const auto& text : texts_of(m)) {
            std::size_t start = 0;
            while (start <= text.size()) {
                auto end = text.find('\n', start);
                auto line = text.substr(start, end == std::string::npos ? end : end - start);
                start = end == std::string::npos ? text.size() + 1 : end + 1;
                auto at = date_in(line);
                if (at && *at > now && seen.insert(line).second) {
                    out.push_back({*at, line});
                }
            }
        }
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const upcoming_line& a, const upcoming_line& b) { return a.at < b.at; });
    if (out.size() > max) {
        out.resize(max);
    }
    return out;
}

json page_state(const json& surfaces,
                const std::string& user,
                const std::string& channel_id,
                const std::string& channel_name,
                std::int64_t now) {
    json channel_rows = surfaces.value("channel", json::array());
    json dm_rows = surfaces.value("dm", json::array());
    json state = {{"user", user},
                  {"channel",
                   {{"id", channel_id},
                    {"name", channel_name},
                    {"html", rows_html(channel_rows, "channel")}}},
                  {"dm", {{"html", rows_html(dm_rows, "dm")}, {"count", dm_rows.size()}}},
                  {"home", {{"html", ""}}},
                  {"modal", nullptr},
                  {"upcoming", json::array()}};
    if (auto home = surfaces.value("home", json()); home.is_object()) {
        state["home"]["html"] =
            blocks_to_html(home.value("blocks", json::array()), {"home", "", ""});
    }
    if (auto modal = surfaces.value("modal", json()); modal.is_object()) {
        auto errors = surfaces.value("modal_errors", json::object());
        std::map<std::string, std::string> channels = {{channel_id, channel_name}};
        state["modal"] = {
            {"key", str(modal, "id") + "/" + str(modal, "hash") + "/" + errors.dump()},
            {"html", modal_to_html(modal, errors, channels)}};
    }
    // What comes next, from what relbot keeps current: the pinned status message(s).
    json current = json::array();
    for (const auto& r : channel_rows) {
        if (r.value("pinned", false)) {
            current.push_back(r["message"]);
        }
    }
    for (const auto& u : upcoming(current, now)) {
        state["upcoming"].push_back({{"at", u.at}, {"html", mrkdwn_to_html(u.mrkdwn)}});
    }
    return state;
}

}  // namespace relbot::sim::web
