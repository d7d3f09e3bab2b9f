// The health endpoint's request reader (RELBOT_HEALTH_ADDR), with everything a connection
// could send: the same parser, limits and answers as the server (bot/health.cpp). Properties:
// nothing throws; every answer is one of the endpoint's statuses with a length that matches its
// body; headers over the limit get 431; only GET and HEAD ever read the source.
#include <cstdint>
#include <string>

#include "bot/health.hpp"
#include "fuzz/fuzz.hpp"

using namespace relbot;

namespace {

// A source that counts its reads.
struct counting_source final : bot::health_source {
    int reads = 0;
    bot::health_report health() override {
        ++reads;
        return {true,
                "",
                1,
                true,
                false,
                "",
                3,
                "2026-12-02T10:00:00Z",
                "PostgreSQL relbot@db.internal:5432/relbot",
                "postgresql",
                "relbot@host/1-abc",
                -120};
    }
    std::string metrics_page() override {
        ++reads;
        return "relbot_up 1\n";
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace http = boost::beast::http;
    counting_source source;
    bot::health_limits limits;
    limits.max_header_bytes = 1024;  // small, so that the fuzzer reaches it
    auto res = bot::respond_to_bytes(fuzz::text_of(data, size), limits, source);
    if (!res) {
        FUZZ_CHECK(source.reads == 0);
        return 0;
    }
    auto status = res->result_int();
    FUZZ_CHECK(status == 200 || status == 400 || status == 404 || status == 405 || status == 431 ||
               status == 500 || status == 503);
    FUZZ_CHECK(!res->keep_alive());
    auto length = res->find(http::field::content_length);
    FUZZ_CHECK(length != res->end());
    if (status == 431 || status == 400 || status == 405) {
        FUZZ_CHECK(source.reads == 0);
    }
    if (status == 200 || status == 503) {
        FUZZ_CHECK(source.reads == 1);
    }
    return 0;
}
