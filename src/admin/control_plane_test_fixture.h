#pragma once
// A control plane in one process, for component tests: a temporary SQLite database, the key
// manager and the admin component, an event recorder, and a router that the tests drive as
// the HTTP server would. Publisher and developer-portal tests add their component on top.
// Test-only: included by *_test.cpp files, never by the components.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "admin/admin.h"
#include "common/crypto.h"
#include "events/event_bus.h"
#include "http/message.h"
#include "keymanager/keymanager.h"
#include "store/database.h"

namespace portico::testing {

class ControlPlaneFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    config_.data_dir = dir_.string();
    db_ = store::Database::open((dir_ / "portico.db").string(), 2);
    db_->migrate();
    key_manager_ = std::make_unique<keymanager::KeyManager>(config_, *db_, bus_);
    key_manager_->initialize();
    admin_ = std::make_unique<admin::Admin>(config_, *db_, bus_, *key_manager_);
    admin_->initialize();
    bus_.subscribe([this](const events::Event& e) {
      std::lock_guard lock(events_mutex_);
      events_.push_back(e);
    });
  }

  // Subclasses reset their own components first, then call this.
  void TearDown() override {
    admin_.reset();
    key_manager_.reset();
    db_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Dispatches a request to `path` (the full path) with HTTP Basic `credentials`.
  http::Response call_path(const std::string& method, const std::string& path,
                           const std::string& body = "",
                           std::multimap<std::string, std::string> query = {},
                           const std::string& credentials = "admin:admin") {
    http::Request request;
    request.method = method;
    request.path = path;
    request.target = path;
    request.body = body;
    request.query = std::move(query);
    request.secure = true;
    if (!credentials.empty())
      request.headers.set("Authorization", "Basic " + crypto::base64_encode(credentials));
    if (!body.empty()) request.headers.set("Content-Type", "application/json");
    return router_.dispatch(request);
  }

  std::vector<std::string> event_types() {
    std::lock_guard lock(events_mutex_);
    std::vector<std::string> out;
    for (const auto& e : events_) out.push_back(e.type);
    return out;
  }
  boost::json::object payload(std::size_t i) {
    std::lock_guard lock(events_mutex_);
    return boost::json::parse(events_.at(i).payload_json).as_object();
  }
  void clear_events() {
    std::lock_guard lock(events_mutex_);
    events_.clear();
  }

  Config config_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  events::InProcessBus bus_;
  std::unique_ptr<keymanager::KeyManager> key_manager_;
  std::unique_ptr<admin::Admin> admin_;
  http::Router router_;
  std::mutex events_mutex_;
  std::vector<events::Event> events_;
};

}  // namespace portico::testing
