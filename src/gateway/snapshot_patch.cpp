#include "gateway/snapshot_patch.h"

#include <iterator>
#include <string>

namespace portico::gateway {
namespace {

// A copy of `base` without anything of application `id` (its clients, its subscriptions).
std::shared_ptr<Snapshot> copy_without(const Snapshot& base, std::string_view id,
                                       std::uint64_t version) {
  auto next = std::make_shared<Snapshot>(base);
  next->version = version;
  if (auto app = next->applications.find(id); app != next->applications.end())
    next->applications.erase(app);
  for (auto it = next->clients.begin(); it != next->clients.end();)
    it = it->second.application_id == id ? next->clients.erase(it) : std::next(it);
  if (auto subs = next->subscriptions.find(id); subs != next->subscriptions.end())
    next->subscriptions.erase(subs);
  return next;
}

}  // namespace

std::shared_ptr<const Snapshot> with_application(const Snapshot& base,
                                                 const ApplicationRecord& record,
                                                 std::uint64_t version) {
  const std::string& id = record.application.id;
  auto next = copy_without(base, id, version);
  next->applications.insert_or_assign(id, record.application);
  for (const auto& [client_id, mapping] : record.clients)
    next->clients.insert_or_assign(client_id, mapping);
  if (!record.subscriptions.empty()) next->subscriptions.insert_or_assign(id, record.subscriptions);
  return next;
}

std::shared_ptr<const Snapshot> without_application(const Snapshot& base,
                                                    std::string_view application_id,
                                                    std::uint64_t version) {
  return copy_without(base, application_id, version);
}

}  // namespace portico::gateway
