// Monitoring checkpoints and snooze as pure rules: when checkpoints are planned, who may answer,
// the Investigating hold on the monitoring phase's gate and what ends it, snooze times in the
// owner's time zone, and the messages and report lines that show them.
#include "checklist/checkpoints.hpp"

#include <catch2/catch.hpp>

#include "commands/refusals.hpp"
#include "commands/render/checkpoints.hpp"
#include "commands/render/report.hpp"
#include "commands/render/status.hpp"
#include "slack/block_kit.hpp"

namespace unit_checkpoints_test {

using namespace relbot::checklist;
using namespace std::chrono_literals;
namespace controls = relbot::commands::controls;

namespace {

constexpr epoch_seconds t0 = 1796119200;  // Tue 2026-12-01 10:00 UTC
const std::vector<std::chrono::seconds> defaults = {1h, 4h, 24h, 48h};

release standard() {
    template_library lib;
    auto r = make_release(*lib.find("standard"), "C1", "v1", "UMANAGER", t0);
    r.id = 7;
    std::int64_t id = 1;
    for (auto& p : r.phases) {
        for (auto& i : p.items) {
            i.id = id++;
        }
    }
    r.phases[0].items[0].owner = "UOWNER";
    return r;
}

// Moves the release on (by force) until it is in phase `position`, one minute per move.
void move_to(release& r, int position, epoch_seconds& now) {
    while (r.current_phase < position) {
        now += 60;
        change_log log;
        REQUIRE_FALSE(advance_phase(r, now, "test", log));
    }
}

// A release that left its deployment phase at t0 + 120 with its checkpoints planned, and
// checkpoint 1 posted; it is in the monitoring phase ("Post-Release Monitoring").
release monitored(epoch_seconds& now) {
    auto r = standard();
    now = t0;
    move_to(r, 5, now);
    change_log log;
    REQUIRE(create_checkpoints(r, defaults, log));
    mark_checkpoint_posted(r, 1, r.checkpoints[0].due_at, log);
    now = r.checkpoints[0].due_at + 60;
    return r;
}

const actor manager{"UMANAGER", false};
const actor admin{"UADMIN", true};
const actor oncall{"UONCALL", false};
const actor outsider{"UOUTSIDER", false};

}  // namespace

TEST_CASE("checkpoints are planned once the deployment phase is left, from that moment",
          "[unit][checkpoints]") {
    auto r = standard();
    auto now = t0;
    CHECK(plan_checkpoints(r, defaults).empty());  // still before deploying
    move_to(r, 2, now);
    CHECK(r.current().title == "Deployment Steps");
    CHECK(plan_checkpoints(r, defaults).empty());  // deploying
    move_to(r, 3, now);
    auto left = *r.phases[2].entered_at;
    auto plan = plan_checkpoints(r, defaults);
    REQUIRE(plan.size() == 4);
    CHECK(plan[0].number == 1);
    CHECK(plan[0].due_at == left + 3600);
    CHECK(plan[3].number == 4);
    CHECK(plan[3].due_at == left + 48 * 3600);
    CHECK(checkpoint_label(plan[2]) == "+24h");
    CHECK(plan_checkpoints(r, {}).empty());  // RELBOT_CHECKPOINTS=off

    change_log log;
    REQUIRE(create_checkpoints(r, defaults, log));
    CHECK(log.checkpoints == std::vector<int>{1, 2, 3, 4});
    move_to(r, 5, now);
    change_log again;
    CHECK_FALSE(create_checkpoints(r, {2h}, again));  // fixed once planned
    CHECK(r.checkpoints.size() == 4);
}

TEST_CASE("a template without a windowed phase after its deployment phase has no checkpoints",
          "[unit][checkpoints]") {
    auto t = parse_template("plain", "plain.md",
                            "## Deploy\n- [ ] **Ship**: go\n## After\n- [ ] **Watch**: it\n");
    auto r = make_release(std::get<checklist_template>(t), "C1", "v1", "UM", t0);
    change_log log;
    REQUIRE_FALSE(advance_phase(r, t0 + 10, "test", log));
    CHECK(plan_checkpoints(r, defaults).empty());
}

TEST_CASE("checkpoints fall due to be posted once, and an unanswered one is reminded per interval",
          "[unit][checkpoints]") {
    auto r = standard();
    auto now = t0;
    move_to(r, 3, now);
    change_log log;
    REQUIRE(create_checkpoints(r, defaults, log));
    auto due1 = r.checkpoints[0].due_at;

    auto before = checkpoints_due(r, due1 - 1, 4h);
    CHECK(before.empty());
    CHECK(before.next == due1);

    // After downtime past +4h: both are posted, nothing is reminded yet.
    auto late = checkpoints_due(r, r.checkpoints[1].due_at + 10, 4h);
    CHECK(late.post == std::vector<int>{1, 2});
    CHECK(late.remind.empty());

    mark_checkpoint_posted(r, 1, due1, log);
    auto work = checkpoints_due(r, due1 + 4 * 3600, 4h);  // +4h is due too at that moment
    CHECK(work.post == std::vector<int>{2});
    mark_checkpoint_posted(r, 2, r.checkpoints[1].due_at, log);
    auto posted2 = *r.checkpoints[1].posted_at;
    CHECK(checkpoints_due(r, posted2 + 3600, 4h).empty());
    auto remind = checkpoints_due(r, posted2 + 4 * 3600, 4h);
    REQUIRE(remind.remind.size() == 1);
    CHECK(remind.remind[0] == std::pair<int, std::int64_t>{2, 1});
    mark_checkpoint_reminded(r, 2, posted2 + 4 * 3600, log);
    CHECK(checkpoints_due(r, posted2 + 5 * 3600, 4h).remind.empty());  // once per slot
    CHECK(checkpoints_due(r, posted2 + 5 * 3600, 4h).next == posted2 + 8 * 3600);

    change_log answer;
    REQUIRE_FALSE(answer_checkpoint(r, 2, checkpoint_answer::healthy, manager, posted2, answer));
    CHECK(checkpoints_due(r, posted2 + 9 * 3600, 4h).remind.empty());  // answered

    r.status = release_status::finished;
    CHECK(checkpoints_due(r, r.checkpoints[3].due_at, 4h).empty());  // ended: nothing posted
}

TEST_CASE(
    "who may answer a checkpoint: the manager, an admin, the on-call engineer after accepting",
    "[unit][checkpoints]") {
    epoch_seconds now = 0;
    auto r = monitored(now);
    change_log log;

    auto no = answer_checkpoint(r, 1, checkpoint_answer::healthy, outsider, now, log);
    REQUIRE(no);
    CHECK(no->why == refused::not_checkpoint_answerer);
    CHECK(relbot::commands::word_refusal(r, *no).find("<@UMANAGER>") != std::string::npos);

    REQUIRE_FALSE(record_handoff(r, "UONCALL", "", now, log));
    auto before_accept = answer_checkpoint(r, 1, checkpoint_answer::healthy, oncall, now, log);
    REQUIRE(before_accept);
    CHECK(before_accept->why == refused::not_checkpoint_answerer);
    CHECK(r.checkpoints[0].answer == checkpoint_answer::none);

    REQUIRE_FALSE(accept_handoff(r, oncall, now, log));
    CHECK_FALSE(answer_checkpoint(r, 1, checkpoint_answer::healthy, oncall, now, log));
    CHECK(r.checkpoints[0].answered_by == "UONCALL");
    CHECK_FALSE(answer_checkpoint(r, 1, checkpoint_answer::investigating, admin, now + 1, log));
    CHECK_FALSE(answer_checkpoint(r, 1, checkpoint_answer::healthy, manager, now + 2, log));
    CHECK(r.checkpoints[0].answered_by == "UMANAGER");  // the last answer counts
    CHECK(r.checkpoints[0].answered_at == now + 2);

    auto again = answer_checkpoint(r, 1, checkpoint_answer::healthy, manager, now + 3, log);
    REQUIRE(again);
    CHECK(again->why == refused::checkpoint_already);
    CHECK(r.checkpoints[0].answered_at == now + 2);

    auto unposted = answer_checkpoint(r, 2, checkpoint_answer::healthy, manager, now, log);
    REQUIRE(unposted);
    CHECK(unposted->why == refused::checkpoint_not_posted);
    CHECK_FALSE(relbot::commands::word_refusal(r, *unposted).empty());
}

TEST_CASE("an answer goes into the timeline as the report words it", "[unit][checkpoints]") {
    epoch_seconds now = 0;
    auto r = monitored(now);
    r.checkpoints[0].offset_s = 4 * 3600;
    change_log log;
    REQUIRE_FALSE(answer_checkpoint(r, 1, checkpoint_answer::healthy, manager, now, log));
    REQUIRE(log.events.size() == 1);
    CHECK(log.events[0].action == "checkpoint.answered");
    CHECK(log.events[0].note == "Checkpoint +4h: Healthy");
    CHECK(log.events[0].from == "none");
    CHECK(log.events[0].to == "healthy");
    CHECK(log.checkpoints == std::vector<int>{1});
}

TEST_CASE("Investigating holds the monitoring phase's gate until Healthy on it or a later one",
          "[unit][checkpoints]") {
    epoch_seconds now = 0;
    auto r = monitored(now);
    // Every item of the monitoring phase done, its window passed: only the hold can close it.
    for (auto& i : r.phases[4].items) {
        i.state = item_state::done;
    }
    auto after_window = now + 49 * 3600;
    CHECK(current_gate(r, after_window).open());

    change_log log;
    REQUIRE_FALSE(answer_checkpoint(r, 1, checkpoint_answer::investigating, manager, now, log));
    auto g = current_gate(r, after_window);
    CHECK_FALSE(g.open());
    CHECK(g.checkpoint_hold == 1);
    change_log next_log;
    auto no = advance_phase(r, after_window, "", next_log);
    REQUIRE(no);
    CHECK(no->why == refused::gate_closed);
    CHECK(relbot::commands::word_refusal(r, *no).find("Investigating") != std::string::npos);
    CHECK(relbot::commands::checkpoint_hold_line(r).find("Investigating") != std::string::npos);

    // Healthy on an earlier checkpoint does not end it; on a later one it does.
    mark_checkpoint_posted(r, 2, now, log);
    REQUIRE_FALSE(answer_checkpoint(r, 2, checkpoint_answer::healthy, manager, now + 5, log));
    CHECK(current_gate(r, after_window).open());
    CHECK(relbot::commands::checkpoint_hold_line(r).empty());
    REQUIRE_FALSE(answer_checkpoint(r, 2, checkpoint_answer::investigating, manager, now + 6, log));
    REQUIRE_FALSE(answer_checkpoint(r, 1, checkpoint_answer::healthy, manager, now + 7, log));
    CHECK(current_gate(r, after_window).checkpoint_hold == 2);
    REQUIRE_FALSE(answer_checkpoint(r, 2, checkpoint_answer::healthy, manager, now + 8, log));
    CHECK(current_gate(r, after_window).open());
}

TEST_CASE("the status message names the next checkpoint not yet posted and when it falls due",
          "[unit][checkpoints]") {
    epoch_seconds now = 0;
    auto r = monitored(now);  // +1h posted; +4h, +24h, +48h to come
    auto due = std::to_string(r.checkpoints[1].due_at);
    CHECK(relbot::commands::next_checkpoint_line(r).find("+4h <!date^" + due) != std::string::npos);
    CHECK(relbot::commands::render_status(r).text.find("Next monitoring checkpoint +4h") !=
          std::string::npos);
    change_log log;
    for (int n = 2; n <= 4; ++n) {
        mark_checkpoint_posted(r, n, now, log);
    }
    CHECK(relbot::commands::next_checkpoint_line(r).empty());
    CHECK(relbot::commands::render_status(r).text.find("Next monitoring checkpoint") ==
          std::string::npos);
}

TEST_CASE("the hold does not hold another phase's gate", "[unit][checkpoints]") {
    auto r = standard();
    auto now = t0;
    move_to(r, 3, now);  // Post-Release Verification, before the monitoring phase
    change_log log;
    REQUIRE(create_checkpoints(r, defaults, log));
    mark_checkpoint_posted(r, 1, now, log);
    REQUIRE_FALSE(answer_checkpoint(r, 1, checkpoint_answer::investigating, manager, now, log));
    CHECK_FALSE(current_gate(r, now).checkpoint_hold);
    move_to(r, 5, now);
    CHECK(current_gate(r, now).checkpoint_hold == 1);  // held once it gets there
}

TEST_CASE("Roll back… records the rollback decision as /release rollback and ends the hold",
          "[unit][checkpoints]") {
    epoch_seconds now = 0;
    auto r = monitored(now);
    change_log log;
    REQUIRE_FALSE(answer_checkpoint(r, 1, checkpoint_answer::investigating, manager, now, log));
    REQUIRE(checkpoint_hold(r) == 1);
    change_log back;
    REQUIRE_FALSE(answer_checkpoint(r, 1, checkpoint_answer::rolled_back, admin, now + 60, back,
                                    "error rate doubled"));
    CHECK_FALSE(checkpoint_hold(r));
    change_log typed;
    REQUIRE_FALSE(record_rollback(r, "error rate doubled", typed));
    REQUIRE(back.events.size() == 2);
    CHECK(back.events[0].note == "Checkpoint +1h: Rolled back");
    CHECK(back.events[1].action == typed.events[0].action);
    CHECK(back.events[1].note == typed.events[0].note);
}

TEST_CASE("an ended release's checkpoints are not answered", "[unit][checkpoints]") {
    epoch_seconds now = 0;
    auto r = monitored(now);
    change_log log;
    REQUIRE_FALSE(abort_release(r, now, "gone", log));
    auto no = answer_checkpoint(r, 1, checkpoint_answer::healthy, manager, now, log);
    REQUIRE(no);
    CHECK(no->why == refused::release_ended);
}

TEST_CASE("snooze_until: an hour, four hours, and the next 09:00 in the owner's time zone",
          "[unit][checkpoints]") {
    // t0 is 10:00 UTC.
    CHECK(snooze_until(snooze_length::one_hour, t0, 0) == t0 + 3600);
    CHECK(snooze_until(snooze_length::four_hours, t0, 0) == t0 + 4 * 3600);
    // UTC, after 09:00: tomorrow 09:00 UTC.
    CHECK(snooze_until(snooze_length::tomorrow_morning, t0, 0) == t0 + 23 * 3600);
    // New York (UTC-5): it is 05:00 there, so 09:00 today there, 14:00 UTC.
    CHECK(snooze_until(snooze_length::tomorrow_morning, t0, -5 * 3600) == t0 + 4 * 3600);
    // Tokyo (UTC+9): it is 19:00 there; 09:00 tomorrow there is 00:00 UTC the next day.
    CHECK(snooze_until(snooze_length::tomorrow_morning, t0, 9 * 3600) == t0 + 14 * 3600);
    // Exactly 09:00 local: the next day's.
    CHECK(snooze_until(snooze_length::tomorrow_morning, t0 - 3600, 0) == t0 - 3600 + 86400);
    // The controls' choices map to the same times; none to nothing.
    using relbot::commands::snooze_until;
    CHECK(snooze_until(controls::snooze_for::four_hours, t0, 0) == t0 + 4 * 3600);
    CHECK(snooze_until(controls::snooze_for::tomorrow_morning, t0, 9 * 3600) == t0 + 14 * 3600);
    CHECK_FALSE(snooze_until(controls::snooze_for::none, t0, 0));
}

TEST_CASE("snooze: the owner, the manager or an admin, recorded in the timeline",
          "[unit][checkpoints]") {
    auto r = standard();
    change_log log;
    auto no = snooze_item(r, {0, 0}, t0 + 3600, outsider, t0, log);
    REQUIRE(no);
    CHECK(no->why == refused::not_item_changer);
    CHECK_FALSE(r.phases[0].items[0].snoozed_until);

    REQUIRE_FALSE(snooze_item(r, {0, 0}, t0 + 3600, actor{"UOWNER", false}, t0, log));
    CHECK(r.phases[0].items[0].snoozed_until == t0 + 3600);
    REQUIRE(log.events.size() == 1);
    CHECK(log.events[0].action == "item.snoozed");
    CHECK(log.events[0].to == "until 2026-12-01 11:00 UTC");
    CHECK(log.items.size() == 1);
    CHECK_FALSE(snooze_item(r, {0, 1}, t0 + 3600, manager, t0, log));
    CHECK_FALSE(snooze_item(r, {0, 1}, t0 + 7200, admin, t0, log));

    r.phases[0].items[2].state = item_state::done;
    auto done = snooze_item(r, {0, 2}, t0 + 3600, manager, t0, log);
    REQUIRE(done);
    CHECK(done->why == refused::already_done);
}

TEST_CASE("checkpoint messages carry the three buttons within Block Kit's limits",
          "[unit][checkpoints]") {
    epoch_seconds now = 0;
    auto r = monitored(now);
    for (const auto& m : {relbot::commands::render_checkpoint_post(r, 1),
                          relbot::commands::render_checkpoint_dm(r, 1),
                          relbot::commands::render_checkpoint_reminder(r, 1),
                          relbot::commands::render_checkpoint_answered(r, 1)}) {
        CHECK(relbot::slack::message_violation(m.blocks) == "");
        const auto& actions = m.blocks.back();
        CHECK(actions.value("block_id", "") == "checkpoint:7:1");
        REQUIRE(actions["elements"].size() == 3);
        CHECK(actions["elements"][0]["text"]["text"] == "Healthy");
        CHECK(actions["elements"][1]["text"]["text"] == "Investigating");
        CHECK(actions["elements"][2]["text"]["text"] == "Roll back…");
        auto value = controls::decode(actions["elements"][1].value("value", ""));
        REQUIRE(value);
        CHECK(value->release_id == 7);
        CHECK(value->checkpoint == 1);
    }
    // The channel post names the monitoring items still open.
    auto post = relbot::commands::render_checkpoint_post(r, 1).blocks.dump();
    CHECK(post.find(r.phases[4].items[0].title) != std::string::npos);
    auto investigating = relbot::commands::render_checkpoint_investigating(r, 1, "UMANAGER");
    CHECK(relbot::slack::message_violation(investigating.blocks) == "");
    CHECK(investigating.blocks.dump().find("Post-Release Monitoring") != std::string::npos);
}

TEST_CASE("Investigating after the monitoring phase was left says it holds nothing back",
          "[unit][checkpoints]") {
    epoch_seconds now = 0;
    auto r = monitored(now);
    change_log log;
    REQUIRE_FALSE(answer_checkpoint(r, 1, checkpoint_answer::investigating, manager, now, log));
    // In the monitoring phase: it holds the phase, and says so.
    CHECK(relbot::commands::render_checkpoint_investigating(r, 1, "UMANAGER")
              .blocks.dump()
              .find("cannot be left until someone answers") != std::string::npos);
    CHECK(relbot::commands::checkpoint_hold_line(r).find("is held until") != std::string::npos);
    // The handoff briefing tells the on-call engineer where monitoring stands.
    r.oncall = "UONCALL";
    auto briefing = relbot::commands::render_handoff(r, {}, "UMANAGER").blocks.dump();
    INFO(briefing);
    CHECK(briefing.find("*Monitoring checkpoints*") != std::string::npos);
    CHECK(briefing.find("Checkpoint +1h: Investigating (<@UMANAGER>") != std::string::npos);
    CHECK(briefing.find("*Investigating* since checkpoint +1h") != std::string::npos);
    CHECK(briefing.find("Next monitoring checkpoint +4h") != std::string::npos);
    // Moved on (by force) into Handoff: it is recorded, and holds nothing back.
    move_to(r, 6, now);
    auto words = relbot::commands::render_checkpoint_investigating(r, 1, "UMANAGER").blocks.dump();
    INFO(words);
    CHECK(words.find("is over already, so this holds nothing back") != std::string::npos);
    CHECK(words.find("cannot be left") == std::string::npos);
    auto hold = relbot::commands::checkpoint_hold_line(r);
    CHECK(hold.find("is over, so it holds nothing back") != std::string::npos);
    CHECK(hold.find("is held until") == std::string::npos);
}

TEST_CASE(
    "the report has one line per checkpoint: answered, posted with no answer, not due yet, or "
    "not reached",
    "[unit][checkpoints]") {
    epoch_seconds now = 0;
    auto r = monitored(now);
    change_log log;
    r.checkpoints[0].offset_s = 4 * 3600;
    REQUIRE_FALSE(answer_checkpoint(r, 1, checkpoint_answer::healthy, actor{"UPAT", true},
                                    t0 + 4 * 3600 + 120, log));
    mark_checkpoint_posted(r, 2, r.checkpoints[1].due_at, log);
    auto md = relbot::commands::report_markdown(r, {}, {{"UPAT", "pat"}});
    CHECK(md.find("- Checkpoint +4h: Healthy (@pat, 2026-12-01 14:02 UTC)") != std::string::npos);
    CHECK(md.find("- Checkpoint +4h: no answer") != std::string::npos);  // the second one
    auto pages = relbot::commands::render_report(r, {}, 5);
    std::string all;
    for (const auto& p : pages) {
        all += p.blocks.dump();
    }
    CHECK(all.find("Checkpoint +4h: Healthy (<@UPAT>, 2026-12-01 14:02 UTC)") != std::string::npos);
    // Never posted: "no answer", as the contract words it, and why: not a question left
    // unanswered.
    CHECK(all.find("Checkpoint +48h: no answer (not posted yet: due 2026-12-03 ") !=
          std::string::npos);
    r.status = release_status::finished;
    md = relbot::commands::report_markdown(r, {}, {{"UPAT", "pat"}});
    CHECK(md.find("- Checkpoint +48h: no answer (not reached: the release ended first)") !=
          std::string::npos);
    CHECK(md.find("- Checkpoint +4h: no answer") != std::string::npos);

    auto plain = standard();
    CHECK(relbot::commands::report_markdown(plain, {}).find("Checkpoint") == std::string::npos);
}

}  // namespace unit_checkpoints_test
