// Block Kit as HTML, part two: the options of selects, input blocks as form fields, modals and
// message rows (see block_html.hpp).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>

#include "sim/block_html.hpp"
#include "sim/block_html_parts.hpp"
#include "sim/cast.hpp"

namespace relbot::sim::web {
namespace {

using nlohmann::json;
using namespace detail;

// Epoch seconds from a number or the leading digits of a string (a ts), within years 1970-9999.
std::optional<std::int64_t> epoch_of(const json& j) {
    constexpr double last = 253402300799.0;  // 9999-12-31T23:59:59Z
    if (j.is_number()) {
        auto d = j.get<double>();
        return d >= 0 && d <= last ? std::optional<std::int64_t>(static_cast<std::int64_t>(d))
                                   : std::nullopt;
    }
    if (!j.is_string()) {
        return std::nullopt;
    }
    const auto& s = j.get_ref<const std::string&>();
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end == s.data() || n < 0 || n > static_cast<std::int64_t>(last)) {
        return std::nullopt;
    }
    return n;
}

// "YYYY-MM-DDTHH:MM" in UTC.
std::string utc_minute(std::int64_t epoch) {
    using namespace std::chrono;
    sys_seconds t{seconds{epoch}};
    auto day = floor<days>(t);
    year_month_day ymd{day};
    hh_mm_ss hms{t - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
    return buf;
}

std::string option_tag(std::string_view value, const std::string& text_html, bool selected) {
    return "<option" + attr("value", value) + (selected ? " selected>" : ">") + text_html +
           "</option>";
}

std::string static_options(const json& e, std::string_view selected) {
    auto list = [selected](const json& options) {
        std::string out;
        if (options.is_array()) {
            for (const auto& o : options) {
                auto value = string_at(o, "value");
                out += option_tag(value, plain_html(member(o, "text")), value == selected);
            }
        }
        return out;
    };
    std::string out = list(member(e, "options"));
    if (const auto& groups = member(e, "option_groups"); groups.is_array()) {
        for (const auto& g : groups) {
            out += "<optgroup" + attr("label", string_at(member(g, "label"), "text")) + ">" +
                   list(member(g, "options")) + "</optgroup>";
        }
    }
    return out;
}

std::string cast_options(std::string_view selected) {
    std::string out;
    for (const auto& p : cast) {
        out += option_tag(p.id, escape_html(p.real_name), p.id == selected);
    }
    return out;
}

std::string channel_options(const std::map<std::string, std::string>& channels,
                            std::string_view selected) {
    std::string out;
    for (const auto& [id, name] : channels) {
        out += option_tag(id, "#" + escape_html(name), id == selected);
    }
    return out;
}

// The attributes of an input's field: named by the block id, with the element's action_id.
std::string field_attrs(const json& e, const spot& at, std::string_view type) {
    return attr("name", at.block_id) + attr("id", "field-" + at.block_id) +
           attr("data-action-id", string_at(e, "action_id")) + attr("data-type", type);
}

std::string text_field(const json& e, const spot& at) {
    auto attrs = field_attrs(e, at, "plain_text_input") +
                 attr("placeholder", string_at(member(e, "placeholder"), "text"));
    if (const auto& max = member(e, "max_length"); max.is_number_unsigned()) {
        attrs += attr("maxlength", std::to_string(max.get<std::uint64_t>()));
    }
    auto initial = string_at(e, "initial_value");
    if (member(e, "multiline") == true) {
        return "<textarea" + attrs + ">" + escape_html(initial) + "</textarea>";
    }
    return "<input type=\"text\"" + attrs + attr("value", initial) + ">";
}

std::string datetime_field(const json& e, const spot& at) {
    std::string out = "<input type=\"datetime-local\"" + field_attrs(e, at, "datetimepicker");
    if (auto epoch = epoch_of(member(e, "initial_date_time"))) {
        out += attr("value", utc_minute(*epoch)) + attr("data-epoch", std::to_string(*epoch));
    }
    return out + "><span class=\"hint utc\">UTC, as relbot's messages show times</span>";
}

std::string select_field(const json& e, const spot& at, std::string_view type) {
    auto selected = initial_value(e, at.channels);
    return "<select" + field_attrs(e, at, type) + ">" +
           placeholder_option(e, "Select an option", !selected.empty()) +
           select_options(e, type, selected, at.channels) + "</select>";
}

std::string field_html(const json& e, const spot& at) {
    auto type = string_at(e, "type");
    if (type == "plain_text_input") {
        return text_field(e, at);
    }
    if (type == "datetimepicker") {
        return datetime_field(e, at);
    }
    if (type == "users_select" || type == "static_select" || type == "conversations_select" ||
        type == "channels_select") {
        return select_field(e, at, type);
    }
    return "<span class=\"unsupported\">[unsupported input: " + escape_html(type) + "]</span>";
}

std::string hh_mm(std::string_view ts) {
    auto epoch = epoch_of(json(std::string(ts)));
    return epoch ? utc_minute(*epoch).substr(11) : std::string();
}

// A message's blocks: an array, or (as form-encoded Web API calls send them) a JSON string.
json blocks_of(const json& message) {
    const auto& blocks = member(message, "blocks");
    if (blocks.is_string()) {
        return json::parse(blocks.get_ref<const std::string&>(), nullptr, false);
    }
    return blocks;
}

}  // namespace

namespace detail {

std::string input_html(const json& b, const spot& at) {
    std::string out = "<label class=\"input-label\"" + attr("for", "field-" + at.block_id) + ">" +
                      plain_html(member(b, "label"));
    if (member(b, "optional") == true) {
        out += " <span class=\"optional\">(optional)</span>";
    }
    out += "</label>" + field_html(member(b, "element"), at);
    if (auto hint = plain_html(member(b, "hint")); !hint.empty()) {
        out += "<div class=\"hint\">" + hint + "</div>";
    }
    if (auto error = string_at(at.errors, at.block_id); !error.empty()) {
        out += "<div class=\"error\">" + escape_html(error) + "</div>";
    }
    return out;
}

std::string select_options(const json& e,
                           std::string_view type,
                           std::string_view selected,
                           const std::map<std::string, std::string>& channels) {
    if (type == "users_select") {
        return cast_options(selected);
    }
    return type == "static_select" ? static_options(e, selected)
                                   : channel_options(channels, selected);
}

std::string placeholder_option(const json& e, std::string_view fallback, bool has_selection) {
    auto text = plain_html(member(e, "placeholder"));
    return std::string("<option value=\"\" disabled") + (has_selection ? ">" : " selected>") +
           (text.empty() ? escape_html(fallback) : text) + "</option>";
}

std::string initial_value(const json& e, const std::map<std::string, std::string>& channels) {
    for (const char* key : {"initial_user", "initial_conversation", "initial_channel"}) {
        if (auto v = string_at(e, key); !v.empty()) {
            return v;
        }
    }
    if (auto v = string_at(member(e, "initial_option"), "value"); !v.empty()) {
        return v;
    }
    bool current = member(e, "default_to_current_conversation") == true;
    return current && channels.contains(std::string(demo_channel_id)) ? std::string(demo_channel_id)
                                                                      : std::string();
}

}  // namespace detail

std::string modal_to_html(const json& view,
                          const json& errors,
                          const std::map<std::string, std::string>& channels) {
    static const message_place in_modal{"modal", "", ""};
    auto submit = plain_html(member(view, "submit"));
    auto close = plain_html(member(view, "close"));
    return "<form class=\"modal\"" + attr("data-callback-id", string_at(view, "callback_id")) +
           attr("data-view-id", string_at(view, "id")) + "><div class=\"modal-title\">" +
           plain_html(member(view, "title")) + "</div><div class=\"modal-body\">" +
           blocks_html(member(view, "blocks"), spot{in_modal, {}, errors, channels}) +
           "</div><div class=\"modal-buttons\"><button type=\"button\" class=\"modal-close\">" +
           (close.empty() ? "Cancel" : close) +
           "</button><button type=\"submit\" class=\"modal-submit primary\">" +
           (submit.empty() ? "Submit" : submit) + "</button></div></form>";
}

// The files a message shares (files.completeUploadExternal): a picture inline, any other file as
// a download, both from the page's own /files/<id>/<name> (only ids and names of safe
// characters are linked).
std::string files_to_html(const json& message) {
    auto files = message.find("files");
    if (files == message.end() || !files->is_array()) {
        return "";
    }
    auto safe = [](const std::string& s) {
        return !s.empty() && s.size() <= 120 && s.front() != '.' &&
               std::all_of(s.begin(), s.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
               });
    };
    std::string out;
    for (const auto& f : *files) {
        auto id = string_at(f, "id");
        auto name = string_at(f, "name");
        if (!safe(id) || !safe(name)) {
            continue;
        }
        auto url = "/files/" + id + "/" + name;
        if (string_at(f, "mimetype") == "image/png") {
            out += "<figure class=\"file file-image\"><img" + attr("src", url) +
                   attr("alt", string_at(f, "alt_txt")) + "><figcaption><a" + attr("href", url) +
                   attr("download", name) + ">" + escape_html(name) + "</a></figcaption></figure>";
        } else {
            out += "<div class=\"file file-download\">📄 <a" + attr("href", url) +
                   attr("download", name) + ">" + escape_html(name) + "</a></div>";
        }
    }
    return out;
}

std::string message_to_html(const json& message,
                            const message_place& where,
                            const message_marks& marks) {
    message_place at = where;
    if (at.ts.empty()) {
        at.ts = string_at(message, "ts");
    }
    if (at.channel.empty()) {
        at.channel = string_at(message, "channel");
    }
    auto time = hh_mm(at.ts);
    std::string out = "<div" +
                      attr("class", std::string("message") + (marks.ephemeral ? " ephemeral" : "") +
                                        (marks.pinned ? " pinned" : "")) +
                      attr("data-ts", at.ts) + attr("data-channel", at.channel) +
                      "><div class=\"message-head\"><span class=\"author\">relbot</span>"
                      "<span class=\"badge\">APP</span>" +
                      (time.empty() ? "" : "<span class=\"time\">" + time + "</span>");
    if (marks.ephemeral) {
        out += "<span class=\"mark ephemeral\">Only visible to you</span>";
    }
    if (marks.edited) {
        out += "<span class=\"mark edited\">(edited)</span>";
    }
    if (marks.pinned) {
        out += "<span class=\"mark pinned\">📌 Pinned</span>";
    }
    auto blocks = blocks_of(message);
    auto body = blocks.is_array() && !blocks.empty()
                    ? blocks_to_html(blocks, at)
                    : "<div class=\"block block-text\">" +
                          mrkdwn_to_html(string_at(message, "text")) + "</div>";
    return out + "</div><div class=\"message-body\">" + body + files_to_html(message) +
           "</div></div>";
}

}  // namespace relbot::sim::web
