// Signals from CI and deploy tools (contract: "Signals from CI and deploy tools"): what a
// POST /hooks/v1/signal must carry to be believed, and what its body may say. Pure: no
// socket, no store, no clock (the caller passes the time). The endpoint (bot/hooks) and
// `relbot signal` (bot/main.cpp) share it.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace relbot::bot {

// A body larger than this is answered 413 before anything else is looked at.
inline constexpr std::size_t max_signal_body_bytes = 65'536;
// A signature's timestamp may be this far from the receiver's clock, either way.
inline constexpr std::int64_t signal_window_s = 300;
// A secret must be at least this long (RELBOT_HOOKS_SECRET).
inline constexpr std::size_t min_signal_secret_bytes = 32;
// A signal's "text", in characters (Unicode code points), as a command's free text (contract:
// 3,000); with its "url" it is the note, which must also fit the command it is applied as (the
// action and the item before it), which parse_command answers.
inline constexpr std::size_t max_text_chars = 3'000;
inline constexpr std::size_t max_text_and_url_chars = 3'000;
// A signal's "id", in bytes.
inline constexpr std::size_t max_signal_id = 200;

enum class signal_action { check, note, block, unblock, deployed };

std::string_view to_string(signal_action a);
// The action a signal's "action" names; nullopt for any other word.
std::optional<signal_action> read_signal_action(std::string_view word);

// A signal as the body says it, checked field by field.
struct signal_request {
    std::string channel;
    std::string release;  // a version; empty: the channel's active release
    std::string item;     // empty for `deployed`
    signal_action action = signal_action::check;
    std::string text;
    std::string url;     // evidence; empty: none
    std::string source;  // who sent it ("github-actions"); "ci" when the body names none
    std::string id;      // unique per signal: a repeat returns the first answer; empty: none
};

// "v1=" and the hex HMAC-SHA256 of "v1:" + timestamp + ":" + body keyed with `secret`: what
// X-Relbot-Signature carries.
std::string signal_signature(std::string_view secret,
                             std::string_view timestamp,
                             std::string_view body);

// Why a request is not believed (answered 401): the headers or the signature (`age` false),
// or a time outside the window (`age` true), in a sentence for the answer.
struct signature_refusal {
    bool age = false;
    std::string message;
};

// Why the request is not believed, or nullopt when its signature holds and its timestamp
// (X-Relbot-Timestamp, Unix seconds) is within signal_window_s of `now_s`. The signature is
// compared in constant time.
std::optional<signature_refusal> signature_problem(std::string_view secret,
                                                   std::string_view timestamp,
                                                   std::string_view signature,
                                                   std::string_view body,
                                                   std::int64_t now_s);

// The signal the body holds, or why it is bad input (answered 400), in one sentence that says
// what to send instead.
std::variant<signal_request, std::string> read_signal(std::string_view body);
// The same, of a body already parsed (a discarded value: one that was not JSON).
std::variant<signal_request, std::string> read_signal_json(const nlohmann::json& body);

// A body's "id" (optional; a non-empty one-line string of at most max_signal_id bytes): `id`
// empty when the body gives none (absent or null), `problem` the sentence for a 400 when it
// gives a bad one. The endpoint looks a repeat up by it before the rest of the body is judged;
// read_signal_json refuses what it refuses: one set of rules for both.
struct signal_id_reading {
    std::string id;
    std::string problem;
};
signal_id_reading signal_id_of(const nlohmann::json& body);

// The answers: {"ok": false, "error": message}; {"ok": true, "item": ref, "state": state}
// (item and state left out when empty).
std::string signal_error_json(std::string_view message);
std::string signal_ok_json(std::string_view item, std::string_view state);

}  // namespace relbot::bot
