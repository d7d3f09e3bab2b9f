// What the decision tests share: in-memory lookups, a release built from the built-in
// `standard` template, and a way to decide one typed command as one person. No database.
#pragma once

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checklist/template.hpp"
#include "commands/router.hpp"
#include "support/memory_lookups.hpp"
#include "support/releases.hpp"

namespace relbot::test {

inline constexpr checklist::epoch_seconds t0 = 1'795'669'200;

using fake_lookups = memory_lookups;

// The standard release "v1" (id 7) in C1, managed by UMANAGER, started at t0, every item with
// an id; item 1.1 is UOWNER's, item 2.1 UOWNER2's.
inline checklist::release standard_release() {
    auto r = numbered_standard_release("C1", "v1", "UMANAGER", t0);
    r.phases[0].items[0].owner = "UOWNER";
    r.phases[1].items[0].owner = "UOWNER2";
    return r;
}

// Every item of the current phase done: its gate is open (unless a window holds it).
inline void settle_current_phase(checklist::release& r) {
    for (auto& i : r.phases[static_cast<std::size_t>(r.current_phase - 1)].items) {
        i.state = checklist::item_state::done;
    }
}

// One typed `/release` command as `user` at `now`, decided against `active` (none if null).
inline commands::decision decide_as(const std::string& user,
                                    const std::string& text,
                                    const std::shared_ptr<const checklist::release>& active,
                                    const fake_lookups& look,
                                    checklist::epoch_seconds now = t0 + 60,
                                    const std::string& response_url = "") {
    commands::request req{"T1", "C1", user, text, now, response_url, "releases"};
    return commands::decide(commands::parse_command(text), {req, active, look});
}

inline std::shared_ptr<const checklist::release> shared(checklist::release r) {
    return std::make_shared<const checklist::release>(std::move(r));
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A refusal writes and sends nothing.
inline void check_refused(const commands::decision& d, const std::string& name) {
    CHECK(d.answer.refused);
    CHECK_FALSE(d.answer.changed);
    CHECK(d.answer.name == name);
    CHECK_FALSE(d.answer.reply.text.empty());
    CHECK(d.state == nullptr);
    CHECK_FALSE(d.insert);
    CHECK(d.log.events.empty());
    CHECK(d.messages.empty());
}

// The outbox row a planned message becomes when the shell wrote release 7 and audit row 99.
inline checklist::outbound_message completed(const commands::planned_message& m) {
    return m.complete(7, 99);
}

// The text of a planned chat.postMessage body.
inline std::string body_text(const commands::planned_message& m) {
    return nlohmann::json::parse(m.message.body).value("text", "");
}

}  // namespace relbot::test
