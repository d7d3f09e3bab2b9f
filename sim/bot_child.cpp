// relbot as a child of the sandbox (see bot_child.hpp).
#include "sim/bot_child.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "sim/cast.hpp"
#include "sim/net.hpp"

extern char** environ;

namespace relbot::sim {
namespace {

using json = nlohmann::json;

// The sandbox's environment for relbot: the caller's, less what the sandbox sets itself.
std::vector<std::string> bot_environment(const bot_launch& launch,
                                         const std::string& api_url,
                                         unsigned short health_port) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view v(*e);
        if (!v.starts_with("SLACK_") && !v.starts_with("SSL_CERT_") &&
            !v.starts_with("RELBOT_DB=") && !v.starts_with("RELBOT_HEALTH_ADDR=") &&
            !v.starts_with("RELBOT_ADMINS=")) {
            env.emplace_back(v);
        }
    }
    env.push_back("SLACK_APP_TOKEN=xapp-sandbox-demo-1");
    env.push_back("SLACK_BOT_TOKEN=xoxb-sandbox-demo-0");
    env.push_back("SLACK_API_URL=" + api_url);
    env.push_back("SSL_CERT_FILE=" + launch.ca_file);
    env.push_back("RELBOT_DB=" + launch.db);
    env.push_back("RELBOT_HEALTH_ADDR=127.0.0.1:" + std::to_string(health_port));
    env.push_back("RELBOT_ADMINS=" + std::string(sandbox_admin));
    return env;
}

}  // namespace

unsigned short free_port(net::io_context& ioc) {
    tcp::acceptor probe(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    return probe.local_endpoint().port();
}

pid_t spawn_bot(const bot_launch& launch, const std::string& api_url, unsigned short health_port) {
    auto env = bot_environment(launch, api_url, health_port);
    std::vector<char*> envp;
    for (auto& e : env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, launch.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
    // Nothing else of the sandbox's (its listening sockets, its files): relbot left running after
    // the sandbox was killed would otherwise hold the page's port.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    std::string bin = launch.bot;
    char* argv[] = {bin.data(), nullptr};
    pid_t pid = 0;
    int rc = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + bin + ": " + std::strerror(rc));
    }
    return pid;
}

std::string last_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::string last;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            last = line;
        }
    }
    return last;
}

net::awaitable<long> outbox_pending(net::io_context& ioc, unsigned short health_port) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(2));
    auto [connect_error] = co_await stream.async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), health_port), nothrow);
    if (connect_error) {
        co_return -1;
    }
    http::request<http::empty_body> req(http::verb::get, "/healthz", 11);
    req.set(http::field::host, "127.0.0.1");
    auto [write_error, written] = co_await http::async_write(stream, req, nothrow);
    if (write_error) {
        co_return -1;
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    auto [read_error, read] = co_await http::async_read(stream, buffer, res, nothrow);
    if (read_error) {
        co_return -1;
    }
    auto body = json::parse(res.body(), nullptr, false);
    if (body.is_discarded() || !body.contains("outbox_pending") ||
        !body["outbox_pending"].is_number_integer()) {
        co_return -1;
    }
    co_return body["outbox_pending"].get<long>();
}

std::string exit_words(int wait_status) {
    return WIFEXITED(wait_status)
               ? "exited with status " + std::to_string(WEXITSTATUS(wait_status))
               : "was stopped by signal " + std::to_string(WTERMSIG(wait_status));
}

}  // namespace relbot::sim
