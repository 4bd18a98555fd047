#include "gateway/jwt_validator.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <exception>
#include <limits>

namespace json = boost::json;

namespace portico::gateway {
namespace {

// Bounds the work one token can cause; the Key Manager's tokens are about 1 KiB, API keys with
// many subscriptions a few KiB.
constexpr std::size_t kMaxTokenBytes = 16 * 1024;
// A refusal that waiting cannot change (bad signature, expired, wrong issuer) is remembered
// this long, so that replaying the same bad token costs a hash, not a signature check.
constexpr std::int64_t kRefusalCacheSeconds = 10;

constexpr std::string_view kTooLong = "token too long";
constexpr std::string_view kMalformed = "malformed token";
constexpr std::string_view kBadType = "token typ is not JWT";
constexpr std::string_view kBadAlgorithm = "token algorithm not accepted";
constexpr std::string_view kNoKid = "token has no kid";
constexpr std::string_view kUnknownKid = "unknown signing key";
constexpr std::string_view kBadSignature = "token signature invalid";
constexpr std::string_view kBadClaims = "token claims malformed";
constexpr std::string_view kNoExp = "token has no exp";
constexpr std::string_view kExpired = "token expired";
constexpr std::string_view kNotYetValid = "token not yet valid";
constexpr std::string_view kWrongIssuer = "token issuer not accepted";
constexpr std::string_view kNoAudience = "token has no aud";
constexpr std::string_view kNoJti = "token has no jti";
constexpr std::string_view kNoClient = "token names no client";
constexpr std::string_view kApiKeyAsBearer = "an API key is not an access token";
constexpr std::string_view kNotApiKey = "not an API key";
constexpr std::string_view kNoApplication = "API key names no application";
constexpr std::string_view kNoKeyType = "API key has no keytype";

std::optional<json::object> parse_object(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

// RFC 7515 §4.1.9: compared case-insensitively, "application/" may be left out.
// RFC 9068 §2.1 names at+jwt for access tokens; the Key Manager writes "JWT".
bool acceptable_typ(std::string_view typ) {
  constexpr std::string_view kPrefix = "application/";
  if (typ.size() > kPrefix.size() && equals_ignore_case(typ.substr(0, kPrefix.size()), kPrefix))
    typ.remove_prefix(kPrefix.size());
  return equals_ignore_case(typ, "JWT") || equals_ignore_case(typ, "at+jwt");
}

enum class Claim : std::uint8_t { kAbsent, kOk, kMalformed };

// RFC 7519 §2 NumericDate: seconds, possibly fractional; fractions are cut.
Claim numeric_claim(const json::object& claims, std::string_view name, std::int64_t& out) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return Claim::kAbsent;
  if (v->is_int64()) {
    out = v->get_int64();
  } else if (v->is_uint64()) {
    out = std::numeric_limits<std::int64_t>::max();  // beyond any clock
  } else if (v->is_double() && std::isfinite(v->get_double())) {
    double d = std::floor(v->get_double());
    if (d >= 9.2e18) {
      out = std::numeric_limits<std::int64_t>::max();
    } else if (d <= -9.2e18) {
      out = std::numeric_limits<std::int64_t>::min();
    } else {
      out = static_cast<std::int64_t>(d);
    }
  } else {
    return Claim::kMalformed;
  }
  return Claim::kOk;
}

// A string claim: absent → "", a non-string → kMalformed.
Claim string_claim(const json::object& claims, std::string_view name, std::string_view& out) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return Claim::kAbsent;
  if (!v->is_string()) return Claim::kMalformed;
  out = v->get_string();
  return Claim::kOk;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b)
    return std::numeric_limits<std::int64_t>::max();
  if (b < 0 && a < std::numeric_limits<std::int64_t>::min() - b)
    return std::numeric_limits<std::int64_t>::min();
  return a + b;
}

// RFC 7519 §4.1.3 allows a string or an array of strings. Any audience is accepted: the
// Key Manager writes the client id there, and the gateway serves every client; what the
// gateway needs to know about the client it reads from client_id / azp.
bool acceptable_audience(const json::object& claims) {
  const json::value* aud = claims.if_contains("aud");
  if (aud == nullptr) return false;
  if (aud->is_string()) return !aud->get_string().empty();
  if (!aud->is_array() || aud->get_array().empty()) return false;
  for (const auto& item : aud->get_array())
    if (!item.is_string() || item.get_string().empty()) return false;
  return true;
}

// "scope": a space-separated string (RFC 8693 §4.2, RFC 9068); an array of strings is also
// taken, as some servers write one.
bool read_scopes(const json::object& claims, std::vector<std::string>& out) {
  const json::value* scope = claims.if_contains("scope");
  if (scope == nullptr) return true;
  if (scope->is_string()) {
    std::string_view text = scope->get_string();
    std::size_t i = 0;
    while (i < text.size()) {
      std::size_t end = text.find(' ', i);
      if (end == std::string_view::npos) end = text.size();
      if (end > i) out.emplace_back(text.substr(i, end - i));
      i = end + 1;
    }
    return true;
  }
  if (!scope->is_array()) return false;
  for (const auto& item : scope->get_array()) {
    if (!item.is_string()) return false;
    out.emplace_back(item.get_string());
  }
  return true;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

JwtVerdict refuse(std::string_view detail, std::int64_t now) {
  JwtVerdict v;
  v.outcome = JwtVerdict::Outcome::kInvalid;
  v.detail = detail;
  v.cache_until = saturating_add(now, kRefusalCacheSeconds);
  return v;
}

JwtVerdict refuse_uncached(std::string_view detail) {
  JwtVerdict v;
  v.outcome = JwtVerdict::Outcome::kInvalid;
  v.detail = detail;
  return v;
}

}  // namespace

std::optional<KeySet> KeySet::parse(std::string_view jwks_json, std::size_t* skipped) {
  auto doc = parse_object(jwks_json);
  if (!doc) return std::nullopt;
  const json::value* keys = doc->if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return std::nullopt;
  KeySet set;
  std::size_t bad = 0;
  for (const auto& jwk : keys->get_array()) {
    // A key without a kid could never be selected: tokens name their key.
    const json::value* kid = jwk.is_object() ? jwk.get_object().if_contains("kid") : nullptr;
    if (kid == nullptr || !kid->is_string() || kid->get_string().empty()) {
      ++bad;
      continue;
    }
    try {
      auto key = jwt::VerificationKey::from_jwk(json::serialize(jwk));
      if (set.find(key.kid()) != nullptr) {
        ++bad;  // two keys with one kid: keep the first, as a lookup could not choose
        continue;
      }
      set.keys_.push_back(std::move(key));
    } catch (const std::exception&) {
      ++bad;  // off the request path: a JWKS is parsed when fetched
    }
  }
  if (skipped != nullptr) *skipped = bad;
  return set;
}

const jwt::VerificationKey* KeySet::find(std::string_view kid) const {
  // A Key Manager publishes a handful of keys (the active one and those retiring).
  for (const auto& key : keys_)
    if (key.kid() == kid) return &key;
  return nullptr;
}

bool looks_like_jwt(std::string_view token) {
  std::size_t first = token.find('.');
  if (first == std::string_view::npos) return false;
  std::size_t second = token.find('.', first + 1);
  return second != std::string_view::npos && token.find('.', second + 1) == std::string_view::npos;
}

JwtVerdict validate_jwt(std::string_view token, JwtUse use, const KeySet& keys,
                        const JwtRules& rules, std::int64_t now) {
  if (token.size() > kMaxTokenBytes) return refuse(kTooLong, now);
  auto decoded = jwt::decode(token);
  if (!decoded) return refuse(kMalformed, now);

  // The header's jku, x5u, jwk and x5c are never read: the key comes from the configured
  // JWKS only (RFC 8725 §3.10), chosen by kid.
  auto header = parse_object(decoded->header_json);
  if (!header) return refuse(kMalformed, now);
  if (const json::value* typ = header->if_contains("typ")) {
    if (!typ->is_string() || !acceptable_typ(typ->get_string())) return refuse(kBadType, now);
  }
  // Checked before the kid: a token whose algorithm no key could have would otherwise make an
  // unknown kid trigger a JWKS refetch for nothing.
  if (!jwt::parse_algorithm(decoded->alg)) return refuse(kBadAlgorithm, now);
  if (decoded->kid.empty()) return refuse(kNoKid, now);
  const jwt::VerificationKey* key = keys.find(decoded->kid);
  if (key == nullptr) {
    JwtVerdict v;
    v.outcome = JwtVerdict::Outcome::kUnknownKid;
    v.detail = kUnknownKid;
    return v;
  }
  // Refuses an alg other than the key's own: RS256 header on an ES256 key, HS256, none.
  if (!jwt::verify_signature(*decoded, *key)) return refuse(kBadSignature, now);

  auto claims = parse_object(decoded->payload_json);
  if (!claims) return refuse(kMalformed, now);

  // Distinguish the two kinds of JWT the Key Manager's keys sign: a bearer token that is an
  // API key (or the reverse) is refused, so that neither can stand in for the other.
  std::string_view token_type;
  if (string_claim(*claims, "token_type", token_type) == Claim::kMalformed)
    return refuse(kBadClaims, now);
  if (use == JwtUse::kAccessToken && token_type == "apiKey") return refuse(kApiKeyAsBearer, now);
  if (use == JwtUse::kApiKey && token_type != "apiKey") return refuse(kNotApiKey, now);

  std::int64_t exp = 0;
  switch (numeric_claim(*claims, "exp", exp)) {
    case Claim::kAbsent:
      return refuse(kNoExp, now);
    case Claim::kMalformed:
      return refuse(kBadClaims, now);
    case Claim::kOk:
      break;
  }
  std::int64_t valid_until = saturating_add(exp, rules.leeway_seconds);
  if (valid_until <= now) return refuse(kExpired, now);
  std::int64_t nbf = 0;
  switch (numeric_claim(*claims, "nbf", nbf)) {
    case Claim::kMalformed:
      return refuse(kBadClaims, now);
    case Claim::kOk:
      // Not cached: the same token becomes valid once its time comes.
      if (saturating_add(nbf, -rules.leeway_seconds) > now) return refuse_uncached(kNotYetValid);
      break;
    case Claim::kAbsent:
      break;
  }
  std::int64_t iat = 0;
  if (numeric_claim(*claims, "iat", iat) == Claim::kMalformed) return refuse(kBadClaims, now);

  std::string_view iss;
  if (string_claim(*claims, "iss", iss) == Claim::kMalformed) return refuse(kBadClaims, now);
  if (!rules.issuer.empty() && iss != rules.issuer) return refuse(kWrongIssuer, now);

  std::string_view jti, sub, aut, keytype, client_id;
  if (string_claim(*claims, "jti", jti) == Claim::kMalformed ||
      string_claim(*claims, "sub", sub) == Claim::kMalformed ||
      string_claim(*claims, "aut", aut) == Claim::kMalformed ||
      string_claim(*claims, "keytype", keytype) == Claim::kMalformed)
    return refuse(kBadClaims, now);
  // The jti is what a revocation names: a token without one could never be revoked.
  if (jti.empty()) return refuse(kNoJti, now);

  auto principal = std::make_shared<Principal>();
  principal->jti = std::string(jti);
  principal->key_type = upper(keytype);
  principal->expires_at = exp;

  if (use == JwtUse::kAccessToken) {
    if (!acceptable_audience(*claims)) return refuse(kNoAudience, now);
    // The OAuth client: client_id (RFC 9068 §2.2), else azp, else a single audience.
    if (string_claim(*claims, "client_id", client_id) == Claim::kMalformed)
      return refuse(kBadClaims, now);
    if (client_id.empty() && string_claim(*claims, "azp", client_id) == Claim::kMalformed)
      return refuse(kBadClaims, now);
    if (client_id.empty()) {
      const json::value* aud = claims->if_contains("aud");
      if (aud->is_string()) client_id = aud->get_string();
    }
    if (client_id.empty()) return refuse(kNoClient, now);
    if (!read_scopes(*claims, principal->scopes)) return refuse(kBadClaims, now);
    principal->kind = Principal::Kind::kJwt;
    principal->client_id = std::string(client_id);
    // The reference's aut claim says whether an end user stands behind the token; a token
    // for the application alone has the client's owner as sub, who is not an end user.
    principal->application_user = aut == "APPLICATION_USER";
    if (principal->application_user) principal->user = std::string(sub);
  } else {
    const json::value* application = claims->if_contains("application");
    const json::value* uuid = application != nullptr && application->is_object()
                                  ? application->get_object().if_contains("uuid")
                                  : nullptr;
    if (uuid == nullptr || !uuid->is_string() || uuid->get_string().empty())
      return refuse(kNoApplication, now);
    if (keytype.empty()) return refuse(kNoKeyType, now);
    std::string_view ip, referer;
    if (string_claim(*claims, "permittedIP", ip) == Claim::kMalformed ||
        string_claim(*claims, "permittedReferer", referer) == Claim::kMalformed)
      return refuse(kBadClaims, now);
    principal->kind = Principal::Kind::kApiKey;
    principal->application_id = std::string(uuid->get_string());
    // As the reference's API key authenticator: the end user is the key's subject (the
    // application's owner).
    principal->user = std::string(sub);
    principal->permitted_ip = std::string(ip);
    principal->permitted_referer = std::string(referer);
  }
  principal->claims = std::move(*claims);

  JwtVerdict v;
  v.outcome = JwtVerdict::Outcome::kOk;
  v.principal = std::move(principal);
  v.cache_until = valid_until;
  return v;
}

}  // namespace portico::gateway
