#include "gateway/miss_lookup.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace portico::gateway {
namespace {

// Answers the per-item reads from a table of bodies; counts them. `gate` holds every read
// until opened, so that tests can pile callers onto one read.
class ItemControlPlane final : public ControlPlane {
 public:
  ControlPlaneResponse call(std::string_view method, std::string_view path, std::string_view,
                            std::string_view, bool credential) override {
    {
      std::unique_lock lock(mutex);
      opened.wait(lock, [&] { return open; });
      ++reads[std::string(path)];
    }
    if (method != "GET" || !credential) return {401, "{}"};
    if (unreachable) return {0, ""};
    auto it = bodies.find(std::string(path));
    return it == bodies.end() ? ControlPlaneResponse{404, "{}"}
                              : ControlPlaneResponse{200, it->second};
  }

  int reads_of(const std::string& path) {
    std::lock_guard lock(mutex);
    return reads[path];
  }
  void set_open(bool value) {
    {
      std::lock_guard lock(mutex);
      open = value;
    }
    opened.notify_all();
  }

  std::map<std::string, std::string> bodies;
  std::atomic<bool> unreachable{false};

 private:
  std::mutex mutex;
  std::condition_variable opened;
  bool open = true;
  std::map<std::string, int> reads;
};

constexpr const char* kApplicationBody =
    R"({"id":"app-1","name":"App","owner":"alice","throttlingPolicy":"Unlimited",
        "status":"APPROVED",
        "keyMappings":[{"id":"km-1","applicationId":"app-1","keyType":"PRODUCTION",
                        "clientId":"client-1"},
                       {"id":"km-x","applicationId":"app-2","keyType":"PRODUCTION",
                        "clientId":"client-other"}],
        "subscriptions":[{"id":"sub-1","applicationId":"app-1","apiId":"api-1",
                          "throttlingPolicy":"Gold","status":"UNBLOCKED"}]})";

class MissLookupTest : public testing::Test {
 protected:
  void SetUp() override {
    control_plane_.bodies["/internal/data/v1/clients/client-1/application"] = kApplicationBody;
    control_plane_.bodies["/internal/data/v1/applications/app-1"] = kApplicationBody;
    io_thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    lookup_.reset();
    work_.reset();
    io_.stop();
    io_thread_.join();
  }

  void make(std::chrono::seconds negative_cache = std::chrono::seconds(60)) {
    lookup_ = std::make_unique<MissLookup>(
        MissLookupOptions{negative_cache}, control_plane_, worker_,
        [this](const ApplicationRecord& record, const boost::json::value&) {
          std::lock_guard lock(mutex_);
          learned_.push_back(record.application.id);
        });
  }

  // Asks and waits for the answer; nullopt when refused at once.
  std::optional<std::shared_ptr<const ApplicationRecord>> ask_client(const std::string& id) {
    std::promise<std::shared_ptr<const ApplicationRecord>> answer;
    auto future = answer.get_future();
    if (!lookup_->ask_for_client(id, io_.get_executor(),
                                 [&](auto record) { answer.set_value(std::move(record)); }))
      return std::nullopt;
    return future.get();
  }
  std::optional<std::shared_ptr<const ApplicationRecord>> ask_application(const std::string& id,
                                                                          const std::string& api) {
    std::promise<std::shared_ptr<const ApplicationRecord>> answer;
    auto future = answer.get_future();
    if (!lookup_->ask_for_application(id, api, io_.get_executor(),
                                      [&](auto record) { answer.set_value(std::move(record)); }))
      return std::nullopt;
    return future.get();
  }

  ItemControlPlane control_plane_;
  ControlPlaneWorker worker_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::thread io_thread_;
  std::mutex mutex_;
  std::vector<std::string> learned_;
  std::unique_ptr<MissLookup> lookup_;
};

TEST_F(MissLookupTest, AClientTheSnapshotLacksIsReadWithItsApplication) {
  make();
  auto answer = ask_client("client-1");
  ASSERT_TRUE(answer.has_value());
  ASSERT_NE(*answer, nullptr);
  const ApplicationRecord& record = **answer;
  EXPECT_EQ(record.application.id, "app-1");
  EXPECT_EQ(record.application.status, "APPROVED");
  ASSERT_EQ(record.clients.size(), 1u);  // another application's mapping is dropped
  EXPECT_EQ(record.clients.at("client-1").key_type, "PRODUCTION");
  ASSERT_EQ(record.subscriptions.count("api-1"), 1u);
  EXPECT_EQ(record.subscriptions.at("api-1").throttle_key, "app-1:api-1");
  std::lock_guard lock(mutex_);
  EXPECT_EQ(learned_, std::vector<std::string>{"app-1"});
  EXPECT_EQ(lookup_->stats().found, 1u);
}

TEST_F(MissLookupTest, AnUnknownClientIsReadOnceThenRefusedFromTheCache) {
  make();
  auto first = ask_client("client-9");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, nullptr);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(ask_client("client-9").has_value());
  EXPECT_EQ(control_plane_.reads_of("/internal/data/v1/clients/client-9/application"), 1);
  EXPECT_EQ(lookup_->stats().not_found, 1u);
  EXPECT_EQ(lookup_->stats().cached, 10u);
  // Another key is another question.
  EXPECT_TRUE(ask_client("client-8").has_value());
}

TEST_F(MissLookupTest, AnUnknownClientIsAskedAgainOnceTheWindowIsOver) {
  make(std::chrono::seconds(0));
  ASSERT_TRUE(ask_client("client-9").has_value());
  ASSERT_TRUE(ask_client("client-9").has_value());
  EXPECT_EQ(control_plane_.reads_of("/internal/data/v1/clients/client-9/application"), 2);
}

TEST_F(MissLookupTest, CallersOfOneKeyShareOneRead) {
  make();
  control_plane_.set_open(false);
  std::atomic<int> answered{0};
  std::promise<void> all;
  constexpr int kCallers = 20;
  for (int i = 0; i < kCallers; ++i) {
    ASSERT_TRUE(lookup_->ask_for_client("client-1", io_.get_executor(), [&](auto record) {
      EXPECT_NE(record, nullptr);
      if (++answered == kCallers) all.set_value();
    }));
  }
  control_plane_.set_open(true);
  all.get_future().get();
  EXPECT_EQ(control_plane_.reads_of("/internal/data/v1/clients/client-1/application"), 1);
  EXPECT_EQ(lookup_->stats().coalesced, static_cast<std::uint64_t>(kCallers - 1));
}

TEST_F(MissLookupTest, AnApplicationWithoutTheSubscriptionAskedForIsAMiss) {
  make();
  auto subscribed = ask_application("app-1", "api-1");
  ASSERT_TRUE(subscribed.has_value());
  ASSERT_NE(*subscribed, nullptr);
  // Found, but not subscribed to api-2: answered (the caller refuses), and not asked again.
  auto other = ask_application("app-1", "api-2");
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ((*other)->subscriptions.count("api-2"), 0u);
  EXPECT_FALSE(ask_application("app-1", "api-2").has_value());
  // The subscribed question was answered: it may be asked again (the snapshot has it now).
  EXPECT_TRUE(ask_application("app-1", "api-1").has_value());
}

TEST_F(MissLookupTest, AnUnreachableControlPlaneIsAFailureAndCached) {
  make();
  control_plane_.unreachable = true;
  auto answer = ask_client("client-1");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(*answer, nullptr);
  EXPECT_FALSE(ask_client("client-1").has_value());
  EXPECT_EQ(lookup_->stats().failed, 1u);
  std::lock_guard lock(mutex_);
  EXPECT_TRUE(learned_.empty());
}

TEST_F(MissLookupTest, MetricsNameEveryResult) {
  make();
  ask_client("client-1");
  ask_client("client-9");
  std::string text = lookup_->metrics_text();
  EXPECT_NE(text.find("portico_gateway_miss_lookups_total{result=\"found\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("portico_gateway_miss_lookups_total{result=\"not_found\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("portico_gateway_miss_lookups_total{result=\"failed\"} 0\n"),
            std::string::npos);
}

}  // namespace
}  // namespace portico::gateway
