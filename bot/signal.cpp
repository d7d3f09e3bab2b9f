#include "bot/signal.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "bot/digest.hpp"
#include "slack/block_kit.hpp"
#include "slack/json_write.hpp"

namespace relbot::bot {

namespace {

bool printable_ascii(std::string_view s, std::string_view also = "") {
    for (unsigned char c : s) {
        bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!word && also.find(static_cast<char>(c)) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

bool has_control(std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::string_view to_string(signal_action a) {
    switch (a) {
        case signal_action::check:
            return "check";
        case signal_action::note:
            return "note";
        case signal_action::block:
            return "block";
        case signal_action::unblock:
            return "unblock";
        case signal_action::deployed:
            return "deployed";
    }
    return "check";
}

std::string signal_signature(std::string_view secret,
                             std::string_view timestamp,
                             std::string_view body) {
    std::string base = "v1:";
    base.append(timestamp);
    base += ':';
    base.append(body);
    return "v1=" + hmac_sha256_hex(secret, base);
}

std::optional<signature_refusal> signature_problem(std::string_view secret,
                                                   std::string_view timestamp,
                                                   std::string_view signature,
                                                   std::string_view body,
                                                   std::int64_t now_s) {
    if (timestamp.empty() || signature.empty()) {
        return signature_refusal{false,
                                 "X-Relbot-Timestamp and X-Relbot-Signature are both required "
                                 "(relbot signal sets them)"};
    }
    std::int64_t at = 0;
    auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), at);
    if (ec != std::errc{} || end != timestamp.data() + timestamp.size()) {
        return signature_refusal{false, "X-Relbot-Timestamp must be Unix seconds"};
    }
    // Compared before the time, so that a forged request learns nothing of the window.
    if (!same_bytes(signal_signature(secret, timestamp, body), signature)) {
        return signature_refusal{
            false, "the signature does not match (the secret, or the body as signed, differs)"};
    }
    if (at < now_s - signal_window_s || at > now_s + signal_window_s) {
        return signature_refusal{true,
                                 "the timestamp is more than 5 minutes from relbot's clock (a "
                                 "replayed request, or a clock to set right)"};
    }
    return std::nullopt;
}

std::optional<signal_action> read_signal_action(std::string_view word) {
    for (auto a : {signal_action::check, signal_action::note, signal_action::block,
                   signal_action::unblock, signal_action::deployed}) {
        if (word == to_string(a)) {
            return a;
        }
    }
    return std::nullopt;
}

std::variant<signal_request, std::string> read_signal(std::string_view body) {
    return read_signal_json(nlohmann::json::parse(body, nullptr, false));
}

signal_id_reading signal_id_of(const nlohmann::json& body) {
    if (!body.is_object()) {
        return {};
    }
    auto it = body.find("id");
    if (it == body.end() || it->is_null()) {
        return {};
    }
    const auto* id = it->get_ptr<const std::string*>();
    if (id == nullptr) {
        return {"", "\"id\" must be a string"};
    }
    if (id->empty()) {
        return {"", "\"id\" must not be empty"};
    }
    if (id->size() > max_signal_id) {
        return {"", "\"id\" is longer than " + std::to_string(max_signal_id) + " bytes"};
    }
    if (has_control(*id)) {
        return {"", "\"id\" must be one line"};
    }
    return {*id, ""};
}

std::variant<signal_request, std::string> read_signal_json(const nlohmann::json& j) {
    if (j.is_discarded() || !j.is_object()) {
        return std::string("the body must be a JSON object");
    }
    std::string bad;
    auto field = [&](const char* name, std::size_t max, bool required) -> std::string {
        auto it = j.find(name);
        if (it == j.end() || it->is_null()) {
            if (required && bad.empty()) {
                bad = std::string("\"") + name + "\" is required";
            }
            return "";
        }
        if (!it->is_string()) {
            if (bad.empty()) {
                bad = std::string("\"") + name + "\" must be a string";
            }
            return "";
        }
        auto v = it->get<std::string>();
        if (v.size() > max && bad.empty()) {
            bad = std::string("\"") + name + "\" is longer than " + std::to_string(max) + " bytes";
        }
        return v;
    };
    signal_request r;
    r.channel = field("channel", 32, true);
    r.release = field("release", 64, false);
    auto action = field("action", 16, true);
    r.item = field("item", 200, false);
    r.text = field("text", max_text_chars * 4, false);  // counted in characters below
    r.url = field("url", 2000, false);
    r.source = field("source", 64, false);
    // Optional: without one a signal is applied as sent and a repeat is not recognized.
    auto id = signal_id_of(j);
    if (bad.empty()) {
        bad = std::move(id.problem);
    }
    r.id = std::move(id.id);
    if (!bad.empty()) {
        return bad;
    }
    if (auto known = read_signal_action(action)) {
        r.action = *known;
    } else {
        return std::string("\"action\" must be one of check, note, block, unblock, deployed");
    }
    if (r.channel.empty() || !printable_ascii(r.channel) ||
        (r.channel[0] != 'C' && r.channel[0] != 'G')) {
        return std::string("\"channel\" must be a channel ID such as C0123456789");
    }
    if (r.action == signal_action::deployed) {
        r.item.clear();  // ignored
    } else if (r.item.empty() || has_control(r.item)) {
        return std::string("\"item\" is required: a position (2.4), a slug or its prefix");
    }
    if (has_control(r.release) || has_control(r.text)) {
        return std::string("\"release\" and \"text\" must be one line");
    }
    if (!r.url.empty() &&
        ((!r.url.starts_with("https://") && !r.url.starts_with("http://")) ||
         r.url.find_first_of(" <>|") != std::string::npos || has_control(r.url))) {
        return std::string("\"url\" must be one http:// or https:// address");
    }
    if (r.source.empty()) {
        r.source = "ci";
    } else if (!printable_ascii(r.source, "-_.")) {
        return std::string("\"source\" takes letters, digits, '-', '_' and '.' (github-actions)");
    }
    auto text_chars = slack::code_points(r.text);
    if (text_chars > max_text_chars) {
        return std::string("\"text\" is longer than 3,000 characters");
    }
    if (text_chars + r.url.size() > max_text_and_url_chars) {
        return std::string("\"text\" and \"url\" together are longer than 3,000 characters");
    }
    bool blank = r.text.find_first_not_of(" ") == std::string::npos;
    if ((r.action == signal_action::note || r.action == signal_action::block) && blank &&
        r.url.empty()) {
        return std::string("a ") + std::string(to_string(r.action)) +
               " needs \"text\" (or a \"url\")";
    }
    return r;
}

std::string signal_error_json(std::string_view message) {
    return nlohmann::json{{"ok", false}, {"error", std::string(message)}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string signal_ok_json(std::string_view item, std::string_view state) {
    nlohmann::json j{{"ok", true}};
    if (!item.empty()) {
        j["item"] = std::string(item);
    }
    if (!state.empty()) {
        j["state"] = std::string(state);
    }
    return slack::json_text_of(j);
}

}  // namespace relbot::bot
