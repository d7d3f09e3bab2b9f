// The release's lifecycle as decisions, with no database: start, next, rollback, handoff,
// accept, manager, finish, abort and remind; who may, the gate, an ended release, and what each
// decision writes, sends (kinds, destinations, dedupe keys) and answers.
#include <catch2/catch.hpp>

#include "bot/zones.hpp"
#include "commands/render.hpp"
#include "decide_fixture.hpp"

namespace unit_decide_release_test {

using namespace relbot;
using namespace relbot::test;
using checklist::destination;
using checklist::message_kind;
using commands::key_id;

namespace {

// The release in its last phase, every item but the last phase's done.
checklist::release in_last_phase() {
    auto r = standard_release();
    for (std::size_t p = 0; p + 1 < r.phases.size(); ++p) {
        for (auto& i : r.phases[p].items) {
            i.state = checklist::item_state::done;
        }
        r.phases[p].entered_at = t0;
    }
    r.current_phase = static_cast<int>(r.phases.size());
    r.phases.back().entered_at = t0;
    return r;
}

std::string summary_block(const commands::planned_message& m) {
    auto body = nlohmann::json::parse(m.message.body);
    return body["blocks"][1]["text"]["text"].get<std::string>();
}

}  // namespace

TEST_CASE("start inserts a new release and plans its announcement and status message by its id",
          "[unit]") {
    fake_lookups look;
    auto now = t0 + 5;
    auto d = decide_as("UMANAGER", "start v2.0", nullptr, look, now);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.answer.changed);
    CHECK(d.answer.name == "start");
    CHECK(contains(d.answer.reply.text,
                   ":white_check_mark: Started release *v2.0* with the "
                   "`standard` template: 6 phases, 33 items. You are the "
                   "release manager."));
    REQUIRE(d.insert);
    CHECK(d.state == nullptr);
    CHECK(d.insert->id == 0);  // storage gives it one
    CHECK(d.insert->version == "v2.0");
    CHECK(d.insert->manager == "UMANAGER");
    CHECK(d.insert->channel == "C1");
    CHECK(d.insert->started_at == now);
    REQUIRE(d.log.events.size() == 2);
    CHECK(d.log.events[0].action == "release.started");
    CHECK(d.log.events[0].to == "active");
    CHECK(d.log.events[0].note == "template standard");
    CHECK(d.log.events[1].action == "phase.entered");
    CHECK(d.log.events[1].to == "Pre-Release Checks");
    CHECK(d.log.items.empty());

    REQUIRE(d.messages.size() == 2);
    const auto& started = d.messages[0];
    CHECK(started.key_prefix == "release-started:");
    CHECK(started.completed_by == key_id::release);
    CHECK(started.message.kind == message_kind::announcement);
    CHECK(started.message.to == destination::channel("C1"));
    CHECK_FALSE(started.message.release_id);  // the shell fills it in
    const auto& status = d.messages[1];
    CHECK(status.key_prefix == "status:");
    CHECK(status.completed_by == key_id::release);
    CHECK(status.message.kind == message_kind::status);
    CHECK(status.message.to == destination::channel("C1"));
    // Completed once the release is stored as 42 (no audit id is needed).
    auto row = started.complete(42, 0);
    CHECK(row.dedupe_key == "release-started:42");
    CHECK(row.release_id == 42);
    CHECK(status.complete(42, 0).dedupe_key == "status:42");
}

TEST_CASE("start is refused while a release is active, for an unknown template or source",
          "[unit]") {
    fake_lookups look;
    auto active = decide_as("UOWNER", "start v2.0", shared(standard_release()), look);
    check_refused(active, "start");
    CHECK(contains(active.answer.reply.text,
                   "Release *v1* is already active in this channel (release manager "
                   "<@UMANAGER>)."));
    auto tpl = decide_as("UMANAGER", "start v2.0 template nope", nullptr, look);
    check_refused(tpl, "start");
    CHECK(tpl.answer.reply.text == "There is no template called `nope`. Templates: `standard`.");
    auto from = decide_as("UMANAGER", "start v2.0 owners-from v0", nullptr, look);
    check_refused(from, "start");
    CHECK(contains(from.answer.reply.text, "There is no release *v0* in this channel"));
}

TEST_CASE("start after an ended release copies owners from it when asked", "[unit]") {
    fake_lookups look;
    auto ended = standard_release();
    ended.status = checklist::release_status::finished;
    look.releases.push_back(ended);
    auto d = decide_as("UMANAGER", "start v2.0 owners-from v1", nullptr, look);
    REQUIRE(d.insert);
    CHECK(d.insert->phases[0].items[0].owner == "UOWNER");
    CHECK(d.insert->phases[1].items[0].owner == "UOWNER2");
    CHECK(d.log.events[0].note == "template standard, owners of 2 items from v1");
    CHECK(contains(d.answer.reply.text, "(owners of 2 items from v1)"));
}

TEST_CASE("next: only the manager or an admin, only through an open gate or by force", "[unit]") {
    fake_lookups look;
    auto active = shared(standard_release());
    for (const auto& user : {"UOWNER", "USTRANGER"}) {
        auto d = decide_as(user, "next", active, look);
        check_refused(d, "next");
        CHECK(d.answer.reply.text ==
              "Only the release manager (<@UMANAGER>) or an admin can move to the next phase.");
    }
    auto held = decide_as("UMANAGER", "next", active, look);
    check_refused(held, "next");
    CHECK(contains(held.answer.reply.text, "9 items are not done or skipped"));
    CHECK(contains(held.answer.reply.text, "`/release next force <reason>`"));

    auto open = standard_release();
    settle_current_phase(open);
    for (const auto& user : {"UMANAGER", "UADMIN"}) {
        INFO(user);
        auto d = decide_as(user, "next", shared(open), look);
        REQUIRE_FALSE(d.answer.refused);
        CHECK(d.state->current_phase == 2);
        CHECK(d.answer.reply.text ==
              ":arrow_forward: Phase 2 of 6, *Deployment Steps*, has "
              "begun. I've announced it in the channel.");
    }
}

TEST_CASE("next by force DMs each owner of the new phase, then announces, by fixed keys",
          "[unit]") {
    fake_lookups look;
    auto d = decide_as("UMANAGER", "next force hotfix", shared(standard_release()), look, t0 + 90);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.state->current_phase == 2);
    CHECK(d.state->phases[1].entered_at == t0 + 90);
    CHECK(d.log.release);
    CHECK(d.log.events.front().action == "phase.forced");
    CHECK(d.log.events.front().note == "hotfix");
    CHECK(contains(d.answer.reply.text, "(forced; the reason is recorded)"));
    REQUIRE(d.messages.size() == 2);
    const auto& dm = d.messages[0];
    CHECK(dm.message.to == destination::direct("UOWNER2"));
    CHECK(dm.message.kind == message_kind::dm);
    CHECK(dm.completed_by == key_id::none);
    CHECK(completed(dm).dedupe_key == "phase-owner:7:2:UOWNER2");
    CHECK(contains(body_text(dm), "Phase 2 of 6"));
    const auto& entered = d.messages[1];
    CHECK(entered.message.to == destination::channel("C1"));
    CHECK(entered.message.kind == message_kind::announcement);
    CHECK(completed(entered).dedupe_key == "phase-entered:7:2");
    CHECK(completed(entered).release_id == 7);
}

TEST_CASE("next in the last phase says to finish, and a window holds the gate", "[unit]") {
    fake_lookups look;
    auto last = in_last_phase();
    settle_current_phase(last);
    auto d = decide_as("UMANAGER", "next", shared(last), look);
    check_refused(d, "next");
    CHECK(d.answer.reply.text == "This is the last phase. End the release with `/release finish`.");

    auto windowed = standard_release();
    windowed.current_phase = 5;  // Post-Release Monitoring (24-48 hours)
    windowed.phases[4].entered_at = t0;
    settle_current_phase(windowed);
    auto early = decide_as("UMANAGER", "next", shared(windowed), look, t0 + 3600);
    check_refused(early, "next");
    CHECK(contains(early.answer.reply.text, "Its window keeps it open until"));
    CHECK_FALSE(
        decide_as("UMANAGER", "next", shared(windowed), look, t0 + 24 * 3600).answer.refused);

    // The check that settles the phase says when it can be left (the window's minimum), not
    // that its window ends then (the window's maximum is a day later).
    auto one_open = windowed;
    one_open.phases[4].items[0].state = checklist::item_state::open;
    auto checked = decide_as("UMANAGER", "check 5.1", shared(one_open), look, t0 + 3600);
    REQUIRE_FALSE(checked.answer.refused);
    CHECK(contains(checked.answer.reply.text,
                   "Every item of this phase is done or skipped; it can be left after "));
    CHECK(contains(checked.answer.reply.text, "(`/release next` then)."));
    CHECK_FALSE(contains(checked.answer.reply.text, "window ends"));
}

TEST_CASE("next into deployment held by a freeze and by another release deploying names both",
          "[unit]") {
    fake_lookups look;
    look.deploying = std::pair<std::string, std::string>{"v0.9", "C2"};
    auto w = std::get<checklist::freeze_window>(
        checklist::read_freeze_window("2026-11-20 00:00 to 2026-12-01 00:00 UTC: holidays"));
    w.zone = bot::load_zone(w.zone_name);
    REQUIRE(w.zone);
    look.policy.freezes.push_back(std::move(w));
    look.policy.one_deploy_at_a_time = true;
    auto r = standard_release();
    settle_current_phase(r);  // phase 1 done: next enters Deployment Steps
    auto d = decide_as("UMANAGER", "next", shared(r), look);
    check_refused(d, "next");
    // The window (from, until) and its reason (contract).
    CHECK(contains(d.answer.reply.text, "Deployments are frozen from <!date^1795132800^"));
    CHECK(contains(d.answer.reply.text, " until <!date^1796083200^"));
    CHECK(contains(d.answer.reply.text, "Also, v0.9 in <#C2> is deploying"));
    CHECK(contains(d.answer.reply.text, "`/release next force <reason>`, past both."));
    // Without the freeze, the other release alone holds it, and says so.
    look.policy.freezes.clear();
    auto alone = decide_as("UMANAGER", "next", shared(r), look);
    check_refused(alone, "next");
    CHECK(contains(alone.answer.reply.text, "v0.9 in <#C2> is deploying"));
    CHECK_FALSE(contains(alone.answer.reply.text, "past both"));
}

TEST_CASE("rollback is recorded and announced, keyed by its timeline row", "[unit]") {
    fake_lookups look;
    auto active = shared(standard_release());
    check_refused(decide_as("UOWNER", "rollback errors spiking", active, look), "rollback");
    auto d = decide_as("UADMIN", "rollback errors spiking", active, look);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.log.events.back().action == "release.rollback");
    CHECK(d.log.events.back().note == "errors spiking");
    REQUIRE(d.messages.size() == 1);
    CHECK(d.messages[0].message.kind == message_kind::announcement);
    CHECK(d.messages[0].completed_by == key_id::last_audit);
    CHECK(completed(d.messages[0]).dedupe_key == "rollback:99");
}

TEST_CASE("handoff posts the briefing in the channel and DMs it to each person named", "[unit]") {
    fake_lookups look;
    auto active = shared(standard_release());
    check_refused(decide_as("UOWNER", "handoff <@UONCALL> <@UPM>", active, look), "handoff");
    auto d = decide_as("UMANAGER", "handoff <@UONCALL> <@UPM>", active, look);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.answer.reply.text ==
          ":handshake: Handoff to <@UONCALL> and <@UPM> recorded; the "
          "briefing is posted in the channel.");
    CHECK(d.state->oncall == "UONCALL");
    CHECK(d.state->pm == "UPM");
    CHECK(look.timeline_reads == 1);
    REQUIRE(d.messages.size() == 3);
    CHECK(d.messages[0].message.kind == message_kind::briefing);
    CHECK(d.messages[0].message.to == destination::channel("C1"));
    CHECK(completed(d.messages[0]).dedupe_key == "handoff:99");
    CHECK(d.messages[1].message.kind == message_kind::briefing_dm);
    CHECK(d.messages[1].message.to == destination::direct("UONCALL"));
    CHECK(completed(d.messages[1]).dedupe_key == "handoff-dm:99:UONCALL");
    CHECK(d.messages[2].message.to == destination::direct("UPM"));
    CHECK(completed(d.messages[2]).dedupe_key == "handoff-dm:99:UPM");
    // The same briefing; the on-call engineer's DM also has the Accept handoff button.
    CHECK(d.messages[2].message.body == d.messages[0].message.body);
    CHECK(d.messages[1].message.body != d.messages[0].message.body);
    CHECK(contains(d.messages[1].message.body, "Accept handoff"));
    CHECK_FALSE(contains(d.messages[0].message.body, "Accept handoff"));
}

TEST_CASE("accept: only the on-call engineer named, once, and they take the open items", "[unit]") {
    fake_lookups look;
    auto none = decide_as("UONCALL", "accept", shared(standard_release()), look);
    check_refused(none, "accept");
    CHECK(contains(none.answer.reply.text, "There is no handoff to accept yet"));

    auto r = standard_release();
    r.oncall = "UONCALL";
    r.handoff_at = t0 + 10;
    auto handed = shared(r);
    auto other = decide_as("UMANAGER", "accept", handed, look);
    check_refused(other, "accept");
    CHECK(other.answer.reply.text ==
          "Only <@UONCALL>, the on-call engineer named in the handoff, can accept it.");
    auto d = decide_as("UONCALL", "accept", handed, look, t0 + 20);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.state->handoff_accepted_at == t0 + 20);
    CHECK(d.state->phases[0].items[1].owner == "UONCALL");
    CHECK(d.answer.reply.text ==
          ":handshake: Handoff accepted. You now own 9 open items of phase 1; "
          "`/release status` shows them.");
    REQUIRE(d.messages.size() == 1);
    CHECK(completed(d.messages[0]).dedupe_key == "handoff-accepted:99");

    // The briefing says what accepting takes: this phase's open items, not later phases'.
    auto briefing = commands::render_handoff(r, {}, "UMANAGER").blocks.dump();
    CHECK(contains(briefing, "to take over the 9 open items of phase 1."));
    CHECK(contains(briefing,
                   "Still open in phase 1, Pre-Release Checks (accepting the handoff "
                   "takes these over)"));
    CHECK(contains(briefing, "Still open in later phases"));
    // With nothing open in the phase, neither promises items.
    auto settled = r;
    settled.handoff_accepted_at.reset();
    settle_current_phase(settled);
    CHECK(contains(commands::render_handoff(settled, {}, "UMANAGER").blocks.dump(),
                   "to take over the release (phase 1 has no open items left to take over)."));
    auto nothing_open = decide_as("UONCALL", "accept", shared(settled), look, t0 + 20);
    REQUIRE_FALSE(nothing_open.answer.refused);
    CHECK(nothing_open.answer.reply.text ==
          ":handshake: Handoff accepted. Phase 1 has no open items left to take over.");

    r.handoff_accepted_at = t0 + 20;
    check_refused(decide_as("UONCALL", "accept", shared(r), look), "accept");
}

TEST_CASE("a role given to someone new asks them for the sign-offs the role owes", "[unit]") {
    fake_lookups look;
    auto r = standard_release();
    r.roles = {{"qa", "UQA"}};
    auto& notes = r.phases[0].items[0];  // 1.1, checked by its owner, awaiting qa's sign-off
    notes.policy.sign_off = checklist::sign_off_rule{1, "qa"};
    notes.state = checklist::item_state::done;
    notes.state_by = "UOWNER";
    notes.state_at = t0;
    auto d = decide_as("UMANAGER", "role qa <@UPAT>", shared(r), look);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(contains(d.answer.reply.text, "I've asked them for the 1 sign-off the role owes."));
    int asked = 0;
    for (const auto& m : d.messages) {
        if (m.key_prefix == "sign-off-ask:") {
            CHECK(m.message.to == destination::direct("UPAT"));
            ++asked;
        }
    }
    CHECK(asked == 1);
    // Signed off already: nothing is owed, nobody is asked.
    notes.approvals.push_back({"UQA", t0 + 60});
    auto after = decide_as("UMANAGER", "role qa <@UPAT>", shared(r), look);
    REQUIRE_FALSE(after.answer.refused);
    for (const auto& m : after.messages) {
        CHECK(m.key_prefix != "sign-off-ask:");
    }
}

TEST_CASE(
    "manager hands the role over in the channel, with the items the template gives the manager, "
    "and tells the new manager",
    "[unit]") {
    fake_lookups look;
    auto r = standard_release();
    auto& deploy = r.phases[1].items[2];  // `owner: manager`
    deploy.owner = "UMANAGER";
    deploy.owner_role = "manager";
    deploy.snoozed_until = t0 + 3600;  // the old manager's snooze
    // Done already: stays with who was responsible when it was done.
    auto& earlier = r.phases[0].items[3];
    earlier.owner = "UMANAGER";
    earlier.owner_role = "manager";
    earlier.state = checklist::item_state::done;
    earlier.state_by = "UMANAGER";
    // Checked by its owner, and awaiting the release manager's sign-off (asked of UMANAGER).
    auto& notes = r.phases[0].items[0];
    notes.policy.sign_off = checklist::sign_off_rule{1, ""};
    notes.state = checklist::item_state::done;
    notes.state_by = "UOWNER";
    notes.state_at = t0;
    auto active = shared(r);
    check_refused(decide_as("UOWNER", "manager <@UOWNER>", active, look), "manager");
    auto same = decide_as("UMANAGER", "manager <@UMANAGER>", active, look);
    check_refused(same, "manager");
    CHECK(same.answer.reply.text == "<@UMANAGER> is already the release manager.");
    auto d = decide_as("UMANAGER", "manager <@UNEW>", active, look);
    REQUIRE_FALSE(d.answer.refused);
    // The reply is the asker's (ephemeral); the channel is told by an announcement.
    CHECK_FALSE(d.answer.in_channel);
    CHECK(d.state->manager == "UNEW");
    CHECK(d.log.release);
    CHECK(d.answer.reply.text ==
          ":crown: <@UNEW> is now the release manager of *v1* (was <@UMANAGER>); 1 item the "
          "template gives the release manager moved to them. I've asked them for the 1 "
          "sign-off the release manager owes.");
    const auto& moved = d.state->phases[1].items[2];
    CHECK(moved.owner == "UNEW");
    CHECK(moved.owner_role == "manager");  // and it moves again with the next manager
    CHECK_FALSE(moved.snoozed_until);
    CHECK(d.state->phases[0].items[3].owner == "UMANAGER");
    // Reopened, it is the new manager's.
    auto reopened = decide_as("UNEW", "uncheck 1.4", d.state, look);
    REQUIRE_FALSE(reopened.answer.refused);
    CHECK(reopened.state->phases[0].items[3].owner == "UNEW");
    REQUIRE(d.messages.size() == 3);
    CHECK(d.messages[0].message.to == destination::channel("C1"));
    CHECK(d.messages[0].message.kind == checklist::message_kind::announcement);
    CHECK(contains(d.messages[0].message.body, "<@UNEW> is now the release manager of *v1*"));
    CHECK(d.messages[1].message.to == destination::direct("UNEW"));
    CHECK(contains(d.messages[1].message.body, "made you the release manager of *v1*"));
    CHECK(contains(d.messages[1].message.body, "`2.3`"));
    CHECK(d.messages[2].key_prefix == "sign-off-ask:");
    CHECK(d.messages[2].message.to == destination::direct("UNEW"));
    // Taking it over oneself (an admin): only the channel is told.
    auto self = decide_as("UADMIN", "manager <@UADMIN>", active, look);
    REQUIRE_FALSE(self.answer.refused);
    REQUIRE(self.messages.size() == 1);
    CHECK(self.messages[0].message.to == destination::channel("C1"));
}

TEST_CASE("finish needs the last phase and its gate, or force, and the summary counts the new rows",
          "[unit]") {
    fake_lookups look;
    look.timelines[7] = {{7, t0, "UMANAGER", "release.rollback", std::nullopt, "", "", "bad"}};
    auto early = decide_as("UMANAGER", "finish", shared(standard_release()), look);
    check_refused(early, "finish");
    CHECK(contains(early.answer.reply.text, "it finishes from the last phase"));
    auto held = decide_as("UMANAGER", "finish", shared(in_last_phase()), look);
    check_refused(held, "finish");
    CHECK(contains(held.answer.reply.text, "`/release finish force <reason>`"));
    check_refused(decide_as("UOWNER", "finish force x", shared(in_last_phase()), look), "finish");

    auto d = decide_as("UMANAGER", "finish force retro next week", shared(in_last_phase()), look,
                       t0 + 500);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.state->status == checklist::release_status::finished);
    CHECK(d.state->ended_at == t0 + 500);
    CHECK(d.answer.reply.text ==
          ":checkered_flag: Release *v1* finished. The summary is posted in the channel; "
          "`/release report` has the full report.");
    REQUIRE(d.messages.size() == 2);
    const auto& ended = d.messages[0];
    CHECK(ended.message.kind == message_kind::announcement);
    CHECK(ended.completed_by == key_id::none);
    CHECK(completed(ended).dedupe_key == "release-ended:7");
    // Then the timeline picture, made by the notifier, in the summary's thread.
    const auto& picture = d.messages[1];
    CHECK(completed(picture).dedupe_key == "release-timeline:7");
    CHECK(picture.message.method == "files.completeUploadExternal");
    CHECK(contains(picture.message.body, "\"thread_of\":\"release-ended:7\""));
    CHECK(contains(picture.message.body, "\"file\":\"timeline\""));
    // The earlier rollback from the timeline, and the forced finish this decision writes.
    CHECK(contains(summary_block(ended), "1 forced move · 1 rollback decision"));
}

TEST_CASE("abort ends the release at once, and an ended release takes no more commands", "[unit]") {
    fake_lookups look;
    auto active = shared(standard_release());
    check_refused(decide_as("UOWNER", "abort wrong build", active, look), "abort");
    auto d = decide_as("UADMIN", "abort wrong build", active, look, t0 + 30);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.state->status == checklist::release_status::aborted);
    CHECK(d.log.events.back().action == "release.aborted");
    CHECK(completed(d.messages.at(0)).dedupe_key == "release-ended:7");
    CHECK(contains(d.answer.reply.text, ":octagonal_sign: Release *v1* aborted."));

    // Once ended it is no longer the channel's active release: the shell passes none.
    for (const auto& text : {"next", "rollback x", "handoff <@U2>", "accept", "manager <@U2>",
                             "finish", "abort x", "remind", "status"}) {
        INFO(text);
        auto after = decide_as("UMANAGER", text, nullptr, look);
        CHECK(after.answer.refused);
        CHECK(contains(after.answer.reply.text, "There is no active release in this channel."));
    }
}

TEST_CASE("remind DMs each owner of an open item of the phase, keyed by its timeline row",
          "[unit]") {
    fake_lookups look;
    auto active = shared(standard_release());
    check_refused(decide_as("UOWNER", "remind", active, look), "remind");
    auto d = decide_as("UMANAGER", "remind", active, look);
    REQUIRE_FALSE(d.answer.refused);
    CHECK(d.state == active);  // only the timeline grows
    REQUIRE(d.log.events.size() == 1);
    CHECK(d.log.events[0].action == "remind.requested");
    CHECK(d.log.events[0].to == "1");
    CHECK(d.answer.reply.text ==
          ":bell: Reminded 1 person by DM: <@UOWNER>.\n8 open items have no owner: `/release "
          "assign <item> @person`.");
    REQUIRE(d.messages.size() == 1);
    CHECK(d.messages[0].message.to == destination::direct("UOWNER"));
    CHECK(d.messages[0].message.kind == message_kind::dm);
    CHECK(completed(d.messages[0]).dedupe_key == "remind:99:UOWNER");

    // Clicked again a moment later (a double click, or two people at once): nobody is DM'd
    // twice. Typed, the command reminds now, as it says.
    auto as_click = [&](const std::string& user, checklist::epoch_seconds at) {
        commands::request req{"T1", "C1", user, "remind", at, "", "releases"};
        req.way = commands::way_in::click;
        return commands::decide(commands::parse_command("remind"), {req, active, look});
    };
    look.timelines[7] = {{7, t0 + 60, "UMANAGER", "remind.requested", std::nullopt, "", "1", ""}};
    for (auto at : {t0 + 62, t0 + 120, t0 + 60 + 299}) {  // within the five minutes
        INFO(at - t0 - 60 << " s after");
        auto again = as_click("UADMIN", at);
        check_refused(again, "remind");
        CHECK(again.messages.empty());
        CHECK(contains(again.answer.reply.text, "<@UMANAGER> asked for reminders"));
        auto typed = decide_as("UADMIN", "remind", active, look, at);
        REQUIRE_FALSE(typed.answer.refused);
        CHECK(typed.messages.size() == 1);
    }
    // Five minutes on, reminders may be clicked for again.
    auto later = as_click("UMANAGER", t0 + 60 + 300);
    REQUIRE_FALSE(later.answer.refused);
    CHECK(later.messages.size() == 1);
    // A request that reminded nobody holds nothing back, nor one from before an item was given
    // to someone or before a new phase.
    for (const auto& since :
         {checklist::audit_entry{7, t0 + 60, "UMANAGER", "remind.requested", std::nullopt, "", "0",
                                 ""},
          checklist::audit_entry{7, t0 + 70, "UMANAGER", "item.assigned", 100, "", "UOWNER", ""},
          checklist::audit_entry{7, t0 + 70, "UMANAGER", "phase.entered", std::nullopt, "", "",
                                 ""}}) {
        INFO(since.action);
        look.timelines[7] = {
            {7, t0 + 50, "UMANAGER", "remind.requested", std::nullopt, "", "1", ""}, since};
        if (since.action == "remind.requested") {
            look.timelines[7].erase(look.timelines[7].begin());
        }
        CHECK_FALSE(as_click("UADMIN", t0 + 120).answer.refused);
    }
}

}  // namespace unit_decide_release_test
