#include "gateway/filter_auth.h"

#include <gtest/gtest.h>

#include <deque>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

namespace json = boost::json;
using namespace filter_test;

class AuthFilterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Call> get(
      std::string_view target,
      std::initializer_list<std::pair<std::string_view, std::string_view>> headers = {}) {
    return call(snapshot_, "GET", target, headers);
  }

  std::string bearer(const std::string& token) {
    held_.push_back("Bearer " + token);
    return held_.back();
  }

  void expect_invalid(const Call& c, std::string_view challenge = challenge::kBearerInvalid) {
    EXPECT_EQ(c.ctx.reply.status, 401);
    EXPECT_EQ(c.ctx.reply.code, 900901);
    EXPECT_EQ(c.ctx.reply.message, "Invalid Credentials");
    EXPECT_EQ(c.ctx.reply.description,
              "Invalid Credentials. Make sure you have provided the correct security credentials");
    EXPECT_EQ(c.ctx.reply.error_type, "AUTH");
    EXPECT_EQ(reply_headers(c.ctx.reply, "WWW-Authenticate"),
              std::vector<std::string>{std::string(challenge)});
    EXPECT_EQ(c.ctx.principal, nullptr);
  }

  AuthEnvironment env_;
  std::shared_ptr<Snapshot> snapshot_ = snapshot_with();
  AuthFilter filter_{env_.authenticator(), true};
  std::deque<std::string> held_;  // header values the calls point into
};

TEST_F(AuthFilterTest, AResourceWithAuthTypeNoneIsCalledAnonymously) {
  auto c = get("/pets/1.0.0/open");
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  EXPECT_EQ(c->ctx.principal, nullptr);
  EXPECT_EQ(c->ctx.application, nullptr);
  EXPECT_FALSE(c->ctx.strip_authorization);
}

TEST_F(AuthFilterTest, APrototypedApiWithoutAuthenticationIsCalledAnonymously) {
  auto api = pet_api();
  api->lifecycle = "PROTOTYPED";
  api->prototype_without_auth = true;
  snapshot_ = snapshot_with(api);
  auto c = get("/pets/1.0.0/items");
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  EXPECT_EQ(c->ctx.principal, nullptr);
}

TEST_F(AuthFilterTest, NoCredentialIs401With900902AndAChallengePerScheme) {
  auto api = pet_api();
  api->basic_auth = true;
  snapshot_ = snapshot_with(api);
  auto c = get("/pets/1.0.0/items");
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 401);
  EXPECT_EQ(c->ctx.reply.code, 900902);
  EXPECT_EQ(c->ctx.reply.message, "Missing Credentials");
  EXPECT_EQ(c->ctx.reply.description,
            "Invalid Credentials. Make sure your API invocation call has a header: "
            "'Authorization : Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN' or "
            "'apikey : API_KEY'");
  EXPECT_EQ(reply_headers(c->ctx.reply, "WWW-Authenticate"),
            (std::vector<std::string>{R"(Bearer realm="portico")", R"(Basic realm="portico")",
                                      R"(APIKey realm="portico")"}));
}

TEST_F(AuthFilterTest, TheMissingCredentialsTextNamesTheApisOwnHeaders) {
  auto api = pet_api();
  api->authorization_header = "X-Auth";
  api->api_key = false;
  snapshot_ = snapshot_with(api);
  auto c = get("/pets/1.0.0/items", {{"Authorization", "Bearer abc"}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.code, 900902);
  EXPECT_EQ(c->ctx.reply.description,
            "Invalid Credentials. Make sure your API invocation call has a header: "
            "'X-Auth : Bearer ACCESS_TOKEN'");
  EXPECT_EQ(reply_headers(c->ctx.reply, "WWW-Authenticate"),
            std::vector<std::string>{R"(Bearer realm="portico")"});
}

TEST_F(AuthFilterTest, ASchemeTheApiDoesNotAcceptCountsAsNoCredential) {
  auto c = get("/pets/1.0.0/items", {{"Authorization", "Basic YWxpY2U6c2VjcmV0"}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.code, 900902);
}

TEST_F(AuthFilterTest, AValidTokenSetsTheCallerAndDropsTheHeader) {
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(env_.token())}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  ASSERT_NE(c->ctx.principal, nullptr);
  EXPECT_EQ(c->ctx.principal->client_id, "client-prod");
  ASSERT_NE(c->ctx.application, nullptr);
  EXPECT_EQ(c->ctx.application->id, "app-1");
  EXPECT_EQ(c->ctx.key_type, "PRODUCTION");
  EXPECT_EQ(c->ctx.user, "carol");
  EXPECT_TRUE(c->ctx.strip_authorization);
  EXPECT_EQ(c->ctx.credential_header, "Authorization");
  EXPECT_FALSE(c->ctx.credential_in_query);
  EXPECT_EQ(c->ctx.reply.status, 0);
}

TEST_F(AuthFilterTest, TheBearerSchemeIsCaseInsensitive) {
  std::string header = "bEaReR   " + env_.token();
  auto c = get("/pets/1.0.0/items", {{"Authorization", header}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  EXPECT_NE(c->ctx.principal, nullptr);
}

TEST_F(AuthFilterTest, StripAuthorizationOffForwardsTheHeader) {
  AuthFilter keep(env_.authenticator(), false);
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(env_.token())}});
  EXPECT_EQ(run(keep, c->ctx), FilterStatus::kContinue);
  EXPECT_FALSE(c->ctx.strip_authorization);
}

TEST_F(AuthFilterTest, AnApplicationTokensUserIsTheApplicationsOwner) {
  auto token = env_.token([](json::object& c) {
    c["aut"] = "APPLICATION";
    c["sub"] = "bob";
  });
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  EXPECT_EQ(c->ctx.user, "bob");
}

TEST_F(AuthFilterTest, TheClientsKeyMappingDecidesTheKeyType) {
  auto token = env_.token([](json::object& c) {
    c["client_id"] = "client-sbx";
    c["keytype"] = "PRODUCTION";
  });
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  EXPECT_EQ(c->ctx.key_type, "SANDBOX");
}

TEST_F(AuthFilterTest, ABadSignatureIs401With900901AndInvalidToken) {
  // Same kid, another key: what a forger would try.
  auto other = jwt::SigningKey::generate(jwt::Algorithm::RS256, "km-1");
  boost::json::object claims{{"sub", "carol"},
                             {"aud", "client-prod"},
                             {"client_id", "client-prod"},
                             {"jti", "j"},
                             {"exp", kNow + 3600}};
  auto c = get("/pets/1.0.0/items",
               {{"Authorization", bearer(other.encode(boost::json::serialize(claims)))}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  expect_invalid(*c);
}

TEST_F(AuthFilterTest, AnExpiredTokenIs401With900901) {
  auto token = env_.token([](json::object& c) { c["exp"] = kNow - 3600; });
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  expect_invalid(*c);
}

TEST_F(AuthFilterTest, ARevokedTokenIs401With900901) {
  auto token = env_.token([](json::object& c) { c["jti"] = "revoked-jti"; });
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(token)}});
  auto revoked = std::make_shared<RevokedTokens>();
  revoked->jtis["revoked-jti"] = kNow + 3600;
  c->ctx.revoked = revoked;
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  expect_invalid(*c);
}

TEST_F(AuthFilterTest, AClientTheGatewayDoesNotKnowIs403With900908) {
  auto token = env_.token([](json::object& c) { c["client_id"] = "client-unknown"; });
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 403);
  EXPECT_EQ(c->ctx.reply.code, 900908);
  EXPECT_EQ(c->ctx.reply.message, "Resource forbidden");
  EXPECT_TRUE(reply_headers(c->ctx.reply, "WWW-Authenticate").empty());
}

TEST_F(AuthFilterTest, AClientOfAnApplicationTheGatewayDoesNotKnowIs403With900908) {
  auto token = env_.token([](json::object& c) { c["client_id"] = "client-orphan"; });
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 403);
  EXPECT_EQ(c->ctx.reply.code, 900908);
}

TEST_F(AuthFilterTest, AUserTokenOnAnApplicationOnlyResourceIs401With900905) {
  auto c = get("/pets/1.0.0/apponly", {{"Authorization", bearer(env_.token())}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 401);
  EXPECT_EQ(c->ctx.reply.code, 900905);
  EXPECT_EQ(c->ctx.reply.message, "Incorrect Access Token Type is provided");
  EXPECT_EQ(reply_headers(c->ctx.reply, "WWW-Authenticate"),
            std::vector<std::string>{std::string(challenge::kBearerInvalid)});
}

TEST_F(AuthFilterTest, AnApplicationTokenOnAUserOnlyResourceIs401With900905) {
  auto token = env_.token([](json::object& c) { c["aut"] = "APPLICATION"; });
  auto c = get("/pets/1.0.0/useronly", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.code, 900905);
  auto ok = get("/pets/1.0.0/apponly", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run(filter_, ok->ctx), FilterStatus::kContinue);
}

TEST_F(AuthFilterTest, AnApiKeyInItsHeaderIsCheckedAndAlwaysDropped) {
  AuthFilter keep(env_.authenticator(), false);
  auto key = env_.api_key();
  auto c = get("/pets/1.0.0/items", {{"apikey", key}});
  EXPECT_EQ(run(keep, c->ctx), FilterStatus::kContinue);
  ASSERT_NE(c->ctx.principal, nullptr);
  EXPECT_EQ(c->ctx.principal->kind, Principal::Kind::kApiKey);
  EXPECT_EQ(c->ctx.application->id, "app-1");
  EXPECT_EQ(c->ctx.user, "bob");
  EXPECT_TRUE(c->ctx.strip_authorization);
  EXPECT_EQ(c->ctx.credential_header, "apikey");
}

TEST_F(AuthFilterTest, AnApiKeyInTheQueryIsTakenWhenAllowedAndDroppedFromIt) {
  auto api = pet_api();
  api->api_key_in_query = true;
  snapshot_ = snapshot_with(api);
  std::string target = "/pets/1.0.0/items?a=1&apikey=" + env_.api_key() + "&b=2";
  auto c = get(target);
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  ASSERT_NE(c->ctx.principal, nullptr);
  EXPECT_TRUE(c->ctx.credential_in_query);
  EXPECT_EQ(c->ctx.credential_header, "apikey");
  EXPECT_FALSE(c->ctx.strip_authorization);
}

TEST_F(AuthFilterTest, AnApiKeyInTheQueryIsIgnoredUnlessAllowed) {
  std::string target = "/pets/1.0.0/items?apikey=" + env_.api_key();
  auto c = get(target);
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.code, 900902);
}

TEST_F(AuthFilterTest, AnApiKeyOutsideItsPermittedAddressesIs403With900908) {
  auto key = env_.api_key([](json::object& c) { c["permittedIP"] = "10.0.0.0/8, 192.0.2.99"; });
  auto c = get("/pets/1.0.0/items", {{"apikey", key}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 403);
  EXPECT_EQ(c->ctx.reply.code, 900908);
  EXPECT_EQ(c->ctx.reply.description, "Access forbidden for the invocations");

  auto inside =
      env_.api_key([](json::object& c) { c["permittedIP"] = "10.0.0.0/8, 192.0.2.0/24"; });
  auto ok = get("/pets/1.0.0/items", {{"apikey", inside}});
  EXPECT_EQ(run(filter_, ok->ctx), FilterStatus::kContinue);
}

TEST_F(AuthFilterTest, AnApiKeyFromAnotherRefererIs403With900908) {
  auto key =
      env_.api_key([](json::object& c) { c["permittedReferer"] = "https://shop.example/*"; });
  auto wrong = get("/pets/1.0.0/items", {{"apikey", key}, {"Referer", "https://evil.example/x"}});
  EXPECT_EQ(run(filter_, wrong->ctx), FilterStatus::kReply);
  EXPECT_EQ(wrong->ctx.reply.code, 900908);
  auto none = get("/pets/1.0.0/items", {{"apikey", key}});
  EXPECT_EQ(run(filter_, none->ctx), FilterStatus::kReply);
  EXPECT_EQ(none->ctx.reply.code, 900908);
  auto ok = get("/pets/1.0.0/items", {{"apikey", key}, {"Referer", "https://shop.example/cart"}});
  EXPECT_EQ(run(filter_, ok->ctx), FilterStatus::kContinue);
}

TEST_F(AuthFilterTest, ABearerTokenIsNotTakenForAnApiKey) {
  auto c = get("/pets/1.0.0/items", {{"apikey", env_.token()}});
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  expect_invalid(*c, challenge::kApiKey);
}

TEST_F(AuthFilterTest, AnOpaqueTokenPausesThenResumesWithTheIntrospectionsAnswer) {
  env_.control_plane().introspection["opaque-1"] =
      json::serialize(json::object{{"active", true},
                                   {"client_id", "client-prod"},
                                   {"jti", "op-1"},
                                   {"aut", "APPLICATION_USER"},
                                   {"sub", "dave"},
                                   {"scope", "read"},
                                   {"exp", kNow + 600}});
  auto c = get("/pets/1.0.0/items", {{"Authorization", "Bearer opaque-1"}});
  c->ctx.executor = env_.io().get_executor();
  int resumed = 0;
  EXPECT_EQ(filter_.on_request(c->ctx, [&] { ++resumed; }), FilterStatus::kPause);
  ASSERT_TRUE(env_.run_until([&] { return resumed > 0; }));
  EXPECT_EQ(resumed, 1);
  ASSERT_TRUE(c->ctx.resolved_auth.has_value());
  // The session asks the filter again: it consumes the answer.
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  EXPECT_FALSE(c->ctx.resolved_auth.has_value());
  ASSERT_NE(c->ctx.principal, nullptr);
  EXPECT_EQ(c->ctx.principal->kind, Principal::Kind::kOpaque);
  EXPECT_EQ(c->ctx.user, "dave");
  EXPECT_EQ(c->ctx.application->id, "app-1");

  // The answer is now cached on this thread: the next call does not pause.
  auto again = get("/pets/1.0.0/items", {{"Authorization", "Bearer opaque-1"}});
  EXPECT_EQ(run(filter_, again->ctx), FilterStatus::kContinue);
}

TEST_F(AuthFilterTest, AnInactiveOpaqueTokenIs401With900901AfterResuming) {
  auto c = get("/pets/1.0.0/items", {{"Authorization", "Bearer opaque-unknown"}});
  c->ctx.executor = env_.io().get_executor();
  bool resumed = false;
  EXPECT_EQ(filter_.on_request(c->ctx, [&] { resumed = true; }), FilterStatus::kPause);
  ASSERT_TRUE(env_.run_until([&] { return resumed; }));
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  expect_invalid(*c);
}

TEST_F(AuthFilterTest, AnUnreachableControlPlaneIs503With900900NotA401) {
  env_.control_plane().down = true;
  auto c = get("/pets/1.0.0/items", {{"Authorization", "Bearer opaque-2"}});
  c->ctx.executor = env_.io().get_executor();
  bool resumed = false;
  EXPECT_EQ(filter_.on_request(c->ctx, [&] { resumed = true; }), FilterStatus::kPause);
  ASSERT_TRUE(env_.run_until([&] { return resumed; }));
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 503);
  EXPECT_EQ(c->ctx.reply.code, 900900);
  EXPECT_EQ(c->ctx.reply.message, "Unclassified Authentication Failure");
  EXPECT_TRUE(reply_headers(c->ctx.reply, "WWW-Authenticate").empty());
}

TEST_F(AuthFilterTest, BasicCredentialsAreCheckedOnTheControlPlane) {
  auto api = pet_api();
  api->basic_auth = true;
  snapshot_ = snapshot_with(api);
  env_.control_plane().users["erin"] = {"s3cret", {"writer"}};
  std::string header = "Basic " + crypto::base64_encode("erin:s3cret");
  auto c = get("/pets/1.0.0/items", {{"Authorization", header}});
  c->ctx.executor = env_.io().get_executor();
  bool resumed = false;
  EXPECT_EQ(filter_.on_request(c->ctx, [&] { resumed = true; }), FilterStatus::kPause);
  ASSERT_TRUE(env_.run_until([&] { return resumed; }));
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
  ASSERT_NE(c->ctx.principal, nullptr);
  EXPECT_EQ(c->ctx.principal->kind, Principal::Kind::kBasic);
  EXPECT_EQ(c->ctx.user, "erin");
  EXPECT_EQ(c->ctx.application, nullptr);
  EXPECT_TRUE(c->ctx.strip_authorization);
  EXPECT_EQ(c->ctx.credential_header, "Authorization");

  std::string wrong = "Basic " + crypto::base64_encode("erin:guess");
  auto bad = get("/pets/1.0.0/items", {{"Authorization", wrong}});
  bad->ctx.executor = env_.io().get_executor();
  resumed = false;
  EXPECT_EQ(filter_.on_request(bad->ctx, [&] { resumed = true; }), FilterStatus::kPause);
  ASSERT_TRUE(env_.run_until([&] { return resumed; }));
  EXPECT_EQ(run(filter_, bad->ctx), FilterStatus::kReply);
  expect_invalid(*bad, challenge::kBasic);
}

TEST(ApiKeyRestrictions, AddressesAndBlocks) {
  EXPECT_TRUE(ip_permitted("192.0.2.10", "192.0.2.10"));
  EXPECT_TRUE(ip_permitted("10.0.0.0/8,192.0.2.0/24", "192.0.2.10"));
  EXPECT_TRUE(ip_permitted("0.0.0.0/0", "203.0.113.5"));
  EXPECT_FALSE(ip_permitted("192.0.2.0/25", "192.0.2.200"));
  EXPECT_TRUE(ip_permitted("2001:db8::/32", "2001:db8:1::7"));
  EXPECT_FALSE(ip_permitted("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(ip_permitted("192.0.2.0/24", "::ffff:192.0.2.1"));
  EXPECT_FALSE(ip_permitted("192.0.2.0/33, nonsense, 10.0.0.1/x", "192.0.2.1"));
  EXPECT_FALSE(ip_permitted("192.0.2.10", "not-an-address"));
}

TEST(ApiKeyRestrictions, RefererPatterns) {
  EXPECT_TRUE(referer_permitted("https://shop.example/*", "https://shop.example/a/b"));
  EXPECT_TRUE(
      referer_permitted("www.other.example, https://shop.example/*", "https://shop.example/"));
  EXPECT_FALSE(referer_permitted("https://shop.example/*", "https://shop.example/a b"));
  EXPECT_FALSE(referer_permitted("https://shop.example/*", "http://shop.example/a"));
  EXPECT_FALSE(referer_permitted("https://shop.example/*", std::nullopt));
}

// Read-your-writes: a client the snapshot does not know is asked of the control plane once.
class AuthFilterMissTest : public AuthFilterTest {
 protected:
  AuthFilterMissTest() {
    env_.control_plane().items["/internal/data/v1/clients/client-new/application"] =
        R"({"id":"app-new","name":"fresh","owner":"erin","status":"APPROVED",
            "keyMappings":[{"applicationId":"app-new","keyType":"SANDBOX",
                            "clientId":"client-new"}],
            "subscriptions":[]})";
  }
  // Runs the filter as the session does: again after each resume.
  FilterStatus run_paused(Call& c) {
    c.ctx.executor = env_.io().get_executor();
    for (int round = 0; round < 3; ++round) {
      bool resumed = false;
      FilterStatus status = miss_filter_.on_request(c.ctx, [&] { resumed = true; });
      if (status != FilterStatus::kPause) return status;
      ++pauses_;
      EXPECT_TRUE(env_.run_until([&] { return resumed; }));
    }
    return FilterStatus::kPause;
  }

  ControlPlaneWorker worker_;
  std::vector<std::string> learned_;
  MissLookup lookup_{MissLookupOptions{std::chrono::seconds(60)}, env_.control_plane(), worker_,
                     [this](const ApplicationRecord& r, const boost::json::value&) {
                       learned_.push_back(r.application.id);
                     }};
  AuthFilter miss_filter_{env_.authenticator(), true, &lookup_};
  int pauses_ = 0;
};

TEST_F(AuthFilterMissTest, AClientMadeAMomentAgoIsAskedForAndAccepted) {
  auto token = env_.token([](json::object& c) { c["client_id"] = "client-new"; });
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run_paused(*c), FilterStatus::kContinue);
  EXPECT_EQ(pauses_, 1);
  ASSERT_NE(c->ctx.application, nullptr);
  EXPECT_EQ(c->ctx.application->id, "app-new");
  EXPECT_EQ(c->ctx.key_type, "SANDBOX");
  EXPECT_EQ(c->ctx.user, "carol");
  EXPECT_EQ(learned_, std::vector<std::string>{"app-new"});
}

TEST_F(AuthFilterMissTest, AClientTheControlPlaneDoesNotKnowIs403OnceAskedThenAtOnce) {
  auto token = env_.token([](json::object& c) { c["client_id"] = "client-unknown"; });
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run_paused(*c), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 403);
  EXPECT_EQ(c->ctx.reply.code, 900908);
  EXPECT_EQ(pauses_, 1);
  // Negative-cached: the next call with that client is refused without asking.
  auto again = get("/pets/1.0.0/items", {{"Authorization", bearer(token)}});
  EXPECT_EQ(run_paused(*again), FilterStatus::kReply);
  EXPECT_EQ(again->ctx.reply.code, 900908);
  EXPECT_EQ(pauses_, 1);
  EXPECT_EQ(lookup_.stats().not_found, 1u);
  EXPECT_EQ(lookup_.stats().cached, 1u);
}

TEST_F(AuthFilterMissTest, AKnownClientNeverAsks) {
  auto c = get("/pets/1.0.0/items", {{"Authorization", bearer(env_.token())}});
  EXPECT_EQ(run_paused(*c), FilterStatus::kContinue);
  EXPECT_EQ(pauses_, 0);
}

}  // namespace
}  // namespace portico::gateway
