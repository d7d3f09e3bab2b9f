// The signal endpoint's readers (RELBOT_HOOKS_ADDR, bot/signal.cpp, bot/hooks.cpp) with any
// body and headers. Properties: nothing throws; a body is either read into a signal whose
// fields keep the promised shapes or refused with a sentence; the sink is called only for a
// request signed with the secret, on time, whose body reads; every answer is JSON with a
// status the contract names.
#include "bot/signal.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "bot/hooks.hpp"
#include "fuzz/fuzz.hpp"

using namespace relbot;

namespace {

const std::string secret = "fuzz-secret-0123456789abcdef0123456789";
constexpr std::int64_t now = 1'795'669'235;

struct counting_sink final : bot::signal_sink {
    int applied = 0;
    bot::hook_answer apply(const bot::signal_request& s) override {
        ++applied;
        FUZZ_CHECK(!s.channel.empty() && !s.source.empty());
        FUZZ_CHECK(s.action == bot::signal_action::deployed || !s.item.empty());
        return {200, bot::signal_ok_json(s.item, "done")};
    }
    // "seen" was answered before: its first answer, whatever the body.
    bool repeated = false;
    std::optional<bot::hook_answer> answered_before(const std::string& id,
                                                    const std::string& /*action*/) override {
        FUZZ_CHECK(!id.empty() && id.size() <= bot::max_signal_id);
        if (id != "seen") {
            return std::nullopt;
        }
        repeated = true;
        return bot::hook_answer{200, bot::signal_ok_json("1.1", "done")};
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto in = fuzz::text_of(data, size);
    // The first byte picks how the request is signed; the rest is the body.
    auto how = in.empty() ? 0 : static_cast<unsigned char>(in[0]) % 4;
    auto body = in.empty() ? std::string_view() : in.substr(1);
    auto read = bot::read_signal(body);
    if (const auto* bad = std::get_if<std::string>(&read)) {
        FUZZ_CHECK(!bad->empty());
    }
    std::string at = how == 3 ? std::to_string(now - 400) : std::to_string(now);
    std::string signature =
        how == 1 ? std::string("v1=00") : bot::signal_signature(secret, at, body);
    if (how == 2) {
        at = "x" + at;
    }
    counting_sink sink;
    auto a = bot::answer_hook("POST", "/hooks/v1/signal", at, signature, body,
                              body.size() > bot::max_signal_body_bytes, secret, now, sink);
    FUZZ_CHECK(a.status == 200 || a.status == 400 || a.status == 401 || a.status == 413);
    FUZZ_CHECK(nlohmann::json::accept(a.body));
    bool believed = how == 0 && body.size() <= bot::max_signal_body_bytes;
    FUZZ_CHECK(sink.applied ==
               (believed && !sink.repeated && std::holds_alternative<bot::signal_request>(read)));
    FUZZ_CHECK(!sink.repeated || (believed && a.status == 200));
    FUZZ_CHECK(how == 0 || a.status != 200);
    return 0;
}
