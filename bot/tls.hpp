// TLS policy, the same in production and tests: the peer's certificate is always verified
// against the system store (or SSL_CERT_FILE / SSL_CERT_DIR) and its host name always
// checked. There is deliberately no way to turn either off.
#pragma once

#include <string>

#include "bot/net.hpp"
#include "bot/net_result.hpp"

namespace relbot::bot {

// A TLS 1.2+ client context that verifies peers. Throws if the trust store cannot be loaded.
ssl::context make_tls_context();

// Sets SNI and the expected host name on one connection before its handshake; the failure
// (OpenSSL refused) says which of the two.
net_result<void> prepare_tls_stream(SSL* ssl, const std::string& host);

// Why a handshake failed, in words an operator can act on: "certificate verify failed:
// certificate has expired", "… Hostname mismatch", "… unable to get local issuer certificate".
std::string describe_tls_failure(SSL* ssl, const error_code& ec);

}  // namespace relbot::bot
