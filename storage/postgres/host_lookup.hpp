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
// same name and port, as libpq tries each address of a name in turn; a name with none is left
// out, as libpq skips a name it cannot look up). IP addresses and socket folders keep their
// entry, with an empty hostaddr. An empty `host` when no entry is left.
connect_hosts with_addresses(const connect_hosts& hosts,
                             const std::vector<std::vector<std::string>>& addresses);

// One name's addresses as text (getaddrinfo, any family, TCP; numeric, with an IPv6 scope), in
// the order the system gives them. Throws std::runtime_error naming the name and the reason
// when there are none.
std::vector<std::string> system_lookup(const std::string& name);

using lookup_function = std::function<std::vector<std::string>(const std::string& name)>;

// What a lookup found for each name, in order: its addresses, or (none) why.
struct found_addresses {
    std::vector<std::vector<std::string>> addresses;
    std::vector<std::string> errors;  // empty where the name has addresses
    // Why the first name that has no address has none (for when no host is left).
    std::string first_error() const;
};

// The names looked up here, one after another (when nothing waits on this thread: at start,
// and in the tools that run without bounds).
found_addresses look_up_now(const std::vector<std::string>& names, const lookup_function& lookup);

// A lookup of some names, each on a detached thread of its own (a resolver that hangs on one
// name does not hold the others). The object can go before the threads do (a lookup given up
// on finishes, or hangs, alone); what they write is shared with it.
class background_lookup {
public:
    background_lookup(const std::vector<std::string>& names, const lookup_function& lookup);

    // What was found once every name is done, waiting until `by` at most, calling `waiting`
    // about every 25 ms meanwhile; nullopt when it is not done by then.
    std::optional<found_addresses> wait_until(std::chrono::steady_clock::time_point by,
                                              const std::function<void()>& waiting);
    // Whether every name's lookup has ended.
    bool done() const;
    // When it began: an answer waited for long ago may no longer be the name's.
    std::chrono::steady_clock::time_point started() const { return started_; }

private:
    struct shared;
    std::chrono::steady_clock::time_point started_;
    std::shared_ptr<shared> state_;
};

}  // namespace relbot::storage::postgres
