// Digests with OpenSSL: a SHA-256 of some bytes, and an HMAC-SHA256, as lowercase hex; and a
// comparison that takes as long whatever the bytes. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

namespace relbot::bot {

// The SHA-256 of `bytes`, 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

// The HMAC-SHA256 of `message` keyed with `key`, 64 lowercase hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// Whether `a` and `b` are the same bytes, in a time that depends on their lengths only (a
// signature is compared so: how long it took tells an attacker nothing of how much matched).
bool same_bytes(std::string_view a, std::string_view b);

}  // namespace relbot::bot
