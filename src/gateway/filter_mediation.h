#pragma once
// Internal to src/gateway: the resource's header policies (the reference's addHeader and
// removeHeader operation policies).
#include <vector>

#include "gateway/context.h"

namespace portico::gateway {

// Request policies become upstream edits when the request passes; response policies become
// response edits when the backend's head arrives (not on the gateway's own replies, as the
// reference runs no response flow for those). Policies apply in the order listed: an
// addHeader sets the header (replacing what came before), a later removeHeader of the same
// name takes it out again.
class MediationFilter final : public Filter {
 public:
  std::string_view name() const override { return "mediation"; }
  FilterStatus on_request(RequestContext& ctx, const std::function<void()>& resume) override;
  void on_response(RequestContext& ctx) override;
};

// Appends one policy to a list of edits, keeping the list's meaning in order (the session
// drops every field a remove edit names, then appends every add edit).
void apply_header_policy(std::vector<HeaderEdit>& edits, const HeaderPolicy& policy);

}  // namespace portico::gateway
