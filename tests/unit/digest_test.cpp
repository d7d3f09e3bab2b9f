// Digests (bot/digest.hpp) against published test vectors.
#include "bot/digest.hpp"

#include <catch2/catch.hpp>
#include <string>

using relbot::bot::sha256_hex;

TEST_CASE("sha256_hex gives the published SHA-256 of known inputs", "[digest]") {
    // FIPS 180-2, appendix B.1 and the empty message.
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // Bytes, not C strings: a NUL inside counts.
    CHECK(sha256_hex(std::string("a\0b", 3)) != sha256_hex("a"));
}
