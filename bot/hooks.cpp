#include "bot/hooks.hpp"

#include <boost/asio/detached.hpp>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>

#include "bot/log.hpp"
#include "bot/metrics.hpp"

namespace relbot::bot {

namespace {

hook_answer refuse(unsigned status, std::string_view reason, std::string_view message) {
    process_metrics().signal_refusals.add({std::string(reason)});
    return {status, signal_error_json(message)};
}

}  // namespace

hook_answer answer_hook(std::string_view method,
                        std::string_view target,
                        std::string_view timestamp,
                        std::string_view signature,
                        std::string_view body,
                        bool too_large,
                        std::string_view secret,
                        std::int64_t now_s,
                        signal_sink& sink) {
    if (too_large) {
        return refuse(413, "size",
                      "the body is larger than 65536 bytes; send one signal per request");
    }
    if (target.substr(0, target.find('?')) != "/hooks/v1/signal") {
        return refuse(404, "path", "not found; signals go to POST /hooks/v1/signal");
    }
    if (method != "POST") {
        return refuse(405, "method", "only POST");
    }
    if (auto why = signature_problem(secret, timestamp, signature, body, now_s)) {
        return refuse(401, why->age ? "age" : "signature", why->message);
    }
    // A repeated id gets the first answer, whatever its body (contract): looked for before the
    // body is judged.
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (auto id = signal_id_of(j); !id.id.empty()) {
        auto action = j.value("action", nlohmann::json());
        if (auto first = sink.answered_before(
                id.id, action.is_string() ? action.get<std::string>() : std::string())) {
            return *first;
        }
    }
    auto read = read_signal_json(j);
    if (const auto* bad = std::get_if<std::string>(&read)) {
        return refuse(400, "body", *bad);
    }
    return sink.apply(std::get<signal_request>(read));
}

hook_answer send_signal(const std::string& host,
                        unsigned short port,
                        std::string_view secret,
                        const std::string& body,
                        std::int64_t now_s,
                        std::chrono::milliseconds within) {
    // The address to connect to (a wildcard listen address means this host), without the
    // brackets an IPv6 literal is written with; the Host header puts them back, with the port.
    auto target = host;
    if (target.size() > 2 && target.front() == '[' && target.back() == ']') {
        target = target.substr(1, target.size() - 2);
    }
    target = target.empty() || target == "0.0.0.0" ? std::string("127.0.0.1")
             : target == "::"                      ? std::string("::1")
                                                   : target;
    auto host_header = (target.find(':') != std::string::npos ? "[" + target + "]" : target) + ":" +
                       std::to_string(port);
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    http::request<http::string_body> req{http::verb::post, "/hooks/v1/signal", 11};
    auto at = std::to_string(now_s);
    req.set(http::field::host, host_header);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "relbot-signal");
    req.set("X-Relbot-Timestamp", at);
    req.set("X-Relbot-Signature", signal_signature(secret, at, body));
    req.body() = body;
    req.prepare_payload();
    std::optional<hook_answer> answer;
    std::string failed;
    net::co_spawn(
        ioc,
        [&]() -> net::awaitable<void> {
            tcp::resolver resolver(ioc);
            auto [rec, found] = co_await resolver.async_resolve(target, std::to_string(port),
                                                                use_nothrow_awaitable);
            if (rec) {
                failed = "cannot resolve " + target + ": " + rec.message();
                co_return;
            }
            stream.expires_after(within);
            auto [cec, ep] = co_await stream.async_connect(found, use_nothrow_awaitable);
            if (cec) {
                failed = "cannot connect to " + target + ":" + std::to_string(port) + ": " +
                         cec.message() + " (is relbot running with RELBOT_HOOKS_ADDR?)";
                co_return;
            }
            auto [wec, wn] = co_await http::async_write(stream, req, use_nothrow_awaitable);
            beast::flat_buffer buffer;
            http::response<http::string_body> res;
            auto [rec2, rn] = co_await http::async_read(stream, buffer, res, use_nothrow_awaitable);
            if (rec2) {
                failed = "no answer from " + target + ":" + std::to_string(port) + ": " +
                         (wec ? wec.message() : rec2.message());
                co_return;
            }
            answer = hook_answer{res.result_int(), res.body()};
        },
        net::detached);
    ioc.run();
    if (!answer) {
        throw std::runtime_error(failed.empty() ? "no answer" : failed);
    }
    return *answer;
}

namespace {

struct hooks_context {
    std::string secret;
    signal_sink& sink;
    hooks_limits limits;
};

// One request per connection, then close. Never throws.
net::awaitable<void> serve_hook(std::shared_ptr<hooks_context> c, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(c->limits.request_timeout);
    beast::flat_buffer buffer(c->limits.max_header_bytes + 1024);
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(c->limits.max_header_bytes));
    parser.body_limit(c->limits.max_body_bytes);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_nothrow_awaitable);
    bool too_large = rec == http::error::body_limit;
    if (rec && !too_large) {
        if (rec == http::error::header_limit) {
            process_metrics().limits_hit.add({"hooks_header"});
        }
        co_return;  // timed out, went away, or not HTTP: nothing to answer
    }
    const auto& req = parser.get();
    hook_answer a;
    try {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        auto header = [&](const char* name) {
            return too_large ? std::string_view() : std::string_view(req[name]);
        };
        a = answer_hook(std::string_view(req.method_string()), std::string_view(req.target()),
                        header("X-Relbot-Timestamp"), header("X-Relbot-Signature"),
                        too_large ? std::string_view() : std::string_view(req.body()), too_large,
                        c->secret, now, c->sink);
    } catch (const std::exception& e) {
        log_error("signal.failed").kv("error", e.what());
        a = {500, signal_error_json("relbot could not apply the signal; nothing was changed, "
                                    "send it again")};
    }
    http::response<http::string_body> res;
    res.version(11);
    res.result(static_cast<http::status>(a.status));
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::connection, "close");
    res.body() = a.body + "\n";
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow_awaitable);
    (void)wec;
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

hooks_server::hooks_server(const net::any_io_executor& ioc,
                           const std::string& host,
                           unsigned short port,
                           std::string secret,
                           signal_sink& sink,
                           hooks_limits limits) {
    auto c = std::make_shared<hooks_context>(hooks_context{std::move(secret), sink, limits});
    listener_ = std::make_unique<http_listener>(
        ioc, host, port, "RELBOT_HOOKS_ADDR", limits.max_connections, "hooks_connections", "hooks",
        [c](tcp::socket socket) { return serve_hook(c, std::move(socket)); });
}

hooks_server::~hooks_server() = default;

void hooks_server::start() {
    listener_->start();
}

void hooks_server::stop() {
    listener_->stop();
}

unsigned short hooks_server::port() const {
    return listener_->port();
}

}  // namespace relbot::bot
