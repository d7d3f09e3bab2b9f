// Signals from CI (bot/signal.hpp): which requests are believed, and which bodies are read.
#include "bot/signal.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bot/hooks.hpp"

namespace unit_signal_test {

using namespace relbot::bot;

namespace {

const std::string secret = "a-shared-secret-of-at-least-32-bytes!";
const std::string body =
    R"({"channel":"C0REL","item":"ci-cd-status","action":"check","url":"https://ci.example.com/b/812","source":"github-actions","id":"run-812"})";
constexpr std::int64_t now = 1'795'669'235;

std::string ts(std::int64_t at) {
    return std::to_string(at);
}

signal_request read_ok(const std::string& b) {
    auto r = read_signal(b);
    INFO(b);
    REQUIRE(std::holds_alternative<signal_request>(r));
    return std::get<signal_request>(r);
}

std::string read_bad(const std::string& b) {
    auto r = read_signal(b);
    INFO(b);
    REQUIRE(std::holds_alternative<std::string>(r));
    return std::get<std::string>(r);
}

}  // namespace

TEST_CASE("a signal signed with the secret within five minutes is believed", "[signal]") {
    auto sig = signal_signature(secret, ts(now), body);
    CHECK(sig.starts_with("v1="));
    CHECK(sig.size() == 3 + 64);
    CHECK_FALSE(signature_problem(secret, ts(now), sig, body, now));
    // The window, both ways, to the second.
    CHECK_FALSE(signature_problem(secret, ts(now - 300),
                                  signal_signature(secret, ts(now - 300), body), body, now));
    CHECK_FALSE(signature_problem(secret, ts(now + 300),
                                  signal_signature(secret, ts(now + 300), body), body, now));
}

TEST_CASE(
    "a signal is refused for a wrong secret, an altered body, an old or future time, or a "
    "missing header",
    "[signal]") {
    auto sig = signal_signature(secret, ts(now), body);
    SECTION("wrong secret") {
        auto forged = signal_signature("another-secret-of-at-least-32-bytes!!", ts(now), body);
        auto why = signature_problem(secret, ts(now), forged, body, now);
        REQUIRE(why);
        CHECK_FALSE(why->age);
        CHECK_THAT(why->message, Catch::Contains("signature does not match"));
    }
    SECTION("altered body") {
        auto altered = body;
        altered.replace(altered.find("check"), 5, "block");
        CHECK(signature_problem(secret, ts(now), sig, altered, now));
        CHECK(signature_problem(secret, ts(now), sig, body + " ", now));
    }
    SECTION("the timestamp is part of what is signed") {
        CHECK(signature_problem(secret, ts(now + 1), sig, body, now));
    }
    SECTION("too old, or ahead") {
        for (auto at : {now - 301, now + 301, now - 86'400}) {
            auto why = signature_problem(secret, ts(at), signal_signature(secret, ts(at), body),
                                         body, now);
            REQUIRE(why);
            CHECK(why->age);
            CHECK_THAT(why->message, Catch::Contains("5 minutes"));
        }
    }
    SECTION("missing or malformed headers") {
        CHECK_THAT(signature_problem(secret, "", sig, body, now)->message,
                   Catch::Contains("required"));
        CHECK_THAT(signature_problem(secret, ts(now), "", body, now)->message,
                   Catch::Contains("required"));
        CHECK_THAT(signature_problem(secret, "17956692xx", sig, body, now)->message,
                   Catch::Contains("Unix seconds"));
        CHECK(signature_problem(secret, ts(now), sig.substr(3), body, now));  // without "v1="
        CHECK(signature_problem(secret, ts(now), "v0" + sig.substr(2), body, now));
    }
}

TEST_CASE("a signal's body is read field by field", "[signal]") {
    auto r = read_ok(body);
    CHECK(r.channel == "C0REL");
    CHECK(r.item == "ci-cd-status");
    CHECK(r.action == signal_action::check);
    CHECK(r.url == "https://ci.example.com/b/812");
    CHECK(r.source == "github-actions");
    CHECK(r.id == "run-812");
    CHECK(r.release.empty());

    // Defaults: the source is "ci"; deployed ignores the item.
    auto d = read_ok(R"({"channel":"C1","action":"deployed","item":"x","id":"d1"})");
    CHECK(d.action == signal_action::deployed);
    CHECK(d.item.empty());
    CHECK(d.source == "ci");
    CHECK(read_ok(R"({"channel":"C1","action":"note","item":"2.4","text":"green","id":"n",)"
                  R"("release":"v2.0"})")
              .release == "v2.0");
}

TEST_CASE("a bad signal body is answered with what to send instead", "[signal]") {
    CHECK_THAT(read_bad("not json"), Catch::Contains("JSON object"));
    CHECK_THAT(read_bad("[1,2]"), Catch::Contains("JSON object"));
    CHECK_THAT(read_bad(R"({"item":"1.1","action":"check","id":"x"})"),
               Catch::Contains("\"channel\" is required"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"next","id":"x"})"),
               Catch::Contains("one of check, note, block, unblock, deployed"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"finish","id":"x"})"),
               Catch::Contains("one of"));
    CHECK_THAT(read_bad(R"({"channel":"C1","action":"check","id":"x"})"),
               Catch::Contains("\"item\" is required"));
    // An id is optional (a signal without one is applied as sent), but not an empty one.
    CHECK(std::holds_alternative<signal_request>(
        read_signal(R"({"channel":"C1","item":"1.1","action":"check"})")));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":""})"),
               Catch::Contains("\"id\" must not be empty"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"note","text":"a\nb"})"),
               Catch::Contains("must be one line"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":7})"),
               Catch::Contains("\"id\" must be a string"));
    CHECK_THAT(read_bad(R"({"channel":"U123","item":"1.1","action":"check","id":"x"})"),
               Catch::Contains("channel ID"));
    CHECK_THAT(
        read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":"x","url":"javascript:1"})"),
        Catch::Contains("\"url\""));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":"x",)"
                        R"("url":"https://a b"})"),
               Catch::Contains("\"url\""));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":"x",)"
                        R"("source":"<@U1>"})"),
               Catch::Contains("\"source\""));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"block","id":"x"})"),
               Catch::Contains("needs \"text\""));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"note","id":"x",)"
                        R"("text":"two\nlines"})"),
               Catch::Contains("one line"));
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"check","id":")" +
                        std::string(201, 'x') + "\"}"),
               Catch::Contains("longer than 200"));
    // Blank text is no text; the text is counted in characters; text and url must fit one
    // command's 3,000 characters.
    CHECK_THAT(read_bad(R"({"channel":"C1","item":"1.1","action":"note","id":"x","text":"   "})"),
               Catch::Contains("needs \"text\""));
    std::string rockets;
    for (int i = 0; i < 600; ++i) {
        rockets += "\xF0\x9F\x9A\x80";  // 600 characters, 2,400 bytes
    }
    auto with_text = [](const std::string& text, const std::string& url) {
        nlohmann::json j{
            {"channel", "C1"}, {"item", "1.1"}, {"action", "note"}, {"id", "x"}, {"text", text}};
        if (!url.empty()) {
            j["url"] = url;
        }
        return j.dump();
    };
    CHECK(std::holds_alternative<signal_request>(read_signal(with_text(rockets, ""))));
    // A command's free text is 3,000 characters (contract), and so is a signal's.
    CHECK(
        std::holds_alternative<signal_request>(read_signal(with_text(std::string(2500, 't'), ""))));
    CHECK_THAT(read_bad(with_text(std::string(3001, 't'), "")),
               Catch::Contains("longer than 3,000 characters"));
    CHECK_THAT(read_bad(with_text(std::string(2500, 't'), "https://ci/" + std::string(900, 'u'))),
               Catch::Contains("together are longer than 3,000 characters"));
}

namespace {

// Records which ids the endpoint asks about; answers a kept id ("seen") with its first answer.
struct recording_sink : signal_sink {
    std::vector<std::string> asked;
    int applied = 0;
    hook_answer apply(const signal_request&) override {
        ++applied;
        return {200, signal_ok_json("1.1", "done")};
    }
    std::optional<hook_answer> answered_before(const std::string& id, const std::string&) override {
        asked.push_back(id);
        if (id == "seen") {
            return hook_answer{404, signal_error_json("the first answer")};
        }
        return std::nullopt;
    }
};

hook_answer post(const std::string& b, signal_sink& sink) {
    return answer_hook("POST", "/hooks/v1/signal", ts(now), signal_signature(secret, ts(now), b), b,
                       false, secret, now, sink);
}

}  // namespace

TEST_CASE("a repeat is looked up only by an id the body could have been applied with", "[signal]") {
    // One set of rules (signal_id_of) for the lookup and for reading the body.
    CHECK(signal_id_of(nlohmann::json::parse(R"({"id":"run-1"})")).id == "run-1");
    CHECK(signal_id_of(nlohmann::json::parse(R"({"id":null})")).problem.empty());
    CHECK(signal_id_of(nlohmann::json::parse(R"([1])")).id.empty());
    CHECK(signal_id_of(nlohmann::json::parse(R"({"id":"a\tb"})")).problem ==
          "\"id\" must be one line");

    recording_sink sink;
    // A repeat gets its first answer whatever its body (here: no channel), and applies nothing.
    auto repeat = post(R"({"action":"check","item":"1.1","id":"seen"})", sink);
    CHECK(repeat.status == 404);
    CHECK_THAT(repeat.body, Catch::Contains("the first answer"));
    CHECK(sink.applied == 0);
    // An id no signal could have been applied with is refused, not looked up.
    for (const auto* b : {R"({"channel":"C1","action":"check","item":"1.1","id":"se\nen"})",
                          R"({"channel":"C1","action":"check","item":"1.1","id":""})",
                          R"({"channel":"C1","action":"check","item":"1.1","id":["seen"]})"}) {
        INFO(b);
        auto a = post(b, sink);
        CHECK(a.status == 400);
        CHECK_THAT(a.body, Catch::Contains(R"(\"id\")"));  // JSON-escaped
    }
    CHECK(sink.asked == std::vector<std::string>{"seen"});
    CHECK(sink.applied == 0);
    // A new id is looked up, then applied.
    CHECK(post(R"({"channel":"C1","action":"check","item":"1.1","id":"new"})", sink).status == 200);
    CHECK(sink.asked == std::vector<std::string>{"seen", "new"});
    CHECK(sink.applied == 1);
}

TEST_CASE("signal answers are JSON in the contract's shape", "[signal]") {
    CHECK(signal_ok_json("2.4", "done") == R"({"item":"2.4","ok":true,"state":"done"})");
    CHECK(signal_ok_json("", "") == R"({"ok":true})");
    CHECK(signal_error_json("unknown item \"x\"") ==
          R"({"error":"unknown item \"x\"","ok":false})");
}

namespace {

// One request read by a listener on the loopback (IPv4 or IPv6), answered 200 with a JSON
// body; its head is kept. Not a mock of relbot's server: what `relbot signal` writes on the
// wire, as any HTTP server or proxy in between reads it.
struct one_request_server {
    int fd = -1;
    unsigned short port = 0;
    std::string head;
    std::thread thread;

    explicit one_request_server(bool v6) {
        fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
        sockaddr_storage addr{};
        socklen_t len = 0;
        if (v6) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
            a->sin6_family = AF_INET6;
            a->sin6_addr = in6addr_loopback;
            len = sizeof *a;
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&addr);
            a->sin_family = AF_INET;
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            len = sizeof *a;
        }
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            ::listen(fd, 1) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len)) {
            if (fd >= 0) {
                ::close(fd);
            }
            fd = -1;
            return;
        }
        port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                        : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
        thread = std::thread([this] {
            int c = ::accept(fd, nullptr, nullptr);
            if (c < 0) {
                return;
            }
            std::string got;
            char buf[4096];
            while (got.find("\r\n\r\n") == std::string::npos) {
                auto n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) {
                    break;
                }
                got.append(buf, static_cast<std::size_t>(n));
            }
            head = got.substr(0, got.find("\r\n\r\n"));
            std::string answer =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                "11\r\nConnection: close\r\n\r\n{\"ok\":true}";
            ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
            ::close(c);
        });
    }
    ~one_request_server() {
        if (fd >= 0) {
            ::shutdown(fd, SHUT_RDWR);  // a request that never came: accept returns
        }
        if (thread.joinable()) {
            thread.join();
        }
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

}  // namespace

TEST_CASE("relbot signal names the host and port it posts to, an IPv6 literal in brackets",
          "[signal]") {
    struct the_case {
        bool v6;
        std::string listen;  // as RELBOT_HOOKS_ADDR's host part is read
        std::string host;    // the Host header expected, without the port
    };
    for (const auto& c : {the_case{false, "127.0.0.1", "127.0.0.1"},
                          the_case{false, "0.0.0.0", "127.0.0.1"}, the_case{true, "::1", "[::1]"},
                          the_case{true, "[::1]", "[::1]"}, the_case{true, "::", "[::1]"}}) {
        INFO(c.listen);
        one_request_server server(c.v6);
        if (server.fd < 0) {
            REQUIRE(c.v6);  // a machine without IPv6 on its loopback: the IPv4 cases still ran
            continue;
        }
        auto answer =
            send_signal(c.listen, server.port, secret, body, now, std::chrono::seconds(5));
        server.thread.join();
        CHECK(answer.status == 200);
        CHECK(server.head.find("\r\nHost: " + c.host + ":" + std::to_string(server.port) +
                               "\r\n") != std::string::npos);
    }
}

}  // namespace unit_signal_test
