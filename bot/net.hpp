// Short names for Asio/Beast and the completion token every adapter uses.
// All I/O objects belong to the one io_context of the process (bot/main.cpp), which two
// threads run; the app's objects each belong to one of its two strands (bot/app.hpp).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace relbot::bot {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

// `co_await op(…, use_nothrow_awaitable)` gives a tuple with the error_code first instead of
// throwing: for operations whose failure is expected (reads, connects, closes).
inline constexpr auto use_nothrow_awaitable = net::as_tuple(net::use_awaitable);

}  // namespace relbot::bot
