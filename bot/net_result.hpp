// How a network step of the adapters says it failed: the error code (Asio, SSL, Beast or
// HTTP: the typed error) and a message that names the step and the host, for the log. No
// exceptions and no null handles for network trouble.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <boost/system/system_error.hpp>
#include <string>

#include "bot/net.hpp"

namespace relbot::bot {

struct net_failure {
    error_code ec;
    std::string message;  // "connect slack.com:443: Connection refused"
};

// A value, or the failure of the step that should have made it.
template <typename T>
using net_result = boost::system::result<T, net_failure>;

// What `net_result::value()` throws when there is no value (a programming error: callers
// look before they take).
[[noreturn]] inline void throw_exception_from_error(const net_failure& f,
                                                    const boost::source_location&) {
    throw boost::system::system_error(f.ec, f.message);
}

}  // namespace relbot::bot
