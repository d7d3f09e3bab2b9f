#include "bot/health.hpp"

#include <exception>
#include <nlohmann/json.hpp>
#include <optional>

#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "slack/json_write.hpp"

namespace relbot::bot {

std::string health_json(const health_report& r) {
    nlohmann::json j = {{"status", r.healthy ? "ok" : "unhealthy"},
                        {"connections", r.connections},
                        {"db", r.db_ok     ? std::string("ok")
                               : r.db_busy ? "busy: " + r.db_error
                                           : "error: " + r.db_error},
                        {"outbox_pending", r.outbox_pending},
                        {"last_hello", r.last_hello.empty() ? nlohmann::json(nullptr)
                                                            : nlohmann::json(r.last_hello)}};
    if (!r.database.empty()) {
        nlohmann::json d = {{"engine", r.engine}, {"name", r.database}, {"instance", r.instance}};
        if (r.clock_offset_ms) {
            d["clock_offset_ms"] = *r.clock_offset_ms;
        }
        j["database"] = std::move(d);
    }
    if (!r.healthy) {
        j["reason"] = r.reason;
    }
    return slack::json_text_of(j);
}

namespace {

// The answer to a request that was read whole: /healthz, /metrics, 404, 405.
http::response<http::string_body> answer(const http::request<http::empty_body>& req,
                                         health_source& source) {
    http::response<http::string_body> res;
    res.version(req.version());
    auto target = std::string_view(req.target());
    target = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET, HEAD");
        res.set(http::field::content_type, "text/plain");
        res.body() = "only GET\n";
    } else if (target == "/healthz") {
        auto report = source.health();
        res.result(report.healthy ? http::status::ok : http::status::service_unavailable);
        res.set(http::field::content_type, "application/json");
        res.set(http::field::cache_control, "no-store");
        res.body() = health_json(report) + "\n";
    } else if (target == "/metrics") {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.set(http::field::cache_control, "no-store");
        res.body() = source.metrics_page();
    } else {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "not found; try /healthz or /metrics\n";
    }
    if (req.method() == http::verb::head) {
        auto length = res.body().size();
        res.body().clear();
        res.content_length(length);
    }
    return res;
}

}  // namespace

void configure(health_request_parser& parser, const health_limits& limits) {
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(0);
}

std::optional<http::response<http::string_body>> respond(error_code read,
                                                         const health_request_parser& parser,
                                                         health_source& source) {
    http::response<http::string_body> res;
    if (read) {
        if (read != http::error::header_limit && read != http::error::body_limit &&
            read != http::error::bad_target && read != http::error::bad_method) {
            return std::nullopt;
        }
        res.result(read == http::error::header_limit ? http::status::request_header_fields_too_large
                                                     : http::status::bad_request);
        res.set(http::field::content_type, "text/plain");
        res.body() = read.message() + "\n";
        if (read == http::error::header_limit || read == http::error::body_limit) {
            process_metrics().limits_hit.add(
                {read == http::error::header_limit ? "health_header_bytes" : "health_body"});
        }
    } else {
        try {
            res = answer(parser.get(), source);
        } catch (const std::exception& e) {
            log_error("health.failed").kv("error", e.what());
            res = {};
            res.result(http::status::internal_server_error);
            res.set(http::field::content_type, "text/plain");
            res.body() = "internal error\n";
        }
    }
    res.keep_alive(false);
    res.set(http::field::server, "relbot");
    res.prepare_payload();
    return res;
}

std::optional<http::response<http::string_body>> respond_to_bytes(std::string_view bytes,
                                                                  const health_limits& limits,
                                                                  health_source& source) {
    health_request_parser parser;
    configure(parser, limits);
    error_code ec;
    while (!ec && !parser.is_done()) {
        if (bytes.empty()) {
            return std::nullopt;  // the request is not whole: serve() would wait for more
        }
        auto used = parser.put(net::buffer(bytes.data(), bytes.size()), ec);
        if (ec == http::error::need_more) {
            // Every byte left was given: the request is not whole, and serve() would wait for
            // more. (Beast expects the next put to bring more than the last one, never fewer.)
            return std::nullopt;
        }
        bytes.remove_prefix(used);
    }
    return respond(ec, parser, source);
}

namespace {

struct health_context {
    health_source& source;
    health_limits limits;
};

// One request per connection, then close: simple, and all a scraper needs. Never throws: an
// exception here would end the bot's event loop.
net::awaitable<void> serve_health(std::shared_ptr<health_context> c, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(c->limits.request_timeout);
    beast::flat_buffer buffer(c->limits.max_header_bytes + 1024);
    health_request_parser parser;
    configure(parser, c->limits);
    auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_nothrow_awaitable);
    auto res = respond(rec, parser, c->source);
    if (!res) {
        co_return;  // timed out or went away: nothing to answer
    }
    auto [wec, wn] = co_await http::async_write(stream, *res, use_nothrow_awaitable);
    (void)wec;  // the client may be gone; the connection ends here either way
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

health_server::health_server(const net::any_io_executor& ioc,
                             const std::string& host,
                             unsigned short port,
                             health_source& source,
                             health_limits limits) {
    auto c = std::make_shared<health_context>(health_context{source, limits});
    listener_ = std::make_unique<http_listener>(
        ioc, host, port, "RELBOT_HEALTH_ADDR", limits.max_connections, "health_connections",
        "health", [c](tcp::socket socket) { return serve_health(c, std::move(socket)); });
}

health_server::~health_server() = default;

void health_server::start() {
    listener_->start();
}

void health_server::stop() {
    listener_->stop();
}

unsigned short health_server::port() const {
    return listener_->port();
}

}  // namespace relbot::bot
