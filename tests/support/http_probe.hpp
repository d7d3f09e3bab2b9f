// Plain-HTTP probes of a running relbot's health endpoint (RELBOT_HEALTH_ADDR), for the e2e
// tests: one GET per connection, the port relbot logged, one sample of the metrics page.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>
#include <string>
#include <vector>

#include "support/sandbox.hpp"

namespace relbot::test {

// A TCP connection to 127.0.0.1:port, or -1.
inline int connect_local(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    timeval tv{5, 0};  // a read never waits longer than this
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

struct http_answer {
    int status = 0;
    std::string body;
};

// Everything the server sends until it closes `fd` (which this closes), as status and body;
// status 0 when it closed without an answer. No Catch assertion: any thread may use it.
inline http_answer read_answer(int fd) {
    http_answer a;
    std::string raw;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
        raw.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    std::smatch m;
    if (std::regex_search(raw, m, std::regex("^HTTP/1\\.1 (\\d{3})"))) {
        a.status = std::stoi(m[1]);
    }
    if (auto at = raw.find("\r\n\r\n"); at != std::string::npos) {
        a.body = raw.substr(at + 4);
    }
    return a;
}

// One plain-HTTP request; the server closes the connection after its answer.
inline http_answer http_get(int port, const std::string& target) {
    int fd = connect_local(port);
    REQUIRE(fd >= 0);
    auto req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    return read_answer(fd);
}

// One plain-HTTP POST with extra header lines ("Name: value"); the server closes the
// connection after its answer. Status 0 when the connection was closed without one.
inline http_answer http_post(int port,
                             const std::string& target,
                             const std::vector<std::string>& headers,
                             const std::string& body) {
    int fd = connect_local(port);
    REQUIRE(fd >= 0);
    auto req = "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
               "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n";
    for (const auto& h : headers) {
        req += h + "\r\n";
    }
    req += "\r\n" + body;
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);  // a refusal may close before it is all sent
    return read_answer(fd);
}

// Polls /healthz until it answers `status`, within `within`. Health changes have no event
// of their own to wait on; each poll is a real request, and the deadline bounds the wait.
inline http_answer wait_health(int port, int status, std::chrono::milliseconds within) {
    auto until = after(within);
    http_answer a;
    do {
        a = http_get(port, "/healthz");
        if (a.status == status) {
            return a;
        }
    } while (std::chrono::steady_clock::now() < until);
    return a;
}

// relbot with its endpoint on a free port; returns the port it logged.
inline int health_port(bot& relbot) {
    auto line =
        relbot.proc().wait_stderr("event=health.listening", after(std::chrono::seconds(10)));
    REQUIRE(line);
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex("port=(\\d+)")));
    return std::stoi(m[1]);
}

// The value of one sample of the metrics page (0 when it is not there).
inline double sample(const std::string& page, const std::string& series) {
    auto at = page.find("\n" + series + " ");
    if (at == std::string::npos) {
        return 0;
    }
    return std::stod(page.substr(at + series.size() + 2));
}

}  // namespace relbot::test
