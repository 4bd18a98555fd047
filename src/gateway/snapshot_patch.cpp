#include "gateway/snapshot_patch.h"

#include <algorithm>
#include <string>
#include <vector>

namespace portico::gateway {
namespace {

std::shared_ptr<Snapshot> copy_of(const Snapshot& base, std::uint64_t version) {
  auto next = std::make_shared<Snapshot>(base);
  next->version = version;
  return next;
}

void erase_application(Snapshot& next, std::string_view id) {
  next.applications.erase(id);
  if (const auto* client_ids = next.client_ids.find(id)) {
    for (const auto& client_id : *client_ids) {
      const KeyMapping* mapping = next.clients.find(client_id);
      if (mapping != nullptr && mapping->application_id == id) next.clients.erase(client_id);
    }
    next.client_ids.erase(id);
  }
  next.subscriptions.erase(id);
}

// The routes an API asks for: "/context/version", and "/context" for a default version.
std::vector<std::string> routes_of(const Api& api) {
  std::vector<std::string> routes{api.context_version};
  if (api.default_version) routes.push_back(api.context);
  return routes;
}

bool claims(const Api& api, std::string_view route) {
  return api.context_version == route || (api.default_version && api.context == route);
}

// `route` no longer served by `leaving`: it goes to the latest-deployed other API claiming it.
// Scans the APIs, but only when an API gives up a route (undeployed, or no longer the default
// version), never for a new revision of the same API.
void release_route(Snapshot& next, const std::string& route, std::string_view leaving) {
  const auto* holder = next.by_context.find(route);
  if (holder == nullptr || (*holder)->id != leaving) return;
  std::shared_ptr<const Api> heir;
  next.apis.for_each([&](const std::string& id, const std::shared_ptr<const Api>& api) {
    if (id == leaving || !claims(*api, route)) return;
    if (!heir || api->deployed_time > heir->deployed_time) heir = api;
  });
  if (heir)
    next.by_context.insert_or_assign(route, std::move(heir));
  else
    next.by_context.erase(route);
}

}  // namespace

std::shared_ptr<const Snapshot> with_application(const Snapshot& base,
                                                 const ApplicationRecord& record,
                                                 std::uint64_t version) {
  const std::string& id = record.application.id;
  auto next = copy_of(base, version);
  erase_application(*next, id);
  next->applications.insert_or_assign(id, record.application);
  for (const auto& [client_id, mapping] : record.clients) next->map_client(client_id, mapping);
  if (!record.subscriptions.empty()) next->subscriptions.insert_or_assign(id, record.subscriptions);
  return next;
}

std::shared_ptr<const Snapshot> without_application(const Snapshot& base,
                                                    std::string_view application_id,
                                                    std::uint64_t version) {
  auto next = copy_of(base, version);
  erase_application(*next, application_id);
  return next;
}

std::shared_ptr<const Snapshot> with_api(const Snapshot& base, std::shared_ptr<const Api> api,
                                         std::uint64_t version) {
  auto next = copy_of(base, version);
  std::vector<std::string> routes = routes_of(*api);
  if (const auto* previous = base.apis.find(api->id)) {
    for (const auto& route : routes_of(**previous))
      if (std::find(routes.begin(), routes.end(), route) == routes.end())
        release_route(*next, route, api->id);
  }
  next->apis.insert_or_assign(api->id, api);
  for (const auto& route : routes) {
    const auto* holder = next->by_context.find(route);
    bool taken = holder != nullptr && (*holder)->id != api->id &&
                 (*holder)->deployed_time > api->deployed_time;
    if (!taken) next->by_context.insert_or_assign(route, api);
  }
  return next;
}

std::shared_ptr<const Snapshot> without_api(const Snapshot& base, std::string_view api_id,
                                            std::uint64_t version) {
  auto next = copy_of(base, version);
  const auto* previous = base.apis.find(api_id);
  if (previous == nullptr) return next;
  std::shared_ptr<const Api> leaving = *previous;
  next->apis.erase(api_id);
  for (const auto& route : routes_of(*leaving)) release_route(*next, route, api_id);
  return next;
}

}  // namespace portico::gateway
