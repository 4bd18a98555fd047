#pragma once
// Small cryptographic helpers on OpenSSL and libsodium.
#include <optional>
#include <string>
#include <string_view>

namespace portico::crypto {

// Cryptographically secure random bytes.
std::string random_bytes(std::size_t count);
// A URL-safe random token carrying `bytes` bytes of entropy (base64url, no padding).
std::string random_token(std::size_t bytes = 32);
// A random RFC 4122 version-4 UUID in its lowercase text form.
std::string uuid_v4();

std::string base64url_encode(std::string_view data);                 // no padding
std::optional<std::string> base64url_decode(std::string_view text);  // padding tolerated
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

std::string sha256(std::string_view data);      // 32 raw bytes
std::string sha256_hex(std::string_view data);  // 64 lowercase hex digits

// HMAC-SHA-256 of `data` under `key`: 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Compares in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// argon2id (libsodium, interactive limits) in its encoded "$argon2id$..." form.
std::string hash_secret(std::string_view secret);
bool verify_secret(std::string_view encoded_hash, std::string_view secret);

}  // namespace portico::crypto
