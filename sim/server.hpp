// relbot-sim's server: a stand-in for Slack on 127.0.0.1 that speaks the Web API over HTTPS
// and Socket Mode over WSS with a test CA. It records every call and every ack as events and
// takes commands (inject an envelope, ask for a disconnect, fail the next call) from its owner.
// Single-threaded: all of it runs on the io_context it is given.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/certs.hpp"

namespace relbot::sim {

// For the benchmark: told of every ack with the time just before its envelope was written
// and the time its ack frame was read. When set, acks are not reported as events and their
// payloads are not parsed, so that the sandbox's own cost stays out of the figures.
using ack_observer = std::function<void(std::string_view envelope_id,
                                        std::chrono::steady_clock::time_point sent,
                                        std::chrono::steady_clock::time_point acked)>;

struct server_options {
    unsigned short port = 0;                  // 0: any free port
    std::vector<std::string> invalid_tokens;  // answered with invalid_auth
    cert_options cert;
    ack_observer on_ack;  // unset: acks are events
};

// Receives one event at a time: {"event": "ack", …}. Called on the server's thread.
using event_sink = std::function<void(const nlohmann::json&)>;

// The Socket Mode envelope Slack sends for a slash command. `op` gives "text" and optionally
// "channel_id", "user_id", "team_id", "retry_attempt"…; `base_url` is the server's own, for the
// response_url.
nlohmann::json slash_command_envelope(const std::string& envelope_id,
                                      const nlohmann::json& op,
                                      const std::string& base_url);

class server {
public:
    // Generates the test PKI and binds the listener. Throws if either fails.
    server(boost::asio::io_context& ioc, server_options options, event_sink sink);
    ~server();

    unsigned short port() const;
    // https://localhost:<port>/api/
    std::string api_url() const;
    // https://localhost:<port>
    std::string base_url() const;
    // The CA certificate a client must trust.
    const std::string& ca_cert_pem() const;

    // Starts accepting connections.
    void start();

    // Runs one control operation (see sim/README in sim/main.cpp's --help); unknown ops and
    // bad arguments produce an {"event":"error"} for the sink.
    void control(const nlohmann::json& op);

    // What `user` sees now (the web page draws it): {"channel": [{channel, ts, message, ephemeral,
    // pinned, edited}…] (the channel's messages and the user's ephemeral ones there, oldest
    // first), "dm": [… their DM with relbot], "home": view or null, "modal": view or null,
    // "modal_errors": {block_id: message}}. Defined in surfaces.cpp.
    nlohmann::json surfaces_of(const std::string& user, const std::string& channel) const;

    // A file relbot shared (files.completeUploadExternal), by its id, as the sandbox serves
    // it at /files/<id>/<name>; nullopt if there is none. Defined in files.cpp.
    struct shared_file {
        std::string bytes;
        std::string mimetype;  // image/png, text/markdown or application/octet-stream
    };
    std::optional<shared_file> file(const std::string& id) const;
    // A fresh envelope id, unique across sandbox sessions (see next_envelope_id in control.cpp);
    // the demo names its own envelopes with it so it knows whom each reply is for.
    std::string new_envelope_id();

    // Queues a ready-made envelope frame on the connection with that id (as in the
    // "hello_sent" event), or on the newest, without a JSON round trip (the benchmark's way
    // in). False when there is no such connection.
    bool inject(std::string envelope_id,
                std::string frame,
                std::optional<int> connection = std::nullopt);

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace relbot::sim
