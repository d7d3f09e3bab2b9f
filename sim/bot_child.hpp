// relbot as a child of the sandbox (the terminal demo and the web page both run it): started
// against the sandbox's server with made-up tokens, watched until it exits, and asked through
// its health endpoint whether it has sent everything it decided to.
#pragma once

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <string>

namespace relbot::sim {

struct bot_launch {
    std::string bot;      // path to the relbot binary
    std::string db;       // its database (kept across sessions)
    std::string log;      // its log (stdout and stderr)
    std::string ca_file;  // the sandbox CA it must trust
};

// A loopback port nobody is listening on now (for relbot's health endpoint).
unsigned short free_port(boost::asio::io_context& ioc);

// Starts relbot against `api_url` with the sandbox's tokens, `launch.db`, stdin from /dev/null
// and its output in `launch.log`, the cast's admin (sandbox_admin) as RELBOT_ADMINS; the
// environment's own SLACK_*, SSL_CERT_*, RELBOT_DB, RELBOT_HEALTH_ADDR and RELBOT_ADMINS are
// replaced. Throws when it cannot be started.
pid_t spawn_bot(const bot_launch& launch, const std::string& api_url, unsigned short health_port);

// The last non-empty line of a file: what relbot said before it exited.
std::string last_line(const std::string& path);

// relbot's count of messages decided but not yet sent (its /healthz on `health_port`); -1 when
// it cannot be read.
boost::asio::awaitable<long> outbox_pending(boost::asio::io_context& ioc,
                                            unsigned short health_port);

// How a child ended, in words: "exited with status 1", "was stopped by signal 9".
std::string exit_words(int wait_status);

}  // namespace relbot::sim
