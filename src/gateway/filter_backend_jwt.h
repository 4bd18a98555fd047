#pragma once
// Internal to src/gateway: the reference's backend JWT, telling the backend who called.
#include <cstdint>
#include <string>

#include "common/jwt.h"
#include "gateway/context.h"

namespace portico::gateway {

// Adds an RS256 JWT (the gateway's key) in X-JWT-Assertion (or the configured header) with the
// reference's claims: iss, iat, exp and, in the http://wso2.org/claims dialect, subscriber,
// applicationid, applicationUUId, applicationname, applicationtier, apiname, apicontext,
// version, tier, keytype, usertype, enduser, enduserTenantId. Tokens are kept per thread for
// (caller, API, snapshot version) until shortly before they expire: signing costs far more
// than the request. A client's own header of that name never reaches the backend.
class BackendJwtFilter final : public Filter {
 public:
  static constexpr std::string_view kDialect = "http://wso2.org/claims";
  // The reference's super tenant: Portico has one tenant.
  static constexpr std::string_view kTenantId = "-1234";
  static constexpr std::size_t kMaxCachedPerThread = 10000;

  BackendJwtFilter(const jwt::SigningKey& key, std::string header, std::int64_t ttl_seconds,
                   std::string issuer);

  std::string_view name() const override { return "backend_jwt"; }
  FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) override;

  // The claims of the token for this call, as JSON (exposed for tests).
  std::string claims_json(const RequestContext& ctx, std::int64_t now) const;

 private:
  const jwt::SigningKey& key_;
  std::string header_;
  std::int64_t ttl_seconds_;
  std::string issuer_;
  std::uint64_t id_;  // tells this filter's cached tokens from another instance's
};

}  // namespace portico::gateway
