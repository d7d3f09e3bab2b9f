// relbot-sim's server: a stand-in for Slack on 127.0.0.1 that speaks the Web API over HTTPS
// and Socket Mode over WSS with a test CA. It records every call and every ack as events and
// takes commands (inject an envelope, ask for a disconnect, fail the next call) from its owner.
// Single-threaded: all of it runs on the io_context it is given.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/certs.hpp"

namespace relbot::sim {

struct server_options {
    unsigned short port = 0;                  // 0: any free port
    std::vector<std::string> invalid_tokens;  // answered with invalid_auth
    cert_options cert;
};

// Receives one event at a time: {"event": "ack", …}. Called on the server's thread.
using event_sink = std::function<void(const nlohmann::json&)>;

class server {
public:
    // Generates the test PKI and binds the listener. Throws if either fails.
    server(boost::asio::io_context& ioc, server_options options, event_sink sink);
    ~server();

    unsigned short port() const;
    // https://localhost:<port>/api/
    std::string api_url() const;
    // The CA certificate a client must trust.
    const std::string& ca_cert_pem() const;

    // Starts accepting connections.
    void start();

    // Runs one control operation (see sim/README in sim/main.cpp's --help); unknown ops and
    // bad arguments produce an {"event":"error"} for the sink.
    void control(const nlohmann::json& op);

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace relbot::sim
