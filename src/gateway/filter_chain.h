#pragma once
// Internal to src/gateway: the request path of an API call as a list of filters, assembled
// once when the gateway starts (filters hold no per-request state; the context does).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/authenticator.h"
#include "gateway/context.h"
#include "gateway/miss_lookup.h"
#include "traffic/traffic.h"

namespace portico::analytics {
class Recorder;
}
namespace portico::jwt {
class SigningKey;
}

namespace portico::gateway {

struct ChainOptions {
  // Drop the Authorization (or the API's custom authorization) header once it has been
  // checked, as the reference's removeOAuthHeadersFromOutMessage. An API key header or query
  // parameter is always dropped.
  bool strip_authorization = true;
  // Send the backend a signed JWT describing the caller (the reference's backend JWT).
  bool backend_jwt = false;
  std::string backend_jwt_header = "X-JWT-Assertion";
  std::int64_t backend_jwt_ttl_seconds = 900;
  std::string issuer_for_backend_jwt = "wso2.org/products/am";
};

struct ChainDeps {
  Authenticator& authenticator;
  traffic::Throttler& throttler;
  analytics::Recorder* recorder;           // may be null: no analytics filter
  const jwt::SigningKey* backend_jwt_key;  // null unless ChainOptions::backend_jwt
  MissLookup* miss_lookup = nullptr;       // null: unknown credentials are refused at once
};

// The request path in order; filter_chain.cpp says why each filter stands where it stands.
std::vector<std::unique_ptr<Filter>> build_filter_chain(const ChainOptions& options,
                                                        ChainDeps deps);

}  // namespace portico::gateway
