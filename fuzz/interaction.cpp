// Clicks and modal submissions (interactive payloads): whole JSON payloads as anyone could
// send them, and well-formed ones whose button value, action and channel are chosen by the
// input, so that forged values are tried in every combination. Decided against two releases:
// v1 (id 7) in C1 and v2 (id 9) in C2. Properties: nothing throws; a value relbot writes reads
// back as the same target, and a modal's private_metadata as the same origin; and a forged
// value never acts on another release or channel: whatever a click or a submission decides
// changes only the release its value names, and a click in a channel (not a DM, not App Home)
// never changes or announces a release of another channel.
#include "commands/interaction.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands/clicks.hpp"
#include "commands/controls.hpp"
#include "fuzz/fuzz.hpp"
#include "support/memory_lookups.hpp"
#include "support/releases.hpp"

using namespace relbot;
using commands::controls::action;
using nlohmann::json;

namespace {

constexpr checklist::epoch_seconds t0 = 1'795'669'200;

struct world {
    test::memory_lookups look;
    std::shared_ptr<const checklist::release> c1;  // v1, id 7, items 100…
    std::shared_ptr<const checklist::release> c2;  // v2, id 9, items 200…

    world() {
        look.admins = {"UADMIN"};
        auto a = test::numbered_standard_release("C1", "v1", "UMANAGER", t0, 7, 100);
        a.phases[0].items[0].owner = "UOWNER";
        auto b = test::numbered_standard_release("C2", "v2", "UOTHER", t0, 9, 200);
        b.phases[0].items[0].owner = "UOWNER";
        look.releases = {a, b};
        c1 = std::make_shared<const checklist::release>(a);
        c2 = std::make_shared<const checklist::release>(b);
    }

    // What the shell loads for a value naming `id`.
    std::shared_ptr<const checklist::release> by_id(std::int64_t id) const {
        return id == 7 ? c1 : id == 9 ? c2 : nullptr;
    }
};

bool is_channel(const std::string& ch) {
    return !ch.empty() && !ch.starts_with('D');
}

// The property: a decision changes and announces only the release `named` (loaded by id), and
// only from its own channel when `from` is a channel.
void acts_only_where_allowed(const commands::decision& d,
                             const std::shared_ptr<const checklist::release>& named,
                             const std::string& from) {
    bool changes = d.state != nullptr || d.insert.has_value() || !d.log.events.empty();
    if (!named) {
        FUZZ_CHECK(d.state == nullptr && d.log.events.empty());
        return;
    }
    if (d.state) {
        FUZZ_CHECK(d.state->id == named->id && d.state->channel == named->channel);
    }
    if (is_channel(from) && from != named->channel) {
        FUZZ_CHECK(!changes);
        for (const auto& m : d.messages) {
            bool to_named = m.message.to.to == checklist::destination::type::channel &&
                            m.message.to.id == named->channel;
            FUZZ_CHECK(!to_named);
        }
    }
}

std::string pick(FuzzedDataProvider& in, std::initializer_list<const char*> options) {
    auto i = in.ConsumeIntegralInRange<std::size_t>(0, options.size());
    return i == options.size() ? in.ConsumeRandomLengthString(24) : *(options.begin() + i);
}

commands::controls::target some_target(FuzzedDataProvider& in) {
    commands::controls::target t;
    t.release_id =
        in.ConsumeBool() ? (in.ConsumeBool() ? 7 : 9) : in.ConsumeIntegral<std::int64_t>();
    t.item_id = in.ConsumeBool() ? in.ConsumeIntegralInRange<std::int64_t>(99, 230)
                                 : in.ConsumeIntegral<std::int64_t>();
    t.checkpoint = in.ConsumeIntegralInRange<int>(0, 3);
    t.snooze = static_cast<commands::controls::snooze_for>(in.ConsumeIntegralInRange<int>(0, 3));
    return t;
}

json some_click(FuzzedDataProvider& in, std::string& channel) {
    auto a = static_cast<action>(
        in.ConsumeIntegralInRange<int>(0, static_cast<int>(action::start_release)));
    auto t = some_target(in);
    auto value =
        in.ConsumeBool() ? commands::controls::encode(t) : in.ConsumeRandomLengthString(40);
    channel = pick(in, {"C1", "C2", "D1", ""});
    auto container = pick(in, {"message", "view"});
    json payload = {{"type", "block_actions"},
                    {"team", {{"id", "T1"}}},
                    {"user", {{"id", pick(in, {"UMANAGER", "UOWNER", "UOTHER", "UADMIN"})}}},
                    {"trigger_id", "trig-1"},
                    {"response_url", "https://hooks.example.test/actions/1"},
                    {"container",
                     {{"type", container},
                      {"message_ts", "1.2"},
                      {"channel_id", channel},
                      {"is_ephemeral", in.ConsumeBool()}}},
                    {"message", {{"ts", "1.2"}, {"text", "fallback"}, {"blocks", json::array()}}},
                    {"actions",
                     {{{"type", "button"},
                       {"action_id", commands::controls::action_id(a, t.item_id)},
                       {"value", value}}}}};
    if (container == "view") {
        channel.clear();  // App Home: no channel
    }
    return payload;
}

json some_submission(FuzzedDataProvider& in, std::string& channel) {
    commands::view_origin o;
    o.target = some_target(in);
    o.channel = channel = pick(in, {"C1", "C2", "D1", ""});
    o.message_ts = "1.2";
    o.where = static_cast<commands::surface>(in.ConsumeIntegralInRange<int>(0, 2));
    o.what = pick(in, {"finish", ""});
    auto metadata = in.ConsumeBool() ? o.to_metadata() : in.ConsumeRandomLengthString(80);
    auto kind = static_cast<commands::controls::modal>(in.ConsumeIntegralInRange<int>(0, 7));
    json values = json::object();
    for (auto block : {"reason", "note", "owner", "due", "channel", "version", "template"}) {
        if (in.ConsumeBool()) {
            values[block] = {
                {"value",
                 {{"type", "plain_text_input"}, {"value", in.ConsumeRandomLengthString(60)}}}};
        }
    }
    return {{"type", "view_submission"},
            {"team", {{"id", "T1"}}},
            {"user", {{"id", pick(in, {"UMANAGER", "UOWNER", "UOTHER", "UADMIN"})}}},
            {"view",
             {{"callback_id", std::string(commands::controls::to_string(kind))},
              {"private_metadata", metadata},
              {"state", {{"values", values}}}}}};
}

void decide(const world& w, const json& payload, const std::string& from) {
    auto in = commands::read_interaction(payload);
    if (auto* c = std::get_if<commands::click>(&in)) {
        if (c->target.release_id != 0) {  // 0: a control that names no release (Start…)
            FUZZ_CHECK(commands::controls::decode(commands::controls::encode(c->target)) ==
                       c->target);
        }
        auto named = w.by_id(c->target.release_id);
        auto req = commands::request_of_click(*c, named, t0 + 3600, c->channel);
        auto d = commands::decide_click(*c, {req, named, w.look}, "E1");
        acts_only_where_allowed(d, named, from.empty() ? c->channel : from);
    } else if (auto* s = std::get_if<commands::submission>(&in)) {
        auto again = commands::view_origin::from_metadata(s->origin.to_metadata());
        FUZZ_CHECK(again && again->target == s->origin.target &&
                   again->channel == s->origin.channel);
        if (s->kind == commands::controls::modal::start) {
            return;  // starts a release in the channel chosen in the modal: no value involved
        }
        auto named = w.by_id(s->origin.target.release_id);
        auto req = commands::request_of_click({}, named, t0 + 3600, s->origin.channel);
        req.team = s->team;
        req.user = s->user;
        auto d = commands::decide_submission(*s, {req, named, w.look}, "E1");
        acts_only_where_allowed(d, named, s->origin.channel);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const world w;
    auto raw = json::parse(fuzz::text_of(data, size), nullptr, false);
    if (!raw.is_discarded()) {
        decide(w, raw, "");  // a whole payload as sent
        return 0;
    }
    FuzzedDataProvider in(data, size);
    std::string channel;
    auto payload = in.ConsumeBool() ? some_click(in, channel) : some_submission(in, channel);
    // As Slack's JSON reaches relbot: text, read back (bytes that are not UTF-8 become U+FFFD,
    // as no parsed payload can hold them).
    payload = json::parse(payload.dump(-1, ' ', false, json::error_handler_t::replace));
    channel = json::parse(json(channel).dump(-1, ' ', false, json::error_handler_t::replace))
                  .get<std::string>();
    decide(w, payload, channel);
    return 0;
}
