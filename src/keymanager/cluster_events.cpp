// What the key manager keeps in memory and another node may change: each event names the
// item, and the key manager drops (or reloads) its copy. The node's own events arrive too;
// doing the same twice is harmless.
#include <boost/json.hpp>

#include "common/log.h"
#include "events/event_types.h"
#include "keymanager/keymanager.h"

namespace portico::keymanager {
namespace {

namespace json = boost::json;
namespace types = events::types;

std::string field(const json::object& payload, std::string_view name) {
  auto* value = payload.if_contains(name);
  return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

bool is_key_mapping_event(std::string_view type) {
  return type == types::kKeyMappingCreated || type == types::kKeyMappingUpdated ||
         type == types::kKeyMappingDeleted;
}

}  // namespace

void KeyManager::apply_cluster_event(const events::Event& event) {
  const std::string& type = event.type;
  bool concerns_us = type == types::kSigningKeyRotated || type == types::kApiScopesChanged ||
                     type == types::kOAuthClientUpdated || is_key_mapping_event(type) ||
                     type == types::kUserUpdated || type == types::kUserDeleted;
  if (!concerns_us) return;
  try {
    if (type == types::kSigningKeyRotated) {
      keys_.reload();
      return;
    }
    if (type == types::kApiScopesChanged) {
      api_scopes_.invalidate();
      return;
    }
    json::value parsed = json::parse(event.payload_json);
    if (!parsed.is_object()) return;
    const json::object& payload = parsed.get_object();
    if (type == types::kUserUpdated || type == types::kUserDeleted) {
      users_.forget(field(payload, "username"));
    } else {
      clients_.forget(field(payload, "client_id"));
    }
  } catch (const std::exception& e) {
    // The caches' own expiry still bounds how long a stale entry lives.
    spdlog::warn("key manager: event {} not applied: {}", type, e.what());
  }
}

}  // namespace portico::keymanager
