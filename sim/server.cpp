// relbot-sim's HTTPS + WSS server: accepting, TLS, the HTTP loop and the Web API's dispatch
// (arguments, tokens, injected failures, the api_call event). The answers are in web_api.cpp,
// Socket Mode in socket_mode.cpp, the control ops in control.cpp; the shared state is in
// server_impl.hpp. Coroutines are static members that hold the state alive through a
// shared_ptr; nothing here blocks the loop.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstdio>
#include <iterator>
#include <random>

#include "sim/server_impl.hpp"

namespace relbot::sim {
namespace {

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

}  // namespace

namespace detail {

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

}  // namespace detail

server::impl::impl(net::io_context& ioc_, server_options opts_, event_sink sink_)
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

long long server::impl::now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 started)
        .count();
}

void server::impl::emit(json event) {
    // Every event carries the sandbox's monotonic clock, so tests can order what happened on
    // different connections.
    if (!event.contains("t_us")) {
        event["t_us"] = now_us();
    }
    if (sink) {
        sink(event);
    }
}

std::string server::impl::base_url() const {
    return "https://localhost:" + std::to_string(acceptor.local_endpoint().port());
}

// --- accepting -------------------------------------------------------------------------------

net::awaitable<void> server::impl::accept_loop(std::shared_ptr<impl> self) {
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

net::awaitable<void> server::impl::serve(std::shared_ptr<impl> self, tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), self->tls);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, nothrow);
    if (hec) {
        self->emit({{"event", "tls_error"}, {"error", hec.message()}});
        co_return;
    }
    beast::flat_buffer buffer;
    for (;;) {
        // Files come as a request's body: up to 32 MiB, where Beast's default stops at 1 MiB.
        http::request_parser<http::string_body> parser;
        parser.body_limit(32u << 20);
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
        auto [rec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (rec) {
            co_return;
        }
        http_request req = parser.release();
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

// --- the Web API's dispatch ------------------------------------------------------------------

http_response server::impl::handle_http(const http_request& req) {
    std::string path(req.target().substr(0, req.target().find('?')));
    if (path.starts_with("/hooks/")) {
        return handle_hook(req, path);
    }
    if (path.starts_with("/upload/") && req.method() == http::verb::post) {
        return handle_upload(req, path);
    }
    if (path.starts_with("/files/") && req.method() == http::verb::get) {
        return handle_file_get(req, path);
    }
    if (!path.starts_with("/api/") || req.method() != http::verb::post) {
        return text_response(req, http::status::not_found, "text/plain", "not found");
    }
    auto method = path.substr(5);
    json args = json::object();
    auto error = read_args(req, args);
    if (error.empty()) {
        error = auth_error(req, method, args);
    }
    if (!error.empty()) {
        return api_response(req, method, args, 200, {{"ok", false}, {"error", error}});
    }
    if (auto it = failures.find(method); it != failures.end() && !it->second.empty()) {
        return answer_with_failure(req, method, args, it->second);
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

http_response server::impl::handle_hook(const http_request& req, const std::string& path) {
    auto body = json::parse(req.body(), nullptr, false);
    auto [status, answer] = apply_hook(path, body.is_discarded() ? json() : body);
    json posted = {{"event", "response_url_post"},
                   {"path", path},
                   {"status", static_cast<unsigned>(status)},
                   {"body", body.is_discarded() ? json(req.body()) : body}};
    if (auto h = hooks.find(path); h != hooks.end()) {
        posted["user_id"] = h->second.user;  // whose click or command it answers
    }
    emit(posted);
    return text_response(req, status, "text/plain", answer);
}

std::string server::impl::read_args(const http_request& req, json& args) {
    auto content_type = std::string(req[http::field::content_type]);
    if (!content_type.starts_with("application/json")) {
        args = parse_form(req.body());
        return "";
    }
    args = json::parse(req.body(), nullptr, false);
    if (args.is_discarded()) {
        return "invalid_json";
    }
    if (!args.is_object()) {
        return "json_not_object";
    }
    return "";
}

std::string server::impl::auth_error(const http_request& req,
                                     const std::string& method,
                                     const json& args) {
    std::string auth(req[http::field::authorization]);
    std::string token = auth.starts_with("Bearer ") ? auth.substr(7) : "";
    if (token.empty() && args.contains("token") && args["token"].is_string()) {
        // Slack refuses apps.connections.open with a token outside the header.
        token = method == "apps.connections.open" ? "" : args["token"].get<std::string>();
    }
    if (token.empty()) {
        return "not_authed";
    }
    for (const auto& bad : opts.invalid_tokens) {
        if (token == bad) {
            return "invalid_auth";
        }
    }
    bool app_token = token.starts_with("xapp-");
    bool bot_token = token.starts_with("xoxb-");
    if (!app_token && !bot_token) {
        return "invalid_auth";
    }
    if ((method == "apps.connections.open") != app_token) {
        return "not_allowed_token_type";
    }
    return "";
}

// The first failure armed for this call's channel (or any channel) is used up: an HTTP
// status, a Slack error, or only a late answer. With none for the channel, the call is
// answered as usual.
http_response server::impl::answer_with_failure(const http_request& req,
                                                const std::string& method,
                                                const json& args,
                                                std::deque<detail::injected_failure>& armed) {
    auto channel_arg = args.contains("channel") && args["channel"].is_string()
                           ? args["channel"].get<std::string>()
                           : "";
    auto match = std::find_if(armed.begin(), armed.end(), [&](const detail::injected_failure& f) {
        return f.channel.empty() || f.channel == channel_arg;
    });
    if (match == armed.end()) {
        return api_response(req, method, args, 200, call_method(method, args));
    }
    auto f = *match;
    armed.erase(match);
    response_delay = std::chrono::milliseconds(f.delay_ms);
    if (f.status == 200 && f.error.empty()) {
        return api_response(req, method, args, 200, call_method(method, args));
    }
    if (f.status != 200) {
        json body = {{"ok", false}, {"error", f.status == 429 ? "ratelimited" : "http_error"}};
        auto res = api_response(req, method, args, f.status, body);
        if (f.status == 429) {
            res.set(http::field::retry_after, std::to_string(f.retry_after));
        }
        return res;
    }
    // c_str(): as before, an error armed with a NUL in it is cut there.
    return api_response(req, method, args, 200, {{"ok", false}, {"error", f.error.c_str()}});
}

http_response server::impl::api_response(const http_request& req,
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
    return text_response(req, static_cast<http::status>(status), "application/json; charset=utf-8",
                         detail::dump(body));
}

http_response server::impl::text_response(const http_request& req,
                                          http::status status,
                                          const char* content_type,
                                          std::string body) {
    http_response res{status, req.version()};
    res.set(http::field::server, "relbot-sim");
    res.set(http::field::content_type, content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

// --- the public face -------------------------------------------------------------------------

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
