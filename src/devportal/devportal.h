#pragma once
// The Developer Portal: /api/am/devportal/v3 — self sign-up, API discovery, ratings and
// comments, applications, OAuth keys and tokens, API keys, subscriptions.
#include <memory>

#include "admin/admin.h"
#include "common/config.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "keymanager/keymanager.h"
#include "store/database.h"

namespace portico::devportal {

class DevPortal {
 public:
  DevPortal(const Config& config, store::Database& db, events::EventBus& bus,
            keymanager::KeyManager& key_manager, admin::Admin& admin);
  ~DevPortal();
  void register_routes(http::Router& router);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::devportal
