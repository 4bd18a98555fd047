#pragma once
// Internal to the gateway's filters: finding a call's client, application and subscription in
// the snapshot, and else in what the control plane told this call (read-your-writes). A filter
// that finds nothing asks the control plane once per call through ask_*; it pauses, and is
// asked again with ctx.learned set.
#include <functional>
#include <string_view>

#include "gateway/context.h"
#include "gateway/miss_lookup.h"

namespace portico::gateway {

const KeyMapping* find_client(const RequestContext& ctx, std::string_view client_id);
const Application* find_application(const RequestContext& ctx, std::string_view application_id);
const Subscription* find_subscription(const RequestContext& ctx, std::string_view application_id,
                                      std::string_view api_id);

// True when a lookup started: return FilterStatus::kPause. False when there is nothing to ask
// (no lookup configured, no executor, already asked for this call, or known missing): refuse.
bool ask_for_client(RequestContext& ctx, MissLookup* lookup, std::string_view client_id,
                    const std::function<void()>& resume);
bool ask_for_application(RequestContext& ctx, MissLookup* lookup, std::string_view application_id,
                         std::string_view api_id, const std::function<void()>& resume);

}  // namespace portico::gateway
