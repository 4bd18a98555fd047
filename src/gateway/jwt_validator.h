#pragma once
// Local validation of the JWTs a gateway accepts: OAuth 2.0 access tokens and the developer
// portal's API keys, both signed by the Key Manager's keys (RFC 7519, RFC 8725). Nothing here
// does I/O; the key set comes from the JWKS the Authenticator fetched.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/jwt.h"
#include "gateway/authenticator.h"

namespace portico::gateway {

// The Key Manager's public keys at one moment, immutable once built (swapped as a whole).
class KeySet {
 public:
  // From a JWKS document ({"keys": [...]}). Keys that cannot be used (malformed, unsupported
  // type, no kid, "use" other than "sig") are skipped and counted in `skipped`. nullopt when
  // the text is not a JWKS at all. Never throws.
  static std::optional<KeySet> parse(std::string_view jwks_json, std::size_t* skipped = nullptr);

  // The key with that kid, or null.
  const jwt::VerificationKey* find(std::string_view kid) const;
  std::size_t size() const { return keys_.size(); }

 private:
  std::vector<jwt::VerificationKey> keys_;
};

// What a JWT is presented as.
enum class JwtUse : std::uint8_t { kAccessToken, kApiKey };

struct JwtRules {
  std::int64_t leeway_seconds = 60;
  std::string issuer;  // "" accepts any
};

struct JwtVerdict {
  enum class Outcome : std::uint8_t { kOk, kInvalid, kUnknownKid };
  Outcome outcome = Outcome::kInvalid;
  std::string_view detail;  // static text when not kOk
  std::shared_ptr<const Principal> principal;
  // How long the verdict may be cached (unix seconds, exclusive): exp + leeway for a valid
  // token; a refusal that time cannot undo carries now + a short time; 0: do not cache.
  std::int64_t cache_until = 0;
};

// True when the text has the shape of a compact JWS (exactly two dots); such a bearer token is
// validated as a JWT and never sent to introspection.
bool looks_like_jwt(std::string_view token);

// Decodes, checks the header, finds the key by kid, verifies the signature and the claims.
// kUnknownKid when the kid is not in `keys` (the caller may refetch the JWKS). Never throws
// except std::bad_alloc.
JwtVerdict validate_jwt(std::string_view token, JwtUse use, const KeySet& keys,
                        const JwtRules& rules, std::int64_t now);

}  // namespace portico::gateway
