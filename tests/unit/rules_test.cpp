// The release rules as a matrix: item state × command × role, the phase gate with windows,
// and item references.
#include "checklist/rules.hpp"

#include <catch2/catch.hpp>

#include "checklist/item_ref.hpp"
#include "commands/refusals.hpp"

namespace unit_rules_test {

using namespace relbot::checklist;

namespace {

// A refusal as a person who typed the command reads it.
std::string said(const release& r, const verdict& v) {
    REQUIRE(v);
    return relbot::commands::word_refusal(r, *v);
}

release standard(epoch_seconds now = 1000) {
    template_library lib;
    auto r = make_release(*lib.find("standard"), "C1", "v1", "UMANAGER", now);
    std::int64_t id = 1;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.id = id++;
        }
    }
    r.phases[0].items[0].owner = "UOWNER";
    return r;
}

enum class cmd { check, uncheck, skip, block, unblock, note };

verdict apply(cmd c, release& r, item_pos p, change_log& log) {
    switch (c) {
        case cmd::check:
            return check_item(r, p, "evidence", log);
        case cmd::uncheck:
            return uncheck_item(r, p, log);
        case cmd::skip:
            return skip_item(r, p, "not needed", log);
        case cmd::block:
            return block_item(r, p, "broken", log);
        case cmd::unblock:
            return unblock_item(r, p, log);
        case cmd::note:
            return note_item(r, p, "fyi", log);
    }
    return refusal{refused::not_manager, "?", std::nullopt, {}, std::nullopt, false, false, 0};
}

}  // namespace

TEST_CASE("item transitions: every state × every item command", "[unit]") {
    using S = item_state;
    struct expect {
        cmd command;
        S from;
        std::optional<S> to;  // nullopt: refused, nothing changes
    };
    const expect matrix[] = {
        {cmd::check, S::open, S::done},
        {cmd::check, S::done, std::nullopt},
        {cmd::check, S::skipped, S::done},
        {cmd::check, S::blocked, S::done},
        {cmd::uncheck, S::open, std::nullopt},
        {cmd::uncheck, S::done, S::open},
        {cmd::uncheck, S::skipped, S::open},
        {cmd::uncheck, S::blocked, std::nullopt},
        {cmd::skip, S::open, S::skipped},
        {cmd::skip, S::done, std::nullopt},
        {cmd::skip, S::skipped, std::nullopt},
        {cmd::skip, S::blocked, S::skipped},
        {cmd::block, S::open, S::blocked},
        {cmd::block, S::done, std::nullopt},
        {cmd::block, S::skipped, std::nullopt},
        {cmd::block, S::blocked, S::blocked},
        {cmd::unblock, S::open, std::nullopt},
        {cmd::unblock, S::done, std::nullopt},
        {cmd::unblock, S::skipped, std::nullopt},
        {cmd::unblock, S::blocked, S::open},
        {cmd::note, S::open, S::open},
        {cmd::note, S::done, S::done},
        {cmd::note, S::skipped, S::skipped},
        {cmd::note, S::blocked, S::blocked},
    };
    for (const auto& e : matrix) {
        INFO("command " << static_cast<int>(e.command) << " from " << to_string(e.from));
        auto r = standard();
        item_pos p{0, 2};
        r.phases[0].items[2].state = e.from;
        r.phases[0].items[2].state_note = e.from == S::blocked ? "old reason" : "";
        change_log log;
        auto v = apply(e.command, r, p, log);
        if (!e.to) {
            CHECK(v);
            CHECK(log.empty());
            CHECK(r.phases[0].items[2].state == e.from);
            CHECK_FALSE(said(r, v).empty());
        } else {
            CHECK_FALSE(v);
            CHECK(r.phases[0].items[2].state == *e.to);
            REQUIRE_FALSE(log.events.empty());  // every change has its audit row
            CHECK(log.events.back().item_id == r.phases[0].items[2].id);
        }
    }
}

TEST_CASE("checking a blocked item records both the unblock and the check", "[unit]") {
    auto r = standard();
    change_log log;
    REQUIRE_FALSE(block_item(r, {0, 1}, "scanner down", log));
    change_log log2;
    REQUIRE_FALSE(check_item(r, {0, 1}, "rerun green", log2));
    REQUIRE(log2.events.size() == 2);
    CHECK(log2.events[0].action == "item.unblocked");
    CHECK(log2.events[1].action == "item.checked");
    CHECK(log2.events[1].note == "rerun green");
}

TEST_CASE("blocking a blocked item replaces the reason and keeps both in the timeline", "[unit]") {
    auto r = standard();
    change_log log;
    REQUIRE_FALSE(block_item(r, {0, 1}, "first", log));
    REQUIRE_FALSE(block_item(r, {0, 1}, "second", log));
    CHECK(r.phases[0].items[1].state_note == "second");
    REQUIRE(log.events.size() == 2);
    CHECK(log.events[0].note == "first");
    CHECK(log.events[1].note == "second");
    CHECK(log.events[1].from == "blocked");
}

TEST_CASE("who may: roles × actions", "[unit]") {
    auto r = standard();
    const auto& owned = r.phases[0].items[0];  // owner UOWNER
    const auto& unowned = r.phases[0].items[1];
    actor manager{"UMANAGER", false};
    actor admin{"UADMIN", true};
    actor owner{"UOWNER", false};
    actor stranger{"USTRANGER", false};

    CHECK_FALSE(require_item_change(r, owned, manager, "check"));
    CHECK_FALSE(require_item_change(r, owned, admin, "check"));
    CHECK_FALSE(require_item_change(r, owned, owner, "check"));
    CHECK(require_item_change(r, owned, stranger, "check"));
    CHECK(require_item_change(r, unowned, owner, "check"));  // owner of another item only
    CHECK_FALSE(require_manager(r, manager, "move on"));
    CHECK_FALSE(require_manager(r, admin, "move on"));
    CHECK(require_manager(r, owner, "move on"));
    CHECK(require_manager(r, stranger, "move on"));

    auto refusal = require_item_change(r, owned, stranger, "check");
    CHECK(said(r, refusal).find("<@UMANAGER>") != std::string::npos);
    CHECK(said(r, refusal).find("<@UOWNER>") != std::string::npos);
    CHECK(said(r, require_manager(r, stranger, "move on")).find("release manager (<@UMANAGER>)") !=
          std::string::npos);
}

TEST_CASE("the gate holds until every item is done or skipped, and force moves on and is recorded",
          "[unit]") {
    auto r = standard();
    change_log log;
    auto refused = advance_phase(r, 2000, "", log);
    REQUIRE(refused);
    CHECK(said(r, refused).find("9 items are not done or skipped") != std::string::npos);
    CHECK(said(r, refused).find("force <reason>") != std::string::npos);
    CHECK(r.current_phase == 1);
    CHECK(log.empty());

    for (std::size_t i = 0; i < r.phases[0].items.size(); ++i) {
        if (i == 3) {
            REQUIRE_FALSE(skip_item(r, {0, i}, "n/a", log));
        } else {
            REQUIRE_FALSE(check_item(r, {0, i}, "", log));
        }
    }
    CHECK(current_gate(r, 2000).open());
    change_log moved;
    REQUIRE_FALSE(advance_phase(r, 2000, "", moved));
    CHECK(r.current_phase == 2);
    CHECK(r.phases[1].entered_at == 2000);
    CHECK(moved.release);

    change_log forced;
    REQUIRE_FALSE(advance_phase(r, 3000, "hotfix, skipping ceremony", forced));
    CHECK(r.current_phase == 3);
    CHECK(forced.events.front().action == "phase.forced");
    CHECK(forced.events.front().note == "hotfix, skipping ceremony");
}

TEST_CASE("a phase window holds next until its minimum has passed", "[unit]") {
    auto r = standard();
    r.current_phase = 5;  // Post-Release Monitoring (24-48 hours)
    r.phases[4].entered_at = 10'000;
    for (auto& i : r.phases[4].items) {
        i.state = item_state::done;
    }
    auto g = current_gate(r, 10'000 + 3600);
    CHECK_FALSE(g.open());
    CHECK(g.holding.empty());
    CHECK(g.opens_at == 10'000 + 24 * 3600);
    change_log log;
    auto refused = advance_phase(r, 10'000 + 3600, "", log);
    REQUIRE(refused);
    CHECK(said(r, refused).find("window") != std::string::npos);
    CHECK_FALSE(advance_phase(r, 10'000 + 24 * 3600, "", log));
    CHECK(r.current_phase == 6);
}

TEST_CASE("next in the last phase says to finish, and finish needs the last phase's gate or force",
          "[unit]") {
    auto r = standard();
    change_log log;
    auto early = finish_release(r, 5000, "", log);
    REQUIRE(early);
    CHECK(said(r, early).find("last phase") != std::string::npos);
    r.current_phase = 6;
    r.phases[5].entered_at = 4000;
    auto last = advance_phase(r, 5000, "", log);
    REQUIRE(last);
    CHECK(said(r, last).find("/release finish") != std::string::npos);
    auto held = finish_release(r, 5000, "", log);
    REQUIRE(held);
    CHECK(said(r, held).find("3 items") != std::string::npos);
    REQUIRE_FALSE(finish_release(r, 5000, "retro moved to next week", log));
    CHECK(r.status == release_status::finished);
    CHECK(r.ended_at == 5000);
}

TEST_CASE("items are found by position, slug or unique prefix", "[unit]") {
    auto r = standard();
    auto found = [&](std::string_view ref) -> std::optional<item_pos> {
        auto res = resolve_item(r, ref);
        if (auto* f = std::get_if<ref_found>(&res)) {
            return f->pos;
        }
        return std::nullopt;
    };
    CHECK(found("1.1") == item_pos{0, 0});
    CHECK(found("3.1") == item_pos{2, 0});
    CHECK(found("smoke-tests") == item_pos{0, 2});  // exact slug beats the longer one
    CHECK(found("smoke-tests-p") == item_pos{2, 0});
    CHECK(found("Smoke-Tests-Production") == item_pos{2, 0});
    CHECK(found("ci") == item_pos{0, 0});  // unique prefix
    CHECK(found("rollback-p") == item_pos{0, 4});

    auto amb = resolve_item(r, "smoke");
    REQUIRE(std::holds_alternative<ref_ambiguous>(amb));
    CHECK(std::get<ref_ambiguous>(amb).candidates == std::vector<item_pos>{{0, 2}, {2, 0}});
    CHECK(found("post") == item_pos{3, 4});  // post-release-report is the only item slug
    auto d = resolve_item(r, "deploy");
    REQUIRE(std::holds_alternative<ref_ambiguous>(d));
    CHECK(std::get<ref_ambiguous>(d).candidates.size() ==
          3);  // deployment-window, deploy-to-production, deployment-verification
    auto unknown = resolve_item(r, "smoak-tests");
    REQUIRE(std::holds_alternative<ref_unknown>(unknown));
    auto closest = std::get<ref_unknown>(unknown).closest;
    REQUIRE_FALSE(closest.empty());
    CHECK(r.phases[closest[0].phase].items[closest[0].index].slug == "smoke-tests");
    auto slugs_meant = [&](std::string_view typed) {
        std::vector<std::string> slugs;
        auto u = resolve_item(r, typed);
        REQUIRE(std::holds_alternative<ref_unknown>(u));
        for (const auto& p : std::get<ref_unknown>(u).closest) {
            slugs.push_back(r.phases[p.phase].items[p.index].slug);
        }
        return slugs;
    };
    // A word inside the name is offered first; text far from every name offers nothing.
    CHECK(slugs_meant("migrations") == std::vector<std::string>{"database-migrations"});
    CHECK(slugs_meant("Migratoins") == std::vector<std::string>{"database-migrations"});
    CHECK(slugs_meant("zzzzzzzz").empty());
    CHECK(slugs_meant("x").empty());
    CHECK(slugs_meant("ion").empty());  // three letters inside a word are not a name
    CHECK(slugs_meant("???").empty());
    // A word's start before a word found inside another, before a typing mistake.
    CHECK(slugs_meant("flags").front() == "feature-flags");
    CHECK(slugs_meant("migration").front() == "database-migrations");
    CHECK(std::holds_alternative<ref_unknown>(resolve_item(r, "7.1")));
    CHECK(std::holds_alternative<ref_unknown>(resolve_item(r, "1.99")));
    CHECK(std::holds_alternative<ref_unknown>(resolve_item(r, "0.1")));
}

TEST_CASE("edit distance", "[unit]") {
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("same", "same") == 0);
    // A swap of two neighbours is one edit ("stauts" for "status"), not two.
    CHECK(edit_distance("stauts", "status") == 1);
    CHECK(edit_distance("ab", "ba") == 1);
    CHECK(edit_distance("abc", "ca") == 3);
}

TEST_CASE(
    "a refusal is data (what was refused and who could), and a typed command is told what to "
    "type and a click is not",
    "[unit]") {
    auto r = standard();
    actor stranger{"USTRANGER", false};
    auto no = require_item_change(r, r.phases[0].items[0], stranger, "check");
    REQUIRE(no);
    CHECK(no->why == refused::not_item_changer);
    CHECK(no->who == "UMANAGER");
    CHECK(no->item == item_pos{0, 0});

    change_log log;
    REQUIRE_FALSE(block_item(r, {0, 1}, "scanner down", log));
    auto blocked = uncheck_item(r, {0, 1}, log);
    REQUIRE(blocked);
    CHECK(blocked->why == refused::blocked_not_done);
    using relbot::commands::way_in;
    using relbot::commands::word_refusal;
    CHECK(word_refusal(r, *blocked, way_in::command).find("`/release unblock 1.2`") !=
          std::string::npos);
    CHECK(word_refusal(r, *blocked, way_in::click).find("/release") == std::string::npos);

    auto gate = advance_phase(r, 2000, "", log);
    REQUIRE(gate);
    CHECK(gate->why == refused::gate_closed);
    REQUIRE(gate->held);
    CHECK(gate->held->holding.size() == 9);
    CHECK(word_refusal(r, *gate, way_in::command).find("`/release next force <reason>`") !=
          std::string::npos);
    auto clicked = word_refusal(r, *gate, way_in::click);
    CHECK(clicked.find("/release") == std::string::npos);
    CHECK(clicked.find("`1.2` *Security Scan* — blocked (scanner down), no owner") !=
          std::string::npos);

    actor oncall{"UONCALL", false};
    auto nothing = accept_handoff(r, oncall, 3000, log);
    REQUIRE(nothing);
    CHECK(nothing->why == refused::no_handoff);
    for (auto how : {way_in::command, way_in::click}) {
        for (const auto& v : {*no, *blocked, *gate, *nothing}) {
            CHECK_FALSE(word_refusal(r, v, how).empty());
        }
    }
}

}  // namespace unit_rules_test
