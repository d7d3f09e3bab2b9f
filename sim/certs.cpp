// Certificate generation with OpenSSL 3's EVP and X509 APIs.
#include "sim/certs.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace relbot::sim {
namespace {

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
    void operator()(X509* p) const { X509_free(p); }
};
struct bio_free {
    void operator()(BIO* p) const { BIO_free(p); }
};
struct ext_free {
    void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;

void check(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(std::string("test PKI: ") + what + " failed");
    }
}

pkey_ptr make_key() {
    pkey_ptr key(EVP_EC_gen("P-256"));
    check(key != nullptr, "EC key generation");
    return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, ext_free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    check(ext != nullptr, "certificate extension");
    check(X509_add_ext(cert, ext.get(), -1) == 1, "adding an extension");
}

x509_ptr make_cert(
    EVP_PKEY* key, const char* common_name, X509* issuer, long from_s, long until_s) {
    x509_ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    check(RAND_bytes(serial, sizeof serial) == 1, "serial");
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_s);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), until_s);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("relbot-sim"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
    X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
    if (issuer == nullptr) {
        add_ext(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
        add_ext(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
    } else {
        add_ext(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(cert.get(), issuer_cert, NID_key_usage, "critical,digitalSignature");
        add_ext(cert.get(), issuer_cert, NID_ext_key_usage, "serverAuth");
        add_ext(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid");
    }
    return cert;
}

std::string bio_string(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string cert_pem(X509* cert) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new(BIO_s_mem()));
    check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM certificate");
    return bio_string(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, bio_free> bio(BIO_new(BIO_s_mem()));
    check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM key");
    return bio_string(bio.get());
}

}  // namespace

test_pki make_test_pki(const cert_options& options) {
    auto ca_key = make_key();
    auto ca = make_cert(ca_key.get(), "relbot-sim test CA", nullptr, -86400, 365L * 86400);
    check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "signing the CA");

    auto key = make_key();
    auto leaf = make_cert(key.get(), options.dns_name.c_str(), ca.get(), options.valid_from_s,
                          options.valid_until_s);
    auto san = "DNS:" + options.dns_name;
    add_ext(leaf.get(), ca.get(), NID_subject_alt_name, san.c_str());
    check(X509_sign(leaf.get(), ca_key.get(), EVP_sha256()) > 0, "signing the server certificate");

    test_pki pki;
    pki.ca_cert_pem = cert_pem(ca.get());
    pki.server_cert_pem = cert_pem(leaf.get()) + pki.ca_cert_pem;
    pki.server_key_pem = key_pem(key.get());
    return pki;
}

}  // namespace relbot::sim
