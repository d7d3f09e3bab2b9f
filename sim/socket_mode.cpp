// relbot-sim's Socket Mode side: WebSocket sessions opened with a ticket from
// apps.connections.open, the hello, envelopes out and acks in. Coroutines are static members
// that hold the state alive through a shared_ptr; nothing here blocks the loop.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/url/parse.hpp>

#include "sim/server_impl.hpp"

namespace relbot::sim {

net::awaitable<void> server::impl::serve_websocket(std::shared_ptr<impl> self,
                                                   beast::ssl_stream<beast::tcp_stream> stream,
                                                   http_request req) {
    if (!self->take_ticket(req)) {
        co_await reject_websocket(self, stream, req);
        co_return;
    }
    beast::get_lowest_layer(stream).expires_never();
    auto conn =
        std::make_shared<ws_connection>(self->next_connection++, ws_stream(std::move(stream)));
    conn->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    auto [aec] = co_await conn->ws.async_accept(req, nothrow);
    if (aec) {
        self->emit({{"event", "ws_rejected"}, {"reason", aec.message()}});
        co_return;
    }
    self->connections.push_back(conn);
    self->emit({{"event", "connection_open"}, {"connection", conn->id}});
    if (self->hello_delay_ms > 0) {
        net::steady_timer delay(self->ioc);
        delay.expires_after(std::chrono::milliseconds(self->hello_delay_ms));
        auto [dec] = co_await delay.async_wait(nothrow);
        (void)dec;  // only paces the hello
    }
    if (!co_await send_hello(self, conn)) {
        co_return;
    }
    net::co_spawn(self->ioc, write_loop(self, conn), net::detached);
    while (!self->waiting.empty()) {
        self->send_frame(conn, std::move(self->waiting.front()));
        self->waiting.pop_front();
    }
    auto reason = co_await read_frames(self, conn);
    self->close_connection(conn, reason);
}

// True if the request names a ticket handed out by apps.connections.open and not used yet;
// the ticket is used up.
bool server::impl::take_ticket(const http_request& req) {
    std::string ticket;
    auto target = boost::urls::parse_origin_form(req.target());
    if (target && (target->path() == "/link" || target->path() == "/link/")) {
        for (auto p : target->params()) {
            if (p.key == "ticket") {
                ticket = p.value;
            }
        }
    }
    return !ticket.empty() && tickets.erase(ticket) != 0;
}

net::awaitable<void> server::impl::reject_websocket(std::shared_ptr<impl> self,
                                                    beast::ssl_stream<beast::tcp_stream>& stream,
                                                    const http_request& req) {
    http_response res{http::status::unauthorized, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.body() = "unknown or used ticket";
    res.prepare_payload();
    self->emit({{"event", "ws_rejected"}, {"reason", "unknown or used ticket"}});
    auto [wec, wn] = co_await http::async_write(stream, res, nothrow);
    (void)wec;
}

// False if the hello could not be written (the connection is then forgotten, unreported).
net::awaitable<bool> server::impl::send_hello(std::shared_ptr<impl> self, connection_ptr conn) {
    json hello = {
        {"type", "hello"},
        {"num_connections", static_cast<int>(self->connections.size())},
        {"connection_info", {{"app_id", "A0SIM"}}},
        {"debug_info",
         {{"host", "relbot-sim"}, {"build_number", 1}, {"approximate_connection_time", 18060}}}};
    // Written before it is reported, so that "hello_sent" means it is on the wire.
    auto hello_text = detail::dump(hello);
    auto [hwec, hwn] = co_await conn->ws.async_write(net::buffer(hello_text), nothrow);
    if (hwec) {
        std::erase(self->connections, conn);
        co_return false;
    }
    self->emit({{"event", "hello_sent"}, {"connection", conn->id}});
    co_return true;
}

net::awaitable<std::string> server::impl::read_frames(std::shared_ptr<impl> self,
                                                      connection_ptr conn) {
    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, n] = co_await conn->ws.async_read(buffer, nothrow);
        auto read_at = std::chrono::steady_clock::now();
        if (conn->silenced) {
            // Play a half-open connection: no reads (so no pongs), no writes, no close.
            // The client must notice on its own; the socket is dropped after two minutes.
            net::steady_timer quiet(self->ioc);
            quiet.expires_after(std::chrono::minutes(2));
            auto [qec] = co_await quiet.async_wait(nothrow);
            (void)qec;  // only bounds how long the silent socket lingers
            co_return "silenced";
        }
        if (ec) {
            co_return ec == websocket::error::closed ? "closed by client" : ec.message();
        }
        auto text = beast::buffers_to_string(buffer.data());
        buffer.consume(buffer.size());
        self->on_client_frame(conn->id, text, read_at);
    }
}

void server::impl::close_connection(const connection_ptr& conn, const std::string& reason) {
    std::erase(connections, conn);
    conn->closing = true;
    conn->wake.cancel();
    json closed = {{"event", "ws_closed"}, {"connection", conn->id}, {"reason", reason}};
    if (conn->ws.reason().code != websocket::close_code::none) {
        closed["close_code"] = static_cast<int>(conn->ws.reason().code);
    }
    emit(closed);
}

net::awaitable<void> server::impl::write_loop(std::shared_ptr<impl> self, connection_ptr conn) {
    for (;;) {
        while (!conn->queue.empty() && !conn->silenced) {
            auto out = std::move(conn->queue.front());
            conn->queue.pop_front();
            if (!out.envelope_id.empty()) {
                // Latency is measured from just before the frame is written.
                self->sent_at[out.envelope_id] = std::chrono::steady_clock::now();
            }
            auto [ec, n] = co_await conn->ws.async_write(net::buffer(out.text), nothrow);
            if (ec) {
                co_return;
            }
        }
        if (conn->closing) {
            co_return;
        }
        conn->wake.expires_at(net::steady_timer::time_point::max());
        auto [ec] = co_await conn->wake.async_wait(nothrow);
        (void)ec;  // cancellation is the wake-up signal
    }
}

void server::impl::on_client_frame(int connection,
                                   const std::string& text,
                                   std::chrono::steady_clock::time_point read_at) {
    if (opts.on_ack) {
        observe_ack(text, read_at);
        return;
    }
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("envelope_id")) {
        emit({{"event", "frame_received"}, {"connection", connection}, {"text", text}});
        return;
    }
    auto id = j["envelope_id"].is_string() ? j["envelope_id"].get<std::string>() : "";
    json ack = {{"event", "ack"}, {"connection", connection}, {"envelope_id", id}};
    if (auto p = j.find("payload"); p != j.end()) {
        ack["payload"] = *p;
    }
    if (auto it = sent_at.find(id); it != sent_at.end()) {
        ack["latency_us"] =
            std::chrono::duration_cast<std::chrono::microseconds>(read_at - it->second).count();
        sent_at.erase(it);
    }
    // What the ack does (an ephemeral reply shown, a modal closed) is in place before anyone
    // hears of the ack: the terminal sandbox sends its next line on it (a click on the reply).
    after_ack(id, j.value("payload", json()));
    emit(ack);
}

// The benchmark's ack path: no JSON events and no parse of the payload, only the envelope ID
// (the first "envelope_id" member: acks put it before the payload).
void server::impl::observe_ack(std::string_view text,
                               std::chrono::steady_clock::time_point read_at) {
    constexpr std::string_view key = "\"envelope_id\":\"";
    auto at = text.find(key);
    if (at == std::string_view::npos) {
        return;
    }
    auto begin = at + key.size();
    auto end = text.find('"', begin);
    if (end == std::string_view::npos) {
        return;
    }
    auto it = sent_at.find(std::string(text.substr(begin, end - begin)));
    if (it == sent_at.end()) {
        return;
    }
    opts.on_ack(it->first, it->second, read_at);
    sent_at.erase(it);
}

// Sends an envelope on `conn`; the write loop notes when, so its ack's latency can be reported.
void server::impl::send_frame(const connection_ptr& conn, std::string text) {
    auto j = json::parse(text, nullptr, false);
    std::string id;
    if (!j.is_discarded() && j.is_object() && j.contains("envelope_id") &&
        j["envelope_id"].is_string()) {
        id = j["envelope_id"].get<std::string>();
        emit({{"event", "envelope_sent"}, {"connection", conn->id}, {"envelope_id", id}});
    }
    conn->push(std::move(text), std::move(id));
}

server::impl::connection_ptr server::impl::pick_connection(const json& op) {
    if (connections.empty()) {
        return nullptr;
    }
    if (spread && !op.contains("connection")) {
        return connections[next_spread++ % connections.size()];
    }
    if (auto c = op.find("connection"); c != op.end() && c->is_number_integer()) {
        for (auto& conn : connections) {
            if (conn->id == c->get<int>()) {
                return conn;
            }
        }
        return nullptr;
    }
    return connections.back();
}

// Sends now, or holds the frame until a connection opens (as Slack retries do).
void server::impl::deliver(const json& op, std::string text) {
    if (auto conn = pick_connection(op)) {
        send_frame(conn, std::move(text));
        return;
    }
    auto j = json::parse(text, nullptr, false);
    emit({{"event", "envelope_queued"},
          {"envelope_id", j.is_object() ? j.value("envelope_id", "") : ""}});
    waiting.push_back(std::move(text));
}

}  // namespace relbot::sim
