// The JSON text relbot writes (slack/json_write.hpp) against nlohmann's serializer, whose
// bytes it promises. Properties: any input written as a JSON string is nlohmann's text for it
// (U+FFFD where the input is not UTF-8, at the same places); is_utf8 says yes exactly when
// nlohmann's strict serializer takes the input; an input that parses as JSON is written back
// as nlohmann writes the parsed document.
#include "slack/json_write.hpp"

#include <cstdint>
#include <string>

#include "fuzz/fuzz.hpp"

using namespace relbot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = fuzz::text_of(data, size);
    using nlohmann::json;
    auto nlohmann_text = [](const json& j) {
        return j.dump(-1, ' ', false, json::error_handler_t::replace);
    };

    json as_string = std::string(text);
    std::string written;
    slack::append_json_string(written, text);
    FUZZ_CHECK(written == nlohmann_text(as_string));

    bool strict_takes = true;
    try {
        (void)as_string.dump();
    } catch (const json::type_error&) {
        strict_takes = false;
    }
    FUZZ_CHECK(slack::is_utf8(text) == strict_takes);

    auto document = json::parse(text, nullptr, false);
    if (!document.is_discarded()) {
        FUZZ_CHECK(slack::json_text_of(document) == nlohmann_text(document));
    }
    return 0;
}
