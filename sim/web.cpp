// The sandbox in a browser (see web.hpp): the page's HTTP server on 127.0.0.1 (the page, its
// state as JSON, server-sent events, and the person's actions), and relbot as a child.
#include "sim/web.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <vector>

#include "sim/cast.hpp"
#include "sim/net.hpp"
#include "sim/terminal.hpp"
#include "sim/web_page.hpp"
#include "sim/web_state.hpp"

namespace relbot::sim {
namespace {

using json = nlohmann::json;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;
using namespace std::chrono_literals;

constexpr std::size_t max_body = 64 * 1024;
constexpr std::size_t max_connections = 64;

response reply(const request& req, http::status status, std::string_view type, std::string body) {
    response res{status, req.version()};
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.set(http::field::server, "relbot-sim");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

response json_reply(const request& req, http::status status, const json& body) {
    return reply(req, status, "application/json",
                 body.dump(-1, ' ', false, json::error_handler_t::replace));
}

// The value of `name` in the target's query ("" when absent); only ids and plain words travel
// this way, so no percent-decoding is needed.
std::string query_value(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    while (q != std::string_view::npos) {
        auto start = q + 1;
        auto end = target.find('&', start);
        auto pair = target.substr(start, end == std::string_view::npos ? end : end - start);
        if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=') {
            return std::string(pair.substr(name.size() + 1));
        }
        q = end;
    }
    return {};
}

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

// A request from a page this sandbox served: only to 127.0.0.1 or localhost on our port (a
// page from elsewhere cannot reach in through DNS rebinding), and actions only as JSON (a
// form on another site cannot post one).
bool trusted(const request& req, unsigned short port) {
    auto host = std::string(req[http::field::host]);
    auto p = std::to_string(port);
    return host == "127.0.0.1:" + p || host == "localhost:" + p;
}

json cast_json() {
    json out = json::array();
    for (const auto& p : cast) {
        out.push_back(
            {{"id", p.id}, {"name", p.name}, {"real_name", p.real_name}, {"part", p.part}});
    }
    return out;
}

}  // namespace

struct web_sandbox::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& ioc_, web_options options)
        : ioc(ioc_),
          opt(std::move(options)),
          acceptor(ioc_),
          child_exit(ioc_, SIGCHLD),
          interrupt(ioc_, SIGINT, SIGTERM) {}

    net::io_context& ioc;
    web_options opt;
    server* srv = nullptr;
    tcp::acceptor acceptor;
    net::signal_set child_exit;
    net::signal_set interrupt;
    pid_t child = 0;
    bool stop_sent = false;
    int exit_status = 0;
    bool connected = false;
    long version = 1;
    std::size_t open_connections = 0;
    std::vector<std::weak_ptr<net::steady_timer>> waiters;  // the event streams' timers
    std::string* capture = nullptr;  // set while a control op runs: its error, if any

    void changed() {
        ++version;
        std::erase_if(waiters, [](const auto& w) { return w.expired(); });
        for (auto& w : waiters) {
            if (auto t = w.lock()) {
                t->cancel();
            }
        }
    }

    // Runs a control op; "" when it was taken, else what the sandbox said was wrong.
    std::string control(const json& op) {
        std::string error;
        capture = &error;
        struct release_capture {
            std::string*& at;
            ~release_capture() { at = nullptr; }  // also when the op throws
        } guard{capture};
        srv->control(op);
        return error;
    }

    response handle(const request& req);
    response state(const request& req);
    response file(const request& req, const std::string& path);
    response act(const request& req, std::string_view path);
    static net::awaitable<void> serve(std::shared_ptr<impl> self, tcp::socket socket);
    static net::awaitable<void> accept_loop(std::shared_ptr<impl> self);
    static net::awaitable<void> events(std::shared_ptr<impl> self,
                                       beast::tcp_stream& stream,
                                       const request& req);
    void watch_child();
    void stop_bot();
    // Ctrl-C stops relbot (SIGTERM); a second one kills it and ends the sandbox at once.
    void wait_interrupt() {
        interrupt.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int) {
            if (ec) {
                return;
            }
            if (self->stop_sent) {
                kill(self->child, SIGKILL);
                self->exit_status = 1;
                self->ioc.stop();
                return;
            }
            self->stop_bot();
            self->wait_interrupt();
        });
    }
};

response web_sandbox::impl::handle(const request& req) {
    if (!trusted(req, acceptor.local_endpoint().port())) {
        return reply(req, http::status::forbidden, "text/plain", "wrong Host\n");
    }
    auto path = path_of(req.target());
    if (req.method() == http::verb::get) {
        if (path == "/" || path == "/index.html") {
            auto res = reply(req, http::status::ok, "text/html; charset=utf-8",
                             std::string(web::page_html));
            res.set("Content-Security-Policy",
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                    "data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                    "frame-ancestors 'none'");
            res.set("X-Frame-Options", "DENY");  // no other page may frame it (clickjacking)
            return res;
        }
        if (path == "/app.js") {
            return reply(req, http::status::ok, "text/javascript; charset=utf-8",
                         std::string(web::page_script));
        }
        if (path == "/app.css") {
            return reply(req, http::status::ok, "text/css; charset=utf-8",
                         std::string(web::page_style));
        }
        if (path == "/api/state") {
            return state(req);
        }
        if (path.starts_with("/files/")) {
            return file(req, std::string(path));
        }
        return reply(req, http::status::not_found, "text/plain", "not found\n");
    }
    if (req.method() == http::verb::post && path.starts_with("/api/")) {
        return act(req, path);
    }
    return reply(req, http::status::method_not_allowed, "text/plain", "method not allowed\n");
}

// A file relbot shared, from the sandbox: a PNG shown inline, anything else as a download.
response web_sandbox::impl::file(const request& req, const std::string& path) {
    auto rest = path.substr(std::string("/files/").size());
    auto id = rest.substr(0, rest.find('/'));
    auto f = srv->file(id);
    if (!f) {
        return reply(req, http::status::not_found, "text/plain", "no such file\n");
    }
    bool png = f->mimetype == "image/png";
    auto type = f->mimetype == "text/markdown" ? "text/markdown; charset=utf-8" : f->mimetype;
    auto res = reply(req, http::status::ok, type, std::move(f->bytes));
    res.set("X-Content-Type-Options", "nosniff");
    if (!png) {
        res.set(http::field::content_disposition, "attachment");
    }
    return res;
}

response web_sandbox::impl::state(const request& req) {
    auto user = query_value(req.target(), "user");
    if (person_by_id(user) == nullptr) {
        return json_reply(req, http::status::bad_request,
                          {{"error", "user must be one of the sandbox's cast"}});
    }
    auto surfaces = srv->surfaces_of(user, std::string(demo_channel_id));
    auto body = web::page_state(surfaces, user, std::string(demo_channel_id),
                                std::string(demo_channel_name), std::time(nullptr));
    body["version"] = version;
    body["connected"] = connected;
    body["cast"] = cast_json();
    return json_reply(req, http::status::ok, body);
}

// POST /api/command {user, text} · /api/click {user, in, ts, block_id, action_id,
// option_value} · /api/submit {user, values} · /api/close {user} · /api/home {user}
response web_sandbox::impl::act(const request& req, std::string_view path) {
    // A browser names the page a request comes from: only this page may act.
    auto origin = std::string(req[http::field::origin]);
    auto port = std::to_string(acceptor.local_endpoint().port());
    if (!origin.empty() && origin != "http://127.0.0.1:" + port &&
        origin != "http://localhost:" + port) {
        return json_reply(req, http::status::forbidden,
                          {{"error", "actions come only from the sandbox's own page"}});
    }
    if (!std::string_view(req[http::field::content_type]).starts_with("application/json")) {
        return json_reply(req, http::status::unsupported_media_type,
                          {{"error", "send JSON (Content-Type: application/json)"}});
    }
    auto in = json::parse(req.body(), nullptr, false);
    const person* who = in.is_object() ? person_by_id(in.value("user", "")) : nullptr;
    if (who == nullptr) {
        return json_reply(req, http::status::bad_request,
                          {{"error", "a JSON object with \"user\", one of the sandbox's cast"}});
    }
    std::string user(who->id);
    json op;
    if (path == "/api/command") {
        auto text = in.value("text", "");
        auto resolved = resolve_mentions(text);
        if (auto* e = std::get_if<typed_error>(&resolved)) {
            return json_reply(req, http::status::bad_request, {{"error", e->message}});
        }
        op = {{"op", "slash_command"},
              {"envelope_id", srv->new_envelope_id()},
              {"text", std::get<std::string>(resolved)},
              {"user_id", user},
              {"user_name", std::string(who->name)},
              {"channel_id", std::string(demo_channel_id)},
              {"channel_name", std::string(demo_channel_name)}};
    } else if (path == "/api/click") {
        op = {{"op", "click"},
              {"user_id", user},
              {"in", in.value("in", "")},
              {"ts", in.value("ts", "")},
              {"block_id", in.value("block_id", "")},
              {"action_id", in.value("action_id", "")},
              {"option_value", in.value("option_value", "")}};
    } else if (path == "/api/submit") {
        op = {{"op", "submit"}, {"user_id", user}, {"values", in.value("values", json::object())}};
    } else if (path == "/api/close") {
        op = {{"op", "close_view"}, {"user_id", user}};
    } else if (path == "/api/home") {
        op = {{"op", "home_opened"}, {"user_id", user}};
    } else {
        return json_reply(req, http::status::not_found, {{"error", "no such action"}});
    }
    if (auto error = control(op); !error.empty()) {
        return json_reply(req, http::status::conflict, {{"error", error}});
    }
    return json_reply(req, http::status::ok, {{"ok", true}});
}

// Server-sent events: the state's version, again whenever it changes (and a comment every
// 15 s so that proxies and the browser keep the stream open).
net::awaitable<void> web_sandbox::impl::events(std::shared_ptr<impl> self,
                                               beast::tcp_stream& stream,
                                               const request& req) {
    http::response<http::empty_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    http::response_serializer<http::empty_body> head{res};
    stream.expires_never();
    auto [hec, hn] = co_await http::async_write_header(stream, head, nothrow);
    if (hec) {
        co_return;
    }
    auto bell = std::make_shared<net::steady_timer>(self->ioc);
    self->waiters.push_back(bell);
    long sent = 0;
    for (;;) {
        long now = self->version;
        std::string text = now != sent ? "retry: 1000\ndata: " + std::to_string(now) + "\n\n"
                                       : std::string(": still here\n\n");
        auto [ec, n] = co_await net::async_write(stream, net::buffer(text), nothrow);
        if (ec) {
            co_return;
        }
        sent = now;
        if (self->version != sent) {
            continue;
        }
        bell->expires_after(15s);
        auto [wec] = co_await bell->async_wait(nothrow);
        (void)wec;  // cancelled: something changed
    }
}

net::awaitable<void> web_sandbox::impl::serve(std::shared_ptr<impl> self, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    ++self->open_connections;
    struct leave {
        impl* s;
        ~leave() { --s->open_connections; }
    } on_exit{self.get()};
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(16 * 1024);
        parser.body_limit(max_body);
        stream.expires_after(60s);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec) {
            co_return;
        }
        auto req = parser.release();
        if (req.method() == http::verb::get && path_of(req.target()) == "/api/events" &&
            trusted(req, self->acceptor.local_endpoint().port())) {
            co_await events(self, stream, req);
            co_return;
        }
        response res;
        try {
            res = self->handle(req);
        } catch (const std::exception& e) {
            // JSON of the wrong shape (a number where text belongs): said, and nothing done.
            res = json_reply(
                req, http::status::bad_request,
                {{"error", std::string("the sandbox could not read that: ") + e.what()}});
        }
        auto [wec, wn] = co_await http::async_write(stream, res, nothrow);
        if (wec || !res.keep_alive()) {
            co_return;
        }
    }
}

net::awaitable<void> web_sandbox::impl::accept_loop(std::shared_ptr<impl> self) {
    for (;;) {
        auto [ec, socket] = co_await self->acceptor.async_accept(nothrow);
        if (ec == net::error::operation_aborted) {
            co_return;
        }
        if (ec) {
            // Out of descriptors, say: try again a little later rather than spin.
            net::steady_timer pause(self->ioc, 100ms);
            co_await pause.async_wait(nothrow);
            continue;
        }
        if (self->open_connections >= max_connections) {
            continue;  // too many at once: that one is closed
        }
        net::co_spawn(self->ioc, serve(self, std::move(socket)), net::detached);
    }
}

void web_sandbox::impl::stop_bot() {
    if (!stop_sent && child > 0) {
        stop_sent = true;
        kill(child, SIGTERM);
    }
}

void web_sandbox::impl::watch_child() {
    child_exit.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int) {
        if (ec) {
            return;
        }
        int status = 0;
        if (waitpid(self->child, &status, WNOHANG) != self->child) {
            self->watch_child();
            return;
        }
        if (!(self->stop_sent && WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            auto said = last_line(self->opt.launch.log);
            std::cerr << "relbot-sim: relbot " << exit_words(status)
                      << (said.empty() ? "" : ": " + said) << " (log: " << self->opt.launch.log
                      << ")" << std::endl;
            self->exit_status = 1;
        } else {
            std::cerr << "relbot-sim: relbot stopped cleanly." << std::endl;
        }
        self->ioc.stop();
    });
}

web_sandbox::web_sandbox(net::io_context& ioc, web_options options)
    : impl_(std::make_shared<impl>(ioc, std::move(options))) {}

web_sandbox::~web_sandbox() = default;

void web_sandbox::on_event(const json& e) {
    auto type = e.value("event", "");
    if (type == "error" && impl_->capture != nullptr) {
        *impl_->capture = e.value("error", "the sandbox could not do that");
    }
    if (type == "hello_sent") {
        impl_->connected = true;
    }
    impl_->changed();
}

int web_sandbox::run(server& srv) {
    auto& s = *impl_;
    s.srv = &srv;
    tcp::endpoint at(net::ip::make_address("127.0.0.1"), s.opt.port);
    s.acceptor.open(at.protocol());
    s.acceptor.set_option(tcp::acceptor::reuse_address(true));
    s.acceptor.bind(at);
    s.acceptor.listen();
    auto url = "http://127.0.0.1:" + std::to_string(s.acceptor.local_endpoint().port()) + "/";
    std::cout << url << std::endl;
    std::cerr << "relbot sandbox: open " << url
              << " in a browser (Ctrl-C stops it). relbot's log: " << s.opt.launch.log
              << " · database: " << s.opt.launch.db << std::endl;
    s.child = spawn_bot(s.opt.launch, srv.api_url(), free_port(s.ioc));
    s.watch_child();
    s.wait_interrupt();
    net::co_spawn(s.ioc, impl::accept_loop(impl_), net::detached);
    s.ioc.run();
    return s.exit_status;
}

}  // namespace relbot::sim
