// The running bot: wires the store, the Web API, the Socket Mode client, the notifier and
// the command router together. bot/main.cpp builds one; tests may too.
#pragma once

#include <memory>

#include "bot/config.hpp"
#include "bot/net.hpp"
#include "checklist/template.hpp"

namespace relbot::bot {

class app {
public:
    // Opens the database (throws if it cannot). `ioc` runs everything, on two threads: all of
    // the app's I/O objects belong to it, on two strands (the database strand and the Socket
    // Mode strand). `templates` must outlive the app.
    app(net::io_context& ioc, const config& cfg, const checklist::template_library& templates);
    ~app();

    // The database strand: run() is spawned on it, and request_stop() called on it.
    net::any_io_executor executor() const;

    // auth.test, then hold the Socket Mode connection and deliver the outbox until
    // request_stop(). Returns the process exit status (0 clean, 1 fatal).
    net::awaitable<int> run();

    // Begin a graceful shutdown: stop taking envelopes, close sockets, let the notifier
    // finish what it is sending (bounded), then run() returns.
    void request_stop();

    // True once nothing the app started is still running (after run() has returned).
    bool drained() const;

    // After the event loop has stopped: closes the checkpointer's connection, then the
    // store's with a last checkpoint, so that SQLite removes the -wal and -shm files. Also
    // when the process then exits without unwinding; the app is not used again.
    void close_database();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace relbot::bot
