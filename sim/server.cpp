// relbot-sim's HTTPS + WSS server. Coroutines are static members that hold the state alive
// through a shared_ptr; nothing here blocks the loop.
#include "sim/server.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <unordered_map>

#include "sim/cast.hpp"

namespace relbot::sim {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using json = nlohmann::json;
using ws_stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

constexpr auto nothrow = net::as_tuple(net::use_awaitable);

// Twelve hex digits from the system's random source, different in every sandbox session.
std::string random_session() {
    std::random_device source;
    std::uniform_int_distribution<unsigned long long> digits(0, (1ULL << 48) - 1);
    char text[16];
    std::snprintf(text, sizeof text, "%012llx", digits(source));
    return text;
}

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// application/x-www-form-urlencoded decoding ('+' is a space).
std::string form_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

json parse_form(std::string_view body) {
    json out = json::object();
    while (!body.empty()) {
        auto amp = body.find('&');
        auto pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
        auto eq = pair.find('=');
        auto key = form_decode(pair.substr(0, eq));
        auto value =
            eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
        if (!key.empty()) {
            out[key] = value;
        }
    }
    return out;
}

struct injected_failure {
    unsigned status = 200;
    std::string error;
    int retry_after = 1;
    std::string channel;  // only calls for this channel; empty: any
    int delay_ms = 0;     // answer late (with success unless status/error say otherwise)
};

// The text a block holds (what Slack's limits count).
std::size_t block_text_size(const json& b) {
    std::size_t n = 0;
    if (auto t = b.find("text"); t != b.end() && t->is_object()) {
        n += t->value("text", "").size();
    }
    for (const auto& e : b.value("elements", json::array())) {
        if (e.is_object()) {
            n += e.value("text", "").size();
        }
    }
    return n;
}

// Slack's Block Kit checks, as far as relbot's messages go: "" if the blocks are acceptable.
std::string block_kit_error(const json& blocks) {
    if (!blocks.is_array()) {
        return "invalid_blocks_format";
    }
    if (blocks.size() > 50) {
        return "invalid_blocks";
    }
    std::size_t total = 0;
    std::set<std::string> action_ids;
    for (const auto& b : blocks) {
        auto type = b.value("type", "");
        if (type == "section" && b.contains("text")) {
            auto t = b["text"].value("text", "");
            if (t.empty() || t.size() > 3000) {
                return "invalid_blocks";
            }
        }
        if (type == "header" && b["text"].value("text", "").size() > 150) {
            return "invalid_blocks";
        }
        for (const auto& e : b.value("elements", json::array())) {
            if (e.is_object() && e.contains("action_id") &&
                !action_ids.insert(e.value("action_id", "")).second) {
                return "invalid_blocks";
            }
        }
        total += block_text_size(b);
    }
    return total > 12000 ? "msg_blocks_too_long" : "";
}

struct ws_connection {
    ws_connection(int id_, ws_stream ws_) : id(id_), ws(std::move(ws_)), wake(ws.get_executor()) {}

    // `envelope_id` (if any) is stamped with the time just before the frame is written.
    void push(std::string text, std::string envelope_id = {}) {
        queue.push_back({std::move(text), std::move(envelope_id)});
        wake.cancel();
    }

    struct outgoing {
        std::string text;
        std::string envelope_id;
    };

    int id;
    ws_stream ws;
    std::deque<outgoing> queue;
    net::steady_timer wake;
    bool closing = false;
    bool silenced = false;  // neither reads (so pings go unanswered) nor writes
};

}  // namespace

namespace {
std::string default_user_name(const json& op) {
    const person* known = person_by_id(op.value("user_id", ""));
    return known ? std::string(known->name) : "demo";
}
}  // namespace

json slash_command_envelope(const std::string& envelope_id,
                            const json& op,
                            const std::string& base_url) {
    json payload = {{"token", "sim-verification-token"},
                    {"team_id", op.value("team_id", "T0SIM")},
                    {"team_domain", "sandbox"},
                    {"channel_id", op.value("channel_id", "C0DEMO")},
                    {"channel_name", op.value("channel_name", "release-demo")},
                    {"user_id", op.value("user_id", "U0DEMO")},
                    {"user_name", op.value("user_name", default_user_name(op))},
                    {"command", op.value("command", "/release")},
                    {"text", op.value("text", "")},
                    {"api_app_id", "A0SIM"},
                    {"is_enterprise_install", "false"},
                    {"response_url", base_url + "/hooks/commands/T0SIM/" + envelope_id},
                    {"trigger_id", "sim-trigger-" + envelope_id}};
    json envelope = {{"envelope_id", envelope_id},
                     {"type", "slash_commands"},
                     {"accepts_response_payload", true},
                     {"payload", payload}};
    if (op.contains("retry_attempt")) {
        envelope["retry_attempt"] = op["retry_attempt"];
        envelope["retry_reason"] = op.value("retry_reason", "timeout");
    }
    return envelope;
}

struct server::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& ioc_, server_options opts_, event_sink sink_)
        : ioc(ioc_),
          opts(std::move(opts_)),
          sink(std::move(sink_)),
          pki(make_test_pki(opts.cert)),
          tls(ssl::context::tls_server),
          acceptor(ioc) {
        tls.use_certificate_chain(net::buffer(pki.server_cert_pem));
        tls.use_private_key(net::buffer(pki.server_key_pem), ssl::context::pem);
        tcp::endpoint ep(net::ip::make_address("127.0.0.1"), opts.port);
        acceptor.open(ep.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        acceptor.bind(ep);
        acceptor.listen();
    }

    long long now_us() const {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - started)
            .count();
    }

    void emit(json event) {
        // Every event carries the sandbox's monotonic clock, so tests can order what happened
        // on different connections.
        if (!event.contains("t_us")) {
            event["t_us"] = now_us();
        }
        if (sink) {
            sink(event);
        }
    }

    std::string base_url() const {
        return "https://localhost:" + std::to_string(acceptor.local_endpoint().port());
    }

    // --- accepting -------------------------------------------------------------------------
    static net::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
        for (;;) {
            auto [ec, socket] = co_await self->acceptor.async_accept(nothrow);
            if (ec) {
                if (ec == net::error::operation_aborted) {
                    co_return;
                }
                continue;
            }
            boost::system::error_code nodelay_ec;  // best effort, as Slack's servers do
            socket.set_option(tcp::no_delay(true), nodelay_ec);
            net::co_spawn(self->ioc, serve(self, std::move(socket)), net::detached);
        }
    }

    static net::awaitable<void> serve(std::shared_ptr<impl> self, tcp::socket socket) {
        beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), self->tls);
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
        auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, nothrow);
        if (hec) {
            self->emit({{"event", "tls_error"}, {"error", hec.message()}});
            co_return;
        }
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
            auto [rec, n] = co_await http::async_read(stream, buffer, req, nothrow);
            if (rec) {
                co_return;
            }
            if (websocket::is_upgrade(req)) {
                co_await serve_websocket(self, std::move(stream), std::move(req));
                co_return;
            }
            auto res = self->handle_http(req);
            if (self->response_delay.count() > 0) {
                net::steady_timer late(self->ioc);
                late.expires_after(self->response_delay);
                self->response_delay = {};
                auto [lec] = co_await late.async_wait(nothrow);
                (void)lec;  // only delays the answer
            }
            auto [wec, wn] = co_await http::async_write(stream, res, nothrow);
            if (wec || !res.keep_alive()) {
                break;
            }
        }
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
        auto [sec] = co_await stream.async_shutdown(nothrow);
        (void)sec;  // the client may already be gone; nothing to do either way
    }

    // --- Socket Mode -----------------------------------------------------------------------
    static net::awaitable<void> serve_websocket(std::shared_ptr<impl> self,
                                                beast::ssl_stream<beast::tcp_stream> stream,
                                                http::request<http::string_body> req) {
        std::string ticket;
        auto target = boost::urls::parse_origin_form(req.target());
        if (target && (target->path() == "/link" || target->path() == "/link/")) {
            for (auto p : target->params()) {
                if (p.key == "ticket") {
                    ticket = p.value;
                }
            }
        }
        if (ticket.empty() || self->tickets.erase(ticket) == 0) {
            http::response<http::string_body> res{http::status::unauthorized, req.version()};
            res.set(http::field::content_type, "text/plain");
            res.body() = "unknown or used ticket";
            res.prepare_payload();
            self->emit({{"event", "ws_rejected"}, {"reason", "unknown or used ticket"}});
            auto [wec, wn] = co_await http::async_write(stream, res, nothrow);
            (void)wec;
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

        json hello = {{"type", "hello"},
                      {"num_connections", static_cast<int>(self->connections.size())},
                      {"connection_info", {{"app_id", "A0SIM"}}},
                      {"debug_info",
                       {{"host", "relbot-sim"},
                        {"build_number", 1},
                        {"approximate_connection_time", 18060}}}};
        // Written before it is reported, so that "hello_sent" means it is on the wire.
        auto hello_text = dump(hello);
        auto [hwec, hwn] = co_await conn->ws.async_write(net::buffer(hello_text), nothrow);
        if (hwec) {
            std::erase(self->connections, conn);
            co_return;
        }
        self->emit({{"event", "hello_sent"}, {"connection", conn->id}});
        net::co_spawn(self->ioc, write_loop(self, conn), net::detached);
        while (!self->waiting.empty()) {
            self->send_frame(conn, std::move(self->waiting.front()));
            self->waiting.pop_front();
        }

        beast::flat_buffer buffer;
        std::string reason = "closed";
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
                reason = "silenced";
                break;
            }
            if (ec) {
                reason = ec == websocket::error::closed ? "closed by client" : ec.message();
                break;
            }
            auto text = beast::buffers_to_string(buffer.data());
            buffer.consume(buffer.size());
            self->on_client_frame(conn->id, text, read_at);
        }
        std::erase(self->connections, conn);
        conn->closing = true;
        conn->wake.cancel();
        json closed = {{"event", "ws_closed"}, {"connection", conn->id}, {"reason", reason}};
        if (conn->ws.reason().code != websocket::close_code::none) {
            closed["close_code"] = static_cast<int>(conn->ws.reason().code);
        }
        self->emit(closed);
    }

    static net::awaitable<void> write_loop(std::shared_ptr<impl> self,
                                           std::shared_ptr<ws_connection> conn) {
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

    void on_client_frame(int connection,
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
        emit(ack);
    }

    // The benchmark's ack path: no JSON events and no parse of the payload, only the
    // envelope ID (the first "envelope_id" member: acks put it before the payload).
    void observe_ack(std::string_view text, std::chrono::steady_clock::time_point read_at) {
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

    // Sends an envelope on `conn`; the write loop notes when, so its ack's latency can be
    // reported.
    void send_frame(const std::shared_ptr<ws_connection>& conn, std::string text) {
        auto j = json::parse(text, nullptr, false);
        std::string id;
        if (!j.is_discarded() && j.is_object() && j.contains("envelope_id") &&
            j["envelope_id"].is_string()) {
            id = j["envelope_id"].get<std::string>();
            emit({{"event", "envelope_sent"}, {"connection", conn->id}, {"envelope_id", id}});
        }
        conn->push(std::move(text), std::move(id));
    }

    std::shared_ptr<ws_connection> pick_connection(const json& op) {
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
    void deliver(const json& op, std::string text) {
        if (auto conn = pick_connection(op)) {
            send_frame(conn, std::move(text));
            return;
        }
        auto j = json::parse(text, nullptr, false);
        emit({{"event", "envelope_queued"},
              {"envelope_id", j.is_object() ? j.value("envelope_id", "") : ""}});
        waiting.push_back(std::move(text));
    }

    // --- Web API ---------------------------------------------------------------------------
    http::response<http::string_body> handle_http(const http::request<http::string_body>& req) {
        std::string path(req.target().substr(0, req.target().find('?')));
        if (path.starts_with("/hooks/")) {
            auto body = json::parse(req.body(), nullptr, false);
            emit({{"event", "response_url_post"},
                  {"path", path},
                  {"body", body.is_discarded() ? json(req.body()) : body}});
            return text_response(req, http::status::ok, "text/plain", "ok");
        }
        if (!path.starts_with("/api/") || req.method() != http::verb::post) {
            return text_response(req, http::status::not_found, "text/plain", "not found");
        }
        auto method = path.substr(5);
        json args = json::object();
        auto content_type = std::string(req[http::field::content_type]);
        if (content_type.starts_with("application/json")) {
            args = json::parse(req.body(), nullptr, false);
            if (args.is_discarded()) {
                return api_response(req, method, args, 200,
                                    {{"ok", false}, {"error", "invalid_json"}});
            }
            if (!args.is_object()) {
                return api_response(req, method, args, 200,
                                    {{"ok", false}, {"error", "json_not_object"}});
            }
        } else {
            args = parse_form(req.body());
        }

        std::string auth(req[http::field::authorization]);
        std::string token = auth.starts_with("Bearer ") ? auth.substr(7) : "";
        if (token.empty() && args.contains("token") && args["token"].is_string()) {
            // Slack refuses apps.connections.open with a token outside the header.
            token = method == "apps.connections.open" ? "" : args["token"].get<std::string>();
        }
        auto fail = [&](const char* error) {
            return api_response(req, method, args, 200, {{"ok", false}, {"error", error}});
        };
        if (token.empty()) {
            return fail("not_authed");
        }
        for (const auto& bad : opts.invalid_tokens) {
            if (token == bad) {
                return fail("invalid_auth");
            }
        }
        bool app_token = token.starts_with("xapp-");
        bool bot_token = token.starts_with("xoxb-");
        if (!app_token && !bot_token) {
            return fail("invalid_auth");
        }
        if ((method == "apps.connections.open") != app_token) {
            return fail("not_allowed_token_type");
        }

        auto channel_arg = args.contains("channel") && args["channel"].is_string()
                               ? args["channel"].get<std::string>()
                               : "";
        if (auto it = failures.find(method); it != failures.end() && !it->second.empty()) {
            auto match =
                std::find_if(it->second.begin(), it->second.end(), [&](const injected_failure& f) {
                    return f.channel.empty() || f.channel == channel_arg;
                });
            if (match == it->second.end()) {
                return api_response(req, method, args, 200, call_method(method, args));
            }
            auto f = *match;
            it->second.erase(match);
            response_delay = std::chrono::milliseconds(f.delay_ms);
            if (f.status == 200 && f.error.empty()) {
                return api_response(req, method, args, 200, call_method(method, args));
            }
            if (f.status != 200) {
                json body = {{"ok", false},
                             {"error", f.status == 429 ? "ratelimited" : "http_error"}};
                auto res = api_response(req, method, args, f.status, body);
                if (f.status == 429) {
                    res.set(http::field::retry_after, std::to_string(f.retry_after));
                }
                return res;
            }
            return fail(f.error.c_str());
        }
        auto body = call_method(method, args);
        if (paced_out) {
            paced_out = false;
            auto res = api_response(req, method, args, 429, body);
            res.set(http::field::retry_after, "1");
            return res;
        }
        return api_response(req, method, args, 200, body);
    }

    json call_method(const std::string& method, const json& args) {
        auto str = [&](const char* key) {
            auto it = args.find(key);
            return it != args.end() && it->is_string() ? it->get<std::string>() : std::string();
        };
        if (method == "apps.connections.open") {
            auto ticket = "sim-ticket-" + std::to_string(next_ticket++);
            tickets.insert(ticket);
            return {{"ok", true},
                    {"url", "wss://localhost:" + std::to_string(acceptor.local_endpoint().port()) +
                                "/link/?ticket=" + ticket + "&app_id=A0SIM"}};
        }
        if (method == "auth.test") {
            return {{"ok", true},         {"url", "https://sandbox.slack.com/"},
                    {"team", "Sandbox"},  {"user", "relbot"},
                    {"team_id", "T0SIM"}, {"user_id", "U0BOT"},
                    {"bot_id", "B0BOT"},  {"is_enterprise_install", false}};
        }
        if (method == "chat.postMessage") {
            auto channel = str("channel");
            if (channel.empty()) {
                return {{"ok", false}, {"error", "channel_not_found"}};
            }
            auto blocks = args.find("blocks");
            bool has_blocks = blocks != args.end() && blocks->is_array() && !blocks->empty();
            if (str("text").empty() && !has_blocks) {
                return {{"ok", false}, {"error", "no_text"}};
            }
            if (has_blocks) {
                if (auto err = block_kit_error(*blocks); !err.empty()) {
                    return {{"ok", false}, {"error", err}};
                }
            }
            if (str("text").size() > 40000) {
                return {{"ok", false}, {"error", "msg_too_long"}};
            }
            if (channel.starts_with("U") || channel.starts_with("W")) {
                channel = "D" + channel.substr(1);
            }
            // About one message a second per channel, with a short burst tolerated: more than
            // five in one second is refused with a 429, as Slack does.
            auto now = std::chrono::steady_clock::now();
            auto& recent = channel_posts[channel];
            while (!recent.empty() && now - recent.front() >= std::chrono::seconds(1)) {
                recent.pop_front();
            }
            if (recent.size() >= 5) {
                paced_out = true;
                return {{"ok", false}, {"error", "ratelimited"}};
            }
            recent.push_back(now);
            auto ts = next_ts();
            json message = {
                {"type", "message"}, {"ts", ts}, {"bot_id", "B0BOT"}, {"text", str("text")}};
            if (has_blocks) {
                message["blocks"] = *blocks;
            }
            if (auto m = args.find("metadata"); m != args.end()) {
                message["metadata"] = *m;
            }
            messages[channel][ts] = message;
            return {{"ok", true}, {"channel", channel}, {"ts", ts}, {"message", message}};
        }
        if (method == "chat.update") {
            auto channel = str("channel");
            auto ts = str("ts");
            if (str("text").size() > 4000) {
                return {{"ok", false}, {"error", "msg_too_long"}};
            }
            if (auto b = args.find("blocks"); b != args.end()) {
                if (auto err = block_kit_error(*b); !err.empty()) {
                    return {{"ok", false}, {"error", err}};
                }
            }
            auto ch = messages.find(channel);
            if (ch == messages.end() || !ch->second.contains(ts)) {
                return {{"ok", false}, {"error", "message_not_found"}};
            }
            auto& message = ch->second[ts];
            message["text"] = str("text");
            if (auto b = args.find("blocks"); b != args.end()) {
                message["blocks"] = *b;
            }
            return {{"ok", true}, {"channel", channel}, {"ts", ts}, {"text", str("text")}};
        }
        if (method == "chat.getPermalink") {
            auto channel = str("channel");
            auto ts = str("message_ts");
            auto ch = messages.find(channel);
            if (ch == messages.end() || !ch->second.contains(ts)) {
                return {{"ok", false}, {"error", "message_not_found"}};
            }
            std::string digits;
            for (char c : ts) {
                if (c != '.') {
                    digits.push_back(c);
                }
            }
            return {{"ok", true},
                    {"channel", channel},
                    {"permalink", "https://sandbox.slack.com/archives/" + channel + "/p" + digits}};
        }
        if (method == "users.info") {
            auto user = str("user");
            if (user.empty()) {
                return {{"ok", false}, {"error", "user_not_found"}};
            }
            auto tz = time_zones.find(user);
            int offset = tz == time_zones.end() ? 0 : tz->second;
            // The cast has names; anyone else gets a made-up handle, as a guest would.
            const person* known = person_by_id(user);
            std::string name = known ? std::string(known->name) : "user-" + user;
            std::string real_name = known ? std::string(known->real_name) : name;
            return {{"ok", true},
                    {"user",
                     {{"id", user},
                      {"name", name},
                      {"real_name", real_name},
                      {"profile", {{"display_name", name}, {"real_name", real_name}}},
                      {"tz", offset == 0 ? "UTC" : "Etc/Sim"},
                      {"tz_offset", offset},
                      {"is_bot", false},
                      {"deleted", false}}}};
        }
        if (method == "pins.add") {
            auto channel = str("channel");
            auto ts = str("timestamp");
            auto ch = messages.find(channel);
            if (ch == messages.end() || !ch->second.contains(ts)) {
                return {{"ok", false}, {"error", "message_not_found"}};
            }
            if (!pins.insert({channel, ts}).second) {
                return {{"ok", false}, {"error", "already_pinned"}};
            }
            return {{"ok", true}};
        }
        if (method == "conversations.history") {
            auto channel = str("channel");
            auto ch = messages.find(channel);
            if (ch == messages.end()) {
                return {{"ok", true}, {"messages", json::array()}, {"has_more", false}};
            }
            auto oldest = str("oldest");
            bool all_metadata =
                str("include_all_metadata") == "true" ||
                (args.contains("include_all_metadata") && args["include_all_metadata"] == true);
            std::size_t limit = 100;
            if (auto l = str("limit"); !l.empty()) {
                limit = std::clamp<std::size_t>(std::stoul(l), 1, 999);
            }
            std::size_t offset = str("cursor").empty() ? 0 : std::stoul(str("cursor"));
            json list = json::array();
            std::size_t index = 0;
            for (auto it = ch->second.rbegin(); it != ch->second.rend(); ++it) {  // newest first
                if (!oldest.empty() && it->first <= oldest) {
                    continue;
                }
                if (index++ < offset) {
                    continue;
                }
                if (list.size() == limit) {
                    return {
                        {"ok", true},
                        {"messages", list},
                        {"has_more", true},
                        {"response_metadata", {{"next_cursor", std::to_string(offset + limit)}}}};
                }
                auto m = it->second;
                if (m.contains("metadata") && !all_metadata) {
                    m["metadata"] = {{"event_type", m["metadata"].value("event_type", "")}};
                }
                list.push_back(m);
            }
            return {{"ok", true}, {"messages", list}, {"has_more", false}};
        }
        if (method == "conversations.open") {
            auto users = str("users");
            if (users.empty() || users.find(',') != std::string::npos) {
                return {{"ok", false},
                        {"error",
                         users.empty() ? "users_list_not_supplied" : "not_implemented_in_sim"}};
            }
            return {{"ok", true}, {"channel", {{"id", "D" + users.substr(1)}}}};
        }
        return {{"ok", false}, {"error", "unknown_method"}};
    }

    // Message timestamps are unique and increasing across sandbox sessions too, as Slack's
    // are: the wall clock in microseconds, moved on by one when two messages share one.
    std::string next_ts() {
        auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        last_ts_us = std::max<long long>(now, last_ts_us + 1);
        auto micros = std::to_string(last_ts_us % 1000000);
        return std::to_string(last_ts_us / 1000000) + "." + std::string(6 - micros.size(), '0') +
               micros;
    }

    // A fresh id for anything Slack makes unique (envelopes, triggers): this session's own
    // random prefix and a counter, so a second sandbox session on the same database never
    // reuses an id that relbot remembers as applied.
    std::string next_envelope_id() {
        return "sim-env-" + session + "-" + std::to_string(next_envelope++);
    }

    http::response<http::string_body> api_response(const http::request<http::string_body>& req,
                                                   const std::string& method,
                                                   const json& args,
                                                   unsigned status,
                                                   const json& body) {
        json call = {{"event", "api_call"},
                     {"method", method},
                     {"authorization", std::string(req[http::field::authorization])},
                     {"content_type", std::string(req[http::field::content_type])},
                     {"args", args},
                     {"status", status},
                     {"response", body},
                     {"t_us", now_us()}};
        calls.push_back(call);
        emit(call);
        return text_response(req, static_cast<http::status>(status),
                             "application/json; charset=utf-8", dump(body));
    }

    static http::response<http::string_body> text_response(
        const http::request<http::string_body>& req,
        http::status status,
        const char* content_type,
        std::string body) {
        http::response<http::string_body> res{status, req.version()};
        res.set(http::field::server, "relbot-sim");
        res.set(http::field::content_type, content_type);
        res.keep_alive(req.keep_alive());
        res.body() = std::move(body);
        res.prepare_payload();
        return res;
    }

    // --- control ---------------------------------------------------------------------------
    void control(const json& op) {
        auto name = op.value("op", "");
        auto error = [&](std::string message) {
            emit({{"event", "error"}, {"op", name}, {"error", std::move(message)}});
        };
        if (name == "slash_command") {
            if (!op.contains("text") || !op["text"].is_string()) {
                return error("slash_command needs \"text\"");
            }
            auto id = op.contains("envelope_id") ? op.value("envelope_id", "") : next_envelope_id();
            auto envelope = slash_command_envelope(id, op, base_url());
            deliver(op, dump(envelope));
            return;
        }
        if (name == "send") {
            if (!op.contains("frame")) {
                return error("send needs \"frame\" (an object or a string)");
            }
            deliver(op,
                    op["frame"].is_string() ? op["frame"].get<std::string>() : dump(op["frame"]));
            return;
        }
        if (name == "disconnect") {
            auto conn = pick_connection(op);
            if (!conn) {
                return error("no open connection");
            }
            conn->push(dump({{"type", "disconnect"},
                             {"reason", op.value("reason", "refresh_requested")},
                             {"debug_info", {{"host", "relbot-sim"}}}}));
            emit({{"event", "disconnect_sent"},
                  {"connection", conn->id},
                  {"reason", op.value("reason", "refresh_requested")}});
            return;
        }
        if (name == "drop") {
            // Close TCP without a WebSocket close frame, as a network failure would.
            for (auto& conn : connections) {
                beast::get_lowest_layer(conn->ws).close();
            }
            return;
        }
        if (name == "silence") {
            auto conn = pick_connection(op);
            if (!conn) {
                return error("no open connection");
            }
            conn->silenced = true;
            // Abandon the pending read so that pings are no longer answered.
            boost::system::error_code ec;
            beast::get_lowest_layer(conn->ws).socket().cancel(ec);
            emit({{"event", "silenced"}, {"connection", conn->id}});
            return;
        }
        if (name == "set_user") {
            auto user = op.value("user", "");
            time_zones[user] = op.value("tz_offset", 0);
            emit({{"event", "user_set"}, {"user", user}, {"tz_offset", time_zones[user]}});
            return;
        }
        if (name == "delete_message") {
            auto channel = op.value("channel", "");
            auto ts = op.value("ts", "");
            auto ch = messages.find(channel);
            bool deleted = ch != messages.end() && ch->second.erase(ts) == 1;
            emit({{"event", "message_deleted"},
                  {"channel", channel},
                  {"ts", ts},
                  {"deleted", deleted}});
            return;
        }
        if (name == "spread") {
            spread = op.value("on", true);
            emit({{"event", "spread"}, {"on", spread}});
            return;
        }
        if (name == "hello_delay") {
            hello_delay_ms = op.value("ms", 0);
            emit({{"event", "hello_delay"}, {"ms", hello_delay_ms}});
            return;
        }
        if (name == "fail") {
            auto method = op.value("method", "");
            if (method.empty()) {
                return error("fail needs \"method\"");
            }
            injected_failure f;
            f.status = op.value("status", 200u);
            f.delay_ms = op.value("delay_ms", 0);
            f.error = op.value("error", f.status == 200 && f.delay_ms > 0 ? "" : "internal_error");
            f.retry_after = op.value("retry_after", 1);
            f.channel = op.value("channel", "");
            for (int i = 0, n = op.value("times", 1); i < n; ++i) {
                failures[method].push_back(f);
            }
            emit({{"event", "fail_armed"}, {"method", method}});
            return;
        }
        if (name == "calls") {
            auto method = op.value("method", "");
            json out = json::array();
            for (const auto& c : calls) {
                if (method.empty() || c["method"] == method) {
                    out.push_back(c);
                }
            }
            emit({{"event", "calls"}, {"calls", out}});
            return;
        }
        if (name == "connections") {
            json ids = json::array();
            for (const auto& c : connections) {
                ids.push_back(c->id);
            }
            emit({{"event", "connections"}, {"open", ids}});
            return;
        }
        error(
            "unknown op; ops are slash_command, send, disconnect, drop, fail, calls, connections");
    }

    net::io_context& ioc;
    server_options opts;
    event_sink sink;
    test_pki pki;
    ssl::context tls;
    tcp::acceptor acceptor;
    std::set<std::string> tickets;
    std::vector<std::shared_ptr<ws_connection>> connections;
    std::deque<std::string> waiting;
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> sent_at;
    std::map<std::string, std::deque<injected_failure>> failures;
    std::map<std::string, std::map<std::string, json>> messages;
    json calls = json::array();
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::map<std::string, int> time_zones;  // user -> tz_offset seconds (users.info)
    bool paced_out = false;                 // set by call_method when a channel's pace was exceeded
    std::chrono::milliseconds response_delay{};  // set by handle_http for the answer at hand
    std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> channel_posts;
    std::set<std::pair<std::string, std::string>> pins;
    bool spread = false;  // round-robin envelopes over the open connections
    std::size_t next_spread = 0;
    int hello_delay_ms = 0;  // wait this long before saying hello
    int next_connection = 1;
    long next_envelope = 1;
    long next_ticket = 1;
    long long last_ts_us = 0;
    std::string session = random_session();
};

server::server(boost::asio::io_context& ioc, server_options options, event_sink sink)
    : impl_(std::make_shared<impl>(ioc, std::move(options), std::move(sink))) {}

server::~server() {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);  // ends the accept loop; an error here leaves nothing to undo
}

unsigned short server::port() const {
    return impl_->acceptor.local_endpoint().port();
}

std::string server::base_url() const {
    return impl_->base_url();
}

std::string server::api_url() const {
    return impl_->base_url() + "/api/";
}

const std::string& server::ca_cert_pem() const {
    return impl_->pki.ca_cert_pem;
}

void server::start() {
    net::co_spawn(impl_->ioc, impl::accept_loop(impl_), net::detached);
}

void server::control(const nlohmann::json& op) {
    impl_->control(op);
}

std::string server::new_envelope_id() {
    return impl_->next_envelope_id();
}

bool server::inject(std::string envelope_id, std::string frame, std::optional<int> connection) {
    const auto& open = impl_->connections;
    auto to = open.empty() ? open.end() : std::prev(open.end());
    if (connection) {
        to = std::find_if(open.begin(), open.end(),
                          [&](const auto& c) { return c->id == *connection; });
    }
    if (to == open.end()) {
        return false;
    }
    (*to)->push(std::move(frame), std::move(envelope_id));
    return true;
}

}  // namespace relbot::sim
