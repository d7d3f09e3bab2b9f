// End-to-end for the sandbox alone: this test plays relbot itself (Web API calls over HTTPS,
// Socket Mode over WSS, acks) against the real relbot-sim process, and checks that clicks,
// submissions, triggers, views and response_urls behave as Slack's do (docs/SLACK.md,
// "Interactive payloads" and "Block Kit limits relbot respects"). Every wait has a deadline;
// nothing sleeps.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <catch2/catch.hpp>

#include "support/sandbox.hpp"

namespace e2e_sim_interactive_test {

using namespace relbot::test;
using namespace std::chrono_literals;

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// Runs one asynchronous operation to its end, at most 5 s; throws if it failed or did not end.
template <class Start>
void run_bounded(net::io_context& ioc, Start start) {
    bool done = false;
    boost::system::error_code result;
    start([&](boost::system::error_code ec, auto&&...) {
        result = ec;
        done = true;
    });
    ioc.restart();
    ioc.run_for(5s);
    if (!done) {
        throw std::runtime_error("timed out");
    }
    if (result) {
        throw boost::system::system_error(result);
    }
}

// relbot's side of the wire, as small as a test needs: one HTTPS request per call, one socket.
class fake_relbot {
public:
    explicit fake_relbot(const sandbox& sim) : ctx_(ssl::context::tlsv12_client) {
        ctx_.load_verify_file(sim.ca_file());
        ctx_.set_verify_mode(ssl::verify_peer);
        auto url = sim.api_url();  // https://localhost:<port>/api/
        auto colon = url.rfind(':');
        port_ = url.substr(colon + 1, url.find('/', colon) - colon - 1);
    }

    // POST `path` with a JSON body; the HTTP status and body.
    std::pair<unsigned, std::string> post(const std::string& path,
                                          const json& body,
                                          const std::string& token = bot_token) {
        beast::ssl_stream<beast::tcp_stream> stream(ioc_, ctx_);
        open(stream);
        http::request<http::string_body> req(http::verb::post, path, 11);
        req.set(http::field::host, "localhost");
        req.set(http::field::content_type, "application/json; charset=utf-8");
        if (!token.empty()) {
            req.set(http::field::authorization, "Bearer " + token);
        }
        req.body() = body.dump();
        req.prepare_payload();
        run_bounded(ioc_, [&](auto h) { http::async_write(stream, req, h); });
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        run_bounded(ioc_, [&](auto h) { http::async_read(stream, buffer, res, h); });
        return {res.result_int(), res.body()};
    }

    // A Web API call with the bot token; Slack's answer.
    json call(const std::string& method, const json& args) {
        auto [status, body] = post("/api/" + method, args);
        auto answer = json::parse(body, nullptr, false);
        return answer.is_discarded() ? json{{"http", status}} : answer;
    }

    // apps.connections.open, the WebSocket and its hello.
    void connect() {
        auto [status, body] = post("/api/apps.connections.open", json::object(), app_token);
        auto url = json::parse(body)["url"].get<std::string>();  // wss://localhost:<port>/link/…
        auto target = url.substr(url.find("/link"));
        ws_.emplace(ioc_, ctx_);
        open(ws_->next_layer());
        run_bounded(ioc_, [&](auto h) { ws_->async_handshake("localhost", target, h); });
        REQUIRE(next_frame()["type"] == "hello");
    }

    // The next frame Slack sends on the socket.
    json next_frame() {
        beast::flat_buffer buffer;
        run_bounded(ioc_, [&](auto h) { ws_->async_read(buffer, h); });
        return json::parse(beast::buffers_to_string(buffer.data()));
    }

    void ack(const std::string& envelope_id, const json& payload = nullptr) {
        json ack = {{"envelope_id", envelope_id}};
        if (!payload.is_null()) {
            ack["payload"] = payload;
        }
        auto text = ack.dump();
        run_bounded(ioc_, [&](auto h) { ws_->async_write(net::buffer(text), h); });
    }

private:
    void open(beast::ssl_stream<beast::tcp_stream>& stream) {
        tcp::resolver resolver(ioc_);
        auto endpoints = resolver.resolve("127.0.0.1", port_);
        run_bounded(ioc_,
                    [&](auto h) { beast::get_lowest_layer(stream).async_connect(endpoints, h); });
        SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
        stream.set_verify_callback(ssl::host_name_verification("localhost"));
        run_bounded(ioc_, [&](auto h) { stream.async_handshake(ssl::stream_base::client, h); });
    }

    net::io_context ioc_;
    ssl::context ctx_;
    std::string port_;
    std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> ws_;
};

json text(const std::string& t, const char* type = "mrkdwn") {
    return {{"type", type}, {"text", t}};
}

json button(const std::string& label, const std::string& action_id, const std::string& value) {
    return {{"type", "button"},
            {"text", text(label, "plain_text")},
            {"action_id", action_id},
            {"value", value}};
}

// An item as relbot draws one: its section, then its controls.
json item_blocks(const std::string& ref, const std::string& title, int id) {
    auto n = std::to_string(id);
    return json::array({{{"type", "section"}, {"text", text("⬜ `" + ref + "` " + title)}},
                        {{"type", "actions"},
                         {"block_id", "item:" + n},
                         {"elements",
                          {button("Done", "item.done:" + n, "r4.i" + n),
                           button("Skip…", "item.skip:" + n, "r4.i" + n)}}}});
}

json modal(const std::string& title, json blocks) {
    return {{"type", "modal"},
            {"callback_id", "skip"},
            {"title", text(title, "plain_text")},
            {"submit", text("Save", "plain_text")},
            {"private_metadata", R"({"t":"r4.i17"})"},
            {"blocks", std::move(blocks)}};
}

json input(const std::string& block_id, json element, bool optional = false) {
    // slack::view_violation wants action_ids unique across the whole view (see the report).
    element["action_id"] = block_id;
    return {{"type", "input"},
            {"block_id", block_id},
            {"optional", optional},
            {"label", text(block_id, "plain_text")},
            {"element", std::move(element)}};
}

// The trigger_id of a slash command typed by `user` (read off the socket, and acked).
std::string trigger_of_command(sandbox& sim, fake_relbot& relbot, const std::string& user) {
    sim.slash_command("status", "C0E2E", user);
    auto envelope = relbot.next_frame();
    relbot.ack(envelope["envelope_id"]);
    return envelope["payload"]["trigger_id"];
}

}  // namespace

TEST_CASE("a trigger opens one modal within 3 s, and an unknown, used or expired one is refused",
          "[e2e][sim]") {
    temp_dir dir;
    sandbox sim(dir);
    fake_relbot relbot(sim);
    relbot.connect();
    auto reason = input("reason", {{"type", "plain_text_input"}});
    auto trigger = trigger_of_command(sim, relbot, "U0PAT");

    auto unknown = relbot.call("views.open",
                               {{"trigger_id", "1.2.made-up"}, {"view", modal("Skip", {reason})}});
    CHECK(unknown["error"] == "invalid_trigger_id");
    auto opened =
        relbot.call("views.open", {{"trigger_id", trigger}, {"view", modal("Skip", {reason})}});
    REQUIRE(opened["ok"] == true);
    CHECK(opened["view"]["id"].get<std::string>().starts_with("V"));
    CHECK(sim.open_view("U0PAT")["title"]["text"] == "Skip");
    auto again =
        relbot.call("views.open", {{"trigger_id", trigger}, {"view", modal("Skip", {reason})}});
    CHECK(again["error"] == "exchanged_trigger_id");

    auto later = trigger_of_command(sim, relbot, "U0PAT");
    sim.expire_triggers();
    auto expired =
        relbot.call("views.open", {{"trigger_id", later}, {"view", modal("Skip", {reason})}});
    CHECK(expired["error"] == "expired_trigger_id");
}

TEST_CASE("views and messages over Slack's limits are refused and say why", "[e2e][sim]") {
    temp_dir dir;
    sandbox sim(dir);
    fake_relbot relbot(sim);
    relbot.connect();
    json many = json::array();
    for (int i = 0; i < 101; ++i) {
        many.push_back({{"type", "section"}, {"text", text("line " + std::to_string(i))}});
    }
    auto trigger = trigger_of_command(sim, relbot, "U0PAT");
    auto big =
        relbot.call("views.open", {{"trigger_id", trigger}, {"view", modal("Too big", many)}});
    CHECK(big["error"] == "invalid_arguments");
    CHECK(contains(big.dump(), "more than 100 blocks"));
    auto long_title = relbot.call(
        "views.open",
        {{"trigger_id", trigger}, {"view", modal("A title far over the limit", json::array())}});
    CHECK(long_title["error"] == "invalid_arguments");
    CHECK(sim.open_view("U0PAT").is_null());

    auto home = relbot.call("views.publish",
                            {{"user_id", "U0PAT"}, {"view", {{"type", "home"}, {"blocks", many}}}});
    CHECK(home["error"] == "invalid_arguments");
    many.erase(many.begin() + 50, many.end());
    auto fits = relbot.call("views.publish",
                            {{"user_id", "U0PAT"}, {"view", {{"type", "home"}, {"blocks", many}}}});
    CHECK(fits["ok"] == true);
    CHECK(sim.home_view("U0PAT")["blocks"].size() == 50);

    many.push_back({{"type", "divider"}});
    auto post =
        relbot.call("chat.postMessage", {{"channel", "C0E2E"}, {"text", "x"}, {"blocks", many}});
    CHECK(post["error"] == "invalid_blocks");
    auto twice = item_blocks("1.1", "Tag", 5);
    twice.push_back(twice[1]);  // the same action_ids again
    auto dup =
        relbot.call("chat.postMessage", {{"channel", "C0E2E"}, {"text", "x"}, {"blocks", twice}});
    CHECK(dup["error"] == "invalid_blocks");
    CHECK(contains(dup.dump(), "used twice"));
}

TEST_CASE("a click on a message sends a Slack-shaped block_actions envelope, once per click",
          "[e2e][sim]") {
    temp_dir dir;
    sandbox sim(dir);
    fake_relbot relbot(sim);
    relbot.connect();
    auto blocks = item_blocks("2.3", "Smoke tests", 17);
    for (auto& b : item_blocks("2.4", "Canary", 18)) {
        blocks.push_back(b);
    }
    auto posted = relbot.call("chat.postMessage",
                              {{"channel", "C0E2E"}, {"text", "status"}, {"blocks", blocks}});
    REQUIRE(posted["ok"] == true);

    auto id = sim.click("U0PAT", "Done", {{"match", "`2.4`"}});
    auto envelope = relbot.next_frame();
    CHECK(envelope["envelope_id"] == id);
    CHECK(envelope["type"] == "interactive");
    const auto& p = envelope["payload"];
    CHECK(p["type"] == "block_actions");
    CHECK(p["team"]["id"] == "T0SIM");
    CHECK(p["user"]["id"] == "U0PAT");
    CHECK(p["api_app_id"] == "A0SIM");
    CHECK(p["container"] == json{{"type", "message"},
                                 {"message_ts", posted["ts"]},
                                 {"channel_id", "C0E2E"},
                                 {"is_ephemeral", false}});
    CHECK(p["channel"]["id"] == "C0E2E");
    CHECK(p["message"]["ts"] == posted["ts"]);
    CHECK(p["message"]["blocks"] == blocks);
    CHECK_FALSE(p["trigger_id"].get<std::string>().empty());
    CHECK(p["response_url"].get<std::string>().starts_with("https://localhost:"));
    REQUIRE(p["actions"].size() == 1);
    const auto& a = p["actions"][0];
    CHECK(a["type"] == "button");
    CHECK(a["action_id"] == "item.done:18");
    CHECK(a["block_id"] == "item:18");
    CHECK(a["value"] == "r4.i18");
    CHECK(a["text"]["text"] == "Done");
    CHECK(a.contains("action_ts"));
    relbot.ack(id);
    REQUIRE(sim.wait_ack(id));

    sim.redeliver(id);
    auto again = relbot.next_frame();
    CHECK(again["envelope_id"] == id);
    CHECK(again["retry_attempt"] == 1);
    CHECK(again["payload"]["actions"] == p["actions"]);

    CHECK_THROWS_WITH(sim.click("U0PAT", "Unblock", {{"match", "`2.3`"}}),
                      Catch::Contains("Skip…"));
    CHECK_THROWS_WITH(sim.click("U0PAT", "Done", {{"match", "`9.9`"}}), Catch::Contains("9.9"));
}

TEST_CASE("a select in a DM is clicked by its placeholder and option, and Home by its view",
          "[e2e][sim]") {
    temp_dir dir;
    sandbox sim(dir);
    fake_relbot relbot(sim);
    relbot.connect();
    auto blocks = item_blocks("2.3", "Smoke tests", 17);
    json snooze = {{"type", "static_select"},
                   {"action_id", "item.snooze:17"},
                   {"placeholder", text("Snooze", "plain_text")},
                   {"options",
                    {{{"text", text("1 hour", "plain_text")}, {"value", "r4.i17.s1h"}},
                     {{"text", text("4 hours", "plain_text")}, {"value", "r4.i17.s4h"}}}}};
    blocks[1]["elements"].push_back(snooze);
    auto dm = relbot.call("chat.postMessage",
                          {{"channel", "U0PAT"}, {"text", "yours"}, {"blocks", blocks}});
    REQUIRE(dm["ok"] == true);
    sim.click("U0PAT", "Snooze", {{"in", "dm"}, {"match", "Smoke"}, {"option", "4 hours"}});
    auto picked = relbot.next_frame()["payload"];
    CHECK(picked["container"]["channel_id"] == "D0PAT");
    CHECK(picked["actions"][0]["type"] == "static_select");
    CHECK(picked["actions"][0]["selected_option"]["value"] == "r4.i17.s4h");

    auto updated = relbot.call("chat.update", {{"channel", "D0PAT"},
                                               {"ts", dm["ts"]},
                                               {"text", "✅ Done by @pat"},
                                               {"blocks", json::array()}});
    CHECK(updated["ok"] == true);
    REQUIRE(sim.dm_messages("U0PAT").size() == 1);
    CHECK(sim.dm_messages("U0PAT")[0]["text"] == "✅ Done by @pat");
    CHECK_THROWS(sim.click("U0PAT", "Done", {{"in", "dm"}}));  // the buttons are gone

    auto opened = sim.home_opened("U0PAT");
    auto event = relbot.next_frame();
    CHECK(event["envelope_id"] == opened);
    CHECK(event["type"] == "events_api");
    CHECK(event["payload"]["event"]["type"] == "app_home_opened");
    CHECK(event["payload"]["event"]["tab"] == "home");
    CHECK(event["payload"]["event"]["user"] == "U0PAT");
    relbot.call("views.publish",
                {{"user_id", "U0PAT"},
                 {"view", {{"type", "home"}, {"blocks", item_blocks("2.3", "Smoke tests", 17)}}}});
    REQUIRE(sim.wait_home("U0PAT"));
    sim.click("U0PAT", "Done", {{"in", "home"}});
    auto home_click = relbot.next_frame()["payload"];
    CHECK(home_click["container"]["type"] == "view");
    CHECK(home_click["container"]["view_id"] == home_click["view"]["id"]);
    CHECK_FALSE(home_click.contains("response_url"));
    CHECK_FALSE(home_click.contains("message"));
}

TEST_CASE("a submitted modal carries typed state.values, and the ack keeps it open or closes it",
          "[e2e][sim]") {
    temp_dir dir;
    sandbox sim(dir);
    fake_relbot relbot(sim);
    relbot.connect();
    json options = {{{"text", text("Standard", "plain_text")}, {"value", "standard"}},
                    {{"text", text("Hotfix", "plain_text")}, {"value", "hotfix"}}};
    auto view = modal("Start a release",
                      {input("reason", {{"type", "plain_text_input"}}),
                       input("owner", {{"type", "users_select"}}),
                       input("due", {{"type", "datetimepicker"}}, true),
                       input("template", {{"type", "static_select"}, {"options", options}}),
                       input("channel", {{"type", "conversations_select"}}, true)});
    auto trigger = trigger_of_command(sim, relbot, "U0PAT");
    auto opened = relbot.call("views.open", {{"trigger_id", trigger}, {"view", view}});
    INFO(opened.dump());
    REQUIRE(opened["ok"] == true);

    auto id = sim.submit(
        "U0PAT",
        {{"reason", "flaky"}, {"owner", "U0KIM"}, {"due", 1767225600}, {"template", "Hotfix"}});
    auto envelope = relbot.next_frame();
    CHECK(envelope["envelope_id"] == id);
    CHECK(envelope["accepts_response_payload"] == true);
    const auto& p = envelope["payload"];
    CHECK(p["type"] == "view_submission");
    CHECK(p["user"]["id"] == "U0PAT");
    CHECK(p["view"]["callback_id"] == "skip");
    CHECK(p["view"]["private_metadata"] == R"({"t":"r4.i17"})");
    const auto& v = p["view"]["state"]["values"];
    CHECK(v["reason"]["reason"]["value"] == "flaky");
    CHECK(v["owner"]["owner"]["selected_user"] == "U0KIM");
    CHECK(v["due"]["due"]["selected_date_time"] == 1767225600);
    CHECK(v["template"]["template"]["selected_option"]["value"] == "hotfix");
    CHECK(v["channel"]["channel"]["type"] == "conversations_select");
    CHECK(v["channel"]["channel"]["selected_conversation"].is_null());
    CHECK_THROWS(sim.submit("U0PAT", {{"template", "Weekly"}}));

    relbot.ack(id, {{"response_action", "errors"}, {"errors", {{"reason", "Say why"}}}});
    auto errors = sim.wait_view_errors("U0PAT");
    REQUIRE(errors);
    CHECK((*errors)["reason"] == "Say why");
    CHECK_FALSE(sim.open_view("U0PAT").is_null());

    auto second = sim.submit(
        "U0PAT", {{"reason", "flaky again"}, {"owner", "U0KIM"}, {"template", "standard"}});
    relbot.next_frame();
    relbot.ack(second);
    REQUIRE(sim.wait_for([](const json& e) { return e.value("event", "") == "view_closed"; },
                         after(5s)));
    CHECK(sim.open_view("U0PAT").is_null());
}

TEST_CASE("response_url replace_original replaces the ephemeral message a click came from",
          "[e2e][sim]") {
    temp_dir dir;
    sandbox sim(dir);
    fake_relbot relbot(sim);
    relbot.connect();
    auto posted =
        relbot.call("chat.postEphemeral", {{"channel", "C0E2E"},
                                           {"user", "U0PAT"},
                                           {"text", "status"},
                                           {"blocks", item_blocks("2.3", "Smoke tests", 17)}});
    REQUIRE(posted["ok"] == true);
    REQUIRE(sim.last_ephemeral("U0PAT"));
    CHECK(sim.last_ephemeral("U0PAT")->value("ts", "") == posted["message_ts"]);

    sim.click("U0PAT", "Done", {{"in", "ephemeral"}, {"match", "`2.3`"}});
    auto p = relbot.next_frame()["payload"];
    CHECK(p["container"]["is_ephemeral"] == true);
    auto url = p["response_url"].get<std::string>();
    auto path = url.substr(url.find("/hooks/"));
    auto [status, body] =
        relbot.post(path, {{"replace_original", true}, {"text", "✅ Done by @pat"}}, "");
    CHECK(status == 200);
    auto now = sim.ephemeral_messages("U0PAT");
    REQUIRE(now.size() == 1);  // replaced, not added
    CHECK(now[0]["ts"] == posted["message_ts"]);
    CHECK(now[0]["text"] == "✅ Done by @pat");
    CHECK_FALSE(now[0].contains("blocks"));

    relbot.post(path, {{"text", "and a new one"}}, "");
    CHECK(sim.ephemeral_messages("U0PAT").size() == 2);
    relbot.post(path, {{"delete_original", true}}, "");
    auto left = sim.ephemeral_messages("U0PAT");
    REQUIRE(left.size() == 1);
    CHECK(left[0]["text"] == "and a new one");
    relbot.post(path, {{"text", "4"}}, "");
    relbot.post(path, {{"text", "5"}}, "");
    CHECK(relbot.post(path, {{"text", "6"}}, "").first == 404);  // five posts per response_url
}

TEST_CASE("trim forgets the recorded calls and what is older than keep_s, but not pinned messages",
          "[e2e][sim]") {
    temp_dir dir;
    sandbox sim(dir);
    fake_relbot relbot(sim);
    relbot.connect();
    auto status = relbot.call(
        "chat.postMessage",
        {{"channel", "C0E2E"}, {"text", "status"}, {"blocks", item_blocks("1.1", "Build", 7)}});
    REQUIRE(status["ok"] == true);
    REQUIRE(relbot.call("chat.postMessage", {{"channel", "C0E2E"}, {"text", "news"}})["ok"] ==
            true);
    REQUIRE(relbot.call("pins.add", {{"channel", "C0E2E"}, {"timestamp", status["ts"]}})["ok"] ==
            true);
    auto click = sim.click("U0PAT", "Done", {{"match", "`1.1`"}});
    relbot.next_frame();
    relbot.ack(click);
    REQUIRE(sim.wait_ack(click));
    auto channel_messages = [&] {
        sim.send(
            {{"op", "messages"}, {"user_id", "U0PAT"}, {"in", "channel"}, {"channel_id", "C0E2E"}});
        auto answer = sim.wait_event("messages", after(5s));
        REQUIRE(answer);
        return (*answer)["messages"];
    };

    // Nothing is an hour old: only the record of calls goes.
    sim.send({{"op", "trim"}, {"keep_s", 3600}});
    auto first = sim.wait_event("trimmed", after(5s));
    REQUIRE(first);
    CHECK((*first)["calls"] == 4);  // apps.connections.open, two posts, pins.add
    CHECK((*first)["messages"] == 0);
    CHECK((*first)["interactions"] == 0);
    CHECK(sim.calls("chat.postMessage").empty());
    CHECK(channel_messages().size() == 2);
    sim.redeliver(click);
    CHECK(relbot.next_frame()["envelope_id"] == click);

    // Everything is older than 0 s: the pinned message stays, the click cannot come again.
    sim.send({{"op", "trim"}, {"keep_s", 0}});
    auto second = sim.wait_event("trimmed", after(5s));
    REQUIRE(second);
    CHECK((*second)["messages"] == 1);
    CHECK((*second)["interactions"] == 1);
    CHECK((*second)["hooks"] == 1);
    auto left = channel_messages();
    REQUIRE(left.size() == 1);
    CHECK(left[0]["ts"] == status["ts"]);
    CHECK_THROWS(sim.redeliver(click));
}

}  // namespace e2e_sim_interactive_test
