// The gateways' credentials: the shared [internal_api] one and each gateway's own (admin's
// gateway-credentials), checked by the internal data API and by token introspection.
#include "common/crypto.h"
#include "keymanager/keymanager.h"

namespace portico::keymanager {
namespace {

constexpr std::size_t kMaxHeader = 4096;

// Equal digests of both sides, compared with CRYPTO_memcmp: the time taken depends neither
// on where the sent value first differs nor on its length, so it tells nothing of the
// configured value's length.
bool same_secret(std::string_view sent, std::string_view expected) {
  return crypto::constant_time_equal(crypto::sha256(sent), crypto::sha256(expected));
}

// "user:password" of an HTTP Basic Authorization header, as sent. Read raw, not form-decoded
// as client credentials are (RFC 6749 §2.3.1): a gateway sends its credential as configured.
std::optional<std::string> basic_pair(const http::Request& request) {
  auto header = request.headers.get("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (!header || header->size() <= kBasic.size() || header->size() > kMaxHeader ||
      !std::equal(kBasic.begin(), kBasic.end(), header->begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return std::nullopt;
  auto decoded = crypto::base64_decode(header->substr(kBasic.size()));
  if (!decoded || decoded->find(':') == std::string::npos) return std::nullopt;
  return decoded;
}

}  // namespace

bool is_internal_credential(const http::Request& request, const InternalApiConfig& expected) {
  if (expected.password.empty()) return false;
  auto pair = basic_pair(request);
  if (!pair) return false;
  std::string_view text(*pair);
  auto colon = text.find(':');
  bool user_ok = same_secret(text.substr(0, colon), expected.username);
  bool password_ok = same_secret(text.substr(colon + 1), expected.password);
  return user_ok && password_ok;
}

std::optional<GatewayCaller> KeyManager::authenticate_gateway(const http::Request& request) {
  // The shared credential first: it costs no database read.
  if (is_internal_credential(request, config_.internal_api)) return GatewayCaller{};
  auto pair = basic_pair(request);
  if (!pair || !pair->starts_with(kGatewayCredentialPrefix)) return std::nullopt;
  auto colon = pair->find(':');
  auto record = gateway_credentials_.find_by_username(pair->substr(0, colon));
  // The secret is random (32 bytes): a fast hash suffices, and comparing hashes leaks nothing
  // about the secret through timing.
  if (!record || record->revoked_time != 0 ||
      record->secret_hash != crypto::sha256_hex(std::string_view(*pair).substr(colon + 1)))
    return std::nullopt;
  return GatewayCaller{std::move(record)};
}

}  // namespace portico::keymanager
