#pragma once
// Internal to src/gateway: who is calling.
#include <optional>
#include <string_view>

#include "gateway/authenticator.h"
#include "gateway/context.h"
#include "gateway/miss_lookup.h"

namespace portico::gateway {

// Finds the credential the API's security scheme allows (OAuth2 bearer token in the API's
// authorization header, Basic in the same header, an API key in its header or query
// parameter), has the Authenticator check it, and sets who is calling: ctx.principal,
// ctx.application, ctx.key_type, ctx.user, and what the session must not forward.
//
// Refusals: no credential 401 900902; invalid, expired or revoked 401 900901; a token of the
// wrong type for the resource's authType 401 900905; a client or application this gateway
// does not know, or an API key used outside its permitted IPs or referers, 403 900908; the
// Authenticator cannot tell (control plane down) 503 900900 — an outage is never a 401 or
// 403. Every 401 carries WWW-Authenticate (RFC 7235 §3.1, RFC 6750 §3).
//
// Resources with authType None, and PROTOTYPED APIs published without authentication, are
// called anonymously: no principal, no application.
class AuthFilter final : public Filter {
 public:
  // `miss_lookup` (may be null): asked before refusing a client or application the snapshot
  // does not know.
  AuthFilter(Authenticator& authenticator, bool strip_authorization,
             MissLookup* miss_lookup = nullptr)
      : authenticator_(authenticator),
        strip_authorization_(strip_authorization),
        miss_lookup_(miss_lookup) {}

  std::string_view name() const override { return "authentication"; }
  FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) override;

 private:
  Authenticator& authenticator_;
  bool strip_authorization_;
  MissLookup* miss_lookup_;
};

// WWW-Authenticate challenges (the realm is the product's name).
namespace challenge {
inline constexpr std::string_view kBearer = R"(Bearer realm="portico")";
inline constexpr std::string_view kBearerInvalid =
    R"(Bearer realm="portico", error="invalid_token")";
inline constexpr std::string_view kBasic = R"(Basic realm="portico")";
// API keys have no registered scheme; the challenge still tells a client what to send.
inline constexpr std::string_view kApiKey = R"(APIKey realm="portico")";
}  // namespace challenge

// The challenge that goes with a principal's kind of credential (for 401s after
// authentication: token type, blocked or inactive subscription).
std::string_view challenge_for(const Principal& principal);

// The reference's API key restrictions. `list`: comma-separated addresses and CIDR blocks
// ("10.0.0.0/8, 2001:db8::/32, 192.0.2.7"); an unparsable client address is not permitted.
bool ip_permitted(std::string_view list, std::string_view client_ip);
// `list`: comma-separated patterns whose '*' stands for any run of non-space characters,
// matching the whole Referer; no Referer is not permitted.
bool referer_permitted(std::string_view list, std::optional<std::string_view> referer);

}  // namespace portico::gateway
