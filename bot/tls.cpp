// OpenSSL settings for every outgoing connection.
#include "bot/tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace relbot::bot {

ssl::context make_tls_context() {
    ssl::context ctx{ssl::context::tls_client};
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_verify_mode(ssl::verify_peer);
    // Honours OpenSSL's standard SSL_CERT_FILE / SSL_CERT_DIR overrides; the e2e tests point
    // SSL_CERT_FILE at the sandbox's CA instead of disabling anything.
    ctx.set_default_verify_paths();
    return ctx;
}

namespace {

// OpenSSL's last error, with the step it stopped, as system_error would word it.
net_failure openssl_failure(const char* what) {
    error_code ec(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
    return net_failure{ec, std::string(what) + ": " + ec.message()};
}

}  // namespace

net_result<void> prepare_tls_stream(SSL* ssl, const std::string& host) {
    // SNI: the server picks its certificate by this name.
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
        return openssl_failure("SNI");
    }
    // Host name check by OpenSSL itself (rather than a verify callback), so that a mismatch
    // is reported as X509_V_ERR_HOSTNAME_MISMATCH by SSL_get_verify_result.
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set1_host(ssl, host.c_str()) != 1) {
        return openssl_failure("host name check");
    }
    return {};
}

std::string describe_tls_failure(SSL* ssl, const error_code& ec) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
        std::string reason = X509_verify_cert_error_string(verify);
        std::string kind = "untrusted certificate";
        if (verify == X509_V_ERR_HOSTNAME_MISMATCH) {
            kind = "certificate is for another host name";
        } else if (verify == X509_V_ERR_CERT_HAS_EXPIRED) {
            kind = "certificate has expired";
        } else if (verify == X509_V_ERR_CERT_NOT_YET_VALID) {
            kind = "certificate is not yet valid";
        }
        return kind + " (" + reason + ")";
    }
    return ec.message();
}

}  // namespace relbot::bot
