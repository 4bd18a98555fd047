#pragma once
// The Publisher: /api/am/publisher/v4 — APIs, OpenAPI import, lifecycle, revisions and
// deployments, documents, thumbnails, API-level subscription view and blocking.
#include <memory>

#include "admin/admin.h"
#include "common/config.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "keymanager/keymanager.h"
#include "store/database.h"

namespace portico::publisher {

class Publisher {
 public:
  Publisher(const Config& config, store::Database& db, events::EventBus& bus,
            keymanager::KeyManager& key_manager, admin::Admin& admin);
  ~Publisher();
  void register_routes(http::Router& router);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::publisher
