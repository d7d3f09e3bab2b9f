// relbot's Socket Mode client against relbot-sim's server, both in this process over real TLS
// and a real WebSocket: the hand-over of envelopes to a handler, and the client's own answer
// for an envelope the handler has not taken in time (the database was locked).
#include <boost/asio/detached.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>

#include "bot/socket_mode.hpp"
#include "bot/web_api.hpp"
#include "sim/server.hpp"

namespace e2e_socket_client_test {

using namespace relbot;
using namespace relbot::bot;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Holds the jobs it is given and answers none by itself.
class holding_handler final : public envelope_handler {
public:
    void take(job_ptr job) override { jobs.push_back(std::move(job)); }
    std::optional<slack::json_text> late_answer(const frame& f) override {
        return std::holds_alternative<slash_command_envelope>(f)
                   ? std::optional<slack::json_text>(R"({"text":"late: try again"})")
                   : std::nullopt;
    }
    std::vector<job_ptr> jobs;
};

// Runs the loop until `done` holds or 10 s pass; whether it holds.
bool run_until(net::io_context& ioc, const std::function<bool()>& done) {
    auto until = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < until) {
        ioc.run_for(10ms);
    }
    return done();
}

}  // namespace

TEST_CASE(
    "the Socket Mode client acks an envelope its handler has not taken in time with the "
    "late answer, once, and the handler can no longer take it",
    "[e2e]") {
    net::io_context ioc;
    std::vector<json> acks;
    bool hello = false;
    sim::server slack(ioc, {}, [&](const json& e) {
        auto event = e.value("event", "");
        hello = hello || event == "hello_sent";
        if (event == "ack") {
            acks.push_back(e);
        }
    });
    slack.start();
    ssl::context tls(ssl::context::tls_client);
    tls.set_verify_mode(ssl::verify_peer);
    tls.add_certificate_authority(net::buffer(slack.ca_cert_pem()));
    web_api api(tls, *parse_https_url(slack.api_url()), "xoxb-test-0", "xapp-test-1");
    holding_handler handler;
    socket_timing timing;
    timing.answer_within = 300ms;
    socket_mode_client client(ioc.get_executor(), tls, api, handler, 1, timing);
    net::co_spawn(ioc, client.run(), net::detached);
    REQUIRE(run_until(ioc, [&] { return hello; }));

    auto send = [&](const std::string& id) {
        auto frame = sim::slash_command_envelope(id, {{"text", "status"}}, slack.base_url());
        REQUIRE(slack.inject(id, frame.dump()));
    };
    auto acks_of = [&](const std::string& id) {
        return std::count_if(acks.begin(), acks.end(),
                             [&](const json& a) { return a.value("envelope_id", "") == id; });
    };

    // Left untaken: the client answers it with the late answer.
    send("E0LATE");
    REQUIRE(run_until(ioc, [&] { return acks_of("E0LATE") == 1; }));
    CHECK(acks.back()["payload"]["text"] == "late: try again");
    REQUIRE(handler.jobs.size() == 1);
    CHECK_FALSE(handler.jobs[0]->take());  // too late: the handler must leave it alone

    // Taken and answered by the handler: acked with its payload.
    send("E0MINE");
    REQUIRE(run_until(ioc, [&] { return handler.jobs.size() == 2; }));
    REQUIRE(handler.jobs[1]->take());
    std::vector<envelope_answer> answer;
    answer.push_back({handler.jobs[1], slack::json_text(R"({"text":"mine"})"), std::nullopt});
    client.answer(std::move(answer));
    REQUIRE(run_until(ioc, [&] { return acks_of("E0MINE") == 1; }));
    CHECK(acks.back()["payload"]["text"] == "mine");

    // A third, left untaken: its late answer comes after the second's deadline has passed too,
    // and the second, taken, was not answered late a second time.
    send("E0AFTER");
    REQUIRE(run_until(ioc, [&] { return acks_of("E0AFTER") == 1; }));
    CHECK(acks_of("E0MINE") == 1);
    CHECK(acks_of("E0LATE") == 1);

    client.stop();
    run_until(ioc, [&] { return client.live_connections() == 0; });
}

}  // namespace e2e_socket_client_test
