// PostgreSQL host names looked up off the database strand. libpq looks a host name up itself
// when it connects (getaddrinfo, which blocks for as long as DNS takes: seconds when a
// resolver does not answer), on the thread that runs the database strand, so a reconnection
// after a lost connection would hold every command and ack behind it. relbot looks the names
// up on a thread of its own instead, waits for the answer within the round trip's bound (and
// gives up on a lookup that takes longer, as on a server that does not answer), then hands
// libpq the addresses (`hostaddr`) beside the names (`host`, which TLS verifies and the
// password file matches), so libpq looks nothing up.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace relbot::storage::postgres {

// A connection string's hosts and ports as libpq reads them: comma-separated lists.
struct connect_hosts {
    std::string host;      // empty: libpq's default (a local socket)
    std::string hostaddr;  // empty: none given
    std::string port;      // empty: 5432; one port for every host, or one per host
};

// The host names among `hosts.host` that libpq would look up: none when the string gives
// `hostaddr` itself; never a socket folder (starting with '/' or '@') or an IP address.
std::vector<std::string> names_to_look_up(const connect_hosts& hosts);

// `hosts` with every host name replaced by each of its addresses (`addresses`, in the order
// of names_to_look_up; a name with two addresses becomes two entries of the lists, with the
// same name and port, as libpq tries each address of a name in turn). IP addresses and
// socket folders keep their entry, with an empty hostaddr.
connect_hosts with_addresses(const connect_hosts& hosts,
                             const std::vector<std::vector<std::string>>& addresses);

// One name's addresses as text (getaddrinfo, any family, TCP), in the order the system gives
// them. Throws std::runtime_error naming the name and the reason when there are none.
std::vector<std::string> system_lookup(const std::string& name);

using lookup_function = std::function<std::vector<std::string>(const std::string& name)>;

// A lookup of some names on a detached thread of its own. The object can go before the
// thread does (a lookup given up on finishes, or hangs, alone); what the thread writes is
// shared with it.
class background_lookup {
public:
    background_lookup(std::vector<std::string> names, lookup_function lookup);

    // The names' addresses (in their order) once the lookup is done, waiting until `by` at
    // most, calling `waiting` about every 25 ms meanwhile; nullopt when it is not done by then.
    // Throws the lookup's own error (a name that does not resolve).
    std::optional<std::vector<std::vector<std::string>>> wait_until(
        std::chrono::steady_clock::time_point by, const std::function<void()>& waiting);
    const std::vector<std::string>& names() const { return names_; }

private:
    struct shared;
    std::vector<std::string> names_;
    std::shared_ptr<shared> state_;
};

}  // namespace relbot::storage::postgres
