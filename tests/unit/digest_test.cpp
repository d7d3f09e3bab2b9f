// Digests (bot/digest.hpp) against published test vectors.
#include "bot/digest.hpp"

#include <catch2/catch.hpp>
#include <string>

namespace unit_digest_test {

using relbot::bot::sha256_hex;

TEST_CASE("sha256_hex gives the published SHA-256 of known inputs", "[digest]") {
    // FIPS 180-2, appendix B.1 and the empty message.
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // Bytes, not C strings: a NUL inside counts.
    CHECK(sha256_hex(std::string("a\0b", 3)) != sha256_hex("a"));
}

TEST_CASE("hmac_sha256_hex gives RFC 4231's answers, and same_bytes compares whole strings",
          "[digest]") {
    using relbot::bot::hmac_sha256_hex;
    using relbot::bot::same_bytes;
    // RFC 4231, test case 2.
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(same_bytes("v1=abc", "v1=abc"));
    CHECK_FALSE(same_bytes("v1=abc", "v1=abd"));
    CHECK_FALSE(same_bytes("v1=abc", "v1=ab"));
    CHECK_FALSE(same_bytes("", "x"));
}

}  // namespace unit_digest_test
