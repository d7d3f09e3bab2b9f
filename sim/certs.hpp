// Test PKI for the sandbox: a throwaway CA and a server certificate it signs, made fresh at
// every start so that no private key is ever committed.
#pragma once

#include <string>

namespace relbot::sim {

struct cert_options {
    std::string dns_name = "localhost";  // the server certificate's SAN
    long valid_from_s = -3600;           // relative to now
    long valid_until_s = 30L * 86400;    // relative to now; negative gives an expired cert
};

struct test_pki {
    std::string ca_cert_pem;      // what a client trusts (SSL_CERT_FILE)
    std::string server_cert_pem;  // leaf first, then the CA
    std::string server_key_pem;
};

// Generates an EC P-256 CA and a server certificate. Throws std::runtime_error on failure.
test_pki make_test_pki(const cert_options& options);

}  // namespace relbot::sim
