#include "common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <stdexcept>

namespace portico::crypto {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::uint8_t kInvalid = 0xFF;

constexpr std::array<std::uint8_t, 256> make_decode_table(std::string_view alphabet) {
  std::array<std::uint8_t, 256> table{};
  table.fill(kInvalid);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return table;
}

constexpr auto kBase64Decode = make_decode_table(kBase64Alphabet);
constexpr auto kBase64UrlDecode = make_decode_table(kBase64UrlAlphabet);

std::string encode(std::string_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(data[i]));
  };
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  std::size_t rest = data.size() - i;
  if (rest == 1) {
    std::uint32_t n = byte(i) << 16;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    std::uint32_t n = byte(i) << 16 | byte(i + 1) << 8;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    if (pad) out += '=';
  }
  return out;
}

// Padding is optional, but when present it must complete the last quantum. Unused bits
// in the last character must be zero so that every byte string has exactly one
// accepted encoding (a token cannot be re-spelled without changing its text).
std::optional<std::string> decode(std::string_view text,
                                  const std::array<std::uint8_t, 256>& table) {
  std::size_t padding = 0;
  while (padding < 2 && !text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++padding;
  }
  if (padding > 0 && (text.size() + padding) % 4 != 0) return std::nullopt;
  if (text.size() % 4 == 1) return std::nullopt;

  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    std::uint8_t v = table[static_cast<unsigned char>(c)];
    if (v == kInvalid) return std::nullopt;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// libsodium must be initialised once before use; a function-local static makes the
// first call race-free.
void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

const EVP_MD* sha256_md() {
  // Fetched once: EVP_sha256() would make OpenSSL look the implementation up each call.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL has no SHA256");
  return md;
}

}  // namespace

std::string random_bytes(std::size_t count) {
  std::string out(count, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  while (count > 0) {
    int chunk = static_cast<int>(std::min<std::size_t>(count, INT_MAX));
    if (RAND_bytes(p, chunk) != 1) throw std::runtime_error("RAND_bytes failed");
    p += chunk;
    count -= static_cast<std::size_t>(chunk);
  }
  return out;
}

std::string random_token(std::size_t bytes) {
  return base64url_encode(random_bytes(bytes));
}

std::string uuid_v4() {
  std::string raw = random_bytes(16);
  raw[6] = static_cast<char>((raw[6] & 0x0F) | 0x40);  // version 4
  raw[8] = static_cast<char>((raw[8] & 0x3F) | 0x80);  // RFC 4122 variant
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    auto b = static_cast<unsigned char>(raw[i]);
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

std::string base64url_encode(std::string_view data) {
  return encode(data, kBase64UrlAlphabet, false);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, kBase64UrlDecode);
}

std::string base64_encode(std::string_view data) {
  return encode(data, kBase64Alphabet, true);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return decode(text, kBase64Decode);
}

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                 sha256_md(), nullptr) != 1 ||
      len != out.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string digest = sha256(data);
  std::string out;
  out.reserve(64);
  for (char c : digest) {
    auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (HMAC(sha256_md(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           reinterpret_cast<unsigned char*>(out.data()), &len) == nullptr ||
      len != out.size()) {
    throw std::runtime_error("HMAC-SHA-256 failed");
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hash_secret(std::string_view secret) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, secret.data(), secret.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id hashing failed (out of memory)");
  }
  return out;
}

bool verify_secret(std::string_view encoded_hash, std::string_view secret) {
  ensure_sodium();
  // Only what hash_secret produces: argon2id, bounded length (libsodium needs a C string).
  if (!encoded_hash.starts_with("$argon2id$") || encoded_hash.size() >= crypto_pwhash_STRBYTES)
    return false;
  char stored[crypto_pwhash_STRBYTES] = {};
  std::copy(encoded_hash.begin(), encoded_hash.end(), stored);
  return crypto_pwhash_str_verify(stored, secret.data(), secret.size()) == 0;
}

}  // namespace portico::crypto
