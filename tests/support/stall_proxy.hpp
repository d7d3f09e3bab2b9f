// A TCP forwarder between a client and a server (127.0.0.1) that can stop passing bytes, as a
// network that drops packets without a reset does, or a server whose process was stopped:
// while stalled it forwards nothing and accepts nothing (the kernel still completes new
// connections' handshakes, as it does for a stopped server), and every connection stays
// open. Resumed, it forwards what waited, in order, and a side that has closed meanwhile
// closes the other. For tests of what relbot does when its database stops answering.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace relbot::test {

class stall_proxy {
public:
    // Listens on 127.0.0.1 (a free port) and forwards each connection to 127.0.0.1:`to_port`.
    explicit stall_proxy(int to_port);
    ~stall_proxy();
    stall_proxy(const stall_proxy&) = delete;
    stall_proxy& operator=(const stall_proxy&) = delete;

    int port() const { return port_; }
    void stall();
    void resume();
    // From now on, a connection whose client sends anything is closed instead (both sides),
    // what it sent never passed on: as a connection reset after a statement went out, which
    // the server never saw. uncut() ends it.
    void cut() { cutting_ = true; }
    void uncut() { cutting_ = false; }
    // From now on, the first chunk a client sends that holds every one of `all_of` (bytes of
    // the protocol: a statement's text, a parameter's value) stalls the proxy as it arrives:
    // that chunk waits with the rest, and is forwarded on resume(). Once.
    void stall_when(std::vector<std::string> all_of);
    // Connections accepted so far.
    int accepted() const { return accepted_.load(); }

private:
    void run();
    void wake();
    // Whether `chunk` holds every part stall_when() named (then it is not looked for again).
    bool holds_all(std::string_view chunk);

    int to_port_;
    int listen_fd_ = -1;
    int port_ = 0;
    int wake_[2] = {-1, -1};
    std::atomic<bool> stalled_{false};
    std::atomic<bool> cutting_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::mutex when_mutex_;
    std::vector<std::string> stall_when_;  // under when_mutex_
    std::thread thread_;                   // last: starts once the rest is ready
};

}  // namespace relbot::test
