// bot/tls: preparing a stream reports OpenSSL's refusal as a net_failure, not an exception.
#include "bot/tls.hpp"

#include <openssl/ssl.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

namespace unit_tls_test {

namespace {

struct ssl_handle {
    explicit ssl_handle(relbot::bot::ssl::context& ctx) : ssl(SSL_new(ctx.native_handle())) {}
    ~ssl_handle() { SSL_free(ssl); }
    ssl_handle(const ssl_handle&) = delete;
    ssl_handle& operator=(const ssl_handle&) = delete;
    SSL* ssl;
};

}  // namespace

TEST_CASE("a stream is prepared for a host name, and a name OpenSSL refuses is a net_failure",
          "[unit]") {
    relbot::bot::ssl::context ctx{relbot::bot::ssl::context::tlsv12_client};
    SECTION("an ordinary host name") {
        ssl_handle h(ctx);
        auto prepared = relbot::bot::prepare_tls_stream(h.ssl, "slack.com");
        CHECK(prepared.has_value());
    }
    SECTION("a name longer than SNI allows (255 bytes)") {
        ssl_handle h(ctx);
        auto prepared = relbot::bot::prepare_tls_stream(h.ssl, std::string(300, 'a') + ".com");
        REQUIRE_FALSE(prepared.has_value());
        CHECK(prepared.error().ec);
        CHECK(prepared.error().message.starts_with("SNI: "));
    }
}

}  // namespace unit_tls_test
