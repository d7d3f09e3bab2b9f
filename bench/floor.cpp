// relbot-bench-floor: the benchmark's floor. relbot's own Socket Mode client (and so its TLS,
// WebSocket and envelope code) with a handler that acknowledges every envelope at once: no
// database, no commands, no notifier. relbot measured over this is the cost of the product;
// this measured alone is the cost of TLS, WebSocket and loopback.
//
// Reads SLACK_API_URL, SLACK_APP_TOKEN and SLACK_BOT_TOKEN from the environment (and trusts
// SSL_CERT_FILE like relbot); stops on SIGTERM or SIGINT.
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>

#include "bot/log.hpp"
#include "bot/socket_mode.hpp"
#include "bot/tls.hpp"
#include "bot/web_api.hpp"

namespace {

using namespace relbot::bot;

class ack_at_once final : public envelope_handler {
public:
    socket_mode_client* client = nullptr;
    void take(job_ptr job) override {
        job->take();
        std::vector<envelope_answer> one;
        one.push_back({std::move(job), std::nullopt, std::nullopt});
        client->answer(std::move(one));  // on the client's thread: written at once
    }
};

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

}  // namespace

int main() {
    auto endpoint = parse_https_url(env_or_empty("SLACK_API_URL"));
    auto app_token = env_or_empty("SLACK_APP_TOKEN");
    if (!endpoint || app_token.empty()) {
        std::fprintf(stderr,
                     "relbot-bench-floor: set SLACK_API_URL (https://…/api/) and "
                     "SLACK_APP_TOKEN\n");
        return 2;
    }
    set_log_level(log_level::warn);

    net::io_context ioc{1};
    auto tls = make_tls_context();
    web_api api(tls, *endpoint, env_or_empty("SLACK_BOT_TOKEN"), app_token);
    ack_at_once handler;
    socket_mode_client client(ioc.get_executor(), tls, api, handler, 1);
    handler.client = &client;

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const error_code& ec, int) {
        if (!ec) {
            client.stop();
        }
    });
    int exit_code = 0;
    net::co_spawn(ioc, client.run(), [&](std::exception_ptr e, client_end end) {
        exit_code = (e || end == client_end::fatal) ? 1 : 0;
        signals.cancel();
    });
    ioc.run();
    return exit_code;
}
