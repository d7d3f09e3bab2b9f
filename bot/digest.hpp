// Digests with OpenSSL: a SHA-256 of some bytes as lowercase hex. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

namespace relbot::bot {

// The SHA-256 of `bytes`, 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace relbot::bot
