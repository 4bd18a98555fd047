// The gateways' [internal_api] credential, checked by the internal data API and by token
// introspection.
#include "common/crypto.h"
#include "keymanager/keymanager.h"

namespace portico::keymanager {
namespace {

// Equal digests of both sides, compared with CRYPTO_memcmp: the time taken depends neither
// on where the sent value first differs nor on its length, so it tells nothing of the
// configured value's length.
bool same_secret(std::string_view sent, std::string_view expected) {
  return crypto::constant_time_equal(crypto::sha256(sent), crypto::sha256(expected));
}

}  // namespace

bool is_internal_credential(const http::Request& request, const InternalApiConfig& expected) {
  if (expected.password.empty()) return false;
  auto header = request.headers.get("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (!header || header->size() <= kBasic.size() || header->size() > 4096 ||
      !std::equal(kBasic.begin(), kBasic.end(), header->begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return false;
  // Read raw, not form-decoded as client credentials are (RFC 6749 §2.3.1): the gateway
  // sends it as configured.
  auto decoded = crypto::base64_decode(header->substr(kBasic.size()));
  if (!decoded) return false;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  std::string_view text(*decoded);
  bool user_ok = same_secret(text.substr(0, colon), expected.username);
  bool password_ok = same_secret(text.substr(colon + 1), expected.password);
  return user_ok && password_ok;
}

}  // namespace portico::keymanager
