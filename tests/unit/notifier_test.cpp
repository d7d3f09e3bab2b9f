// The notifier against a scripted Slack and a virtual clock: order per channel, pacing per
// channel and per method, 429/Retry-After, 5xx backoff, permanent errors, DM channels, status
// folding, and rows claimed unfinished (a run that stopped, a lease that ran out) looked for in
// the history before a resend. Times are read from the recorded calls, in virtual seconds; no
// test waits in real time. The store is a real SQLite file.
#include "bot/notifier.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "checklist/template.hpp"
#include "storage/sqlite/store.hpp"
#include "support/scripted_slack.hpp"

namespace unit_notifier_test {

using namespace relbot;
using checklist::destination;
using checklist::message_kind;
using nlohmann::json;
using test::answer_error;

namespace {

constexpr checklist::epoch_seconds start_epoch = 1796119200;  // Tue 2026-12-01 10:00 UTC
constexpr double eps = 1e-3;

checklist::checklist_template standard_template() {
    auto t =
        checklist::parse_template("standard", "standard.md", checklist::standard_template_text());
    return std::get<checklist::checklist_template>(t);
}

// A notifier on a fresh database, a virtual clock and a scripted Slack; one release (managed by
// UBOSS in CREL) that the queued rows belong to.
struct harness {
    explicit harness(bot::notifier_timing timing = {})
        : notify(bot::notifier_ports::of(store), slack, clock, timing, who) {
        auto r =
            checklist::make_release(standard_template(), "CREL", "v1.0", "UBOSS", clock.epoch_s());
        store.insert_release(r);
        release_id = r.id;
    }
    ~harness() {
        if (started && !ended) {
            notify.stop();
            run_until([this] { return ended; }, 3600);
        }
    }

    void start() {
        started = true;
        bot::net::co_spawn(ioc, notify.run(), [this](std::exception_ptr e) {
            ended = true;
            error = e;
        });
    }

    // Queues a row whose text is its key (so the recorded calls say which row they were).
    void queue(const std::string& key,
               destination to,
               std::string method = "chat.postMessage",
               message_kind kind = message_kind::announcement) {
        auto body = method == "pins.add" ? json{{"timestamp", "1.000100"}} : json{{"text", key}};
        store.enqueue({key, release_id, std::move(to), std::move(method), body.dump(), kind},
                      clock.epoch_s());
        notify.wake();
    }

    storage::outbox_row row(const std::string& key) {
        for (auto& r : test::read_outbox(db.path())) {
            if (r.dedupe_key == key) {
                return r;
            }
        }
        FAIL("no outbox row " << key);
        return {};
    }

    bool run_until(const std::function<bool()>& done, double limit_s) {
        return test::run_until(ioc, clock, done, limit_s);
    }
    void run_for(double seconds) { test::run_for(ioc, clock, seconds); }

    std::vector<std::string> texts_to(const std::string& channel) const {
        std::vector<std::string> out;
        for (const auto& c : slack.posts_to(channel)) {
            out.push_back(c.text());
        }
        return out;
    }

    // This run of this instance; an earlier run of it would be "relbot@test/<pid>-<other>".
    bot::claimer who{"relbot@test/", "relbot@test/2-now"};
    test::temp_db db;
    storage::sqlite::store store{db.path()};  // the engine the bot runs on
    test::virtual_clock clock{start_epoch};
    test::scripted_slack slack{clock};
    bot::net::io_context ioc;
    bot::notifier notify;
    std::int64_t release_id = 0;
    bool started = false;
    bool ended = false;
    std::exception_ptr error;
};

destination channel(const char* id) {
    return destination::channel(id);
}

// The virtual times of `calls`, in order.
std::vector<double> times_of(const std::vector<test::recorded_call>& calls) {
    std::vector<double> out;
    for (const auto& c : calls) {
        out.push_back(c.at);
    }
    return out;
}

// A token bucket's schedule: call k (from 0) goes once the burst is spent, one per 1/rate s.
double paced_at(std::size_t k, double burst, double per_second) {
    return std::max(0.0, (static_cast<double>(k) + 1 - burst) / per_second);
}

}  // namespace

TEST_CASE("each channel's rows go in the order they were queued, a retried row first") {
    harness h;
    h.slack.script("chat.postMessage", {test::answer_server_error(503)});  // a0's first try
    for (int i = 0; i < 4; ++i) {
        h.queue("a" + std::to_string(i), channel("CA"));
        h.queue("b" + std::to_string(i), channel("CB"));
    }
    h.start();
    REQUIRE(h.run_until([&] { return h.slack.calls_of("chat.postMessage").size() == 9; }, 120));

    CHECK(h.texts_to("CA") == std::vector<std::string>{"a0", "a0", "a1", "a2", "a3"});
    CHECK(h.texts_to("CB") == std::vector<std::string>{"b0", "b1", "b2", "b3"});
    // CA waiting for its retry did not hold CB up.
    CHECK(h.slack.posts_to("CB")[2].at < h.slack.posts_to("CA")[1].at);
    CHECK(h.row("a0").state == storage::outbox_state::sent);
    CHECK(h.row("a0").attempts == 2);
}

TEST_CASE(
    "while envelopes wait for the database strand no message is started, for at most a "
    "quarter of a second at a time") {
    harness h;
    bool burst = true;
    h.notify.hold_while([&] { return burst; });
    h.queue("m0", channel("CA"));
    h.start();
    h.run_for(0.2);
    CHECK(h.slack.calls().empty());  // held: the envelopes' acks come first
    // A burst that never ends holds it no longer than burst_hold::default_hold.
    REQUIRE(h.run_until([&] { return h.slack.posts_to("CA").size() == 1; }, 5));
    CHECK(h.slack.posts_to("CA")[0].at >= 0.25 - eps);
    CHECK(h.slack.posts_to("CA")[0].at <= 0.25 + 0.01 + eps);

    // The burst goes on: the notifier looks once per hold, so a message queued meanwhile
    // waits a quarter of a second at most.
    h.run_for(1.0);
    auto queued_at = h.clock.elapsed();
    h.queue("m1", channel("CB"));
    REQUIRE(h.run_until([&] { return h.slack.posts_to("CB").size() == 1; }, 5));
    CHECK(h.slack.posts_to("CB")[0].at <= queued_at + 0.25 + 0.01 + eps);

    // Once the envelopes are taken, the next look (within 10 ms) sends.
    h.run_for(1.0);
    h.queue("m2", channel("CC"));
    h.run_for(0.1);
    CHECK(h.slack.posts_to("CC").empty());
    burst = false;
    auto ended_at = h.clock.elapsed();
    REQUIRE(h.run_until([&] { return h.slack.posts_to("CC").size() == 1; }, 5));
    CHECK(h.slack.posts_to("CC")[0].at <= ended_at + 0.01 + eps);
}

TEST_CASE("one channel is posted to at one message a second after a burst of three") {
    harness h;
    for (int i = 0; i < 10; ++i) {
        h.queue("m" + std::to_string(i), channel("CA"));
    }
    h.start();
    REQUIRE(h.run_until([&] { return h.slack.posts_to("CA").size() == 10; }, 60));

    auto at = times_of(h.slack.posts_to("CA"));
    for (std::size_t k = 0; k < at.size(); ++k) {
        INFO("post " << k);
        CHECK(at[k] >= paced_at(k, 3, 1.0) - eps);
        CHECK(at[k] <= paced_at(k, 3, 1.0) + eps);
    }
}

TEST_CASE(
    "each method has its own bucket: chat.postMessage 20 then 5 a second, pins.add 3 then "
    "20 a minute") {
    harness h;
    for (int i = 0; i < 30; ++i) {
        h.queue("post" + std::to_string(i), destination::channel("C" + std::to_string(i)));
    }
    for (int i = 0; i < 6; ++i) {
        h.queue("pin" + std::to_string(i), destination::channel("P" + std::to_string(i)),
                "pins.add", message_kind::pin);
    }
    h.start();
    REQUIRE(h.run_until(
        [&] {
            return h.slack.calls_of("chat.postMessage").size() == 30 &&
                   h.slack.calls_of("pins.add").size() == 6;
        },
        120));

    auto posts = times_of(h.slack.calls_of("chat.postMessage"));
    for (std::size_t k = 0; k < posts.size(); ++k) {
        INFO("post " << k);
        CHECK(posts[k] >= paced_at(k, 20, 5.0) - eps);
        CHECK(posts[k] <= paced_at(k, 20, 5.0) + eps);
    }
    auto pins = times_of(h.slack.calls_of("pins.add"));
    for (std::size_t k = 0; k < pins.size(); ++k) {
        INFO("pin " << k);
        CHECK(pins[k] >= paced_at(k, 3, 20.0 / 60) - eps);
        CHECK(pins[k] <= paced_at(k, 3, 20.0 / 60) + eps);
    }
}

TEST_CASE(
    "after a 429 no call of that method goes before Retry-After, other methods do, then "
    "the held rows go") {
    harness h;
    h.slack.script("chat.postMessage", {test::answer_rate_limited(7)});
    h.queue("first", channel("CA"));
    h.start();
    REQUIRE(h.run_until([&] { return h.slack.calls_of("chat.postMessage").size() == 1; }, 10));
    auto limited_at = h.slack.calls_of("chat.postMessage")[0].at;

    h.queue("second", channel("CB"));
    h.queue("third", channel("CC"));
    h.queue("pin", channel("CD"), "pins.add", message_kind::pin);
    REQUIRE(h.run_until([&] { return h.slack.calls_of("chat.postMessage").size() == 4; }, 60));

    auto posts = h.slack.calls_of("chat.postMessage");
    for (std::size_t k = 1; k < posts.size(); ++k) {
        INFO(posts[k].text());
        CHECK(posts[k].at >= limited_at + 7 - eps);
    }
    CHECK(posts[1].at <= limited_at + 7 + eps);  // and not later than that
    CHECK(posts[1].text() == "first");           // first in, first out
    REQUIRE(h.slack.calls_of("pins.add").size() == 1);
    CHECK(h.slack.calls_of("pins.add")[0].at < limited_at + 7);
    CHECK(h.row("first").state == storage::outbox_state::sent);
}

TEST_CASE("5xx, network and transient Slack errors are retried after growing delays, then sent") {
    harness h;
    h.slack.script("chat.postMessage",
                   {test::answer_server_error(500), test::answer_server_error(502),
                    test::answer_network_error(), answer_error("internal_error"),
                    test::answer_server_error(503)});
    h.queue("flaky", channel("CA"));
    h.start();
    REQUIRE(h.run_until([&] { return h.row("flaky").state == storage::outbox_state::sent; }, 600));

    auto at = times_of(h.slack.posts_to("CA"));
    REQUIRE(at.size() == 6);
    for (std::size_t k = 1; k < at.size(); ++k) {
        // backoff_delay: the k-th retry waits 2^(k-1) s scaled by a jitter in [0.5, 1), in
        // whole seconds and at least one.
        double full = std::pow(2.0, static_cast<double>(k - 1));
        INFO("retry " << k << " after " << at[k] - at[k - 1] << " s");
        CHECK(at[k] - at[k - 1] >= std::max(1.0, std::floor(full / 2)) - eps);
        CHECK(at[k] - at[k - 1] <= std::max(1.0, full - 1) + eps);
    }
    CHECK(at[5] - at[4] > at[2] - at[1]);
    CHECK(h.row("flaky").attempts == 6);
    CHECK(h.notify.stats().sent == 1);
}

TEST_CASE("a permanent error fails the row for good, the manager is told, other channels flow") {
    auto code = GENERATE(as<std::string>{}, "channel_not_found", "not_in_channel", "is_archived");
    harness h;
    h.slack.rule = [&](const test::recorded_call& c) -> std::optional<bot::api_result> {
        if (c.method == "chat.postMessage" && c.channel() == "CBAD") {
            return answer_error(code);
        }
        return std::nullopt;
    };
    h.queue("bad1", channel("CBAD"));
    h.queue("bad2", channel("CBAD"));
    for (int i = 0; i < 4; ++i) {
        h.queue("ok" + std::to_string(i), channel("COK"));
    }
    h.start();
    h.run_for(600);

    CHECK(h.texts_to("CBAD") == std::vector<std::string>{"bad1", "bad2"});  // once each
    for (const auto* key : {"bad1", "bad2"}) {
        CHECK(h.row(key).state == storage::outbox_state::failed);
        CHECK(h.row(key).error == code);
    }
    CHECK(h.texts_to("COK") == std::vector<std::string>{"ok0", "ok1", "ok2", "ok3"});
    CHECK(h.slack.posts_to("DUBOSS").size() == 2);  // "could not post to #…", once per row
    CHECK(h.notify.stats().failed == 2);
}

TEST_CASE(
    "a DM whose conversations.open keeps failing is given up after five attempts, and the "
    "next DM to that person is tried") {
    harness h;
    h.slack.rule = [](const test::recorded_call& c) -> std::optional<bot::api_result> {
        if (c.method == "conversations.open" && c.args.value("users", "") == "UGONE") {
            return answer_error("user_not_found");
        }
        return std::nullopt;
    };
    h.queue("dm1", destination::direct("UGONE"), "chat.postMessage", message_kind::dm);
    h.queue("dm2", destination::direct("UGONE"), "chat.postMessage", message_kind::dm);
    h.queue("pat1", destination::direct("UPAT"), "chat.postMessage", message_kind::dm);
    h.queue("pat2", destination::direct("UPAT"), "chat.postMessage", message_kind::dm);
    h.start();
    h.run_for(3600);

    std::vector<double> opens_gone;
    int opens_pat = 0;
    for (const auto& c : h.slack.calls_of("conversations.open")) {
        if (c.args.value("users", "") == "UGONE") {
            opens_gone.push_back(c.at);
        } else {
            ++opens_pat;
        }
    }
    REQUIRE(opens_gone.size() == 10);  // five for dm1, then five for dm2, then no more
    for (std::size_t k = 1; k < opens_gone.size(); ++k) {
        CHECK(opens_gone[k] - opens_gone[k - 1] >= (k == 5 ? 0 : 30) - eps);
    }
    for (const auto* key : {"dm1", "dm2"}) {
        CHECK(h.row(key).state == storage::outbox_state::failed);
        CHECK(h.row(key).error == "conversations.open failed");
    }
    CHECK(h.slack.posts_to("DUGONE").empty());
    CHECK(h.texts_to("DUPAT") == std::vector<std::string>{"pat1", "pat2"});
    CHECK(opens_pat == 1);  // the DM channel is remembered
    CHECK(h.notify.stats().failed == 2);
}

TEST_CASE("changes to a release fold into at most one chat.update per 2 s, the last one shown") {
    harness h;
    h.store.status_sent(h.release_id, "100.000100", 1, h.clock.epoch_ms());
    h.start();
    // 20 changes, one every 0.25 s: each makes the status message one version behind.
    for (int i = 0; i < 20; ++i) {
        auto r = *h.store.load_release(h.release_id);
        r.phases[0].items[0].owner = "U" + std::to_string(i);
        checklist::change_log log;
        log.items.push_back({0, 0});
        auto tx = h.store.begin();
        h.store.save(r, log, "UBOSS", h.clock.epoch_s());
        tx->commit();
        h.notify.wake();
        h.run_for(0.25);
    }
    h.run_for(10);

    auto updates = h.slack.calls_of("chat.update");
    REQUIRE(updates.size() >= 2);
    CHECK(updates.size() <= 3);  // 5 s of changes, 2 s apart
    for (std::size_t k = 1; k < updates.size(); ++k) {
        CHECK(updates[k].at - updates[k - 1].at >= 2 - eps);
    }
    for (const auto& u : updates) {
        CHECK(u.channel() == "CREL");
        CHECK(u.args.value("ts", "") == "100.000100");
    }
    CHECK(updates.back().args.dump().find("U19") != std::string::npos);
    CHECK(h.store.status_jobs().empty());  // caught up
    CHECK(h.slack.calls_of("chat.postMessage").empty());
}

namespace {

// Claims the oldest due row as `owner` would, with a lease of `lease_s`, and leaves it (the claimer
// stops, or hangs, mid-call).
void claim_and_leave(harness& h, const std::string& owner, checklist::epoch_seconds lease_s) {
    REQUIRE(h.store.claim(h.clock.epoch_s(), lease_s, owner, 1).size() == 1);
}

json posted_with_key(const std::string& ts, const std::string& key) {
    return {{"ts", ts},
            {"text", key},
            {"metadata", {{"event_type", "relbot_outbox"}, {"event_payload", {{"key", key}}}}}};
}

}  // namespace

TEST_CASE(
    "after a restart, a row left sending whose message is in the history is marked sent, "
    "not posted again") {
    harness h;
    h.queue("lost", channel("CA"));
    claim_and_leave(h, "relbot@test/1-earlier", 120);  // the last run stopped during the call
    h.slack.history = json::array(
        {{{"ts", "555.000100"}, {"text", "other"}}, posted_with_key("556.000100", "lost")});
    h.start();
    h.run_for(60);

    CHECK(h.slack.calls_of("chat.postMessage").empty());
    auto history = h.slack.calls_of("conversations.history");
    REQUIRE(history.size() == 1);
    CHECK(history[0].at < 1);  // its live lease was this instance's: taken over at once
    CHECK(history[0].channel() == "CA");
    CHECK(history[0].args.value("include_all_metadata", "") == "true");
    CHECK(h.row("lost").state == storage::outbox_state::sent);
    CHECK(h.row("lost").ts == "556.000100");
    CHECK(h.notify.stats().recovered == 1);
}

TEST_CASE(
    "an edit of a clicked message that is the named copy is left out; any other is sent, "
    "without the copy's name") {
    harness h;
    h.queue("checkpoint:1:1", channel("CREL"));  // the copy, posted
    h.start();
    REQUIRE(h.run_until(
        [&] { return h.row("checkpoint:1:1").state == storage::outbox_state::sent; }, 60));
    auto copy_ts = h.row("checkpoint:1:1").ts;
    REQUIRE_FALSE(copy_ts.empty());
    auto edit = [&](const std::string& key, const std::string& ts, json unless) {
        json body = {{"ts", ts}, {"text", key}, {"unless_ts_of", std::move(unless)}};
        h.store.enqueue({key, h.release_id, channel("CREL"), "chat.update", body.dump(),
                         message_kind::announcement},
                        h.clock.epoch_s());
        h.notify.wake();
    };
    edit("clicked-copy", copy_ts, json::array({"checkpoint:1:1"}));
    edit("clicked-reminder", "999.000100", json::array({"checkpoint:1:1"}));
    edit("odd-name", copy_ts, 5);  // not a list of keys: edited as any message
    REQUIRE(h.run_until(
        [&] {
            for (const auto* key : {"clicked-copy", "clicked-reminder", "odd-name"}) {
                if (h.row(key).state != storage::outbox_state::sent) {
                    return false;
                }
            }
            return true;
        },
        60));

    auto updates = h.slack.calls_of("chat.update");
    REQUIRE(updates.size() == 2);
    CHECK(updates[0].text() == "clicked-reminder");
    CHECK(updates[0].args.value("ts", "") == "999.000100");
    CHECK(updates[1].text() == "odd-name");
    for (const auto& u : updates) {
        CHECK_FALSE(u.args.contains("unless_ts_of"));  // never sent to Slack
    }
    CHECK(h.row("clicked-copy").ts == copy_ts);
}

TEST_CASE(
    "after a restart, a living status message found in the history becomes the release's status "
    "message and is pinned, as if its post had been answered") {
    harness h;
    h.queue("status:1", channel("CREL"), "chat.postMessage", message_kind::status);
    claim_and_leave(h, "relbot@test/1-earlier", 120);  // the run died before Slack answered
    h.slack.history = json::array({posted_with_key("557.000100", "status:1")});
    h.start();
    REQUIRE(h.run_until([&] { return !h.slack.calls_of("pins.add").empty(); }, 60));

    CHECK(h.slack.calls_of("chat.postMessage").empty());  // not posted twice
    CHECK(h.row("status:1").state == storage::outbox_state::sent);
    CHECK(h.store.status_ts(h.release_id) == "557.000100");
    auto pins = h.slack.calls_of("pins.add");
    REQUIRE(pins.size() == 1);
    CHECK(pins[0].channel() == "CREL");
    CHECK(pins[0].args.value("timestamp", "") == "557.000100");
    CHECK(h.notify.stats().recovered == 1);
}

TEST_CASE(
    "after a restart, a row left sending that is not in the history is posted once, with "
    "its key") {
    harness h;
    h.queue("lost", channel("CA"));
    h.queue("next", channel("CA"));
    claim_and_leave(h, "relbot@test/1-earlier", 120);
    h.start();
    h.run_for(60);

    REQUIRE(h.slack.calls_of("conversations.history").size() == 1);
    auto posts = h.slack.posts_to("CA");
    REQUIRE(posts.size() == 2);
    CHECK(posts[0].args["metadata"]["event_payload"]["key"] == "lost");
    CHECK(posts[1].text() == "next");  // the channel's order holds
    CHECK(h.row("lost").state == storage::outbox_state::sent);
    CHECK(h.notify.stats().recovered == 0);
}

TEST_CASE(
    "a row whose lease ran out mid-delivery is looked up in the history when the lease ends, "
    "and not posted twice") {
    harness h;
    h.queue("stuck", channel("CA"));
    h.queue("other", channel("CB"));
    // Another instance claimed it, may have posted it, and never said so (it hung, or died).
    claim_and_leave(h, "relbot@elsewhere/7-hung", 30);
    bool in_history = GENERATE(true, false);
    if (in_history) {
        h.slack.history = json::array({posted_with_key("600.000100", "stuck")});
    }
    h.start();
    h.run_for(120);

    auto history = h.slack.calls_of("conversations.history");
    REQUIRE(history.size() == 1);
    CHECK(history[0].at >= 30 - eps);  // not while the other instance's lease lived
    CHECK(history[0].at <= 30 + eps);  // but as soon as it ran out
    CHECK(h.row("stuck").state == storage::outbox_state::sent);
    if (in_history) {
        CHECK(h.slack.posts_to("CA").empty());
        CHECK(h.row("stuck").ts == "600.000100");
        CHECK(h.notify.stats().recovered == 1);
    } else {
        REQUIRE(h.slack.posts_to("CA").size() == 1);
        CHECK(h.slack.posts_to("CA")[0].at >= history[0].at);
        CHECK(h.notify.stats().recovered == 0);
    }
}

TEST_CASE(
    "a row left sending whose channel's history cannot be read now is looked for again later, "
    "not posted twice") {
    harness h;
    h.queue("lost", channel("CA"));
    claim_and_leave(h, "relbot@test/1-earlier", 120);
    // The message is there, but the history answers 429, then a 5xx, before it answers.
    h.slack.history = json::array({posted_with_key("556.000100", "lost")});
    int refusals = 0;
    h.slack.rule = [&](const test::recorded_call& c) -> std::optional<bot::api_result> {
        if (c.method == "conversations.history" && refusals < 2) {
            return refusals++ == 0 ? test::answer_rate_limited(30) : test::answer_server_error(503);
        }
        return std::nullopt;
    };
    h.start();
    h.run_for(300);

    auto history = h.slack.calls_of("conversations.history");
    REQUIRE(history.size() == 3);
    CHECK(history[1].at >= 30 - eps);  // Slack's Retry-After was kept
    CHECK(h.slack.calls_of("chat.postMessage").empty());
    CHECK(h.row("lost").state == storage::outbox_state::sent);
    CHECK(h.row("lost").ts == "556.000100");

    // A history that Slack refuses for good (a missing scope) is not waited for: it is posted.
    harness g;
    g.queue("lost", channel("CA"));
    claim_and_leave(g, "relbot@test/1-earlier", 120);
    g.slack.rule = [](const test::recorded_call& c) -> std::optional<bot::api_result> {
        if (c.method == "conversations.history") {
            return answer_error("missing_scope");
        }
        return std::nullopt;
    };
    g.start();
    g.run_for(60);
    CHECK(g.slack.calls_of("conversations.history").size() == 1);
    CHECK(g.slack.posts_to("CA").size() == 1);
}

TEST_CASE(
    "a DM's conversations.open failures are stored: a restart does not start the count again") {
    harness h;
    h.slack.rule = [](const test::recorded_call& c) -> std::optional<bot::api_result> {
        if (c.method == "conversations.open") {
            return answer_error("user_not_found");
        }
        return std::nullopt;
    };
    h.queue("dm", destination::direct("UGONE"), "chat.postMessage", message_kind::dm);
    // Three failures in earlier runs.
    for (int i = 0; i < 3; ++i) {
        auto rows = h.store.claim(h.clock.epoch_s(), 120, "relbot@test/1-earlier", 10);
        REQUIRE(rows.size() == 1);
        REQUIRE(h.store.defer(rows[0].id, "relbot@test/1-earlier", h.clock.epoch_s(),
                              "conversations.open failed"));
    }
    h.start();
    h.run_for(600);

    CHECK(h.slack.calls_of("conversations.open").size() == 2);  // the 4th and the 5th failure
    CHECK(h.row("dm").state == storage::outbox_state::failed);
    CHECK(h.row("dm").attempts == 5);
}

TEST_CASE(
    "a channel owed more than 20 announcements while Slack refuses them gets its oldest folded "
    "into one post: every text once, in order, DMs untouched") {
    harness h;
    // Slack refuses the channel's first post for 60 s: what follows piles up behind it.
    h.slack.script("chat.postMessage", {test::answer_rate_limited(60)});
    h.queue("a0", channel("CREL"));
    h.start();
    REQUIRE(h.run_until([&] { return h.slack.posts_to("CREL").size() == 1; }, 10));
    for (int i = 1; i < 30; ++i) {
        h.queue("a" + std::to_string(i), channel("CREL"));
    }
    h.queue("dm", destination::direct("UPAT"), "chat.postMessage", message_kind::dm);
    REQUIRE(h.run_until([&] { return h.slack.posts_to("CREL").size() == 22; }, 300));
    h.run_for(30);  // and nothing more comes

    auto posts = h.texts_to("CREL");
    REQUIRE(posts.size() == 22);  // a0 refused, a0 again, the fold of a1…a10, a11…a29
    CHECK(posts[0] == "a0");
    CHECK(posts[1] == "a0");  // a row already tried is never folded: Slack may have it
    CHECK(posts[2].find("10 updates in one") != std::string::npos);
    auto folded = h.slack.posts_to("CREL")[2].args.dump();
    std::size_t at = 0;
    for (int i = 1; i <= 10; ++i) {  // oldest first
        auto next = folded.find("• a" + std::to_string(i) + "\\n", at);
        INFO("a" << i);
        REQUIRE(next != std::string::npos);
        at = next;
    }
    for (int i = 11; i < 30; ++i) {
        CHECK(posts[static_cast<std::size_t>(i - 8)] == "a" + std::to_string(i));
    }
    CHECK(h.row("a1").state == storage::outbox_state::sent);
    CHECK_FALSE(h.row("a1").ts.empty());  // the fold went out as a1
    CHECK(h.row("a2").state == storage::outbox_state::sent);
    CHECK(h.row("a2").error == "folded into " + std::to_string(h.row("a1").id));
    CHECK(h.row("a2").ts.empty());                             // never posted on its own
    CHECK(h.slack.calls_of("chat.postMessage").size() == 23);  // and the DM, once
}

// Found by the soak (bench/soak.cpp): a post whose answer timed out was posted again.
TEST_CASE(
    "a post whose answer was lost after it was sent is looked for in the history before it is "
    "posted again") {
    SECTION("Slack had it: marked sent, never posted twice") {
        harness h;
        h.slack.script("chat.postMessage", {test::answer_lost()});
        h.slack.history = json::array({posted_with_key("556.000100", "lost-answer")});
        h.queue("lost-answer", channel("CA"));
        h.queue("after", channel("CA"));
        h.start();
        REQUIRE(h.run_until([&] { return h.slack.posts_to("CA").size() == 2; }, 120));
        h.run_for(30);

        CHECK(h.texts_to("CA") == std::vector<std::string>{"lost-answer", "after"});
        REQUIRE(h.slack.calls_of("conversations.history").size() == 1);
        CHECK(h.row("lost-answer").state == storage::outbox_state::sent);
        CHECK(h.row("lost-answer").ts == "556.000100");
        CHECK(h.notify.stats().recovered == 1);
    }
    SECTION("Slack did not have it: posted once more, then the next row") {
        harness h;
        h.slack.script("chat.postMessage", {test::answer_lost()});
        h.queue("lost-answer", channel("CA"));
        h.queue("after", channel("CA"));
        h.start();
        REQUIRE(h.run_until([&] { return h.slack.posts_to("CA").size() == 3; }, 120));
        h.run_for(30);

        CHECK(h.texts_to("CA") == std::vector<std::string>{"lost-answer", "lost-answer", "after"});
        CHECK(h.slack.calls_of("conversations.history").size() == 1);
        CHECK(h.row("lost-answer").state == storage::outbox_state::sent);
        CHECK(h.notify.stats().recovered == 0);
    }
    SECTION("a failure before the request was sent is retried without a look") {
        harness h;
        h.slack.script("chat.postMessage", {test::answer_network_error()});
        h.queue("refused", channel("CA"));
        h.start();
        REQUIRE(h.run_until([&] { return h.slack.posts_to("CA").size() == 2; }, 120));
        CHECK(h.slack.calls_of("conversations.history").empty());
    }
}

}  // namespace unit_notifier_test
