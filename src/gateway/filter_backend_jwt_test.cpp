#include "gateway/filter_backend_jwt.h"

#include <gtest/gtest.h>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

namespace json = boost::json;
using namespace filter_test;

class BackendJwtFilterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Call> authenticated_get(std::shared_ptr<Principal> principal) {
    auto c = call(snapshot_, "GET", "/pets/1.0.0/items");
    authenticated(c->ctx, std::move(principal));
    c->ctx.subscription = &snapshot_->subscriptions["app-1"]["api-1"];
    return c;
  }

  // The token the filter put on the upstream request, verified with the gateway's key.
  json::object claims_of(const Call& c) {
    auto tokens = added(c.ctx.upstream_edits, "X-JWT-Assertion");
    EXPECT_EQ(tokens.size(), 1u);
    if (tokens.empty()) return {};
    auto decoded = jwt::decode(tokens.front());
    EXPECT_TRUE(decoded);
    if (!decoded) return {};
    EXPECT_EQ(decoded->alg, "RS256");
    EXPECT_TRUE(jwt::verify_signature(*decoded, jwt::VerificationKey::from_signing_key(key_)));
    return json::parse(decoded->payload_json).as_object();
  }

  const jwt::SigningKey& key_ = shared_key("gateway");
  std::shared_ptr<Snapshot> snapshot_ = snapshot_with();
  BackendJwtFilter filter_{key_, "X-JWT-Assertion", 900, "wso2.org/products/am"};
};

TEST_F(BackendJwtFilterTest, TheBackendGetsASignedJwtWithTheReferencesClaims) {
  auto c = authenticated_get(oauth_principal());
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  EXPECT_TRUE(removed(c->ctx.upstream_edits, "X-JWT-Assertion"));  // never the client's own
  auto claims = claims_of(*c);
  const std::string d = "http://wso2.org/claims/";
  EXPECT_EQ(claims.at("iss"), "wso2.org/products/am");
  EXPECT_EQ(claims.at("iat").as_int64(), kNow);
  EXPECT_EQ(claims.at("exp").as_int64(), kNow + 900);
  EXPECT_EQ(claims.at(d + "subscriber"), "bob");
  EXPECT_EQ(claims.at(d + "applicationid"), "app-1");
  EXPECT_EQ(claims.at(d + "applicationUUId"), "app-1");
  EXPECT_EQ(claims.at(d + "applicationname"), "shop");
  EXPECT_EQ(claims.at(d + "applicationtier"), "10PerMin");
  EXPECT_EQ(claims.at(d + "apiname"), "PetStore");
  EXPECT_EQ(claims.at(d + "apicontext"), "/pets/1.0.0");
  EXPECT_EQ(claims.at(d + "version"), "1.0.0");
  EXPECT_EQ(claims.at(d + "tier"), "Gold");
  EXPECT_EQ(claims.at(d + "keytype"), "PRODUCTION");
  EXPECT_EQ(claims.at(d + "usertype"), "APPLICATION_USER");
  EXPECT_EQ(claims.at(d + "enduser"), "carol");
  EXPECT_EQ(claims.at(d + "enduserTenantId"), "-1234");
}

TEST_F(BackendJwtFilterTest, AnApplicationTokenIsOfUserTypeApplication) {
  auto c = authenticated_get(oauth_principal(false));
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  auto claims = claims_of(*c);
  EXPECT_EQ(claims.at("http://wso2.org/claims/usertype"), "APPLICATION");
  EXPECT_EQ(claims.at("http://wso2.org/claims/enduser"), "bob");
}

TEST_F(BackendJwtFilterTest, TheTokenIsReusedForTheSameCallerUntilShortlyBeforeItExpires) {
  auto first = authenticated_get(oauth_principal());
  EXPECT_EQ(run(filter_, first->ctx), FilterStatus::kContinue);
  auto second = authenticated_get(oauth_principal());
  second->ctx.now_ms += 60'000;
  EXPECT_EQ(run(filter_, second->ctx), FilterStatus::kContinue);
  EXPECT_EQ(added(first->ctx.upstream_edits, "X-JWT-Assertion"),
            added(second->ctx.upstream_edits, "X-JWT-Assertion"));
  // 900 s tokens are renewed 60 s before they expire.
  auto later = authenticated_get(oauth_principal());
  later->ctx.now_ms += 840'000;
  EXPECT_EQ(run(filter_, later->ctx), FilterStatus::kContinue);
  EXPECT_NE(added(first->ctx.upstream_edits, "X-JWT-Assertion"),
            added(later->ctx.upstream_edits, "X-JWT-Assertion"));
  EXPECT_EQ(claims_of(*later).at("exp").as_int64(), kNow + 840 + 900);
}

TEST_F(BackendJwtFilterTest, ANewSnapshotMakesANewToken) {
  auto first = authenticated_get(oauth_principal());
  EXPECT_EQ(run(filter_, first->ctx), FilterStatus::kContinue);
  snapshot_ = snapshot_with();
  snapshot_->version = 8;
  snapshot_->subscriptions["app-1"]["api-1"].throttling_policy = "Silver";
  auto second = authenticated_get(oauth_principal());
  EXPECT_EQ(run(filter_, second->ctx), FilterStatus::kContinue);
  EXPECT_EQ(claims_of(*second).at("http://wso2.org/claims/tier"), "Silver");
}

TEST_F(BackendJwtFilterTest, AnAnonymousCallCarriesNoAssertion) {
  auto c = call(snapshot_, "GET", "/pets/1.0.0/open", {{"X-JWT-Assertion", "forged"}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  EXPECT_TRUE(removed(c->ctx.upstream_edits, "X-JWT-Assertion"));
  EXPECT_TRUE(added(c->ctx.upstream_edits, "X-JWT-Assertion").empty());
}

}  // namespace
}  // namespace portico::gateway
