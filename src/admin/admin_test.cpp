#include "admin/admin.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "admin/control_plane_test_fixture.h"
#include "common/clock.h"
#include "store/tokens_repository.h"

namespace portico::admin {
namespace {

namespace json = boost::json;

// The Admin component on a real SQLite database with a real key manager, driven through its
// routes as the HTTP server would.
class AdminTest : public testing::ControlPlaneFixture {
 protected:
  void SetUp() override {
    ControlPlaneFixture::SetUp();
    admin_->register_routes(router_);
  }
  http::Response call(const std::string& method, const std::string& path,
                      const std::string& body = "",
                      const std::string& credentials = "admin:admin") {
    return call_path(method, path, body, {}, credentials);
  }
  static json::value parse(const http::Response& r) { return json::parse(r.body); }
};

constexpr const char* kPolicies = "/api/am/admin/v4/throttling/policies";

TEST_F(AdminTest, FirstStartSeedsTheReferenceDefaults) {
  auto names = [&](const std::string& level) {
    std::vector<std::string> out;
    auto body = parse(call("GET", std::string(kPolicies) + "/" + level));
    for (auto& p : body.at("list").as_array()) out.emplace_back(p.at("policyName").as_string());
    EXPECT_EQ(body.at("count").as_int64(), static_cast<std::int64_t>(out.size()));
    return out;
  };
  EXPECT_EQ(names("subscription"),
            (std::vector<std::string>{"Bronze", "Gold", "Silver", "Unlimited"}));
  EXPECT_EQ(names("application"),
            (std::vector<std::string>{"10PerMin", "20PerMin", "50PerMin", "Unlimited"}));
  EXPECT_EQ(names("advanced"),
            (std::vector<std::string>{"10KPerMin", "20KPerMin", "50KPerMin", "Unlimited"}));

  // A second start adds nothing, and a deleted default stays deleted.
  auto bronze = parse(call("GET", std::string(kPolicies) + "/subscription"))
                    .at("list")
                    .as_array()[0]
                    .as_object();
  EXPECT_EQ(bronze.at("defaultLimit").at("requestCount").at("requestCount").as_int64(), 1000);
  ASSERT_EQ(call("DELETE", std::string(kPolicies) + "/subscription/" +
                               std::string(bronze.at("policyId").as_string()))
                .status,
            200);
  Admin again(config_, *db_, bus_, *key_manager_);
  again.initialize();
  EXPECT_EQ(names("subscription").size(), 3u);
  EXPECT_FALSE(admin_->policy_exists(PolicyLevel::subscription, "Bronze"));
  EXPECT_TRUE(admin_->policy_exists(PolicyLevel::subscription, "Gold"));
  EXPECT_FALSE(admin_->policy_exists(PolicyLevel::application, "Gold"));
}

TEST_F(AdminTest, PolicySummariesHaveThePublisherShape) {
  auto summaries = admin_->policy_summaries(PolicyLevel::subscription);
  ASSERT_EQ(summaries.size(), 4u);
  auto gold = summaries[1].as_object();
  EXPECT_EQ(gold.at("name").as_string(), "Gold");
  EXPECT_EQ(gold.at("policyLevel").as_string(), "subscription");
  EXPECT_EQ(gold.at("requestCount").as_int64(), 5000);
  EXPECT_EQ(gold.at("timeUnit").as_string(), "min");
  EXPECT_EQ(gold.at("unitTime").as_int64(), 1);
  EXPECT_EQ(gold.at("quotaPolicyType").as_string(), "REQUESTCOUNT");
  EXPECT_EQ(gold.at("tierPlan").as_string(), "FREE");
  EXPECT_TRUE(gold.at("stopOnQuotaReach").as_bool());
}

TEST_F(AdminTest, PolicyChangesPublishEventsInSequence) {
  const std::string base = std::string(kPolicies) + "/application";
  auto created = call("POST", base,
                      R"({"policyName":"5PerSec","defaultLimit":{"type":"REQUESTCOUNTLIMIT",
                          "requestCount":{"timeUnit":"sec","unitTime":1,"requestCount":5}}})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(parse(created).at("policyId").as_string());
  EXPECT_EQ(created.headers.get("Location").value_or(""), base + "/" + id);

  auto updated = call("PUT", base + "/" + id,
                      R"({"policyName":"5PerSec","defaultLimit":{"type":"BANDWIDTHLIMIT",
                          "bandwidth":{"timeUnit":"min","unitTime":1,"dataAmount":5,
                          "dataUnit":"MB"}}})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(parse(updated).at("defaultLimit").at("type").as_string(), "BANDWIDTHLIMIT");
  ASSERT_EQ(call("DELETE", base + "/" + id).status, 200);

  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[0].type, "policy.created");
  EXPECT_EQ(events_[1].type, "policy.updated");
  EXPECT_EQ(events_[2].type, "policy.deleted");
  EXPECT_LT(events_[0].sequence, events_[1].sequence);
  EXPECT_LT(events_[1].sequence, events_[2].sequence);
  EXPECT_EQ(payload(0).at("level").as_string(), "application");
  EXPECT_EQ(payload(0).at("policy_id").as_string(), id);
  EXPECT_EQ(payload(2).at("name").as_string(), "5PerSec");
}

TEST_F(AdminTest, RefusedChangesPublishNothing) {
  const std::string base = std::string(kPolicies) + "/subscription";
  EXPECT_EQ(call("POST", base,
                 R"({"policyName":"Gold","defaultLimit":{"type":"REQUESTCOUNTLIMIT",
                     "requestCount":{"timeUnit":"min","unitTime":1,"requestCount":5}}})")
                .status,
            409);
  EXPECT_EQ(call("POST", base, R"({"policyName":"X"})").status, 400);
  EXPECT_EQ(call("DELETE", base + "/no-such-id").status, 404);
  EXPECT_TRUE(events_.empty());
}

TEST_F(AdminTest, CallersNeedTheScopes) {
  key_manager_->users().create("sam", "sam-password", {"subscriber"});
  EXPECT_EQ(call("GET", std::string(kPolicies) + "/subscription", "", "sam:sam-password").status,
            403);
  EXPECT_EQ(call("GET", std::string(kPolicies) + "/subscription", "", "").status, 401);
  EXPECT_EQ(call("GET", "/scim2/Users", "", "sam:sam-password").status, 403);
  auto scim = call("GET", "/scim2/Users", "", "");
  EXPECT_EQ(scim.status, 401);
  EXPECT_EQ(parse(scim).at("status").as_string(), "401");
}

TEST_F(AdminTest, DenyPolicyChangesPublishEvents) {
  const std::string base = "/api/am/admin/v4/throttling/deny-polic";
  auto created = call("POST", base + "ies",
                      R"({"conditionType":"IPRANGE","conditionValue":{"startingIp":"10.0.0.1",
                          "endingIp":"10.0.0.9","invert":false}})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(parse(created).at("conditionId").as_string());
  auto patched = call("PATCH", base + "y/" + id, R"({"conditionStatus":false})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_FALSE(parse(patched).at("conditionStatus").as_bool());
  ASSERT_EQ(call("DELETE", base + "y/" + id).status, 200);
  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[0].type, "deny_policy.created");
  EXPECT_EQ(events_[1].type, "deny_policy.updated");
  EXPECT_FALSE(payload(1).at("enabled").as_bool());
  EXPECT_EQ(events_[2].type, "deny_policy.deleted");
  EXPECT_EQ(payload(2).at("condition_type").as_string(), "IPRANGE");
}

TEST_F(AdminTest, EnvironmentsDefaultAndEvents) {
  auto def = admin_->find_environment("Default");
  ASSERT_TRUE(def);
  ASSERT_EQ(def->vhosts.size(), 1u);
  EXPECT_EQ(def->vhosts[0].https_url(), "https://localhost:8243");
  EXPECT_EQ(def->vhosts[0].http_url(), "http://localhost:8280");
  const std::string base = "/api/am/admin/v4/environments";
  auto created = call("POST", base,
                      R"({"name":"internal","displayName":"Internal","vhosts":[
                          {"host":"gw.internal.example","httpsPort":443}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(parse(created).at("id").as_string());
  EXPECT_EQ(admin_->environments().size(), 2u);
  EXPECT_EQ(admin_->find_environment("internal")->display_name, "Internal");
  ASSERT_EQ(call("DELETE", base + "/" + id).status, 200);
  EXPECT_EQ(call("DELETE", base + "/" + def->id).status, 409);
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0].type, "environment.created");
  EXPECT_EQ(events_[1].type, "environment.deleted");
  EXPECT_EQ(payload(1).at("name").as_string(), "internal");
}

// ---- the internal data API ---------------------------------------------------------------------

class InternalApiTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    config_.internal_api.password = "gateway-secret";
  }
  http::Response internal(const std::string& method, const std::string& path,
                          const std::string& body = "",
                          const std::string& credentials = "gateway:gateway-secret") {
    return call(method, "/internal/data/v1" + path, body, credentials);
  }
};

TEST_F(InternalApiTest, AuthenticateAnswersTheUserAndItsRoles) {
  key_manager_->users().create("basil", "basil-password", {"subscriber"});
  auto ok = internal("POST", "/users/authenticate",
                     R"({"username":"basil","password":"basil-password"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(parse(ok), json::parse(R"({"username":"basil","roles":["subscriber"]})"));
}

TEST_F(InternalApiTest, AuthenticateRefusesWrongCredentialsWithTheReferenceShape) {
  key_manager_->users().create("basil", "basil-password", {"subscriber"});
  for (const char* body : {R"({"username":"basil","password":"wrong-password"})",
                           R"({"username":"nobody","password":"basil-password"})",
                           R"({"username":"","password":"basil-password"})",
                           R"({"username":"basil","password":""})"}) {
    auto r = internal("POST", "/users/authenticate", body);
    EXPECT_EQ(r.status, 401) << body;
    EXPECT_EQ(parse(r).at("code"), 900901);
    EXPECT_EQ(parse(r).at("message"), "Invalid Credentials");
    // Only a refusal of the gateway's own credential asks for one.
    EXPECT_FALSE(r.headers.get("WWW-Authenticate")) << body;
  }
  // Longer than any user's name or password: refused before any hashing.
  auto long_password =
      internal("POST", "/users/authenticate",
               R"({"username":"basil","password":")" + std::string(1025, 'p') + R"("})");
  EXPECT_EQ(long_password.status, 401);
  auto gateway = internal("POST", "/users/authenticate",
                          R"({"username":"basil","password":"basil-password"})", "gateway:wrong");
  EXPECT_EQ(gateway.status, 401);
  EXPECT_TRUE(gateway.headers.get("WWW-Authenticate"));
  // The administrator's own credential is not the gateway's.
  EXPECT_EQ(internal("POST", "/users/authenticate",
                     R"({"username":"basil","password":"basil-password"})", "admin:admin")
                .status,
            401);
}

TEST_F(InternalApiTest, AuthenticateRefusesMalformedBodies) {
  for (const std::string& body :
       {std::string("not json"), std::string("[]"), std::string(R"({"username":"basil"})"),
        std::string(R"({"password":"x"})"), std::string(R"({"username":7,"password":"x"})"),
        R"({"username":"basil","password":")" + std::string(5000, 'p') + R"("})"}) {
    auto r = internal("POST", "/users/authenticate", body);
    EXPECT_EQ(r.status, 400) << body.substr(0, 60);
    EXPECT_EQ(parse(r).at("code"), 400);
  }
}

// The developer portal revokes an API key by its jti (TokensRepository::revoke_jti), exactly as
// an OAuth token: gateways that start after the revocation learn it from this list.
TEST_F(InternalApiTest, RevokedTokensListRevokedApiKeysUntilTheyExpire) {
  store::TokensRepository tokens(*db_);
  std::int64_t now = unix_now();
  tokens.revoke_jti("api-key-jti", now + 3600, now);
  tokens.revoke_jti("expired-api-key-jti", now - 1, now - 100);
  auto r = internal("GET", "/revoked-tokens");
  ASSERT_EQ(r.status, 200) << r.body;
  auto list = parse(r).at("list").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("jti"), "api-key-jti");
  EXPECT_EQ(list[0].at("expiresAt"), now + 3600);
}

TEST_F(AdminTest, DeletingAUserPublishesUserDeleted) {
  auto user = key_manager_->users().create("doomed", "doomed-password", {"subscriber"});
  ASSERT_EQ(call("DELETE", "/scim2/Users/" + user.id).status, 204);
  ASSERT_EQ(event_types(), (std::vector<std::string>{"user.deleted"}));
  EXPECT_EQ(json::value(payload(0)), json::parse(R"({"username":"doomed"})"));
  // Refused deletions publish nothing.
  clear_events();
  EXPECT_EQ(call("DELETE", "/scim2/Users/" + user.id).status, 404);
  auto self = key_manager_->users().find("admin");
  ASSERT_TRUE(self);
  EXPECT_EQ(call("DELETE", "/scim2/Users/" + self->id).status, 409);
  EXPECT_TRUE(event_types().empty());
}

TEST_F(AdminTest, ChangingAPasswordOrRolesPublishesUserUpdated) {
  auto user = key_manager_->users().create("changing", "old-password", {"subscriber"});
  const std::string path = "/scim2/Users/" + user.id;
  auto patch = [&](const std::string& operations) {
    return call("PATCH", path,
                R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":)" +
                    operations + "}");
  };
  ASSERT_EQ(patch(R"([{"op":"replace","path":"password","value":"new-password"}])").status, 200);
  ASSERT_EQ(patch(R"([{"op":"add","path":"roles","value":[{"value":"creator"}]}])").status, 200);
  // Nothing changes: no event.
  ASSERT_EQ(patch(R"([{"op":"add","path":"roles","value":[{"value":"creator"}]}])").status, 200);
  EXPECT_EQ(event_types(), (std::vector<std::string>{"user.updated", "user.updated"}));
  EXPECT_EQ(json::value(payload(1)), json::parse(R"({"username":"changing"})"));
}

TEST(VirtualHostTest, UrlsLeaveOutTheSchemesDefaultPortAndAddTheContext) {
  VirtualHost v{"gw.example.com", "", 80, 443};
  EXPECT_EQ(v.http_url(), "http://gw.example.com");
  EXPECT_EQ(v.https_url(), "https://gw.example.com");
  v = {"gw.example.com", "gw", 8080, 8443};
  EXPECT_EQ(v.http_url(), "http://gw.example.com:8080/gw");
  EXPECT_EQ(v.https_url(), "https://gw.example.com:8443/gw");
  v.http_context = "/gw";
  EXPECT_EQ(v.https_url(), "https://gw.example.com:8443/gw");
  v.http_context = "/";
  EXPECT_EQ(v.https_url(), "https://gw.example.com:8443");
}

TEST(EnvironmentTest, AnUnknownVhostFallsBackToTheDefaultOne) {
  Environment e{
      "id", "internal", "Internal", {{"a.example", "", 80, 443}, {"b.example", "", 81, 443}}};
  EXPECT_EQ(e.vhost("b.example").http_port, 81);
  EXPECT_EQ(e.vhost("c.example").host, "a.example");
}

}  // namespace
}  // namespace portico::admin
