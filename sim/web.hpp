// The sandbox in a browser (`relbot-sim --web PATH/TO/relbot`): relbot runs as a child against
// the sandbox's server, and a local page (HTTP on 127.0.0.1) shows what Slack would show the
// cast: the release channel, each person's DM with relbot, their App Home, modals. What a person
// does on the page (a /release command, a click, a submitted modal) becomes the envelope Slack
// would send, through the same control ops the tests use; the page is told of every change by
// server-sent events and draws the state again (rendered to HTML here, in block_html).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/bot_child.hpp"
#include "sim/server.hpp"

namespace relbot::sim {

struct web_options {
    bot_launch launch;
    unsigned short port = 0;  // the page's port on 127.0.0.1; 0: any free port
};

class web_sandbox {
public:
    web_sandbox(boost::asio::io_context& ioc, web_options options);
    ~web_sandbox();
    web_sandbox(const web_sandbox&) = delete;
    web_sandbox& operator=(const web_sandbox&) = delete;

    // Everything the server reports (the sink in web mode): notes a change for the page.
    void on_event(const nlohmann::json& e);

    // Listens, prints the page's URL as the first line of stdout, starts relbot, and serves
    // until SIGINT/SIGTERM (relbot is stopped, then the sandbox ends) or relbot exits on its
    // own; the exit status for relbot-sim.
    int run(server& srv);

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace relbot::sim
