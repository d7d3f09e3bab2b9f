#include "bot/http_listener.hpp"

#include <exception>

#include "bot/log.hpp"
#include "bot/metrics.hpp"

namespace relbot::bot {

struct http_listener::impl : std::enable_shared_from_this<impl> {
    impl(const net::any_io_executor& ioc,
         std::size_t max_connections_,
         std::string limit_,
         std::string name_,
         serve_fn serve_)
        : acceptor(ioc),
          max_connections(max_connections_),
          limit(std::move(limit_)),
          name(std::move(name_)),
          serve(std::move(serve_)) {}

    // The completion of every coroutine here: they are written not to throw, so an exception
    // is a bug, logged rather than lost (it would end the bot's event loop).
    static auto crash_logger(std::string name) {
        return [name = std::move(name)](std::exception_ptr e) {
            if (!e) {
                return;
            }
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log_error(name + ".crashed").kv("error", ex.what());
            }
        };
    }

    static net::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
        for (;;) {
            auto [ec, socket] = co_await self->acceptor.async_accept(use_nothrow_awaitable);
            if (ec) {
                if (ec == net::error::operation_aborted || self->stopped) {
                    co_return;
                }
                continue;  // EMFILE and the like: the next accept may succeed
            }
            if (self->open >= self->max_connections) {
                process_metrics().limits_hit.add({self->limit});
                error_code ignored;
                socket.close(ignored);  // over the limit: no slot is held for it
                continue;
            }
            ++self->open;
            net::co_spawn(self->acceptor.get_executor(), held(self, std::move(socket)),
                          crash_logger(self->name));
        }
    }

    // Holds one of the `max_connections` slots for as long as the connection is served.
    static net::awaitable<void> held(std::shared_ptr<impl> self, tcp::socket socket) {
        struct slot {
            std::size_t& open;
            ~slot() { --open; }
        } taken{self->open};
        co_await self->serve(std::move(socket));
    }

    tcp::acceptor acceptor;
    std::size_t max_connections;
    std::string limit;
    std::string name;
    serve_fn serve;
    std::size_t open = 0;
    bool stopped = false;
};

http_listener::http_listener(const net::any_io_executor& ioc,
                             const std::string& host,
                             unsigned short port,
                             std::string_view setting,
                             std::size_t max_connections,
                             std::string limit,
                             std::string name,
                             serve_fn serve)
    : impl_(std::make_shared<impl>(
          ioc, max_connections, std::move(limit), std::move(name), std::move(serve))) {
    auto where = std::string(setting) + "=" + host + ":" + std::to_string(port) + ": ";
    tcp::endpoint at;
    try {
        tcp::resolver resolver(ioc);
        at = resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service)
                 .begin()
                 ->endpoint();
    } catch (const boost::system::system_error&) {
        throw listen_error(where +
                               "no such host; give an address of this machine, such as "
                               "127.0.0.1:" +
                               std::to_string(port),
                           true);
    }
    error_code ec;
    impl_->acceptor.open(at.protocol(), ec);
    if (!ec) {
        impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        impl_->acceptor.bind(at, ec);
    }
    if (!ec) {
        impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec == net::error::address_in_use) {
        throw listen_error(where +
                               "the port is in use by another program (or another of "
                               "relbot's endpoints); pick another port",
                           false);
    }
    if (ec == boost::system::errc::address_not_available) {
        throw listen_error(where +
                               "not an address of this machine; give one of its addresses, "
                               "such as 127.0.0.1, or 0.0.0.0 for all",
                           true);
    }
    if (ec == net::error::access_denied) {
        throw listen_error(where +
                               "not allowed to listen there (a port below 1024 needs "
                               "privileges); pick a port above 1024",
                           true);
    }
    if (ec) {
        throw listen_error(where + "cannot listen: " + ec.message(), false);
    }
}

http_listener::~http_listener() {
    stop();
}

void http_listener::start() {
    net::co_spawn(impl_->acceptor.get_executor(), impl::accept_loop(impl_),
                  impl::crash_logger(impl_->name));
}

void http_listener::stop() {
    impl_->stopped = true;
    error_code ignored;
    impl_->acceptor.close(ignored);
}

unsigned short http_listener::port() const {
    return impl_->acceptor.local_endpoint().port();
}

}  // namespace relbot::bot
