#include "support/stall_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace relbot::test {

namespace {

sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

// Writes all of `n` bytes (the peer reads them; a test's traffic is small); false if the
// peer is gone.
bool write_all(int fd, const char* data, ssize_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, data, static_cast<std::size_t>(n), MSG_NOSIGNAL);
        if (w <= 0) {
            return false;
        }
        data += w;
        n -= w;
    }
    return true;
}

}  // namespace

stall_proxy::stall_proxy(int to_port) : to_port_(to_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    auto addr = loopback(0);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw std::runtime_error("stall_proxy: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
}

stall_proxy::~stall_proxy() {
    stopping_ = true;
    wake();
    thread_.join();
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
}

void stall_proxy::stall() {
    stalled_ = true;
    wake();
}

void stall_proxy::resume() {
    stalled_ = false;
    wake();
}

void stall_proxy::wake() {
    char c = 1;
    if (::write(wake_[1], &c, 1) < 0) {
        // The pipe is full: the thread is awake already.
    }
}

void stall_proxy::stall_when(std::vector<std::string> all_of) {
    std::lock_guard lock(when_mutex_);
    stall_when_ = std::move(all_of);
}

bool stall_proxy::holds_all(std::string_view chunk) {
    std::lock_guard lock(when_mutex_);
    if (stall_when_.empty()) {
        return false;
    }
    for (const auto& part : stall_when_) {
        if (chunk.find(part) == std::string_view::npos) {
            return false;
        }
    }
    stall_when_.clear();  // once
    return true;
}

void stall_proxy::run() {
    // Each connection: the client's side and the server's, and which of them has said all it
    // will (its end is passed on as a half-close, so the other side still reads what came
    // before it).
    struct link {
        int fd[2];
        bool done[2] = {false, false};
        std::string held;  // the client's chunk that stalled the proxy, until resumed
    };
    std::vector<link> links;
    auto close_link = [](link& l) {
        ::close(l.fd[0]);
        ::close(l.fd[1]);
        l.fd[0] = l.fd[1] = -1;
    };
    while (!stopping_) {
        std::vector<pollfd> fds{{wake_[0], POLLIN, 0}};
        bool passing = !stalled_;
        if (passing) {
            fds.push_back({listen_fd_, POLLIN, 0});
            for (const auto& l : links) {
                for (int side = 0; side < 2; ++side) {
                    // A side that has ended is not polled (it would be readable for ever).
                    fds.push_back({l.done[side] ? -1 : l.fd[side], POLLIN, 0});
                }
            }
        }
        ::poll(fds.data(), fds.size(), -1);
        if (fds[0].revents != 0) {
            char buf[64];
            while (::read(wake_[0], buf, sizeof buf) > 0) {
            }
        }
        if (!passing || stalled_) {
            continue;
        }
        for (auto& l : links) {
            if (!l.held.empty() && l.fd[1] >= 0 &&
                !write_all(l.fd[1], l.held.data(), l.held.size())) {
                close_link(l);
            }
            l.held.clear();
        }
        // The links polled are the first (fds.size() - 2) / 2 (one accepted now comes after).
        std::size_t polled = (fds.size() - 2) / 2;
        if (fds[1].revents != 0) {
            int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0) {
                int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                auto addr = loopback(to_port_);
                if (server >= 0 &&
                    ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
                    links.push_back({{client, server}, {false, false}, {}});
                    ++accepted_;
                } else {
                    ::close(client);
                    if (server >= 0) {
                        ::close(server);
                    }
                }
            }
        }
        for (std::size_t i = 0; i < polled; ++i) {
            auto& l = links[i];
            for (int side = 0; side < 2 && l.fd[0] >= 0; ++side) {
                if (fds[2 + 2 * i + side].revents == 0) {
                    continue;
                }
                int from = l.fd[side];
                int to = l.fd[1 - side];
                char buf[65536];
                ssize_t n = ::recv(from, buf, sizeof buf, 0);
                if (n > 0 && side == 0 && cutting_) {
                    close_link(l);
                    break;
                }
                if (n > 0 && side == 0 && holds_all(std::string_view(buf, n))) {
                    l.held.assign(buf, n);
                    stalled_ = true;
                    break;
                }
                if (n == 0) {
                    l.done[side] = true;
                    ::shutdown(to, SHUT_WR);
                    if (l.done[1 - side]) {
                        close_link(l);
                    }
                } else if (n < 0 || !write_all(to, buf, n)) {
                    close_link(l);
                }
            }
        }
        std::erase_if(links, [](const link& l) { return l.fd[0] < 0; });
    }
    for (auto& l : links) {
        close_link(l);
    }
}

}  // namespace relbot::test
