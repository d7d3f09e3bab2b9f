#include "storage/postgres/host_lookup.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace relbot::storage::postgres {

namespace {

std::vector<std::string> split(const std::string& list) {
    std::vector<std::string> out;
    if (list.empty()) {
        return out;
    }
    std::size_t start = 0;
    for (;;) {
        auto comma = list.find(',', start);
        out.push_back(list.substr(start, comma - start));
        if (comma == std::string::npos) {
            return out;
        }
        start = comma + 1;
    }
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        out += (i == 0 ? "" : ",") + parts[i];
    }
    return out;
}

bool is_address(const std::string& host) {
    in6_addr six{};
    in_addr four{};
    return inet_pton(AF_INET, host.c_str(), &four) == 1 ||
           inet_pton(AF_INET6, host.c_str(), &six) == 1;
}

// A host entry libpq would look up: a name (not empty, not a socket folder, not an address).
bool is_name(const std::string& host) {
    return !host.empty() && host.front() != '/' && host.front() != '@' && !is_address(host);
}

}  // namespace

std::vector<std::string> names_to_look_up(const connect_hosts& hosts) {
    std::vector<std::string> names;
    if (!hosts.hostaddr.empty()) {
        return names;
    }
    for (auto& h : split(hosts.host)) {
        if (is_name(h)) {
            names.push_back(std::move(h));
        }
    }
    return names;
}

connect_hosts with_addresses(const connect_hosts& hosts,
                             const std::vector<std::vector<std::string>>& addresses) {
    auto names = split(hosts.host);
    auto ports = split(hosts.port);
    bool port_each = ports.size() == names.size() && names.size() > 1;
    std::vector<std::string> host, hostaddr, port;
    std::size_t next_name = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
        // One port for all, or one per host (libpq refuses any other count when it connects).
        std::string p = port_each ? ports[i] : hosts.port;
        if (!is_name(names[i]) || next_name >= addresses.size()) {
            host.push_back(names[i]);
            hostaddr.emplace_back();
            port.push_back(p);
            continue;
        }
        for (const auto& a : addresses[next_name]) {
            host.push_back(names[i]);
            hostaddr.push_back(a);
            port.push_back(p);
        }
        ++next_name;
    }
    connect_hosts out;
    out.host = join(host);
    out.hostaddr = join(hostaddr);
    // A single port stays single (an empty list would read as "the default for each").
    out.port = port_each ? join(port) : hosts.port;
    return out;
}

std::vector<std::string> system_lookup(const std::string& name) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(name.c_str(), nullptr, &hints, &found);
    if (rc != 0) {
        throw std::runtime_error("could not look up the host name \"" + name +
                                 "\": " + gai_strerror(rc));
    }
    std::vector<std::string> out;
    for (auto* a = found; a != nullptr; a = a->ai_next) {
        char text[NI_MAXHOST] = {};
        if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
            getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) ==
                0 &&
            std::find(out.begin(), out.end(), text) == out.end()) {
            out.emplace_back(text);
        }
    }
    freeaddrinfo(found);
    if (out.empty()) {
        throw std::runtime_error("the host name \"" + name + "\" has no address");
    }
    return out;
}

std::string found_addresses::first_error() const {
    for (const auto& e : errors) {
        if (!e.empty()) {
            return e;
        }
    }
    return "no host name has an address";
}

namespace {

// One name, its error caught: a name that does not resolve leaves the others usable.
void look_up_one(const lookup_function& lookup,
                 const std::string& name,
                 std::vector<std::string>& addresses,
                 std::string& error) {
    try {
        addresses = lookup(name);
        if (addresses.empty()) {
            error = "the host name \"" + name + "\" has no address";
        }
    } catch (const std::exception& e) {
        error = e.what();
    } catch (...) {
        error = "could not look up the host name \"" + name + "\"";
    }
}

}  // namespace

found_addresses look_up_now(const std::vector<std::string>& names, const lookup_function& lookup) {
    found_addresses found;
    found.addresses.resize(names.size());
    found.errors.resize(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        look_up_one(lookup, names[i], found.addresses[i], found.errors[i]);
    }
    return found;
}

struct background_lookup::shared {
    std::mutex mutex;
    std::condition_variable done_cv;
    std::size_t left = 0;
    found_addresses found;
};

background_lookup::background_lookup(const std::vector<std::string>& names,
                                     const lookup_function& lookup)
    : started_(std::chrono::steady_clock::now()), state_(std::make_shared<shared>()) {
    state_->left = names.size();
    state_->found.addresses.resize(names.size());
    state_->found.errors.resize(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        std::thread([state = state_, name = names[i], lookup, i] {
            std::vector<std::string> addresses;
            std::string error;
            look_up_one(lookup, name, addresses, error);
            std::lock_guard lock(state->mutex);
            state->found.addresses[i] = std::move(addresses);
            state->found.errors[i] = std::move(error);
            --state->left;
            state->done_cv.notify_all();
        }).detach();
    }
}

bool background_lookup::done() const {
    std::lock_guard lock(state_->mutex);
    return state_->left == 0;
}

std::optional<found_addresses> background_lookup::wait_until(
    std::chrono::steady_clock::time_point by, const std::function<void()>& waiting) {
    std::unique_lock lock(state_->mutex);
    for (;;) {
        auto step = std::min(by, std::chrono::steady_clock::now() + std::chrono::milliseconds(25));
        if (state_->done_cv.wait_until(lock, step, [&] { return state_->left == 0; })) {
            return state_->found;
        }
        if (std::chrono::steady_clock::now() >= by) {
            return std::nullopt;
        }
        if (waiting) {
            lock.unlock();
            waiting();
            lock.lock();
        }
    }
}

}  // namespace relbot::storage::postgres
