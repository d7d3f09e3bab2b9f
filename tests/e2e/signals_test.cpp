// Signals from CI and deploy tools (contract: "Signals from CI and deploy tools"), as a
// pipeline sends them: signed HTTP requests to the real relbot's RELBOT_HOOKS_ADDR, with the
// sandbox playing Slack.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <ctime>
#include <regex>
#include <thread>

#include "bot/signal.hpp"
#include "support/http_probe.hpp"
#include "support/sandbox.hpp"

namespace e2e_signals_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

const std::string secret = "e2e-hooks-secret-0123456789abcdef0123";
const std::string channel = "C0E2E";

std::map<std::string, std::string> hooks_env(std::map<std::string, std::string> more = {}) {
    more["RELBOT_HOOKS_ADDR"] = "127.0.0.1:0";
    more["RELBOT_HOOKS_SECRET"] = secret;
    return more;
}

int hooks_port(bot& relbot) {
    auto line = relbot.proc().wait_stderr("event=hooks.listening", after(10s));
    REQUIRE(line);
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex("port=(\\d+)")));
    return std::stoi(m[1]);
}

std::string now_s(long long shift = 0) {
    return std::to_string(static_cast<long long>(std::time(nullptr)) + shift);
}

// POSTs `body` signed with `key` at `at` (Unix seconds as text).
http_answer send_signal(int port,
                        const std::string& body,
                        const std::string& key = secret,
                        const std::string& at = now_s()) {
    return http_post(port, "/hooks/v1/signal",
                     {"X-Relbot-Timestamp: " + at,
                      "X-Relbot-Signature: " + relbot::bot::signal_signature(key, at, body)},
                     body);
}

json answer_of(const http_answer& a) {
    INFO(a.body);
    auto j = json::parse(a.body, nullptr, false);
    REQUIRE(j.is_object());
    return j;
}

std::string status_text(sandbox& sim) {
    auto ack = sim.wait_ack(sim.slash_command("status", channel));
    REQUIRE(ack);
    return message_text((*ack)["payload"]);
}

}  // namespace

TEST_CASE(
    "a signed signal checks an item as CI with its link as evidence, and a repeat returns the "
    "first answer and applies nothing",
    "[e2e][signals]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, hooks_env({{"RELBOT_HEALTH_ADDR", "127.0.0.1:0"}}));
    auto health = health_port(relbot);
    auto port = hooks_port(relbot);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(sim.wait_ack(sim.slash_command("start v4.2", channel)));

    auto body = json{{"channel", channel},         {"item", "ci-cd-status"},
                     {"action", "check"},          {"url", "https://ci.example.com/builds/812"},
                     {"source", "github-actions"}, {"id", "gha-run-812"}}
                    .dump();
    auto first = send_signal(port, body);
    CHECK(first.status == 200);
    auto a = answer_of(first);
    CHECK(a["ok"] == true);
    CHECK(a["state"] == "done");
    auto ref = a["item"].get<std::string>();
    CHECK(ref.starts_with("1."));

    // Done as for a person's check: the status shows it settled, the report names CI and keeps
    // the link.
    auto status = status_text(sim);
    CHECK(contains(status, "1 done or skipped"));
    CHECK(contains(status, "by CI (github-actions)"));
    // The living status message in the channel says so too (updated in place).
    CHECK(sim.wait_for(
        [](const json& e) {
            return e.value("event", "") == "api_call" && e.value("method", "") == "chat.update" &&
                   contains(e["args"].dump(), "by CI (github-actions)");
        },
        after(15s)));
    auto report_ack = sim.wait_ack(sim.slash_command("report", channel));
    REQUIRE(report_ack);
    auto report = message_text((*report_ack)["payload"]);
    CHECK(contains(report, "CI (github-actions)"));
    CHECK(contains(report, "https://ci.example.com/builds/812"));

    // The same signal again (re-signed a second later, as a retrying pipeline would): the first
    // answer, and nothing applied.
    auto again = send_signal(port, body, secret, now_s(1));
    CHECK(again.status == 200);
    CHECK(answer_of(again) == a);
    auto report_again = sim.wait_ack(sim.slash_command("report", channel));
    REQUIRE(report_again);
    auto mentions = [](const std::string& text) {
        std::size_t n = 0;
        for (auto at = text.find("CI (github-actions)"); at != std::string::npos;
             at = text.find("CI (github-actions)", at + 1)) {
            ++n;
        }
        return n;
    };
    CHECK(mentions(message_text((*report_again)["payload"])) == mentions(report));
    // Whatever its body (contract): a repeat whose body would be refused (no channel, a bad
    // url) still gets the first answer.
    auto broken = send_signal(
        port, json{{"action", "check"}, {"url", "not a url"}, {"id", "gha-run-812"}}.dump(), secret,
        now_s(2));
    CHECK(broken.status == 200);
    CHECK(answer_of(broken) == a);
    auto page = http_get(health, "/metrics").body;
    CHECK(sample(page, "relbot_signal_refusals_total{reason=\"replay\"}") == 2);
    CHECK(sample(page, "relbot_signals_total{action=\"check\",outcome=\"repeated\"}") == 2);

    // A note and a block by CI, then the unblock: each answered with the item's state.
    auto note = send_signal(port, json{{"channel", channel},
                                       {"item", ref},
                                       {"action", "note"},
                                       {"text", "coverage 91%"},
                                       {"id", "gha-note-1"}}
                                      .dump());
    CHECK(note.status == 200);
    CHECK(answer_of(note)["state"] == "done");
    auto block = send_signal(port, json{{"channel", channel},
                                        {"item", "1.2"},
                                        {"action", "block"},
                                        {"text", "scanner down"},
                                        {"source", "gitlab-ci"},
                                        {"id", "glc-1"}}
                                       .dump());
    CHECK(block.status == 200);
    CHECK(answer_of(block)["state"] == "blocked");
    CHECK(contains(status_text(sim), "scanner down"));
    auto unblock = send_signal(
        port,
        json{{"channel", channel}, {"item", "1.2"}, {"action", "unblock"}, {"id", "glc-2"}}.dump());
    CHECK(answer_of(unblock)["state"] == "open");
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "a deployed signal anchors the first monitoring checkpoint, and a later one changes "
    "nothing",
    "[e2e][signals]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, hooks_env({{"RELBOT_CHECKPOINTS", "1s,1d"}}));
    auto port = hooks_port(relbot);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(sim.wait_ack(sim.slash_command("start v4.3", channel)));
    auto deployed = [&](const std::string& id) {
        return send_signal(port, json{{"channel", channel},
                                      {"action", "deployed"},
                                      {"source", "argo"},
                                      {"url", "https://deploy.example.com/42"},
                                      {"id", id}}
                                     .dump());
    };
    auto first = deployed("argo-42");
    CHECK(first.status == 200);
    CHECK(answer_of(first)["ok"] == true);
    // Checkpoint +1s is posted in the channel, though the deployment phase was not left.
    REQUIRE(sim.wait_for(
        [](const json& e) {
            return e.value("event", "") == "api_call" &&
                   e.value("method", "") == "chat.postMessage" &&
                   e["args"].value("channel", "") == channel &&
                   contains(e["args"].dump(), "\"Investigating\"");
        },
        after(15s)));
    // A second deployment report is recorded but moves no checkpoint.
    auto due = [&] {
        SQLite::Database db(dir.file("relbot.db"), SQLite::OPEN_READONLY);
        std::vector<long long> out;
        SQLite::Statement q(db, "SELECT due_at FROM checkpoints ORDER BY number");
        while (q.executeStep()) {
            out.push_back(q.getColumn(0).getInt64());
        }
        return out;
    };
    auto anchored = due();
    REQUIRE(anchored.size() == 2);  // +1s and +1d
    CHECK(deployed("argo-43").status == 200);
    CHECK(due() == anchored);
    auto report_ack = sim.wait_ack(sim.slash_command("report", channel));
    REQUIRE(report_ack);
    auto report = message_text((*report_ack)["payload"]);
    CHECK(contains(report, "reported the deployment"));
    CHECK(contains(report, "CI (argo)"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE(
    "a signal that is not believed, not well formed or not allowed is answered and changes "
    "nothing",
    "[e2e][signals]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, hooks_env({{"RELBOT_HEALTH_ADDR", "127.0.0.1:0"}}));
    auto health = health_port(relbot);
    auto port = hooks_port(relbot);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    auto check = [](const std::string& item, const std::string& id,
                    const std::string& release = "") {
        json j{{"channel", channel}, {"item", item}, {"action", "check"}, {"id", id}};
        if (!release.empty()) {
            j["release"] = release;
        }
        return j.dump();
    };
    // No release yet: 404.
    auto none = send_signal(port, check("1.1", "n1"));
    CHECK(none.status == 404);
    CHECK(contains(answer_of(none)["error"].get<std::string>(), "no active release"));
    REQUIRE(sim.wait_ack(sim.slash_command("start v5.0", channel)));

    auto body = check("1.1", "x1");
    // Not believed: 401, whatever the body says.
    auto unsigned_ = http_post(port, "/hooks/v1/signal", {}, body);
    CHECK(unsigned_.status == 401);
    CHECK(send_signal(port, body, "another-secret-0123456789abcdef0123456").status == 401);
    CHECK(send_signal(port, body, secret, now_s(-301)).status == 401);
    CHECK(send_signal(port, body, secret, now_s(+301)).status == 401);
    // Too large: 413, before the signature is looked at.
    auto big = http_post(port, "/hooks/v1/signal", {}, std::string(65'537, ' '));
    CHECK(big.status == 413);
    // Bad input: 400 with what to send instead; an action a signal may not take is bad input.
    auto next =
        send_signal(port, json{{"channel", channel}, {"action", "next"}, {"id", "x2"}}.dump());
    CHECK(next.status == 400);
    CHECK(contains(answer_of(next)["error"].get<std::string>(), "check, note, block"));
    CHECK(send_signal(port, "{not json").status == 400);
    // Unknown item, unknown release: 404.
    auto unknown = send_signal(port, check("no-such-item", "x3"));
    CHECK(unknown.status == 404);
    CHECK(contains(answer_of(unknown)["error"].get<std::string>(), "no-such-item"));
    CHECK(send_signal(port, check("1.1", "x4", "v9.9")).status == 404);
    // A repeated id gets its first answer, a refusal too, and applies nothing (contract).
    auto again = send_signal(port, check("1.1", "x3"));
    CHECK(again.status == 404);
    CHECK(contains(answer_of(again)["error"].get<std::string>(), "no-such-item"));
    // Nothing of it happened.
    CHECK(contains(status_text(sim), "0 done or skipped"));

    // A transition the rules refuse: 409 (checked twice; a finished release).
    CHECK(send_signal(port, check("1.1", "y1")).status == 200);
    auto twice = send_signal(port, check("1.1", "y2"));
    CHECK(twice.status == 409);
    // Words for a CI log, not Slack's mrkdwn.
    auto why = answer_of(twice)["error"].get<std::string>();
    CHECK(contains(why, "1.1"));
    CHECK_FALSE(contains(why, "`"));
    CHECK_FALSE(contains(why, "*"));
    REQUIRE(sim.wait_ack(sim.slash_command("abort rehearsal over", channel)));
    auto ended = send_signal(port, check("1.2", "y3", "v5.0"));
    CHECK(ended.status == 409);
    CHECK(contains(answer_of(ended)["error"].get<std::string>(), "ended"));

    // Counted by reason and outcome.
    auto page = http_get(health, "/metrics").body;
    CHECK(sample(page, "relbot_signal_refusals_total{reason=\"signature\"}") == 2);
    CHECK(sample(page, "relbot_signal_refusals_total{reason=\"age\"}") == 2);
    CHECK(sample(page, "relbot_signal_refusals_total{reason=\"size\"}") == 1);
    CHECK(sample(page, "relbot_signal_refusals_total{reason=\"body\"}") == 2);
    CHECK(sample(page, "relbot_signals_total{action=\"check\",outcome=\"done\"}") == 1);
    CHECK(sample(page, "relbot_signals_total{action=\"check\",outcome=\"refused\"}") == 2);
    // The secret is in no log line.
    for (const auto& line : relbot.proc().stderr_lines()) {
        CHECK_FALSE(contains(line, secret));
    }
    CHECK(relbot.stop() == 0);
}

TEST_CASE("200 unsigned requests at once are refused while commands are acknowledged in time",
          "[e2e][signals]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, hooks_env());
    auto port = hooks_port(relbot);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(sim.wait_ack(sim.slash_command("start v6.0", channel)));
    std::atomic<int> answered_401{0};
    std::atomic<int> accepted{0};
    std::vector<std::thread> flood;
    for (int i = 0; i < 200; ++i) {
        flood.emplace_back([&, i] {
            int fd = connect_local(port);  // no Catch assertion here: another thread
            if (fd < 0) {
                return;
            }
            auto body = R"({"channel":"C0E2E","item":"1.1","action":"check","id":"f)" +
                        std::to_string(i) + "\"}";
            auto req = "POST /hooks/v1/signal HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body;
            ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
            auto answer = read_answer(fd);
            if (answer.status != 0) {
                ++accepted;
                answered_401 += answer.status == 401 ? 1 : 0;
            }
        });
    }
    // Meanwhile, people's commands: each acknowledged within Slack's 3 s.
    for (int i = 0; i < 20; ++i) {
        auto ack = sim.wait_ack(
            sim.slash_command("note 1.2 during the flood " + std::to_string(i), channel));
        CHECK(ack);
    }
    for (auto& t : flood) {
        t.join();
    }
    // Every request that got an answer was refused (the rest were turned away at the door: at
    // most 32 at once), and none of them checked the item.
    CHECK(answered_401 == accepted.load());
    CHECK(accepted > 0);
    CHECK(contains(status_text(sim), "0 done or skipped"));
    CHECK(relbot.stop() == 0);
}

TEST_CASE("relbot signal signs and sends one signal, prints the answer and exits by it",
          "[e2e][signals]") {
    temp_dir dir;
    sandbox sim(dir);
    bot relbot(dir, sim, hooks_env());
    auto port = hooks_port(relbot);
    REQUIRE(sim.wait_event("hello_sent", after(15s)));
    REQUIRE(sim.wait_ack(sim.slash_command("start v7.0", channel)));
    // As a pipeline step runs it: only the address and the secret, no Slack tokens.
    std::map<std::string, std::string> env{{"RELBOT_HOOKS_ADDR", "0.0.0.0:" + std::to_string(port)},
                                           {"RELBOT_HOOKS_SECRET", secret}};
    if (const char* path = std::getenv("PATH")) {
        env["PATH"] = path;
    }
    temp_dir ci;  // no .env there
    int status = -1;
    std::string err;
    auto out =
        run_relbot({"signal", "--channel", channel, "--item", "ci-cd-status", "--action", "check",
                    "--url", "https://ci.example.com/builds/9", "--source", "github-actions"},
                   ci, env, status, &err);
    INFO(out << err);
    CHECK(status == 0);
    // The answer's JSON alone on stdout.
    auto answer = json::parse(out, nullptr, false);
    REQUIRE(answer.is_object());
    CHECK(answer["ok"] == true);
    CHECK(answer["state"] == "done");
    CHECK(contains(status_text(sim), "1 done or skipped"));
    // Refused by the rules (done already): the answer, and exit 1.
    out =
        run_relbot({"signal", "--channel", channel, "--item", "ci-cd-status", "--action", "check"},
                   ci, env, status, &err);
    CHECK(status == 1);
    CHECK(json::parse(out, nullptr, false).value("ok", true) == false);
    CHECK(contains(err, "HTTP 409"));
    // Without the secret: says what to set, exit 2, nothing sent.
    auto no_secret = env;
    no_secret.erase("RELBOT_HOOKS_SECRET");
    std::string usage;
    run_relbot({"signal", "--channel", channel, "--item", "1.2", "--action", "check"}, ci,
               no_secret, status, &usage);
    CHECK(status == 2);
    CHECK(contains(usage, "RELBOT_HOOKS_SECRET"));
    CHECK(contains(status_text(sim), "1 done or skipped"));
    CHECK(relbot.stop() == 0);
}

}  // namespace e2e_signals_test
