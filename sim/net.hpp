// Short names for Asio/Beast in the sandbox, and the completion token its I/O uses.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

namespace relbot::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

// `co_await op(…, nothrow)` gives a tuple with the error_code first instead of throwing: the
// sandbox expects its peers to go away at any moment.
inline constexpr auto nothrow = net::as_tuple(net::use_awaitable);

}  // namespace relbot::sim
