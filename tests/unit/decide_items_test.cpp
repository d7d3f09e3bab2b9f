// The item commands as decisions, with no database: who may (manager, owner, admin, outsider),
// every item state, and what each decision writes, sends and answers.
#include <catch2/catch.hpp>

#include "decide_fixture.hpp"

namespace unit_decide_items_test {

using namespace relbot;
using namespace relbot::test;
using checklist::item_state;
using checklist::message_kind;
using commands::key_id;

TEST_CASE("an item command by each role: manager, admin and owner may, an outsider may not",
          "[unit]") {
    fake_lookups look;
    auto active = shared(standard_release());
    struct row {
        const char* user;
        const char* item;
        bool allowed;
    };
    const row matrix[] = {
        {"UMANAGER", "1.1", true},   {"UMANAGER", "1.2", true},   {"UADMIN", "1.1", true},
        {"UADMIN", "1.2", true},     {"UOWNER", "1.1", true},     {"UOWNER", "1.2", false},
        {"USTRANGER", "1.1", false}, {"USTRANGER", "1.2", false},
    };
    for (const auto& verb : {"check", "skip", "block", "note"}) {
        for (const auto& m : matrix) {
            auto text = std::string(verb) + " " + m.item + " because";
            INFO(m.user << " /release " << text);
            auto d = decide_as(m.user, text, active, look);
            if (m.allowed) {
                CHECK_FALSE(d.answer.refused);
                CHECK(d.answer.changed);
                CHECK(d.answer.name == verb);
                REQUIRE(d.state != nullptr);
                CHECK(d.log.events.size() == 1);
            } else {
                check_refused(d, verb);
                CHECK(contains(d.answer.reply.text, "Only the release manager (<@UMANAGER>)"));
                CHECK(contains(d.answer.reply.text, m.item == std::string("1.1")
                                                        ? "owner (<@UOWNER>)"
                                                        : "owner (it has none yet)"));
            }
        }
    }
    // The snapshot is read, never changed.
    CHECK(*active == standard_release());
}

TEST_CASE("item commands × item states: the new state, the timeline row, or the refusal",
          "[unit]") {
    using S = item_state;
    struct row {
        const char* verb;
        S from;
        std::optional<S> to;      // nullopt: refused
        const char* said;         // the refusal, in part
        const char* action = "";  // the last timeline row
    };
    const row matrix[] = {
        {"check", S::open, S::done, "", "item.checked"},
        {"check", S::done, std::nullopt, "`1.2` *Security Scan* is already done."},
        {"check", S::skipped, S::done, "", "item.checked"},
        {"check", S::blocked, S::done, "", "item.checked"},
        {"uncheck", S::open, std::nullopt, "is already open."},
        {"uncheck", S::done, S::open, "", "item.unchecked"},
        {"uncheck", S::skipped, S::open, "", "item.unchecked"},
        {"uncheck", S::blocked, std::nullopt, "Clear the block with `/release unblock 1.2`."},
        {"skip", S::open, S::skipped, "", "item.skipped"},
        {"skip", S::done, std::nullopt, "Uncheck it first with `/release uncheck 1.2`"},
        {"skip", S::skipped, std::nullopt, "is already skipped."},
        {"skip", S::blocked, S::skipped, "", "item.skipped"},
        {"block", S::open, S::blocked, "", "item.blocked"},
        {"block", S::done, std::nullopt, "to block it."},
        {"block", S::skipped, std::nullopt, "to block it."},
        {"block", S::blocked, S::blocked, "", "item.blocked"},
        {"unblock", S::open, std::nullopt, "is not blocked (it is open)."},
        {"unblock", S::done, std::nullopt, "is not blocked (it is done)."},
        {"unblock", S::skipped, std::nullopt, "is not blocked (it is skipped)."},
        {"unblock", S::blocked, S::open, "", "item.unblocked"},
    };
    fake_lookups look;
    for (const auto& m : matrix) {
        auto r = standard_release();
        r.phases[0].items[1].state = m.from;
        r.phases[0].items[1].state_note = m.from == S::blocked ? "old reason" : "";
        auto active = shared(r);
        auto text = std::string(m.verb) + " 1.2" +
                    (m.verb == std::string("skip") || m.verb == std::string("block") ? " why" : "");
        INFO("/release " << text << " on a " << checklist::to_string(m.from) << " item");
        auto d = decide_as("UMANAGER", text, active, look);
        if (!m.to) {
            check_refused(d, m.verb);
            CHECK(contains(d.answer.reply.text, m.said));
            continue;
        }
        REQUIRE_FALSE(d.answer.refused);
        REQUIRE(d.state != nullptr);
        CHECK(d.state->phases[0].items[1].state == *m.to);
        CHECK(d.state != active);  // a copy, changed
        CHECK(active->phases[0].items[1].state == m.from);
        REQUIRE(d.log.items.size() == 1);
        CHECK(d.log.items[0] == checklist::item_pos{0, 1});
        CHECK(d.log.events.back().action == m.action);
        CHECK(d.log.events.back().item_id == 101);
        CHECK_FALSE(d.insert);
        // Only a block tells the channel.
        CHECK(d.messages.size() == (m.verb == std::string("block") ? 1U : 0U));
    }
}

TEST_CASE("check confirms the item and says when the gate opens", "[unit]") {
    fake_lookups look;
    auto r = standard_release();
    for (std::size_t i = 1; i < r.phases[0].items.size(); ++i) {
        r.phases[0].items[i].state = item_state::done;
    }
    auto d = decide_as("UOWNER", "check 1.1 https://ci.example.com/1", shared(r), look);
    CHECK(d.answer.reply.text ==
          ":white_check_mark: `1.1` *CI/CD Status* is done.\nEvery item of this phase is done "
          "or skipped: `/release next` moves on.");
    CHECK_FALSE(d.answer.in_channel);
    CHECK(d.log.events.back().note == "https://ci.example.com/1");
    CHECK(d.messages.empty());
}

TEST_CASE("block announces in the channel, keyed by the last timeline row written", "[unit]") {
    fake_lookups look;
    auto d = decide_as("UOWNER", "block 1.1 staging is down", shared(standard_release()), look);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.answer.reply.text ==
          ":no_entry: `1.1` *CI/CD Status* is blocked; I've told the channel.");
    CHECK(d.state->phases[0].items[0].state == item_state::blocked);
    CHECK(d.state->phases[0].items[0].state_note == "staging is down");
    REQUIRE(d.messages.size() == 1);
    const auto& m = d.messages[0];
    CHECK(m.key_prefix == "item-blocked:");
    CHECK(m.completed_by == key_id::last_audit);
    CHECK(m.key_suffix.empty());
    CHECK(m.message.to == checklist::destination::channel("C1"));
    CHECK(m.message.kind == message_kind::announcement);
    CHECK(m.message.method == "chat.postMessage");
    CHECK(m.message.release_id == 7);
    CHECK(contains(body_text(m), "blocked"));
    auto row = completed(m);
    CHECK(row.dedupe_key == "item-blocked:99");
    CHECK(row.release_id == 7);
    CHECK(contains(m.message.body, "The phase cannot end until it is cleared"));

    // An item of a phase already left holds nothing back, and the channel is not told it does.
    auto moved_on = standard_release();
    moved_on.current_phase = 2;
    auto past = decide_as("UOWNER", "block 1.1 regression found", shared(moved_on), look);
    REQUIRE_FALSE(past.answer.refused);
    REQUIRE(past.messages.size() == 1);
    CHECK(contains(past.messages[0].message.body, "Phase 1 is already over, so it holds nothing"));
    CHECK_FALSE(contains(past.messages[0].message.body, "cannot end"));
    auto ahead = decide_as("UMANAGER", "block 3.1 no dashboard", shared(standard_release()), look);
    REQUIRE(ahead.messages.size() == 1);
    CHECK(contains(ahead.messages[0].message.body, "Phase 3 cannot end until it is cleared"));
}

TEST_CASE("a note only grows the timeline: the snapshot itself is the state", "[unit]") {
    fake_lookups look;
    auto active = shared(standard_release());
    auto d = decide_as("UOWNER", "note 1.1 rerun after the flake", active, look);
    CHECK(d.answer.reply.text == ":memo: Noted on `1.1` *CI/CD Status*.");
    CHECK(d.state == active);  // no copy
    CHECK(d.log.items.empty());
    CHECK_FALSE(d.log.release);
    REQUIRE(d.log.events.size() == 1);
    CHECK(d.log.events[0].action == "item.noted");
    CHECK(d.log.events[0].note == "rerun after the flake");
    CHECK(d.messages.empty());
}

TEST_CASE("assign gives the item an owner and a due time, and DMs the new owner", "[unit]") {
    fake_lookups look;
    auto active = shared(standard_release());
    auto now = t0 + 600;
    auto d = decide_as("UMANAGER", "assign 1.3 <@UPAT|pat> due 2h", active, look, now);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.answer.changed);
    const auto& it = d.state->phases[0].items[2];
    CHECK(it.owner == "UPAT");
    CHECK(it.due_at == now + 7200);
    CHECK(d.log.events.back().action == "item.assigned");
    CHECK(contains(d.answer.reply.text,
                   ":bust_in_silhouette: `1.3` *Smoke Tests* is now <@UPAT>'s, due "));
    REQUIRE(d.messages.size() == 1);
    const auto& m = d.messages[0];
    CHECK(m.message.to == checklist::destination::direct("UPAT"));
    CHECK(m.message.kind == message_kind::dm);
    CHECK(m.key_prefix == "assigned:");
    CHECK(m.completed_by == key_id::last_audit);
    CHECK(completed(m).dedupe_key == "assigned:99");

    SECTION("to oneself: the owner's DM too, with its buttons (contract: DM to the owner)") {
        auto self = decide_as("UMANAGER", "assign 1.3 <@UMANAGER>", active, look, now);
        CHECK_FALSE(self.answer.refused);
        CHECK(self.state->phases[0].items[2].owner == "UMANAGER");
        REQUIRE(self.messages.size() == 1);
        CHECK(self.messages[0].message.to == checklist::destination::direct("UMANAGER"));
    }
    SECTION("to the holder of the role the item follows: detached from the role") {
        auto r = *active;
        auto& item = r.phases[0].items[2];
        item.owner = "UPAT";
        item.owner_role = "qa";
        auto d = decide_as("UMANAGER", "assign 1.3 <@UPAT>", shared(r), look, now);
        REQUIRE_FALSE(d.answer.refused);
        CHECK(d.state->phases[0].items[2].owner == "UPAT");
        CHECK(d.state->phases[0].items[2].owner_role.empty());
        CHECK(contains(d.answer.reply.text, "no longer moves with the qa role"));
        REQUIRE(d.log.events.size() == 1);
        CHECK(d.log.events[0].action == "item.assigned");
        // Detached, the same assignment again changes nothing.
        check_refused(decide_as("UMANAGER", "assign 1.3 <@UPAT>", shared(*d.state), look, now),
                      "assign");
    }
    SECTION("by the owner of another item, or an outsider: refused; by an admin: allowed") {
        check_refused(decide_as("UOWNER", "assign 1.3 <@UPAT>", active, look, now), "assign");
        auto no = decide_as("USTRANGER", "assign 1.3 <@UPAT>", active, look, now);
        check_refused(no, "assign");
        CHECK(no.answer.reply.text ==
              "Only the release manager (<@UMANAGER>) or an admin can assign items.");
        CHECK_FALSE(decide_as("UADMIN", "assign 1.3 <@UPAT>", active, look, now).answer.refused);
    }
    SECTION("a due time already passed is refused") {
        auto past =
            decide_as("UMANAGER", "assign 1.3 <@UPAT> due 2026-01-01 10:00", active, look, now);
        check_refused(past, "assign");
        CHECK(contains(past.answer.reply.text, "has already passed"));
    }
    SECTION("without `due`, an item that had one loses it, and the reply says so") {
        auto timed = decide_as("UMANAGER", "assign 1.3 <@UPAT> due 2h", active, look, now);
        REQUIRE(timed.state);
        auto moved =
            decide_as("UMANAGER", "assign 1.3 <@ULEE>", shared(*timed.state), look, now + 60);
        REQUIRE(moved.state);
        CHECK_FALSE(moved.state->phases[0].items[2].due_at);
        CHECK(contains(moved.answer.reply.text, "It has no due time any more (it was due "));
        CHECK(contains(moved.answer.reply.text, "`/release assign 1.3 @name due 2h` sets one"));
        auto untimed = decide_as("UMANAGER", "assign 1.3 <@ULEE>", active, look, now);
        CHECK_FALSE(contains(untimed.answer.reply.text, "no due time"));
    }
    SECTION("a snooze was the previous owner's: the new owner's reminders are not held by it") {
        auto snoozed = *active;
        snoozed.phases[0].items[2].owner = "UPAT";
        snoozed.phases[0].items[2].snoozed_until = now + 4 * 3600;
        auto moved = decide_as("UMANAGER", "assign 1.3 <@ULEE>", shared(snoozed), look, now);
        REQUIRE(moved.state);
        CHECK_FALSE(moved.state->phases[0].items[2].snoozed_until);
        // The same owner with a new due time keeps their own snooze.
        auto again = decide_as("UMANAGER", "assign 1.3 <@UPAT> due 2h", shared(snoozed), look, now);
        REQUIRE(again.state);
        CHECK(again.state->phases[0].items[2].snoozed_until == now + 4 * 3600);
    }
    SECTION("the same owner again is refused") {
        auto again = decide_as("UMANAGER", "assign 1.1 <@UOWNER>", active, look, now);
        check_refused(again, "assign");
        CHECK(again.answer.reply.text == "`1.1` *CI/CD Status* already has that owner.");
    }
}

TEST_CASE("an item command names a missing item, and needs an active release", "[unit]") {
    fake_lookups look;
    auto unknown = decide_as("UMANAGER", "check 9.9", shared(standard_release()), look);
    check_refused(unknown, "check");
    CHECK(contains(unknown.answer.reply.text, "There is no item `9.9` in release *v1*."));
    auto ambiguous = decide_as("UMANAGER", "check deploy", shared(standard_release()), look);
    check_refused(ambiguous, "check");
    CHECK(contains(ambiguous.answer.reply.text, "`deploy` matches 3 items"));
    for (const auto& text : {"check 1.1", "uncheck 1.1", "skip 1.1 x", "block 1.1 x", "unblock 1.1",
                             "note 1.1 x", "assign 1.1 <@UPAT>"}) {
        INFO(text);
        auto d = decide_as("UMANAGER", text, nullptr, look);
        check_refused(d, std::string(text).substr(0, std::string(text).find(' ')));
        CHECK(d.answer.reply.text ==
              "There is no active release in this channel. Start one with `/release start "
              "<version>`.");
    }
}

TEST_CASE("bad input is refused as bad_input, with the usage", "[unit]") {
    fake_lookups look;
    auto d = decide_as("UMANAGER", "check", shared(standard_release()), look);
    check_refused(d, "bad_input");
    CHECK(contains(d.answer.reply.text, "check <item>"));
}

}  // namespace unit_decide_items_test
