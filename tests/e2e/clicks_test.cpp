// End-to-end: relbot driven by clicks, as in Slack: buttons on the living status message and in
// DMs, modals opened on the click's trigger and submitted, App Home. relbot and relbot-sim as
// processes, over TLS and a WebSocket, on a SQLite file; controls found by their visible label.
#include <SQLiteCpp/Database.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <ctime>
#include <map>

#include "support/sandbox.hpp"

namespace e2e_clicks_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

const std::string manager = "U0MANAGER";
const std::string owner = "U0OWNER";
const std::string oncall = "U0ONCALL";
const std::string stranger = "U0STRANGER";
const std::string channel = "C0REL";

// A release in C0REL, driven by clicks.
struct clicks {
    temp_dir& dir;
    sandbox& sim;

    // Starts a release and waits until its living status message is posted and pinned (its
    // buttons are what the clicks find).
    void start(const std::string& version) {
        CHECK(contains(say("start " + version), "Started release *" + version + "*"));
        REQUIRE(sim.wait_for(
            [](const json& e) {
                return e.value("event", "") == "api_call" && e.value("method", "") == "pins.add";
            },
            after(10s)));
    }

    std::string say(const std::string& text, const std::string& user = manager) {
        auto id = sim.slash_command(text, channel, user);
        auto ack = sim.wait_ack(id);
        REQUIRE(ack);
        return ack->contains("payload") ? message_text((*ack)["payload"]) : std::string();
    }

    // Clicks `label` as `user` and waits for the click's ack (Slack's 3 s).
    std::string click(const std::string& user, const std::string& label, json where) {
        if (!where.contains("in")) {
            where["in"] = "channel";
        }
        if (where["in"] == "channel" && !where.contains("channel_id")) {
            where["channel_id"] = channel;
        }
        auto id = sim.click(user, label, where);
        auto ack = sim.wait_ack(id);
        REQUIRE(ack);
        return id;
    }

    // Waits until the living status message has been edited to show `label` (edits are
    // folded, at most one every 2 s).
    void wait_status_with(const std::string& label, bool as_label = true) {
        REQUIRE(sim.wait_for(
            [&](const json& e) {
                return e.value("event", "") == "api_call" &&
                       e.value("method", "") == "chat.update" &&
                       e["args"].value("channel", "") == channel &&
                       contains(e["args"].dump(), as_label ? "\"" + label + "\"" : label);
            },
            after(10s)));
    }

    // The state of item `ref` ("1.3") of the channel's newest release, as committed.
    std::string state(const std::string& ref) {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        auto dot = ref.find('.');
        SQLite::Statement q(db,
                            "SELECT i.state FROM items i JOIN releases r ON r.id = i.release_id "
                            "WHERE r.channel_id = ? AND i.phase = ? AND i.position = ? "
                            "ORDER BY r.id DESC LIMIT 1");
        q.bind(1, channel);
        q.bind(2, std::stoi(ref.substr(0, dot)));
        q.bind(3, std::stoi(ref.substr(dot + 1)));
        return q.executeStep() ? q.getColumn(0).getString() : std::string();
    }

    int current_phase() {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        SQLite::Statement q(db,
                            "SELECT current_phase FROM releases WHERE channel_id = ? "
                            "ORDER BY id DESC LIMIT 1");
        q.bind(1, channel);
        return q.executeStep() ? q.getColumn(0).getInt() : 0;
    }

    // Waits until `check` holds on the committed state (it is committed before the ack, so the
    // first look normally sees it; the wait covers the notifier's follow-ups).
    template <typename F>
    bool eventually(F check, std::chrono::seconds within = 10s) {
        return sim.wait_until(check, after(within));
    }

    // The next ephemeral message `user` gets containing `needle`.
    std::optional<json> wait_ephemeral(const std::string& user, const std::string& needle) {
        bool seen = eventually([&] {
            for (const auto& m : sim.ephemeral_messages(user)) {
                if (contains(message_text(m), needle)) {
                    return true;
                }
            }
            return false;
        });
        if (!seen) {
            return std::nullopt;
        }
        for (const auto& m : sim.ephemeral_messages(user)) {
            if (contains(message_text(m), needle)) {
                return m;
            }
        }
        return std::nullopt;
    }
};

std::string next_day_epoch() {
    return std::to_string(std::time(nullptr) + 86400);
}

}  // namespace

TEST_CASE("phase one of a release driven by clicks: Done, Skip…, Block…, Assign… and Next phase",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    clicks c{dir, sim};
    c.start("v5.0");

    // Assign… on 1.1 opens the modal (a users_select and a date-time); submitted, the owner is
    // told by DM, with buttons.
    c.click(manager, "Assign…", {{"match", "`1.1`"}});
    auto modal = sim.wait_modal(manager);
    REQUIRE(modal);
    sim.submit(manager, {{"owner", owner}, {"due", next_day_epoch()}});
    REQUIRE(c.eventually([&] { return !sim.dm_messages(owner).empty(); }));
    // The owner clicks Done in their DM: checked, and the DM says so in place.
    c.click(owner, "Done", {{"in", "dm"}, {"match", "`1.1`"}});
    CHECK(c.state("1.1") == "done");
    CHECK(c.eventually([&] {
        auto dms = sim.dm_messages(owner);
        return !dms.empty() && contains(dms.back().dump(), "Done by <@" + owner + ">");
    }));

    // Skip… asks for a reason: an empty one is answered next to the field, nothing changes.
    c.click(manager, "Skip…", {{"match", "`1.2`"}});
    REQUIRE(sim.wait_modal(manager));
    sim.submit(manager, {{"reason", "   "}});
    auto errors = sim.wait_view_errors(manager);
    REQUIRE(errors);
    CHECK(errors->contains("reason"));
    CHECK(c.state("1.2") == "open");
    sim.submit(manager, {{"reason", "no security-relevant change"}});
    CHECK(c.eventually([&] { return c.state("1.2") == "skipped"; }));

    // Block… with a reason: blocked and announced; Unblock opens it again.
    c.click(manager, "Block…", {{"match", "`1.3`"}});
    REQUIRE(sim.wait_modal(manager));
    sim.submit(manager, {{"reason", "staging is down"}});
    CHECK(c.eventually([&] { return c.state("1.3") == "blocked"; }));
    CHECK(c.eventually([&] {
        for (const auto& a : sim.announcements()) {
            if (contains(message_text(a["args"]), "staging is down")) {
                return true;
            }
        }
        return false;
    }));
    c.wait_status_with("Unblock");
    c.click(manager, "Unblock", {{"match", "`1.3`"}});
    CHECK(c.eventually([&] { return c.state("1.3") == "open"; }));

    // A refused click by an outsider: nothing changes, and only they hear why.
    c.click(stranger, "Done", {{"match", "`1.3`"}});
    CHECK(c.state("1.3") == "open");
    auto refusal = c.wait_ephemeral(stranger, "<@" + manager + ">");
    if (!refusal) {
        for (const auto& l : relbot.proc().stderr_lines()) {
            if (contains(l, "click") || contains(l, "outbox")) {
                UNSCOPED_INFO(l);
            }
        }
        for (const auto& m : sim.ephemeral_messages(stranger)) {
            UNSCOPED_INFO(m.dump());
        }
    }
    REQUIRE(refusal);
    CHECK_FALSE(contains(message_text(*refusal), "/release"));

    // Next phase on a closed gate asks the manager for a reason to move on by force.
    c.click(manager, "Next phase", {});
    auto force = sim.wait_modal(manager);
    REQUIRE(force);
    CHECK(force->value("callback_id", "") == "next_force");

    for (int i = 3; i <= 9; ++i) {
        c.click(manager, "Done", {{"match", "`1." + std::to_string(i) + "`"}});
    }
    // The first modal is still open in the sandbox; a new click opens a new one on top. Done
    // clicks need no modal: the gate is met now, and Next phase moves on.
    CHECK(c.state("1.9") == "done");
    c.click(manager, "Next phase", {});
    CHECK(c.eventually([&] { return c.current_phase() == 2; }));
}

TEST_CASE("Done in the ephemeral status reply checks the item and replaces that reply in place",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    clicks c{dir, sim};
    c.start("v5.1");
    // `/release status` answers only the asker, with the same controls as the status message.
    REQUIRE(contains(c.say("status"), "Release v5.1"));
    auto replies = sim.ephemeral_messages(manager);  // the start's reply, then the status
    REQUIRE(replies.size() == 2);
    REQUIRE(contains(replies.back().dump(), "\"Done\""));

    c.click(manager, "Done", {{"in", "ephemeral"}, {"match", "`1.1`"}});
    CHECK(c.state("1.1") == "done");
    // The reply the click came from shows the new state (through its response_url,
    // replace_original): 1.1 is checked and has no Done button any more; no second reply.
    auto replaced = sim.wait_for(
        [&](const json& e) {
            return e.value("event", "") == "message_updated" && e.value("ephemeral", false) &&
                   e.value("user_id", "") == manager;
        },
        after(10s));
    REQUIRE(replaced);
    auto updated = (*replaced)["message"];
    CHECK(contains(message_text(updated), ":white_check_mark: `1.1`"));
    auto item_blocks = 0;
    for (const auto& b : updated.value("blocks", json::array())) {
        if (b.value("type", "") == "actions" && b.value("block_id", "").starts_with("item:")) {
            ++item_blocks;
        }
    }
    CHECK(item_blocks == 8);  // the phase's other eight open items keep their buttons
    CHECK(sim.ephemeral_messages(manager).size() == 2);
    CHECK(relbot.stop() == 0);
}

TEST_CASE("a redelivered click is applied once and an expired trigger is told to click again",
          "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    clicks c{dir, sim};
    c.start("v5.1");
    auto id = c.click(manager, "Done", {{"match", "`1.1`"}});
    CHECK(c.state("1.1") == "done");
    sim.redeliver(id);
    REQUIRE(sim.wait_ack(id));
    // Applied once: one item.checked row in the timeline.
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM audit WHERE action = 'item.checked'").getInt() == 1);

    // A modal whose trigger has expired cannot open: the person is told to click again.
    sim.expire_triggers(true);
    auto skip = sim.click(manager, "Skip…",
                          {{"in", "channel"}, {"channel_id", channel}, {"match", "`1.2`"}});
    REQUIRE(sim.wait_ack(skip));
    CHECK(c.wait_ephemeral(manager, "click again"));
    CHECK(sim.open_view(manager).is_null());
}

TEST_CASE("App Home shows an owner's open items and Done there checks one", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    clicks c{dir, sim};
    c.start("v6.0");
    c.say("assign 1.2 <@" + owner + "|olive> due 2h");
    sim.home_opened(owner);
    auto home = sim.wait_home(owner);
    REQUIRE(home);
    CHECK(contains(home->dump(), "Security Scan"));
    CHECK(contains(home->dump(), "v6.0"));
    c.click(owner, "Done", {{"in", "home"}, {"match", "Security Scan"}});
    CHECK(c.state("1.2") == "done");
    // Published again, without the item (a click is answered at once, a second after the last
    // publish at the latest).
    CHECK(c.eventually(
        [&] {
            auto now = sim.home_view(owner);
            return now.is_object() && !contains(now.dump(), "Security Scan");
        },
        20s));
}

TEST_CASE(
    "checkpoints answered by click: Investigating holds, Healthy releases, Roll back… records "
    "the rollback, and the handoff is accepted by button",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, {{"RELBOT_CHECKPOINTS", "1s,1d"}});
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    clicks c{dir, sim};
    c.start("v7.0");
    // Out of the pre-release and the deployment phases by force, through the modal.
    for (int phase = 1; phase <= 2; ++phase) {
        c.click(manager, "Next phase", {});
        REQUIRE(sim.wait_modal(manager));
        sim.submit(manager, {{"reason", "rehearsal"}});
        REQUIRE(c.eventually([&] { return c.current_phase() == phase + 1; }));
        if (phase == 1) {
            c.wait_status_with("Next phase");  // the status message shows phase 2's items
        }
    }
    // Checkpoint +1s: posted in the channel with its buttons.
    REQUIRE(sim.wait_for(
        [](const json& e) {
            return e.value("event", "") == "api_call" &&
                   e.value("method", "") == "chat.postMessage" &&
                   e["args"].value("channel", "") == channel &&
                   contains(e["args"].dump(), "\"Investigating\"");
        },
        after(15s)));
    auto answer = [&](int n) {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT answer FROM checkpoints WHERE number = ?");
        q.bind(1, n);
        return q.executeStep() ? q.getColumn(0).getString() : std::string();
    };
    // Each message's edits showing `shown`, once every row the clicks queued is delivered.
    auto edits_once_delivered = [&](const std::string& shown) {
        REQUIRE(c.eventually([&] {
            SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
            return db.execAndGet(
                         "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', "
                         "'sending') AND method = 'chat.update' AND dedupe_key NOT LIKE "
                         "'status%'")
                       .getInt() == 0;
        }));
        std::map<std::string, int> edits;  // the sandbox's ts (unique across channels) → edits
        for (const auto& call : sim.calls("chat.update")) {
            if (contains(call["args"].dump(), shown)) {
                ++edits[call["args"].value("ts", "")];
            }
        }
        return edits;
    };
    auto posted_ts = [&](const std::string& key) {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT ts FROM outbox WHERE dedupe_key = ? AND state = 'sent'");
        q.bind(1, key);
        REQUIRE(q.executeStep());
        auto ts = q.getColumn(0).getString();
        REQUIRE_FALSE(ts.empty());
        return ts;
    };
    c.click(manager, "Investigating", {});
    CHECK(c.eventually([&] { return answer(1) == "investigating"; }));
    // It holds the monitoring phase like a blocked item, and the status message says so.
    c.wait_status_with("*Investigating* since checkpoint +1s", false);
    // The clicked copy (the channel's post) is edited once, not by its copy's edit and again as
    // the clicked message.
    {
        auto edits = edits_once_delivered("*Investigating* by");
        CHECK(edits[posted_ts("checkpoint:1:1")] == 1);
    }
    // Healthy, clicked in the manager's DM copy: that copy too is edited once.
    c.click(manager, "Healthy", {{"in", "dm"}});
    CHECK(c.eventually([&] { return answer(1) == "healthy"; }));
    {
        auto edits = edits_once_delivered("*Healthy* by");
        auto dm = posted_ts("checkpoint:1:1:" + manager);
        CHECK(edits[dm] == 1);
        CHECK(edits[posted_ts("checkpoint:1:1")] == 1);
    }
    // Both copies of the checkpoint, the channel's post and the manager's DM, show the answer,
    // whichever of them was clicked (here the DM).
    CHECK(c.eventually([&] {
        for (const auto& call : sim.calls("chat.update")) {
            if (call["args"].value("channel", "") == channel &&
                contains(call["args"].dump(), "*Healthy* by")) {
                return true;
            }
        }
        return false;
    }));
    CHECK(c.eventually([&] {
        for (const auto& m : sim.dm_messages(manager)) {
            if (contains(m.dump(), "*Healthy* by")) {
                return true;
            }
        }
        return false;
    }));

    // The handoff (typed: it has no button) and its Accept handoff button in the DM.
    c.say("handoff <@" + oncall + "|sam>");
    REQUIRE(c.eventually([&] { return !sim.dm_messages(oncall).empty(); }));
    c.click(oncall, "Accept handoff", {{"in", "dm"}});
    CHECK(c.eventually([&] {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        return db.execAndGet("SELECT COUNT(*) FROM releases WHERE handoff_accepted_at IS NOT NULL")
                   .getInt() == 1;
    }));

    // Roll back… on the same checkpoint (the last answer counts), by the on-call engineer who
    // accepted the handoff.
    c.click(oncall, "Roll back…", {});
    REQUIRE(sim.wait_modal(oncall));
    sim.submit(oncall, {{"reason", "error rate doubled"}});
    CHECK(c.eventually([&] { return answer(1) == "rolled_back"; }));
    CHECK(c.eventually([&] {
        for (const auto& a : sim.announcements()) {
            if (contains(message_text(a["args"]), "error rate doubled")) {
                return true;
            }
        }
        return false;
    }));
}

TEST_CASE("Snooze in the owner's DM moves their next reminder", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    clicks c{dir, sim};
    c.start("v8.0");
    c.say("assign 1.4 <@" + owner + "|olive> due 1h");
    REQUIRE(c.eventually([&] { return !sim.dm_messages(owner).empty(); }));
    c.click(owner, "Snooze", {{"in", "dm"}, {"match", "`1.4`"}, {"option", "4 hours"}});
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    auto until = db.execAndGet("SELECT snoozed_until FROM items WHERE phase = 1 AND position = 4")
                     .getInt64();
    auto now = static_cast<long long>(std::time(nullptr));
    CHECK(until >= now + 4 * 3600 - 60);
    CHECK(until <= now + 4 * 3600 + 60);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM audit WHERE action = 'item.snoozed'").getInt() == 1);
    CHECK(c.wait_ephemeral(owner, "next reminder"));
}

TEST_CASE(
    "a SIGKILL between a click's commit and its message update loses nothing and posts "
    "nothing twice",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    clicks c{dir, sim};
    {
        bot first(dir, sim);
        REQUIRE(sim.wait_event("hello_sent", after(15s)));
        c.start("v9.0");
        c.say("assign 1.1 <@" + owner + "|olive> due 2h");
        REQUIRE(c.eventually([&] { return !sim.dm_messages(owner).empty(); }));
        // Slack answers chat.update late: the click's edit of the DM is still on its way (or
        // not yet started) when relbot is killed, right after the click's ack.
        sim.send({{"op", "fail"}, {"method", "chat.update"}, {"delay_ms", 4000}, {"times", 5}});
        REQUIRE(sim.wait_event("fail_armed", after(5s)));
        c.click(owner, "Done", {{"in", "dm"}, {"match", "`1.1`"}});
        first.proc().signal(SIGKILL);
        REQUIRE(first.proc().wait_exit(after(5s)));
    }
    CHECK(c.state("1.1") == "done");  // acknowledged, so committed
    bot second(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    // The DM is edited in place once relbot is back; it is still one message.
    CHECK(c.eventually(
        [&] {
            auto dms = sim.dm_messages(owner);
            return dms.size() == 1 && contains(dms[0].dump(), "Done by <@" + owner + ">");
        },
        30s));
    // Every message relbot posted, it posted once.
    std::map<std::string, int> posted;
    for (const auto& call : sim.calls("chat.postMessage")) {
        if (call["response"].value("ok", false)) {
            ++posted[outbox_key(call)];
        }
    }
    for (const auto& [key, times] : posted) {
        INFO(key);
        CHECK(times == 1);
    }
    SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM audit WHERE action = 'item.checked'").getInt() == 1);
}

// One release of the standard template, start to Finish, driven by clicks: the only typed
// command after `start` is `handoff` (the contract gives it no button). On the way: Assign…,
// Skip… (an empty reason answered in the modal), Block…/Unblock, Done in the owner's DM,
// Snooze, a refused click by an outsider, a checkpoint answered Investigating then Healthy,
// the handoff accepted by button, Roll back… on the checkpoint, and a forced Next phase.
TEST_CASE("a whole release of the standard template by clicks after start, to Finish", "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, {{"RELBOT_CHECKPOINTS", "1s,1d"}});
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    clicks c{dir, sim};
    c.start("v10.0");
    auto sql_text = [&](const std::string& query) {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        SQLite::Statement q(db, query);
        return q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getString()
                                                           : std::string();
    };
    auto checkpoint_answer = [&] {
        return sql_text("SELECT answer FROM checkpoints WHERE number = 1");
    };
    auto assign_to_owner = [&](const std::string& ref) {
        c.click(manager, "Assign…", {{"match", "`" + ref + "`"}});
        REQUIRE(sim.wait_modal(manager));
        sim.submit(manager, {{"owner", owner}, {"due", next_day_epoch()}});
        REQUIRE(c.eventually([&] {
            for (const auto& m : sim.dm_messages(owner)) {
                if (contains(message_text(m), "`" + ref + "`")) {
                    return true;
                }
            }
            return false;
        }));
    };
    const int items[] = {9, 6, 6, 5, 4, 3};
    for (int phase = 1; phase <= 6; ++phase) {
        INFO("phase " << phase);
        auto p = std::to_string(phase);
        if (phase > 1) {
            // The living status message now shows this phase's items with their buttons.
            c.wait_status_with("`" + p + ".1`", false);
        }
        int first = 1;
        if (phase == 1) {
            // Assigned through the modal; the owner clicks Done in their DM.
            assign_to_owner("1.1");
            c.click(owner, "Done", {{"in", "dm"}, {"match", "`1.1`"}});
            CHECK(c.state("1.1") == "done");
            // Skip… asks for a reason: an empty one is answered next to the field.
            c.click(manager, "Skip…", {{"match", "`1.2`"}});
            REQUIRE(sim.wait_modal(manager));
            sim.submit(manager, {{"reason", "  "}});
            REQUIRE(sim.wait_view_errors(manager));
            CHECK(c.state("1.2") == "open");
            sim.submit(manager, {{"reason", "covered by the nightly scan"}});
            CHECK(c.eventually([&] { return c.state("1.2") == "skipped"; }));
            // Block… with a reason, then Unblock.
            c.click(manager, "Block…", {{"match", "`1.3`"}});
            REQUIRE(sim.wait_modal(manager));
            sim.submit(manager, {{"reason", "staging is down"}});
            CHECK(c.eventually([&] { return c.state("1.3") == "blocked"; }));
            c.wait_status_with("Unblock");
            c.click(manager, "Unblock", {{"match", "`1.3`"}});
            CHECK(c.eventually([&] { return c.state("1.3") == "open"; }));
            // An outsider's click changes nothing.
            c.click(stranger, "Done", {{"match", "`1.3`"}});
            CHECK(c.state("1.3") == "open");
            REQUIRE(c.wait_ephemeral(stranger, "<@" + manager + ">"));
            first = 3;
        } else if (phase == 2) {
            // The owner snoozes their reminder from the DM, then clicks Done there.
            assign_to_owner("2.1");
            c.click(owner, "Snooze", {{"in", "dm"}, {"match", "`2.1`"}, {"option", "1 hour"}});
            CHECK(c.eventually([&] {
                return !sql_text(
                            "SELECT snoozed_until FROM items WHERE phase = 2 AND "
                            "position = 1")
                            .empty();
            }));
            c.click(owner, "Done", {{"in", "dm"}, {"match", "`2.1`"}});
            CHECK(c.state("2.1") == "done");
            first = 2;
        } else if (phase == 3) {
            // Checkpoint +1s after the deployment phase was left: Investigating, then Healthy.
            REQUIRE(sim.wait_for(
                [](const json& e) {
                    return e.value("event", "") == "api_call" &&
                           e.value("method", "") == "chat.postMessage" &&
                           e["args"].value("channel", "") == channel &&
                           contains(e["args"].dump(), "\"Investigating\"");
                },
                after(15s)));
            c.click(manager, "Investigating", {});
            CHECK(c.eventually([&] { return checkpoint_answer() == "investigating"; }));
            c.click(manager, "Healthy", {});
            CHECK(c.eventually([&] { return checkpoint_answer() == "healthy"; }));
        } else if (phase == 6) {
            // The handoff has no button (contract): typed, then accepted by button; the on-call
            // engineer then answers the checkpoint again with Roll back… (the last answer
            // counts).
            c.say("handoff <@" + oncall + "|sam>");
            REQUIRE(c.eventually([&] { return !sim.dm_messages(oncall).empty(); }));
            c.click(oncall, "Accept handoff", {{"in", "dm"}});
            CHECK(c.eventually(
                [&] { return !sql_text("SELECT handoff_accepted_at FROM releases").empty(); }));
            c.click(oncall, "Roll back…", {});
            REQUIRE(sim.wait_modal(oncall));
            sim.submit(oncall, {{"reason", "error rate doubled"}});
            CHECK(c.eventually([&] { return checkpoint_answer() == "rolled_back"; }));
        }
        for (int i = first; i <= items[phase - 1]; ++i) {
            c.click(manager, "Done", {{"match", "`" + p + "." + std::to_string(i) + "`"}});
        }
        CHECK(c.state(p + "." + std::to_string(items[phase - 1])) == "done");
        if (phase == 6) {
            break;
        }
        c.click(manager, "Next phase", {});
        if (phase == 5) {
            // The monitoring window (24-48 hours) holds the gate: the manager moves on by force.
            REQUIRE(sim.wait_modal(manager));
            sim.submit(manager, {{"reason", "rehearsal: watched for an hour"}});
        }
        REQUIRE(c.eventually([&] { return c.current_phase() == phase + 1; }));
    }
    c.click(manager, "Finish", {});
    CHECK(c.eventually([&] {
        return sql_text("SELECT status FROM releases WHERE version = 'v10.0'") == "finished";
    }));
    // Every slash command of this release: the start and the handoff.
    int typed = 0;
    for (const auto& e : sim.events()) {
        if (e.value("event", "") == "envelope_sent" && contains(e.dump(), "e2e-env-")) {
            ++typed;
        }
    }
    CHECK(typed == 2);
}

TEST_CASE(
    "Start a release… in App Home starts one in the chosen channel, and a bad version is "
    "answered in the modal",
    "[e2e]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    clicks c{dir, sim};
    sim.home_opened(manager);
    REQUIRE(sim.wait_home(manager));
    c.click(manager, "Start a release…", {{"in", "home"}});
    REQUIRE(sim.wait_modal(manager));
    sim.submit(manager, {{"channel", "C0NEW"}, {"version", "2.0 beta"}, {"template", "standard"}});
    auto errors = sim.wait_view_errors(manager);
    REQUIRE(errors);
    CHECK(errors->contains("version"));
    sim.submit(manager, {{"channel", "C0NEW"}, {"version", "v2.0"}, {"template", "standard"}});
    CHECK(c.eventually([&] {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        return db.execAndGet(
                     "SELECT COUNT(*) FROM releases WHERE channel_id = 'C0NEW' AND "
                     "version = 'v2.0' AND manager_id = '" +
                     manager + "'")
                   .getInt() == 1;
    }));
    CHECK(c.eventually([&] {
        for (const auto& a : sim.announcements()) {
            if (a["args"].value("channel", "") == "C0NEW" &&
                contains(message_text(a["args"]), "v2.0")) {
                return true;
            }
        }
        return false;
    }));
}

}  // namespace e2e_clicks_test
