// GET /internal/data/v1/events over a real server and a real socket.
#include <gtest/gtest.h>

#include "admin/control_plane_test_fixture.h"
#include "common/crypto.h"
#include "common/log.h"
#include "events/sse.h"
#include "http/server.h"
#include "http/testing/raw_client.h"

namespace portico::admin {
namespace {

using namespace std::chrono_literals;
using http::testing::PlainConnection;

constexpr std::string_view kPath = "/internal/data/v1/events";

class EventStreamTest : public testing::ControlPlaneFixture {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    config_.internal_api.password = "stream-secret";
    config_.events.heartbeat_seconds = 1;
    ControlPlaneFixture::SetUp();
    auto router = std::make_shared<http::Router>();
    admin_->register_routes(*router);
    admin_->register_routes(router_);  // for the admin calls the tests make in process
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.http_port = 0;
    server_ = std::make_unique<http::Server>(options, router);
    server_->start();
  }
  void TearDown() override {
    server_->stop(1s);
    server_.reset();
    ControlPlaneFixture::TearDown();
  }

  std::unique_ptr<PlainConnection> open(std::string_view target, std::string extra = {},
                                        std::string credential = "gateway:stream-secret") {
    auto connection = std::make_unique<PlainConnection>(server_->http_port());
    std::string headers = "Authorization: Basic " + crypto::base64_encode(credential) + "\r\n";
    EXPECT_TRUE(connection->send(PlainConnection::request("GET", target, headers + extra)));
    return connection;
  }

  // A gateway credential for `environment`: "username:password".
  std::pair<std::string, std::string> create_credential(const std::string& environment) {
    auto created = call_path("POST", "/api/am/admin/v4/gateway-credentials",
                             R"({"name":"gw-a","environment":")" + environment + R"("})");
    EXPECT_EQ(created.status, 201) << created.body;
    auto body = boost::json::parse(created.body).as_object();
    return {std::string(body.at("id").as_string()),
            std::string(body.at("username").as_string()) + ":" +
                std::string(body.at("password").as_string())};
  }

  std::unique_ptr<http::Server> server_;
};

TEST_F(EventStreamTest, FromNoPositionAResetComesFirstThenEachEvent) {
  auto stream = open(kPath);
  std::string position = events::sse::position_id(bus_.position());
  ASSERT_TRUE(stream->read_until("event: reset\n"));
  EXPECT_NE(stream->received().find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(stream->received().find("id: " + position + "\n"), std::string::npos);
  bus_.publish("token.revoked", R"({"tokenId":"t1"})");
  auto next = events::sse::position_id({bus_.position().epoch, bus_.position().sequence});
  EXPECT_TRUE(stream->read_until(
      "id: " + next + "\nevent: token.revoked\ndata: " + R"({"tokenId":"t1"})" + "\n\n"));
}

TEST_F(EventStreamTest, LastEventIdResumesAfterThatEvent) {
  bus_.publish("first", "{}");
  auto after_first = bus_.position();
  bus_.publish("second", R"({"n":2})");
  auto stream = open(std::string(kPath) + "?after=ignored",
                     "Last-Event-ID: " + events::sse::position_id(after_first) + "\r\n");
  ASSERT_TRUE(stream->read_until("event: second\n"));
  EXPECT_EQ(stream->received().find("event: first"), std::string::npos);
  EXPECT_EQ(stream->received().find("event: reset"), std::string::npos);
}

TEST_F(EventStreamTest, AfterParameterResumesWhenNoLastEventId) {
  auto from = bus_.position();
  bus_.publish("first", "{}");
  auto stream =
      open(std::string(kPath) + "?after=" + http::percent_encode(events::sse::position_id(from)));
  ASSERT_TRUE(stream->read_until("event: first\n"));
  EXPECT_EQ(stream->received().find("event: reset"), std::string::npos);
}

TEST_F(EventStreamTest, AnotherEpochIsReset) {
  auto stream = open(std::string(kPath) + "?after=gone%3A12");
  ASSERT_TRUE(stream->read_until("event: reset\n"));
  EXPECT_NE(stream->received().find("id: " + events::sse::position_id(bus_.position())),
            std::string::npos);
}

TEST_F(EventStreamTest, AnIdleStreamCarriesHeartbeats) {
  auto stream = open(kPath);
  EXPECT_TRUE(stream->read_until(std::string(events::sse::kHeartbeat)));
}

TEST_F(EventStreamTest, WithoutTheGatewayCredentialItIs401) {
  auto stream = open(kPath, {}, "gateway:wrong");
  auto response = stream->read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  EXPECT_NE(response->body.find("900901"), std::string::npos);
}

TEST_F(EventStreamTest, AMalformedPositionIs400) {
  auto stream = open(std::string(kPath) + "?after=no-sequence");
  auto response = stream->read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
}

TEST_F(EventStreamTest, AGatewaysOwnCredentialOpensTheStream) {
  auto [id, credential] = create_credential("Default");
  auto stream = open(kPath, {}, credential);
  EXPECT_TRUE(stream->read_until("event: reset\n"));
}

TEST_F(EventStreamTest, RevokingAGatewaysCredentialEndsItsStreamAndRefusesTheNext) {
  auto [id, credential] = create_credential("Default");
  auto stream = open(kPath, {}, credential);
  auto shared = open(kPath);  // the shared credential's stream goes on
  ASSERT_TRUE(stream->read_until("event: reset\n"));
  ASSERT_TRUE(shared->read_until("event: reset\n"));
  auto revoked = call_path("DELETE", "/api/am/admin/v4/gateway-credentials/" + id);
  EXPECT_EQ(revoked.status, 200);
  EXPECT_TRUE(stream->read_to_end());
  EXPECT_NE(stream->received().find("0\r\n\r\n"), std::string::npos);
  EXPECT_EQ(stream->received().find("gateway_credential.revoked"), std::string::npos);
  EXPECT_TRUE(shared->read_until("event: gateway_credential.revoked\n"));
  auto again = open(kPath, {}, credential)->read_response();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 401);
}

TEST_F(EventStreamTest, AGatewaysOwnCredentialReadsOnlyItsEnvironment) {
  auto [id, credential] = create_credential("Default");
  auto own = call_path("GET", "/internal/data/v1/runtime-artifacts", "",
                       {{"environment", "Default"}}, credential);
  EXPECT_EQ(own.status, 200) << own.body;
  auto created = call_path("POST", "/api/am/admin/v4/environments",
                           R"({"name":"other","displayName":"Other","vhosts":[{"host":"x"}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto other = call_path("GET", "/internal/data/v1/runtime-artifacts", "",
                         {{"environment", "other"}}, credential);
  EXPECT_EQ(other.status, 403);
}

TEST_F(EventStreamTest, ACredentialForAnUnknownEnvironmentIsRefused) {
  auto created = call_path("POST", "/api/am/admin/v4/gateway-credentials",
                           R"({"name":"gw","environment":"nowhere"})");
  EXPECT_EQ(created.status, 400);
  auto list = call_path("GET", "/api/am/admin/v4/gateway-credentials");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(R"("count":0)"), std::string::npos);
}

}  // namespace
}  // namespace portico::admin
