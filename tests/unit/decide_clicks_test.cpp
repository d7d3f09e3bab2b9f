// Clicks and modal submissions decided as pure functions: Slack's payloads read into typed
// values, every control's decision (allowed, refused, stale, already in that state), forged
// values, and the modals' validation.
#include <algorithm>

#include "commands/clicks.hpp"
#include "decide_fixture.hpp"

namespace unit_decide_clicks_test {

using namespace relbot;
using namespace relbot::test;
using commands::controls::action;
using nlohmann::json;

namespace {

// A block_actions payload as Slack sends it for a button in a channel message.
json button_payload(const std::string& user,
                    action a,
                    const commands::controls::target& t,
                    const std::string& channel = "C1",
                    bool ephemeral = false) {
    return {
        {"type", "block_actions"},
        {"team", {{"id", "T1"}}},
        {"user", {{"id", user}, {"username", "x"}}},
        {"trigger_id", "trig-1"},
        {"response_url", "https://hooks.example.test/actions/1"},
        {"container",
         {{"type", "message"},
          {"message_ts", "1700000000.000100"},
          {"channel_id", channel},
          {"is_ephemeral", ephemeral}}},
        {"channel", {{"id", channel}}},
        {"message", {{"ts", "1700000000.000100"}, {"text", "fallback"}, {"blocks", json::array()}}},
        {"actions",
         {{{"type", "button"},
           {"action_id", commands::controls::action_id(a, t.item_id)},
           {"block_id", "item:" + std::to_string(t.item_id)},
           {"value", commands::controls::encode(t)}}}}};
}

commands::click read_click(const json& payload) {
    auto in = commands::read_interaction(payload);
    REQUIRE(std::holds_alternative<commands::click>(in));
    return std::get<commands::click>(in);
}

commands::decision click_as(const std::string& user,
                            action a,
                            const commands::controls::target& t,
                            const std::shared_ptr<const checklist::release>& r,
                            const fake_lookups& look,
                            const std::string& channel = "C1") {
    auto c = read_click(button_payload(user, a, t, channel));
    auto req = commands::request_of_click(c, r, t0 + 60, c.channel);
    return commands::decide_click(c, {req, r, look}, "E1");
}

// The message a click's answer went to the clicker with, if any.
std::string reply_to_clicker(const commands::decision& d) {
    for (const auto& m : d.messages) {
        if (m.key_prefix == "click:E1:reply") {
            return json::parse(m.message.body).value("text", "");
        }
    }
    return {};
}

}  // namespace

TEST_CASE("a click is read from Slack's block_actions payload", "[unit][clicks]") {
    auto c = read_click(button_payload("UOWNER", action::item_done, {7, 100}));
    CHECK(c.user == "UOWNER");
    CHECK(c.act == action::item_done);
    CHECK(c.target.release_id == 7);
    CHECK(c.target.item_id == 100);
    CHECK(c.channel == "C1");
    CHECK(c.where == commands::surface::message);
    CHECK(c.trigger_id == "trig-1");

    auto home = button_payload("UOWNER", action::item_done, {7, 100});
    home["container"] = {{"type", "view"}, {"view_id", "V1"}};
    home.erase("response_url");
    CHECK(read_click(home).where == commands::surface::home);

    // Start a release… names no release: read without a target.
    auto start = home;
    start["actions"][0]["action_id"] = "release.start";
    start["actions"][0]["value"] = "";
    CHECK(read_click(start).act == action::start_release);

    auto forged = button_payload("UOWNER", action::item_done, {7, 100});
    forged["actions"][0]["value"] = "r7.i100; DROP TABLE";
    CHECK(
        std::holds_alternative<commands::unusable_interaction>(commands::read_interaction(forged)));
    CHECK(std::holds_alternative<commands::unusable_interaction>(
        commands::read_interaction(json{{"type", "block_actions"}, {"actions", 3}})));
    CHECK(std::holds_alternative<commands::unusable_interaction>(
        commands::read_interaction(json::array())));
}

TEST_CASE("Done by the item's owner checks it, like /release check", "[unit][clicks]") {
    fake_lookups look;
    auto r = shared(standard_release());
    auto d = click_as("UOWNER", action::item_done, {7, 100}, r, look);
    REQUIRE(d.state);
    CHECK(d.state->phases[0].items[0].state == checklist::item_state::done);
    CHECK(d.answer.ack_json == "{}");
    // In the channel the clicker is told what happened, only to them.
    CHECK(contains(reply_to_clicker(d), "is done"));
    CHECK(d.log.events.at(0).action == "item.checked");
}

TEST_CASE("a click by someone who may not do it changes nothing and says who can",
          "[unit][clicks]") {
    fake_lookups look;
    auto r = shared(standard_release());
    auto d = click_as("UOUTSIDER", action::item_done, {7, 100}, r, look);
    CHECK(d.answer.refused);
    CHECK_FALSE(d.state);
    REQUIRE(d.messages.size() == 1);  // the answer to the clicker, and nothing else
    auto text = reply_to_clicker(d);
    CHECK(contains(text, "<@UMANAGER>"));
    CHECK_FALSE(contains(text, "/release"));  // a click is not told to type a command
}

TEST_CASE("stale buttons change nothing and say so", "[unit][clicks]") {
    fake_lookups look;
    auto ended = standard_release();
    ended.status = checklist::release_status::finished;
    auto d = click_as("UMANAGER", action::item_done, {7, 100}, shared(ended), look);
    CHECK_FALSE(d.state);
    CHECK(contains(reply_to_clicker(d), "already finished"));

    auto done = standard_release();
    done.phases[0].items[0].state = checklist::item_state::done;
    auto again = click_as("UOWNER", action::item_done, {7, 100}, shared(done), look);
    CHECK_FALSE(again.state);
    CHECK(contains(reply_to_clicker(again), "already done"));

    auto unknown_item = click_as("UMANAGER", action::item_done, {7, 99999}, shared(done), look);
    CHECK_FALSE(unknown_item.state);
    CHECK(contains(reply_to_clicker(unknown_item), "not part of this release"));
}

TEST_CASE("a forged value naming another channel's release acts on nothing", "[unit][clicks]") {
    fake_lookups look;
    auto r = shared(standard_release());  // in C1
    auto d = click_as("UMANAGER", action::item_done, {7, 100}, r, look, "C2");
    CHECK_FALSE(d.state);
    CHECK(contains(reply_to_clicker(d), "another channel"));
    // A value naming a release that is not the one loaded (none, or another id) neither.
    auto none = click_as("UMANAGER", action::item_done, {8, 100}, r, look);
    CHECK_FALSE(none.state);
}

TEST_CASE("Skip…, Block…, Note… and Assign… open their modal only for who may", "[unit][clicks]") {
    fake_lookups look;
    auto r = shared(standard_release());
    for (auto a : {action::item_skip, action::item_block, action::item_note}) {
        auto d = click_as("UOWNER", a, {7, 100}, r, look);
        REQUIRE(d.answer.open_view.is_object());
        CHECK_FALSE(d.state);
        auto origin =
            commands::view_origin::from_metadata(d.answer.open_view.value("private_metadata", ""));
        REQUIRE(origin);
        CHECK(origin->target.item_id == 100);
        CHECK(origin->response_url == "https://hooks.example.test/actions/1");
        auto outsider = click_as("UOUTSIDER", a, {7, 100}, r, look);
        CHECK(outsider.answer.open_view.is_null());
        CHECK(contains(reply_to_clicker(outsider), "<@UMANAGER>"));
    }
    // Assigning is the manager's.
    CHECK(
        click_as("UMANAGER", action::item_assign, {7, 100}, r, look).answer.open_view.is_object());
    CHECK(click_as("UOWNER", action::item_assign, {7, 100}, r, look).answer.open_view.is_null());
}

TEST_CASE("Next phase moves on when the gate is met, and asks the manager for a reason when not",
          "[unit][clicks]") {
    fake_lookups look;
    auto open_gate = standard_release();
    settle_current_phase(open_gate);
    auto moved = click_as("UMANAGER", action::phase_next, {7}, shared(open_gate), look);
    REQUIRE(moved.state);
    CHECK(moved.state->current_phase == 2);

    auto closed = shared(standard_release());
    auto force = click_as("UMANAGER", action::phase_next, {7}, closed, look);
    REQUIRE(force.answer.open_view.is_object());
    CHECK(force.answer.open_view.value("callback_id", "") == "next_force");
    // The form lists each open item once, and does not tell the manager what it is for.
    auto form = force.answer.open_view["blocks"].dump();
    auto first = form.find("`1.1`");
    REQUIRE(first != std::string::npos);
    CHECK(form.find("`1.1`", first + 1) == std::string::npos);
    CHECK_FALSE(contains(form, "can move on anyway"));
    auto owner = click_as("UOWNER", action::phase_next, {7}, closed, look);
    CHECK(owner.answer.open_view.is_null());
    CHECK_FALSE(owner.state);
}

TEST_CASE("Next phase clicked twice, or after another moved on, moves the release on once",
          "[unit][clicks]") {
    fake_lookups look;
    auto r = standard_release();
    settle_current_phase(r);
    commands::controls::target drawn_in_1{7, 0, 0, commands::controls::snooze_for::none, 1};
    auto first = click_as("UMANAGER", action::phase_next, drawn_in_1, shared(r), look);
    REQUIRE(first.state);
    REQUIRE(first.state->current_phase == 2);
    // The second click of a double click reaches a release already in phase 2, whose items are
    // all settled too (else the gate would hold it anyway).
    auto in_2 = *first.state;
    settle_current_phase(in_2);
    auto second = click_as("UMANAGER", action::phase_next, drawn_in_1, shared(in_2), look);
    CHECK_FALSE(second.state);
    CHECK(second.answer.open_view.is_null());
    auto said = reply_to_clicker(second);
    CHECK(contains(said, "for phase 1"));
    CHECK(contains(said, "in phase 2"));
    CHECK(contains(said, "nothing changed"));
    // The button drawn in phase 2 still moves it on.
    auto drawn_in_2 = drawn_in_1;
    drawn_in_2.phase = 2;
    auto third = click_as("UMANAGER", action::phase_next, drawn_in_2, shared(in_2), look);
    REQUIRE(third.state);
    CHECK(third.state->current_phase == 3);

    // The force form opened in phase 1 and submitted after someone else moved on forces nothing.
    auto closed = standard_release();
    auto force = click_as("UMANAGER", action::phase_next, drawn_in_1, shared(closed), look);
    REQUIRE(force.answer.open_view.is_object());
    auto origin =
        commands::view_origin::from_metadata(force.answer.open_view.value("private_metadata", ""));
    REQUIRE(origin);
    CHECK(origin->target.phase == 1);
    commands::submission s;
    s.user = "UMANAGER";
    s.kind = commands::controls::modal::next_force;
    s.origin = *origin;
    s.values["reason"] = "leaves phase 1";
    commands::request req{"T1", "C1", "UMANAGER", "", t0 + 60, "", ""};
    req.way = commands::way_in::click;
    auto moved_meanwhile = closed;
    moved_meanwhile.current_phase = 2;
    auto late = commands::decide_submission(s, {req, shared(moved_meanwhile), look}, "E2");
    CHECK_FALSE(late.state);
    auto ack = json::parse(late.answer.ack_json.str());
    CHECK(ack["response_action"] == "errors");
    CHECK(contains(ack["errors"].value("reason", ""), "in phase 2"));
    // Submitted while the release is still in phase 1, it forces phase 1 over.
    auto in_time = commands::decide_submission(s, {req, shared(closed), look}, "E3");
    REQUIRE(in_time.state);
    CHECK(in_time.state->current_phase == 2);
}

TEST_CASE("Remind again clicked twice DMs the owner once", "[unit][clicks]") {
    fake_lookups look;
    auto r = shared(standard_release());  // 1.1 (item 100) is UOWNER's
    auto first = click_as("UMANAGER", action::remind_again, {7, 100}, r, look);
    REQUIRE_FALSE(first.answer.refused);
    std::size_t dms = 0;
    for (const auto& m : first.messages) {
        dms += m.key_prefix == "remind-again:" ? 1 : 0;
    }
    CHECK(dms == 1);
    // The first click's row is in the timeline when the second is decided.
    // Three minutes before the second click: still within the pause.
    look.timelines[7] = {{7, t0 - 120, "UMANAGER", "item.reminded", 100, "", "UOWNER", ""}};
    auto second = click_as("UMANAGER", action::remind_again, {7, 100}, r, look);
    CHECK(second.answer.refused);
    for (const auto& m : second.messages) {
        CHECK(m.key_prefix != "remind-again:");
    }
    CHECK(contains(reply_to_clicker(second), "asked for that reminder"));
    // Another item's reminder (2.1, UOWNER2's) is not held back by it.
    auto other = click_as("UMANAGER", action::remind_again, {7, 109}, r, look);
    REQUIRE_FALSE(other.answer.refused);
    bool sent = false;
    for (const auto& m : other.messages) {
        sent = sent || m.key_prefix == "remind-again:";
    }
    CHECK(sent);
}

TEST_CASE("a modal's inputs are checked before anything is decided", "[unit][clicks]") {
    checklist::template_library lib;
    commands::submission s;
    s.user = "UOWNER";
    s.kind = commands::controls::modal::skip;
    s.values["reason"] = "   \n ";
    auto bad = commands::validate(s, lib, t0);
    CHECK(bad.count("reason") == 1);
    s.values["reason"] = std::string(3001, 'x');
    CHECK(commands::validate(s, lib, t0).count("reason") == 1);
    s.values["reason"] = "flaky in staging";
    CHECK(commands::validate(s, lib, t0).empty());

    s.kind = commands::controls::modal::assign;
    s.values = {{"owner", "UPAT"}, {"due", std::to_string(t0 - 60)}};
    CHECK(commands::validate(s, lib, t0).count("due") == 1);
    s.values["due"] = std::to_string(t0 + 3600);
    CHECK(commands::validate(s, lib, t0).empty());

    s.kind = commands::controls::modal::start;
    s.values = {{"channel", "C1"}, {"version", "2.4 beta"}, {"template", "nope"}};
    auto start = commands::validate(s, lib, t0);
    CHECK(start.count("version") == 1);
    CHECK(start.count("template") == 1);
    // The form takes the versions `/release start` takes, and no others.
    s.values = {{"channel", "C1"}, {"version", "\xF0\x9F\x9A\x80\xF0\x9F\x9A\x80"}};
    CHECK(commands::validate(s, lib, t0).count("version") == 1);
    s.values["version"] = std::string(65, '1');
    CHECK(commands::validate(s, lib, t0).count("version") == 1);
    s.values["version"] = "v2.4.0-rc.1+build/7";
    CHECK(commands::validate(s, lib, t0).empty());
}

TEST_CASE(
    "the Assign form of an overdue item, given back with its due time unchanged, changes the "
    "owner and keeps the due time; another past time is refused",
    "[unit][clicks]") {
    fake_lookups look;
    auto base = standard_release();
    auto& overdue = base.phases[0].items[0];  // id 100
    overdue.owner = "UOWNER";
    overdue.due_at = t0 - 600;
    auto r = shared(base);
    commands::submission s;
    s.user = "UMANAGER";
    s.kind = commands::controls::modal::assign;
    s.origin.target = {7, 100};
    s.origin.channel = "C1";
    s.origin.response_url = "https://hooks.example.test/actions/1";
    s.values = {{"owner", "UPAT"}, {"due", std::to_string(t0 - 600)}};
    commands::request req{"T1", "C1", "UMANAGER", "", t0, "", ""};
    req.way = commands::way_in::click;
    auto d = commands::decide_submission(s, {req, r, look}, "E4");
    REQUIRE(d.state);
    CHECK(d.state->phases[0].items[0].owner == "UPAT");
    CHECK(d.state->phases[0].items[0].due_at == t0 - 600);
    CHECK(d.answer.ack_json == "{}");

    // The picker gives minutes: the same minute is the same due time.
    s.values["due"] = std::to_string(t0 - 600 + 30);
    auto same_minute = commands::decide_submission(s, {req, r, look}, "E6");
    REQUIRE(same_minute.state);
    CHECK(same_minute.state->phases[0].items[0].due_at == t0 - 600);

    s.values["due"] = std::to_string(t0 - 60);  // a past time the item did not have
    auto no = commands::decide_submission(s, {req, r, look}, "E5");
    CHECK_FALSE(no.state);
    CHECK(contains(json::parse(no.answer.ack_json.str())["errors"].value("due", ""),
                   "has already passed"));
}

TEST_CASE("a submitted skip applies the skip, and a refused one answers next to the field",
          "[unit][clicks]") {
    fake_lookups look;
    auto r = shared(standard_release());
    commands::submission s;
    s.user = "UOWNER";
    s.kind = commands::controls::modal::skip;
    s.origin.target = {7, 100};
    s.origin.channel = "C1";
    s.origin.response_url = "https://hooks.example.test/actions/1";
    s.values["reason"] = "covered by canary";
    commands::request req{"T1", "C1", "UOWNER", "", t0 + 60, "", ""};
    req.way = commands::way_in::click;
    auto d = commands::decide_submission(s, {req, r, look}, "E2");
    REQUIRE(d.state);
    CHECK(d.state->phases[0].items[0].state == checklist::item_state::skipped);
    CHECK(d.answer.ack_json == "{}");

    req.user = s.user = "UOUTSIDER";
    auto no = commands::decide_submission(s, {req, r, look}, "E3");
    CHECK_FALSE(no.state);
    auto ack = json::parse(no.answer.ack_json.str());
    CHECK(ack["response_action"] == "errors");
    CHECK(contains(ack["errors"].value("reason", ""), "@UMANAGER"));
}

namespace {

// The standard release in its monitoring phase, with checkpoint +1h posted.
checklist::release monitored() {
    auto r = standard_release();
    r.current_phase = 5;
    checklist::checkpoint cp;
    cp.number = 1;
    cp.offset_s = 3600;
    cp.due_at = t0;
    cp.posted_at = t0;
    r.checkpoints.push_back(cp);
    return r;
}

commands::decision checkpoint_click(const std::string& user,
                                    action a,
                                    const std::shared_ptr<const checklist::release>& r,
                                    const fake_lookups& look) {
    auto payload = button_payload(user, a, {7, 0, 1});
    auto c = read_click(payload);
    auto req = commands::request_of_click(c, r, t0 + 60, c.channel);
    return commands::decide_click(c, {req, r, look}, "E1");
}

}  // namespace

TEST_CASE("a checkpoint answered Investigating holds the monitoring phase until Healthy",
          "[unit][clicks]") {
    fake_lookups look;
    auto r = shared(monitored());
    auto held = checkpoint_click("UMANAGER", action::checkpoint_investigating, r, look);
    REQUIRE(held.state);
    CHECK(held.state->checkpoints[0].answer == checklist::checkpoint_answer::investigating);
    CHECK(checklist::current_gate(*held.state, t0 + 60).checkpoint_hold == 1);
    bool announced = false;
    for (const auto& m : held.messages) {
        announced = announced || m.key_prefix == "checkpoint-investigating:";
    }
    CHECK(announced);
    // `next` says which checkpoint holds it by its name, as every message calls it.
    auto settled = *held.state;
    settle_current_phase(settled);
    auto refused = decide_as("UMANAGER", "next", shared(settled), look, t0 + 60);
    CHECK(contains(refused.answer.reply.text, "Monitoring checkpoint *+1h* was answered"));
    auto healthy = checkpoint_click("UMANAGER", action::checkpoint_healthy, held.state, look);
    REQUIRE(healthy.state);
    CHECK_FALSE(checklist::current_gate(*healthy.state, t0 + 60).checkpoint_hold);
    // An owner may not answer; Roll back… opens its modal only for who may.
    auto owner = checkpoint_click("UOWNER", action::checkpoint_healthy, r, look);
    CHECK_FALSE(owner.state);
    CHECK(checkpoint_click("UMANAGER", action::checkpoint_roll_back, r, look)
              .answer.open_view.value("callback_id", "") == "rollback");
    CHECK(checkpoint_click("UOWNER", action::checkpoint_roll_back, r, look)
              .answer.open_view.is_null());
}

TEST_CASE("a checkpoint answered on one copy shows the answer on every copy", "[unit][clicks]") {
    fake_lookups look;
    auto monitored_with_oncall = monitored();
    monitored_with_oncall.oncall = "UONCALL";
    monitored_with_oncall.handoff_accepted_at = t0;
    auto r = shared(monitored_with_oncall);
    // Which copies each answer edits by their outbox keys ("ts_of").
    auto edited = [](const commands::decision& d) {
        std::vector<std::string> of;
        for (const auto& m : d.messages) {
            if (m.key_prefix == "checkpoint-shown:") {
                CHECK(m.message.method == "chat.update");
                auto body = json::parse(m.message.body);
                CHECK(contains(body["blocks"].dump(), "*Healthy* by <@"));
                of.push_back(body.value("ts_of", ""));
            }
        }
        std::sort(of.begin(), of.end());
        return of;
    };
    const std::vector<std::string> every_copy = {"checkpoint:7:1", "checkpoint:7:1:UMANAGER",
                                                 "checkpoint:7:1:UONCALL"};
    // Clicked in the channel.
    auto in_channel = checkpoint_click("UMANAGER", action::checkpoint_healthy, r, look);
    REQUIRE(in_channel.state);
    CHECK(edited(in_channel) == every_copy);
    // Clicked in the on-call engineer's DM (or on a reminder there).
    auto payload = button_payload("UONCALL", action::checkpoint_healthy, {7, 0, 1}, "D0ONCALL");
    auto c = read_click(payload);
    auto in_dm = commands::decide_click(
        c, {commands::request_of_click(c, r, t0 + 60, c.channel), r, look}, "E2");
    REQUIRE(in_dm.state);
    CHECK(edited(in_dm) == every_copy);
    // The clicked message's own edit names the copy it may be, one this answer edits on the
    // same surface (the channel's post; the clicker's own DM copy), so that the notifier does
    // not edit a clicked copy twice.
    auto clicked_edit = [](const commands::decision& d) {
        for (const auto& m : d.messages) {
            if (m.key_prefix.starts_with("click:")) {
                return json::parse(m.message.body);
            }
        }
        return json();
    };
    CHECK(clicked_edit(in_dm)["unless_ts_of"] == json::array({"checkpoint:7:1:UONCALL"}));
    CHECK(clicked_edit(in_channel)["unless_ts_of"] == json::array({"checkpoint:7:1"}));
    // An admin answering in a DM that is no copy this answer edits (say, theirs from when they
    // were on call): nothing is named, so the clicked message is edited.
    auto admin_payload = button_payload("UADMIN", action::checkpoint_healthy, {7, 0, 1}, "D0ADMIN");
    auto by_admin = read_click(admin_payload);
    auto in_admin_dm = commands::decide_click(
        by_admin, {commands::request_of_click(by_admin, r, t0 + 60, by_admin.channel), r, look},
        "E3");
    REQUIRE(in_admin_dm.state);
    auto admin_edit = clicked_edit(in_admin_dm);
    CHECK(admin_edit.value("ts", "") != "");
    CHECK_FALSE(admin_edit.contains("unless_ts_of"));
}

TEST_CASE("Snooze moves the owner's next reminder, in their time zone for tomorrow morning",
          "[unit][clicks]") {
    fake_lookups look;
    look.zones["UOWNER"] = 3600;  // UTC+1
    auto r = shared(standard_release());
    auto payload =
        button_payload("UOWNER", action::item_snooze,
                       {7, 100, 0, commands::controls::snooze_for::tomorrow_morning}, "D0OWNER");
    payload["actions"][0] = {{"type", "static_select"},
                             {"action_id", "item.snooze:100"},
                             {"selected_option",
                              {{"text", {{"type", "plain_text"}, {"text", "Tomorrow morning"}}},
                               {"value", "r7.i100.smorning"}}}};
    auto c = read_click(payload);
    auto req = commands::request_of_click(c, r, t0 + 60, c.channel);
    auto d = commands::decide_click(c, {req, r, look}, "E1");
    REQUIRE(d.state);
    auto until = d.state->phases[0].items[0].snoozed_until;
    REQUIRE(until);
    CHECK((*until + 3600) % 86400 == 9 * 3600);  // 09:00 in UTC+1
    CHECK(*until > t0 + 60);
    CHECK(d.log.events.at(0).action == "item.snoozed");
    // Someone else's item: refused.
    auto other = button_payload("UOWNER2", action::item_snooze,
                                {7, 100, 0, commands::controls::snooze_for::one_hour}, "D0X");
    other["actions"][0]["value"] = "r7.i100.s1h";
    auto o = read_click(other);
    auto no = commands::decide_click(
        o, {commands::request_of_click(o, r, t0 + 60, o.channel), r, look}, "E2");
    CHECK_FALSE(no.state);
}

TEST_CASE(
    "every direct control: allowed for the manager, refused for an outsider, stale once the "
    "release has ended",
    "[unit][clicks]") {
    struct control {
        action a;
        commands::controls::target t;
    };
    auto r = standard_release();
    r.phases[0].items[1].state = checklist::item_state::blocked;  // 1.2, for Unblock
    r.phases[0].items[2].owner = "UOWNER";                        // 1.3, for Remind again
    r.oncall = "UMANAGER";  // handed off to the manager, for Accept handoff
    r.handoff_at = t0;
    settle_current_phase(r);
    r.phases[0].items[1].state = checklist::item_state::blocked;
    r.phases[0].items[2].state = checklist::item_state::open;
    for (auto [a, t] :
         {control{action::item_done, {7, 102}}, control{action::item_unblock, {7, 101}},
          control{action::remind_owners, {7}}, control{action::remind_again, {7, 102}},
          control{action::handoff_accept, {7}}}) {
        INFO(commands::controls::to_string(a));
        fake_lookups look;
        auto active = shared(r);
        auto ok = click_as("UMANAGER", a, t, active, look);
        CHECK_FALSE(ok.answer.refused);
        CHECK(ok.state);
        auto outsider = click_as("UOUTSIDER", a, t, active, look);
        CHECK(outsider.answer.refused);
        CHECK_FALSE(outsider.state);
        CHECK_FALSE(reply_to_clicker(outsider).empty());
        auto ended = r;
        ended.status = checklist::release_status::aborted;
        auto stale = click_as("UMANAGER", a, t, shared(ended), look);
        CHECK_FALSE(stale.state);
        CHECK(contains(reply_to_clicker(stale), "already been aborted"));
    }
}

// Found by fuzz/interaction.cpp: fields that are not UTF-8 made to_metadata throw.
TEST_CASE("a modal's private_metadata is written whatever bytes its fields hold, and read back",
          "[unit][clicks]") {
    commands::view_origin o;
    o.target = {7, 100};
    o.channel = "C1";
    o.response_url = "https://hooks.example.test/\xA6\xFF";
    std::string text;
    REQUIRE_NOTHROW(text = o.to_metadata());
    auto back = commands::view_origin::from_metadata(text);
    REQUIRE(back);
    CHECK(back->target == o.target);
    CHECK(back->channel == "C1");
    CHECK(back->response_url == "https://hooks.example.test/\xEF\xBF\xBD\xEF\xBF\xBD");  // U+FFFD
}

TEST_CASE("a submission with more inputs than any of relbot's modals is not read",
          "[unit][clicks]") {
    commands::view_origin o;
    o.target = {7, 100};
    o.channel = "C1";
    json values = json::object();
    for (int i = 0; i < 17; ++i) {
        values["block" + std::to_string(i)] = {
            {"value", {{"type", "plain_text_input"}, {"value", "x"}}}};
    }
    json payload = {{"type", "view_submission"},
                    {"team", {{"id", "T1"}}},
                    {"user", {{"id", "UMANAGER"}}},
                    {"view",
                     {{"callback_id", "note"},
                      {"private_metadata", o.to_metadata()},
                      {"state", {{"values", values}}}}}};
    auto in = commands::read_interaction(payload);
    REQUIRE(std::holds_alternative<commands::unusable_interaction>(in));
    CHECK(std::get<commands::unusable_interaction>(in).limit == "submission_inputs");

    values.erase("block16");
    payload["view"]["state"]["values"] = values;
    CHECK(std::holds_alternative<commands::submission>(commands::read_interaction(payload)));
}

}  // namespace unit_decide_clicks_test
