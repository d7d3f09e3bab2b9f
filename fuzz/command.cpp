// `/release` text, as typed by anyone in a channel: parsed, then decided against a release in
// progress as its manager, as an item's owner and as a bystander, and the reply serialized as
// the acknowledgement. Properties: nothing throws; bad input is refused with a message and
// changes nothing; whatever is decided names this channel's release only; a duration or a
// date relbot formats reads back as the same value.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "checklist/duration.hpp"
#include "checklist/timers.hpp"
#include "commands/parse.hpp"
#include "commands/render/blocks.hpp"
#include "commands/router.hpp"
#include "fuzz/fuzz.hpp"
#include "support/memory_lookups.hpp"
#include "support/releases.hpp"

using namespace relbot;

namespace {

constexpr checklist::epoch_seconds t0 = 1'795'669'200;

// C1's release v1 (id 7, items 100…) half-way through its first phase, and an older one.
struct world {
    test::memory_lookups look;
    std::shared_ptr<const checklist::release> active;

    world() {
        look.admins = {"UADMIN"};
        look.names = {{"UMANAGER", "mia"}, {"UOWNER", "olu"}};
        auto older = test::numbered_standard_release("C1", "v0", "UMANAGER", t0 - 86400, 6, 1);
        older.status = checklist::release_status::finished;
        older.ended_at = t0 - 3600;
        look.releases.push_back(older);
        auto r = test::numbered_standard_release("C1", "v1", "UMANAGER", t0);
        r.phases[0].items[0].owner = "UOWNER";
        r.phases[0].items[1].state = checklist::item_state::done;
        r.phases[0].items[2].state = checklist::item_state::blocked;
        look.releases.push_back(r);
        active = std::make_shared<const checklist::release>(r);
    }
};

void check_decision(const commands::decision& d) {
    FUZZ_CHECK(!d.answer.name.empty());
    if (d.answer.refused) {
        FUZZ_CHECK(!d.answer.reply.text.empty());
        FUZZ_CHECK(d.state == nullptr && !d.insert && d.log.events.empty() && d.messages.empty());
    }
    if (d.state) {
        FUZZ_CHECK(d.state->channel == "C1" && d.state->id == 7);
    }
    if (d.insert) {
        FUZZ_CHECK(d.insert->channel == "C1");
    }
    // The acknowledgement is JSON Slack can read, whatever bytes the text carried.
    auto ack = d.answer.ack_json.empty()
                   ? commands::ack_payload_json(d.answer.reply, d.answer.in_channel)
                   : d.answer.ack_json.str();
    FUZZ_CHECK(nlohmann::json::accept(ack));
}

void check_formats(FuzzedDataProvider& in) {
    auto seconds = in.ConsumeIntegralInRange<std::int64_t>(1, checklist::max_duration.count());
    auto d = std::chrono::seconds(seconds);
    auto written = checklist::format_duration(d);
    auto read = checklist::parse_duration(written);
    FUZZ_CHECK(read && *read == d);

    // Minutes from 1970 to 9999: "YYYY-MM-DD HH:MM UTC" and back.
    auto minute = in.ConsumeIntegralInRange<std::int64_t>(0, 253'402'300'799 / 60);
    auto epoch = minute * 60;
    auto text = checklist::format_utc(epoch);
    FUZZ_CHECK(text.size() == 20 && text.ends_with(" UTC"));
    auto back = checklist::parse_utc_minutes(std::string_view(text).substr(0, 10),
                                             std::string_view(text).substr(11, 5));
    FUZZ_CHECK(back && *back == epoch);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const world w;
    auto text = std::string(fuzz::text_of(data, size));

    auto parsed = commands::parse_command(text);
    if (auto* bad = std::get_if<commands::usage_error>(&parsed)) {
        FUZZ_CHECK(!bad->message.empty());
    }
    // One person per input (the last byte picks), so each run decides once.
    static const char* const people[] = {"UMANAGER", "UOWNER", "USOMEONE", "UADMIN"};
    auto who = size == 0 ? 0 : data[size - 1] % 5;
    commands::request req{"T1", "C1",      who < 4 ? people[who] : "UMANAGER", text, t0 + 3600,
                          "",   "releases"};
    std::shared_ptr<const checklist::release> none;
    check_decision(commands::decide(parsed, {req, who < 4 ? w.active : none, w.look}));

    FuzzedDataProvider in(data, size);
    check_formats(in);
    return 0;
}
