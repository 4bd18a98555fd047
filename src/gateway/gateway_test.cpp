#include "gateway/gateway.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/log.h"
#include "http/testing/raw_client.h"

namespace portico::gateway {
namespace {

using namespace std::chrono_literals;
using http::testing::Connection;
using http::testing::PlainConnection;

class QuietLogs : public ::testing::Environment {
 public:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
};
const auto* const kQuietLogs = ::testing::AddGlobalTestEnvironment(new QuietLogs);

// An environment with nothing deployed: every list of the internal data API is empty and the
// JWKS has no key. A gateway that loaded it is ready, and answers every call 404.
class EmptyControlPlane final : public ControlPlane {
 public:
  ControlPlaneResponse call(std::string_view, std::string_view path, std::string_view,
                            std::string_view, bool) override {
    if (path.rfind("/oauth2/jwks", 0) == 0) return {200, R"({"keys":[]})"};
    if (path.rfind("/internal/data/v1/cluster", 0) == 0) return {200, R"({"clusterId":"test"})"};
    return {200, R"({"list":[],"next":""})"};
  }
};

class GatewayDrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = std::filesystem::temp_directory_path() /
                ("portico-gateway-drain-" + std::to_string(getpid()) + "-" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    GatewayOptions options;
    options.host = "127.0.0.1";
    options.http_port = 0;
    options.https_port = -1;
    options.admin_port = 0;
    options.data_dir = data_dir_.string();
    gateway_ =
        std::make_unique<Gateway>(options, std::make_unique<EmptyControlPlane>(), nullptr, nullptr);
    gateway_->start();
  }
  void TearDown() override {
    gateway_->stop(2s);
    std::filesystem::remove_all(data_dir_);
  }

  int ready_status() {
    PlainConnection admin(gateway_->admin_port());
    if (!admin.send(Connection::request("GET", "/health/ready"))) return 0;
    auto response = admin.read_response();
    return response ? response->status : 0;
  }

  bool refuses_connections() {
    for (int i = 0; i < 250; ++i) {
      if (!PlainConnection(gateway_->http_port()).connected()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  std::filesystem::path data_dir_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(GatewayDrainTest, ReadinessAnswers503FromTheMomentTheDrainBegins) {
  ASSERT_EQ(ready_status(), 200);
  gateway_->drain();
  EXPECT_EQ(ready_status(), 503);
}

TEST_F(GatewayDrainTest, NewConnectionsAreRefusedAndIdleOnesClosed) {
  PlainConnection kept_alive(gateway_->http_port());
  ASSERT_TRUE(kept_alive.send(Connection::request("GET", "/nothing/1.0.0/here")));
  auto response = kept_alive.read_response();
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 404);
  ASSERT_NE(response->header("Connection"), "close");

  gateway_->drain();
  EXPECT_TRUE(kept_alive.closed_by_peer());
  EXPECT_TRUE(refuses_connections());
}

TEST_F(GatewayDrainTest, ARequestBegunBeforeTheDrainIsAnsweredWithConnectionClose) {
  PlainConnection kept_alive(gateway_->http_port());
  ASSERT_TRUE(kept_alive.send(Connection::request("GET", "/nothing/1.0.0/here")));
  ASSERT_TRUE(kept_alive.read_response());
  std::string next = Connection::request("GET", "/nothing/1.0.0/there");
  ASSERT_TRUE(kept_alive.send(next.substr(0, 10)));
  std::this_thread::sleep_for(100ms);  // the gateway reads the beginning

  gateway_->drain();
  ASSERT_TRUE(kept_alive.send(next.substr(10)));
  auto response = kept_alive.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(kept_alive.closed_by_peer());
}

}  // namespace
}  // namespace portico::gateway
