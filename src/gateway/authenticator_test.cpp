#include "gateway/authenticator.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "common/crypto.h"
#include "common/jwt.h"
#include "gateway/jwt_validator.h"
#include "http/message.h"

namespace json = boost::json;

namespace portico::gateway {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::string_view kIssuer = "https://km.example/oauth2/token";

// The control plane as the authenticator sees it: JWKS, introspection and the user check,
// counting what it is asked.
class FakeControlPlane : public ControlPlane {
 public:
  ControlPlaneResponse call(std::string_view method, std::string_view path,
                            std::string_view content_type, std::string_view body,
                            bool internal_credential) override {
    std::lock_guard lock(mutex);
    paths.emplace_back(path);
    if (path == "/oauth2/jwks") {
      ++jwks_fetches;
      if (method != "GET") return {405, ""};
      return {jwks_status, jwks};
    }
    if (path == "/oauth2/introspect") {
      ++introspections;
      if (method != "POST" || content_type != "application/x-www-form-urlencoded" ||
          !internal_credential)
        return {401, R"({"error":"invalid_client"})"};
      if (introspection_status != 200) return {introspection_status, ""};
      auto form = http::parse_form(body);
      if (!form || form->count("token") != 1) return {400, R"({"error":"invalid_request"})"};
      auto it = introspection.find(form->find("token")->second);
      return {200, it == introspection.end() ? R"({"active":false})" : it->second};
    }
    if (path == "/internal/data/v1/users/authenticate") {
      ++user_checks;
      if (method != "POST" || content_type != "application/json" || !internal_credential)
        return {401, "The internal data API needs the gateway credential of [internal_api]"};
      if (user_status != 200) return {user_status, user_body};
      auto request = json::parse(body).as_object();
      auto it = users.find(std::string(request.at("username").as_string()));
      if (it == users.end() || it->second != request.at("password").as_string())
        return {401, R"({"code":900901,"description":"The username or password is not valid"})"};
      return {200, json::serialize(json::object{{"username", it->first},
                                                {"roles", json::array{"subscriber"}}})};
    }
    return {404, ""};
  }

  std::mutex mutex;
  std::vector<std::string> paths;
  std::string jwks;
  int jwks_status = 200;
  std::atomic<int> jwks_fetches{0};
  std::map<std::string, std::string> introspection;  // token → answer
  int introspection_status = 200;
  std::atomic<int> introspections{0};
  std::map<std::string, std::string> users;  // username → password
  int user_status = 200;
  std::string user_body;
  std::atomic<int> user_checks{0};
};

std::string jwks_of(std::initializer_list<const jwt::SigningKey*> keys) {
  std::string out = R"({"keys":[)";
  for (const auto* key : keys) {
    if (out.back() != '[') out += ',';
    out += key->public_jwk_json();
  }
  return out + "]}";
}

// A compact JWS with any header, signed by `key`: how an attacker builds tokens.
std::string sign_raw(const jwt::SigningKey& key, std::string_view header,
                     std::string_view payload) {
  std::string input = crypto::base64url_encode(header) + "." + crypto::base64url_encode(payload);
  return input + "." + crypto::base64url_encode(key.sign(input));
}

std::string public_pem(const jwt::SigningKey& key) {
  std::string private_pem = key.private_pem();
  BIO* in = BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(out, pkey);
  char* data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(out);
  EVP_PKEY_free(pkey);
  BIO_free(in);
  return pem;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new jwt::SigningKey(jwt::SigningKey::generate(jwt::Algorithm::RS256, "k1"));
    rsa2_ = new jwt::SigningKey(jwt::SigningKey::generate(jwt::Algorithm::RS256, "k2"));
    rsa3_ = new jwt::SigningKey(jwt::SigningKey::generate(jwt::Algorithm::RS256, "k3"));
    ec_ = new jwt::SigningKey(jwt::SigningKey::generate(jwt::Algorithm::ES256, "e1"));
    attacker_ = new jwt::SigningKey(jwt::SigningKey::generate(jwt::Algorithm::RS256, "k1"));
  }

  void SetUp() override {
    cp_.jwks = jwks_of({rsa_, ec_});
    auth_ = make();
  }

  std::unique_ptr<Authenticator> make(AuthenticatorOptions options = {}) {
    if (options.issuer.empty()) options.issuer = kIssuer;
    auto auth = std::make_unique<Authenticator>(options, cp_, worker_);
    EXPECT_TRUE(auth->load_jwks());
    return auth;
  }

  static json::object access_claims() {
    return json::object{{"iss", kIssuer},
                        {"sub", "alice"},
                        {"aud", "client-1"},
                        {"azp", "client-1"},
                        {"client_id", "client-1"},
                        {"scope", "default read:pets write:pets"},
                        {"aut", "APPLICATION_USER"},
                        {"keytype", "production"},
                        {"iat", kNow - 10},
                        {"nbf", kNow - 10},
                        {"exp", kNow + 3600},
                        {"jti", "jti-1"},
                        {"application", json::object{{"uuid", "app-1"}, {"name", "PetApp"}}}};
  }

  static json::object api_key_claims() {
    return json::object{
        {"iss", kIssuer},
        {"sub", "alice"},
        {"keytype", "SANDBOX"},
        {"token_type", "apiKey"},
        {"application",
         json::object{{"id", "app-1"}, {"uuid", "app-1"}, {"name", "PetApp"}, {"owner", "alice"}}},
        {"subscribedAPIs", json::array{}},
        {"iat", kNow - 10},
        {"exp", kNow + 3600},
        {"jti", "key-1"},
        {"permittedIP", "10.0.0.0/8"},
        {"permittedReferer", "www.example.com/*"}};
  }

  static std::string token(const json::object& claims, const jwt::SigningKey& key = *rsa_) {
    return key.encode(json::serialize(claims));
  }

  std::optional<AuthResult> bearer(std::string_view value, std::int64_t now = kNow,
                                   Authenticator* auth = nullptr) {
    return (auth ? *auth : *auth_).try_now(Credential{Credential::Kind::kBearer, value}, now);
  }

  // resolve() with the fixture's io_context run on this thread, as an I/O thread would run
  // it. The io_context outlives the worker (declared before it), as a gateway's do: the
  // worker may still be inside post() when the answer has already run.
  AuthResult resolve(Credential credential, std::int64_t now = kNow,
                     Authenticator* auth = nullptr) {
    io_.restart();
    auto guard = boost::asio::make_work_guard(io_);
    std::optional<AuthResult> out;
    (auth ? *auth : *auth_).resolve(credential, now, io_.get_executor(), [&](AuthResult r) {
      out = std::move(r);
      guard.reset();
    });
    io_.run_for(std::chrono::seconds(10));
    EXPECT_TRUE(out.has_value()) << "resolve never answered";
    return out.value_or(AuthResult{});
  }

  static void expect_invalid(const std::optional<AuthResult>& r) {
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, AuthResult::Status::kInvalid) << r->detail;
    EXPECT_EQ(r->principal, nullptr);
  }

  static inline jwt::SigningKey* rsa_ = nullptr;
  static inline jwt::SigningKey* rsa2_ = nullptr;
  static inline jwt::SigningKey* rsa3_ = nullptr;
  static inline jwt::SigningKey* ec_ = nullptr;
  static inline jwt::SigningKey* attacker_ = nullptr;  // same kid as rsa_, another key

  FakeControlPlane cp_;
  boost::asio::io_context io_;
  ControlPlaneWorker worker_;
  std::unique_ptr<Authenticator> auth_;
};

// ---- JWT access tokens ---------------------------------------------------------------------

TEST_F(AuthenticatorTest, AValidJwtGivesAFullPrincipal) {
  auto r = bearer(token(access_claims()));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->status, AuthResult::Status::kOk) << r->detail;
  const Principal& p = *r->principal;
  EXPECT_EQ(p.kind, Principal::Kind::kJwt);
  EXPECT_EQ(p.jti, "jti-1");
  EXPECT_EQ(p.client_id, "client-1");
  EXPECT_EQ(p.application_id, "");  // an OAuth client's application comes from the snapshot
  EXPECT_EQ(p.key_type, "PRODUCTION");
  EXPECT_EQ(p.user, "alice");
  EXPECT_TRUE(p.application_user);
  EXPECT_EQ(p.scopes, (std::vector<std::string>{"default", "read:pets", "write:pets"}));
  EXPECT_EQ(p.expires_at, kNow + 3600);
  EXPECT_EQ(p.claims.at("application").at("uuid").as_string(), "app-1");
  EXPECT_EQ(cp_.jwks_fetches, 1);  // the start-up load only
}

TEST_F(AuthenticatorTest, AnApplicationTokenHasNoEndUser) {
  auto claims = access_claims();
  claims["aut"] = "APPLICATION";
  auto r = bearer(token(claims));
  ASSERT_EQ(r->status, AuthResult::Status::kOk);
  EXPECT_FALSE(r->principal->application_user);
  EXPECT_EQ(r->principal->user, "");
}

TEST_F(AuthenticatorTest, AnEs256TokenVerifiesWithItsKey) {
  EXPECT_EQ(bearer(token(access_claims(), *ec_))->status, AuthResult::Status::kOk);
}

TEST_F(AuthenticatorTest, ExpiredBeyondTheLeewayIsInvalid) {
  auto claims = access_claims();
  claims["exp"] = kNow - 61;
  expect_invalid(bearer(token(claims)));
}

TEST_F(AuthenticatorTest, ExpiredWithinTheLeewayIsValid) {
  auto claims = access_claims();
  claims["exp"] = kNow - 59;
  EXPECT_EQ(bearer(token(claims))->status, AuthResult::Status::kOk);
}

TEST_F(AuthenticatorTest, ACachedTokenStopsAtItsExpiryPlusLeeway) {
  auto t = token(access_claims());
  EXPECT_EQ(bearer(t)->status, AuthResult::Status::kOk);
  EXPECT_EQ(bearer(t, kNow + 3600 + 59)->status, AuthResult::Status::kOk);
  expect_invalid(bearer(t, kNow + 3600 + 60));
}

TEST_F(AuthenticatorTest, NotBeforeInTheFutureIsInvalidUntilItsTime) {
  auto claims = access_claims();
  claims["nbf"] = kNow + 120;
  auto t = token(claims);
  expect_invalid(bearer(t));
  // Not remembered as a refusal: valid once nbf minus the leeway has come.
  EXPECT_EQ(bearer(t, kNow + 60)->status, AuthResult::Status::kOk);
}

TEST_F(AuthenticatorTest, AMissingExpIsInvalid) {
  auto claims = access_claims();
  claims.erase("exp");
  expect_invalid(bearer(token(claims)));
}

TEST_F(AuthenticatorTest, AWrongIssuerIsInvalid) {
  auto claims = access_claims();
  claims["iss"] = "https://evil.example/oauth2/token";
  expect_invalid(bearer(token(claims)));
}

TEST_F(AuthenticatorTest, AnyIssuerIsAcceptedWhenNoneIsConfigured) {
  AuthenticatorOptions options;
  options.issuer = "";
  Authenticator any(options, cp_, worker_);
  ASSERT_TRUE(any.load_jwks());
  auto claims = access_claims();
  claims["iss"] = "https://other.example/oauth2/token";
  EXPECT_EQ(bearer(token(claims), kNow, &any)->status, AuthResult::Status::kOk);
}

TEST_F(AuthenticatorTest, AudienceMustBeAStringOrAnArrayOfStrings) {
  auto claims = access_claims();
  claims["aud"] = json::array{"client-1", "https://api.example"};
  EXPECT_EQ(bearer(token(claims))->status, AuthResult::Status::kOk);
  claims.erase("aud");
  expect_invalid(bearer(token(claims)));
  claims["aud"] = 42;
  expect_invalid(bearer(token(claims)));
  claims["aud"] = json::array{};
  expect_invalid(bearer(token(claims)));
}

TEST_F(AuthenticatorTest, ClientIdFallsBackToAzp) {
  auto claims = access_claims();
  claims.erase("client_id");
  claims["aud"] = json::array{"https://api.example"};
  auto r = bearer(token(claims));
  ASSERT_EQ(r->status, AuthResult::Status::kOk);
  EXPECT_EQ(r->principal->client_id, "client-1");
  claims.erase("azp");
  expect_invalid(bearer(token(claims)));  // no client named anywhere
}

TEST_F(AuthenticatorTest, AMissingJtiIsInvalid) {
  auto claims = access_claims();
  claims.erase("jti");
  expect_invalid(bearer(token(claims)));
}

TEST_F(AuthenticatorTest, TypMustBeJwtOrAtJwt) {
  auto payload = json::serialize(access_claims());
  EXPECT_EQ(
      bearer(sign_raw(*rsa_, R"({"alg":"RS256","typ":"at+jwt","kid":"k1"})", payload))->status,
      AuthResult::Status::kOk);
  EXPECT_EQ(bearer(sign_raw(*rsa_, R"({"alg":"RS256","kid":"k1"})", payload))->status,
            AuthResult::Status::kOk);
  expect_invalid(bearer(sign_raw(*rsa_, R"({"alg":"RS256","typ":"JWE","kid":"k1"})", payload)));
}

TEST_F(AuthenticatorTest, AlgNoneIsRefused) {
  std::string input = crypto::base64url_encode(R"({"alg":"none","typ":"JWT","kid":"k1"})") + "." +
                      crypto::base64url_encode(json::serialize(access_claims()));
  expect_invalid(bearer(input + "."));
  expect_invalid(bearer(input + "." + crypto::base64url_encode("x")));
}

TEST_F(AuthenticatorTest, Hs256WithThePublicKeyAsSecretIsRefused) {
  std::string secret = public_pem(*rsa_);
  std::string input = crypto::base64url_encode(R"({"alg":"HS256","typ":"JWT","kid":"k1"})") + "." +
                      crypto::base64url_encode(json::serialize(access_claims()));
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  std::string forged =
      input + "." + crypto::base64url_encode(std::string(reinterpret_cast<char*>(mac), len));
  expect_invalid(bearer(forged));
  // Also with the JWK text as the secret.
  secret = rsa_->public_jwk_json();
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  expect_invalid(bearer(input + "." +
                        crypto::base64url_encode(std::string(reinterpret_cast<char*>(mac), len))));
}

TEST_F(AuthenticatorTest, AnRs256HeaderOnAnEs256KeyIsRefused) {
  // kid e1 is an ES256 key; the token claims RS256 and is signed with an RSA key.
  auto forged = sign_raw(*rsa_, R"({"alg":"RS256","typ":"JWT","kid":"e1"})",
                         json::serialize(access_claims()));
  expect_invalid(bearer(forged));
}

TEST_F(AuthenticatorTest, ATamperedPayloadIsRefused) {
  auto t = token(access_claims());
  auto first = t.find('.'), second = t.rfind('.');
  auto claims = access_claims();
  claims["scope"] = "admin";
  std::string tampered =
      t.substr(0, first + 1) + crypto::base64url_encode(json::serialize(claims)) + t.substr(second);
  expect_invalid(bearer(tampered));
}

TEST_F(AuthenticatorTest, MalformedTokensAreInvalidAtOnce) {
  for (std::string bad : {"a.b.c", "!!!.***.###", "..", "e30.e30.", "e30.bm90IGpzb24.AAAA",
                          "eyJhbGciOiJSUzI1NiJ9.W10.AAAA"}) {
    auto r = bearer(bad);
    ASSERT_TRUE(r.has_value()) << bad;
    EXPECT_EQ(r->status, AuthResult::Status::kInvalid) << bad;
  }
  expect_invalid(bearer(""));
  expect_invalid(bearer(std::string(20000, 'a') + ".b.c"));
  EXPECT_EQ(cp_.jwks_fetches, 1);
}

TEST_F(AuthenticatorTest, AnUnknownKidIsResolvedByOneRefetch) {
  auto t = token(access_claims(), *rsa2_);
  EXPECT_FALSE(bearer(t).has_value());  // needs the control plane
  cp_.jwks = jwks_of({rsa_, rsa2_});
  auto r = resolve({Credential::Kind::kBearer, t});
  ASSERT_EQ(r.status, AuthResult::Status::kOk) << r.detail;
  EXPECT_EQ(cp_.jwks_fetches, 2);
  // The answer went into this thread's cache, and the new key serves at once.
  EXPECT_EQ(bearer(t)->principal, r.principal);
  EXPECT_EQ(bearer(token(access_claims(), *rsa2_))->status, AuthResult::Status::kOk);
}

TEST_F(AuthenticatorTest, ASecondUnknownKidWithinTheRefetchPeriodIsRefusedWithoutAFetch) {
  auto first = token(access_claims(), *rsa2_);
  EXPECT_FALSE(bearer(first).has_value());
  EXPECT_EQ(resolve({Credential::Kind::kBearer, first}).status, AuthResult::Status::kInvalid);
  EXPECT_EQ(cp_.jwks_fetches, 2);
  auto second = token(access_claims(), *rsa3_);
  expect_invalid(bearer(second, kNow + 29));
  EXPECT_EQ(resolve({Credential::Kind::kBearer, second}, kNow + 29).status,
            AuthResult::Status::kInvalid);
  EXPECT_EQ(cp_.jwks_fetches, 2);
  // Once the period is over, an unknown kid may refetch again.
  cp_.jwks = jwks_of({rsa_, rsa3_});
  EXPECT_FALSE(bearer(second, kNow + 30).has_value());
  EXPECT_EQ(resolve({Credential::Kind::kBearer, second}, kNow + 30).status,
            AuthResult::Status::kOk);
  EXPECT_EQ(cp_.jwks_fetches, 3);
}

TEST_F(AuthenticatorTest, AnUnknownKidWhileTheControlPlaneIsDownIsUnavailable) {
  cp_.jwks_status = 0;
  auto t = token(access_claims(), *rsa2_);
  EXPECT_EQ(resolve({Credential::Kind::kBearer, t}).status, AuthResult::Status::kUnavailable);
  // Within the period, the same answer without asking again: not "invalid".
  EXPECT_EQ(bearer(t, kNow + 1)->status, AuthResult::Status::kUnavailable);
  EXPECT_EQ(cp_.jwks_fetches, 2);
}

TEST_F(AuthenticatorTest, EmbeddedJwkAndJkuHeadersAreNeverFollowed) {
  json::value jwk = json::parse(attacker_->public_jwk_json());
  // The attacker's key carries the kid of a real key and is embedded in the header.
  json::object header{{"alg", "RS256"},
                      {"typ", "JWT"},
                      {"kid", "k1"},
                      {"jwk", jwk},
                      {"jku", "https://evil.example/jwks"},
                      {"x5u", "https://evil.example/cert"}};
  auto forged = sign_raw(*attacker_, json::serialize(header), json::serialize(access_claims()));
  expect_invalid(bearer(forged));
  // With a kid nobody knows, only the configured JWKS is fetched, and the token still fails.
  header["kid"] = "attacker";
  forged = sign_raw(*attacker_, json::serialize(header), json::serialize(access_claims()));
  EXPECT_FALSE(bearer(forged).has_value());
  EXPECT_EQ(resolve({Credential::Kind::kBearer, forged}).status, AuthResult::Status::kInvalid);
  std::lock_guard lock(cp_.mutex);
  EXPECT_EQ(cp_.paths, (std::vector<std::string>{"/oauth2/jwks", "/oauth2/jwks"}));
}

TEST_F(AuthenticatorTest, ACacheHitReturnsTheSamePrincipalWithoutVerifying) {
  auto t = token(access_claims());
  auto first = bearer(t);
  ASSERT_EQ(first->status, AuthResult::Status::kOk);
  // A verification builds a new Principal; the same pointer means none happened.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bearer(t, kNow + i)->principal, first->principal);
  EXPECT_EQ(cp_.jwks_fetches, 1);
}

TEST_F(AuthenticatorTest, AKeyWithdrawnFromTheJwksStopsItsCachedTokens) {
  auto t = token(access_claims());
  ASSERT_EQ(bearer(t)->status, AuthResult::Status::kOk);
  cp_.jwks = jwks_of({ec_});
  ASSERT_TRUE(auth_->load_jwks());
  EXPECT_FALSE(bearer(t).has_value());  // kid k1 is now unknown
}

TEST_F(AuthenticatorTest, EachThreadHasItsOwnCache) {
  auto t = token(access_claims());
  auto here = bearer(t);
  std::shared_ptr<const Principal> there;
  std::thread([&] { there = bearer(t)->principal; }).join();
  ASSERT_NE(there, nullptr);
  EXPECT_NE(there, here->principal);
}

TEST_F(AuthenticatorTest, IoThreadsKeepAnsweringWhileKeysAndUsersChange) {
  auto t = token(access_claims());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < 2000; ++n) {
        auto r = bearer(t, kNow + n % 100);
        if (!r || r->status != AuthResult::Status::kOk) ++failures;
      }
    });
  }
  for (int n = 0; n < 20; ++n) {
    EXPECT_TRUE(auth_->load_jwks());
    auth_->forget_user("user" + std::to_string(n));
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
}

TEST_F(AuthenticatorTest, ABoundedCacheStillAnswers) {
  AuthenticatorOptions options;
  options.cache_entries_per_thread = 2;
  auto small = make(options);
  std::vector<std::string> tokens;
  for (int i = 0; i < 10; ++i) {
    auto claims = access_claims();
    claims["jti"] = "jti-" + std::to_string(i);
    tokens.push_back(token(claims));
  }
  for (int round = 0; round < 2; ++round)
    for (const auto& t : tokens)
      EXPECT_EQ(bearer(t, kNow, small.get())->status, AuthResult::Status::kOk);
}

// ---- API keys ------------------------------------------------------------------------------

std::optional<AuthResult> api_key(Authenticator& auth, std::string_view value,
                                  std::int64_t now = kNow) {
  return auth.try_now(Credential{Credential::Kind::kApiKey, value}, now);
}

TEST_F(AuthenticatorTest, AValidApiKeyGivesItsApplication) {
  auto r = api_key(*auth_, token(api_key_claims()));
  ASSERT_EQ(r->status, AuthResult::Status::kOk) << r->detail;
  const Principal& p = *r->principal;
  EXPECT_EQ(p.kind, Principal::Kind::kApiKey);
  EXPECT_EQ(p.jti, "key-1");
  EXPECT_EQ(p.application_id, "app-1");
  EXPECT_EQ(p.client_id, "");
  EXPECT_EQ(p.key_type, "SANDBOX");
  EXPECT_EQ(p.user, "alice");
  EXPECT_EQ(p.permitted_ip, "10.0.0.0/8");
  EXPECT_EQ(p.permitted_referer, "www.example.com/*");
  EXPECT_EQ(p.expires_at, kNow + 3600);
}

TEST_F(AuthenticatorTest, AnExpiredApiKeyIsInvalid) {
  auto claims = api_key_claims();
  claims["exp"] = kNow - 3600;
  expect_invalid(api_key(*auth_, token(claims)));
}

TEST_F(AuthenticatorTest, AnApiKeyNeedsTokenTypeApplicationAndKeytype) {
  auto claims = api_key_claims();
  claims["token_type"] = "JWT";
  expect_invalid(api_key(*auth_, token(claims)));
  claims = api_key_claims();
  claims["application"].as_object().erase("uuid");
  expect_invalid(api_key(*auth_, token(claims)));
  claims = api_key_claims();
  claims.erase("keytype");
  expect_invalid(api_key(*auth_, token(claims)));
}

TEST_F(AuthenticatorTest, AnApiKeyIsNotABearerTokenAndViceVersa) {
  auto key = token(api_key_claims());
  expect_invalid(bearer(key));
  expect_invalid(api_key(*auth_, token(access_claims())));
  // The bearer refusal is cached apart: the same text is still a good API key.
  EXPECT_EQ(api_key(*auth_, key)->status, AuthResult::Status::kOk);
}

TEST_F(AuthenticatorTest, AnApiKeyWithAnUnknownKidResolvesLikeAToken) {
  cp_.jwks = jwks_of({rsa_, rsa2_});
  auto key = token(api_key_claims(), *rsa2_);
  EXPECT_FALSE(api_key(*auth_, key).has_value());
  auto r = resolve({Credential::Kind::kApiKey, key});
  ASSERT_EQ(r.status, AuthResult::Status::kOk) << r.detail;
  EXPECT_EQ(r.principal->application_id, "app-1");
}

// ---- opaque tokens -------------------------------------------------------------------------

constexpr std::string_view kOpaque = "q8m3Zr0-Vx7Jg2NfYc5Lw1Ht9Ks4Pd6Ba0Eu8Oi3Ty";

std::string active_answer(std::int64_t exp) {
  return json::serialize(json::object{{"active", true},
                                      {"scope", "default read:pets"},
                                      {"client_id", "client-9"},
                                      {"username", "bob"},
                                      {"sub", "bob"},
                                      {"token_type", "Bearer"},
                                      {"exp", exp},
                                      {"jti", "op-1"},
                                      {"keytype", "PRODUCTION"}});
}

TEST_F(AuthenticatorTest, AnActiveOpaqueTokenIsIntrospectedOnceAndCached) {
  cp_.introspection[std::string(kOpaque)] = active_answer(kNow + 3600);
  EXPECT_FALSE(bearer(kOpaque).has_value());
  auto r = resolve({Credential::Kind::kBearer, kOpaque});
  ASSERT_EQ(r.status, AuthResult::Status::kOk) << r.detail;
  const Principal& p = *r.principal;
  EXPECT_EQ(p.kind, Principal::Kind::kOpaque);
  EXPECT_EQ(p.client_id, "client-9");
  EXPECT_EQ(p.jti, "op-1");
  EXPECT_EQ(p.key_type, "PRODUCTION");
  EXPECT_EQ(p.scopes, (std::vector<std::string>{"default", "read:pets"}));
  EXPECT_EQ(p.expires_at, kNow + 3600);
  EXPECT_EQ(cp_.introspections, 1);
  EXPECT_EQ(bearer(kOpaque, kNow + 899)->principal, r.principal);
  // At most introspection_cache_seconds, even though the token lives longer.
  EXPECT_FALSE(bearer(kOpaque, kNow + 900).has_value());
  EXPECT_EQ(cp_.introspections, 1);
}

TEST_F(AuthenticatorTest, AnOpaqueTokenIsCachedNoLongerThanItsExpiry) {
  cp_.introspection[std::string(kOpaque)] = active_answer(kNow + 60);
  ASSERT_EQ(resolve({Credential::Kind::kBearer, kOpaque}).status, AuthResult::Status::kOk);
  EXPECT_EQ(bearer(kOpaque, kNow + 59)->status, AuthResult::Status::kOk);
  EXPECT_FALSE(bearer(kOpaque, kNow + 60).has_value());
}

TEST_F(AuthenticatorTest, TheIntrospectionRequestCarriesTheTokenAndTheInternalCredential) {
  // The fake answers 401 unless the form, the content type and the credential are right.
  std::string odd = "abc+/=%&def";
  cp_.introspection[odd] = active_answer(kNow + 60);
  EXPECT_EQ(resolve({Credential::Kind::kBearer, odd}).status, AuthResult::Status::kOk);
}

TEST_F(AuthenticatorTest, ASecondThreadFindsTheWorkersAnswer) {
  cp_.introspection[std::string(kOpaque)] = active_answer(kNow + 3600);
  ASSERT_EQ(resolve({Credential::Kind::kBearer, kOpaque}).status, AuthResult::Status::kOk);
  AuthResult there;
  std::thread([&] { there = resolve({Credential::Kind::kBearer, kOpaque}); }).join();
  EXPECT_EQ(there.status, AuthResult::Status::kOk);
  EXPECT_EQ(cp_.introspections, 1);
}

TEST_F(AuthenticatorTest, AnInactiveOpaqueTokenIsInvalidAndRememberedBriefly) {
  EXPECT_EQ(resolve({Credential::Kind::kBearer, kOpaque}).status, AuthResult::Status::kInvalid);
  expect_invalid(bearer(kOpaque, kNow + 9));
  EXPECT_EQ(cp_.introspections, 1);
  EXPECT_FALSE(bearer(kOpaque, kNow + 10).has_value());
}

TEST_F(AuthenticatorTest, ARefreshTokenIsNotAnAccessToken) {
  auto answer = json::parse(active_answer(kNow + 3600)).as_object();
  answer["token_type"] = "refresh_token";
  cp_.introspection[std::string(kOpaque)] = json::serialize(answer);
  EXPECT_EQ(resolve({Credential::Kind::kBearer, kOpaque}).status, AuthResult::Status::kInvalid);
}

TEST_F(AuthenticatorTest, AnUnreachableOrFailingIntrospectionIsUnavailableAndNotCached) {
  cp_.introspection[std::string(kOpaque)] = active_answer(kNow + 3600);
  for (int status : {0, 500, 503, 401}) {
    cp_.introspection_status = status;
    auto r = resolve({Credential::Kind::kBearer, kOpaque});
    EXPECT_EQ(r.status, AuthResult::Status::kUnavailable) << status;
    EXPECT_FALSE(bearer(kOpaque).has_value()) << status;
  }
  cp_.introspection_status = 200;
  EXPECT_EQ(resolve({Credential::Kind::kBearer, kOpaque}).status, AuthResult::Status::kOk);
  EXPECT_EQ(cp_.introspections, 5);
}

TEST_F(AuthenticatorTest, AMalformedIntrospectionAnswerIsUnavailable) {
  cp_.introspection[std::string(kOpaque)] = R"({"scope":"x"})";
  EXPECT_EQ(resolve({Credential::Kind::kBearer, kOpaque}).status, AuthResult::Status::kUnavailable);
}

// ---- HTTP Basic ----------------------------------------------------------------------------

std::optional<AuthResult> basic(Authenticator& auth, std::string_view value,
                                std::int64_t now = kNow) {
  return auth.try_now(Credential{Credential::Kind::kBasic, value}, now);
}

TEST_F(AuthenticatorTest, BasicWithTheRightPasswordIsCheckedOnceAndCached) {
  cp_.users["carol"] = "pa:ss";
  auto value = crypto::base64_encode("carol:pa:ss");
  EXPECT_FALSE(basic(*auth_, value).has_value());
  auto r = resolve({Credential::Kind::kBasic, value});
  ASSERT_EQ(r.status, AuthResult::Status::kOk) << r.detail;
  EXPECT_EQ(r.principal->kind, Principal::Kind::kBasic);
  EXPECT_EQ(r.principal->user, "carol");
  EXPECT_EQ(r.principal->roles, (std::vector<std::string>{"subscriber"}));
  EXPECT_EQ(r.principal->jti, "");
  EXPECT_EQ(basic(*auth_, value, kNow + 299)->principal, r.principal);
  EXPECT_FALSE(basic(*auth_, value, kNow + 300).has_value());  // basic_cache_seconds
  EXPECT_EQ(cp_.user_checks, 1);
}

TEST_F(AuthenticatorTest, BasicWithAWrongPasswordIsInvalid) {
  cp_.users["carol"] = "right";
  auto value = crypto::base64_encode("carol:wrong");
  EXPECT_EQ(resolve({Credential::Kind::kBasic, value}).status, AuthResult::Status::kInvalid);
  expect_invalid(basic(*auth_, value, kNow + 1));
  EXPECT_EQ(cp_.user_checks, 1);
}

TEST_F(AuthenticatorTest, BasicWhileTheControlPlaneIsDownIsUnavailable) {
  cp_.users["carol"] = "right";
  auto value = crypto::base64_encode("carol:right");
  cp_.user_status = 0;
  EXPECT_EQ(resolve({Credential::Kind::kBasic, value}).status, AuthResult::Status::kUnavailable);
  cp_.user_status = 503;
  EXPECT_EQ(resolve({Credential::Kind::kBasic, value}).status, AuthResult::Status::kUnavailable);
  EXPECT_FALSE(basic(*auth_, value).has_value());
}

TEST_F(AuthenticatorTest, BasicRefusedForTheGatewaysOwnCredentialIsUnavailable) {
  cp_.user_status = 401;
  cp_.user_body = R"({"code":900901,"message":"Invalid Credentials",)"
                  R"("description":"The internal data API needs the gateway credential of )"
                  R"([internal_api]"})";
  auto value = crypto::base64_encode("carol:right");
  EXPECT_EQ(resolve({Credential::Kind::kBasic, value}).status, AuthResult::Status::kUnavailable);
}

TEST_F(AuthenticatorTest, AMalformedBasicCredentialIsInvalidAtOnce) {
  for (std::string bad : {std::string("not base64!"), crypto::base64_encode("no-colon"),
                          crypto::base64_encode(":password-only"), std::string()}) {
    expect_invalid(basic(*auth_, bad));
  }
  EXPECT_EQ(cp_.user_checks, 0);
}

TEST_F(AuthenticatorTest, ForgetUserDropsTheCachedCredentialsOfThatUserOnly) {
  cp_.users["carol"] = "c";
  cp_.users["dave"] = "d";
  auto carol = crypto::base64_encode("carol:c");
  auto dave = crypto::base64_encode("dave:d");
  ASSERT_EQ(resolve({Credential::Kind::kBasic, carol}).status, AuthResult::Status::kOk);
  ASSERT_EQ(resolve({Credential::Kind::kBasic, dave}).status, AuthResult::Status::kOk);
  std::thread([&] { auth_->forget_user("carol"); }).join();  // from any thread
  EXPECT_FALSE(basic(*auth_, carol).has_value());
  EXPECT_EQ(basic(*auth_, dave)->status, AuthResult::Status::kOk);
  // The worker's copy is gone too: the user is asked about again.
  cp_.users.erase("carol");
  EXPECT_EQ(resolve({Credential::Kind::kBasic, carol}).status, AuthResult::Status::kInvalid);
  EXPECT_EQ(cp_.user_checks, 3);
}

TEST_F(AuthenticatorTest, BasicAndBearerWithTheSameTextAreDifferentQuestions) {
  cp_.users["carol"] = "c";
  auto value = crypto::base64_encode("carol:c");
  ASSERT_EQ(resolve({Credential::Kind::kBasic, value}).status, AuthResult::Status::kOk);
  EXPECT_FALSE(bearer(value).has_value());
}

// ---- the JWKS ------------------------------------------------------------------------------

TEST(KeySetTest, SkipsUnusableKeysAndKeepsTheRest) {
  auto key = jwt::SigningKey::generate(jwt::Algorithm::ES256, "good");
  std::string jwks = R"({"keys":[)" + key.public_jwk_json() +
                     R"(,{"kty":"oct","kid":"hmac","k":"c2VjcmV0"},)"
                     R"({"kty":"RSA","kid":"short","n":"AQAB","e":"AQAB"},)"
                     R"({"kty":"EC","crv":"P-256","x":"AA","y":"AA"},42]})";
  std::size_t skipped = 0;
  auto set = KeySet::parse(jwks, &skipped);
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->size(), 1u);
  EXPECT_EQ(skipped, 4u);
  EXPECT_NE(set->find("good"), nullptr);
  EXPECT_EQ(set->find("hmac"), nullptr);
  EXPECT_FALSE(KeySet::parse("not json").has_value());
  EXPECT_FALSE(KeySet::parse(R"({"keys":{}})").has_value());
}

TEST_F(AuthenticatorTest, AFailedJwksLoadKeepsTheKeysItHad) {
  cp_.jwks_status = 503;
  EXPECT_FALSE(auth_->load_jwks());
  cp_.jwks_status = 200;
  cp_.jwks = "<html>";
  EXPECT_FALSE(auth_->load_jwks());
  EXPECT_EQ(bearer(token(access_claims()))->status, AuthResult::Status::kOk);
}

}  // namespace
}  // namespace portico::gateway
