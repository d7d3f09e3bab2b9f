// The Web API's answers as relbot's HTTPS client reads them: whole HTTP responses (status,
// headers such as Retry-After, any body), then Slack's JSON (ok, error, 429 and 5xx shapes),
// then every field relbot takes from an answer (bot/slack_answers.hpp). Properties: nothing
// throws; a 429 is rate-limited with a wait of 1 s to 5 min; a 200 is `ok` only when the body is
// an object with "ok": true, and a Slack error always has its error code; the readers take any
// JSON.
#include <cstdint>
#include <string>

#include "bot/https_client.hpp"
#include "bot/slack_answers.hpp"
#include "bot/web_api.hpp"
#include "fuzz/fuzz.hpp"

using namespace relbot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto response = bot::read_response_bytes(fuzz::text_of(data, size));
    if (!response) {
        return 0;
    }
    if (response->retry_after_s) {
        FUZZ_CHECK(*response->retry_after_s >= 0 &&
                   *response->retry_after_s <= bot::max_retry_after_s);
    }
    bot::https_result http;
    http.response = *response;
    auto r = bot::classify_api_response(http);
    FUZZ_CHECK(r.body.is_object());
    switch (r.outcome) {
        case bot::api_outcome::rate_limited:
            FUZZ_CHECK(response->status == 429);
            FUZZ_CHECK(r.retry_after.count() >= 0 && r.retry_after.count() <= 300);
            break;
        case bot::api_outcome::ok:
            FUZZ_CHECK(response->status == 200 && r.body.at("ok") == true);
            break;
        case bot::api_outcome::slack_error:
            FUZZ_CHECK(response->status == 200 && !r.error.empty());
            break;
        case bot::api_outcome::server_error:
            FUZZ_CHECK(response->status != 429);
            break;
        case bot::api_outcome::network_error:
            FUZZ_CHECK(false);  // there was an answer
    }
    // What relbot reads from an answer, whatever its shape.
    (void)bot::posted_ts(r.body);
    (void)bot::opened_channel(r.body);
    (void)bot::text_at(r.body, "permalink");
    auto info = bot::read_user(r.body);
    FUZZ_CHECK(info.tz_offset_s >= -26 * 3600 && info.tz_offset_s <= 26 * 3600);
    auto page = bot::read_history(r.body);
    for (const auto& m : page.messages) {
        FUZZ_CHECK(m.is_object());
        (void)bot::carries_key(m, "release-started:7");
        (void)bot::text_at(m, "ts");
    }
    return 0;
}
