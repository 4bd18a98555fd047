#include "gateway/snapshot_builder.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>

namespace portico::gateway {
namespace {

namespace json = boost::json;

// An API document as the publisher stores it (publisher.cpp's defaults and validation),
// wrapped in a runtime artifact as the internal data API serves it.
json::object api_document(const std::string& id, const std::string& context,
                          const std::string& version) {
  return json::parse(R"({
    "id": ")" + id + R"(",
    "name": "Pizza)" +
                     id + R"(",
    "description": "",
    "context": ")" + context +
                     R"(",
    "version": ")" + version +
                     R"(",
    "provider": "admin",
    "lifeCycleStatus": "PUBLISHED",
    "type": "HTTP",
    "transport": ["http", "https"],
    "tags": [],
    "policies": ["Gold", "Unlimited"],
    "apiThrottlingPolicy": null,
    "authorizationHeader": "Authorization",
    "apiKeyHeader": "ApiKey",
    "enableApiKeyQueryParam": false,
    "maxTps": null,
    "securityScheme": ["oauth2", "oauth_basic_auth_api_key_mandatory"],
    "visibility": "PUBLIC",
    "visibleRoles": [],
    "isDefaultVersion": false,
    "endpointConfig": {
      "endpoint_type": "http",
      "production_endpoints": {"url": "http://backend.example:8080/pizza/"},
      "sandbox_endpoints": {"url": "https://sandbox.example/pizza"}
    },
    "corsConfiguration": {
      "corsConfigurationEnabled": false,
      "accessControlAllowOrigins": ["*"],
      "accessControlAllowCredentials": false,
      "accessControlAllowHeaders": ["authorization", "Access-Control-Allow-Origin",
                                    "Content-Type", "SOAPAction", "apikey", "Internal-Key"],
      "accessControlAllowMethods": ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]
    },
    "businessInformation": {},
    "additionalProperties": [],
    "scopes": [{"scope": {"name": "pizza_read", "displayName": "pizza_read",
                          "description": "", "bindings": []}, "shared": false}],
    "operations": [
      {"target": "/menu", "verb": "GET", "authType": "Application & Application User",
       "throttlingPolicy": "Unlimited", "scopes": ["pizza_read"],
       "operationPolicies": {"request": [], "response": [], "fault": []}},
      {"target": "/order/{orderId}", "verb": "post", "authType": "Application",
       "throttlingPolicy": "10KPerMin", "scopes": []}
    ],
    "hasThumbnail": false
  })")
      .as_object();
}

json::object artifact(json::object api, std::int64_t deployed_time = 1700000000) {
  json::object a;
  a["apiId"] = api["id"];
  a["revisionId"] = "rev-" + std::string(api["id"].as_string());
  a["environment"] = "Default";
  a["vhost"] = "localhost";
  a["displayOnDevportal"] = true;
  a["deployedTime"] = deployed_time;
  a["api"] = std::move(api);
  a["openapi"] = "{}";
  return a;
}

class BuilderTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Snapshot> build() {
    warnings_.clear();
    auto snapshot = build_snapshot(sources_, ++version_, slots_, &warnings_);
    EXPECT_TRUE(snapshot);
    return snapshot;
  }
  std::shared_ptr<const Api> only_api(const Snapshot& s) {
    EXPECT_EQ(s.apis.size(), 1u);
    return s.apis.empty() ? nullptr : api_at(s, 0);
  }
  // The i-th API of the snapshot in the order of the runtime artifacts it was built from.
  std::shared_ptr<const Api> api_at(const Snapshot& s, std::size_t i) {
    for (const auto& artifact : sources_.runtime_artifacts) {
      const auto* id = artifact.is_object() ? artifact.get_object().if_contains("apiId") : nullptr;
      const auto* api = id && id->is_string() ? s.apis.find(id->get_string()) : nullptr;
      if (api != nullptr && i-- == 0) return *api;
    }
    ADD_FAILURE() << "the snapshot has no API #" << i;
    return std::make_shared<const Api>();
  }
  bool warned(std::string_view needle) const {
    return std::any_of(warnings_.begin(), warnings_.end(),
                       [&](const std::string& w) { return w.find(needle) != std::string::npos; });
  }

  SnapshotSources sources_{"Default", {}, {}, {}, {}, {}, {}, {}, {}};
  EndpointSlots slots_;
  std::vector<std::string> warnings_;
  std::uint64_t version_ = 0;
};

TEST_F(BuilderTest, CompilesARealisticApiDocument) {
  sources_.runtime_artifacts.push_back(artifact(api_document("a1", "/pizza", "1.0.0")));
  auto s = build();
  EXPECT_TRUE(warnings_.empty()) << warnings_.front();
  EXPECT_EQ(s->version, 1u);
  EXPECT_EQ(s->environment, "Default");
  auto api = only_api(*s);
  ASSERT_TRUE(api);
  EXPECT_EQ(api->id, "a1");
  EXPECT_EQ(api->name, "Pizzaa1");
  EXPECT_EQ(api->version, "1.0.0");
  EXPECT_EQ(api->context, "/pizza");
  EXPECT_EQ(api->context_version, "/pizza/1.0.0");
  EXPECT_EQ(api->provider, "admin");
  EXPECT_EQ(api->lifecycle, "PUBLISHED");
  EXPECT_EQ(api->revision_id, "rev-a1");
  EXPECT_FALSE(api->default_version);
  EXPECT_TRUE(api->oauth2);
  EXPECT_FALSE(api->api_key);
  EXPECT_FALSE(api->basic_auth);
  EXPECT_TRUE(api->mandatory_all);
  EXPECT_EQ(api->authorization_header, "Authorization");
  EXPECT_EQ(api->api_key_header, "ApiKey");
  EXPECT_EQ(api->api_throttling_policy, "");

  ASSERT_EQ(api->resources.size(), 2u);
  const Resource& menu = api->resources[0];
  EXPECT_EQ(menu.verb, "GET");
  EXPECT_EQ(menu.uri_template, "/menu");
  EXPECT_EQ(menu.auth, AuthType::kApplicationAndApplicationUser);
  EXPECT_EQ(menu.scopes, std::vector<std::string>{"pizza_read"});
  EXPECT_EQ(menu.throttling_policy, "Unlimited");
  const Resource& order = api->resources[1];
  EXPECT_EQ(order.verb, "POST");  // upper-cased
  EXPECT_EQ(order.auth, AuthType::kApplication);
  EXPECT_EQ(order.throttling_policy, "10KPerMin");
  EXPECT_NE(menu.throttle_key, order.throttle_key);
  EXPECT_NE(order.throttle_key.find("a1"), std::string::npos);

  ASSERT_TRUE(api->production);
  EXPECT_EQ(api->production->type, EndpointGroup::Type::kHttp);
  ASSERT_EQ(api->production->endpoints.size(), 1u);
  const Endpoint& prod = api->production->endpoints[0];
  EXPECT_FALSE(prod.tls);
  EXPECT_EQ(prod.host, "backend.example");
  EXPECT_EQ(prod.port, "8080");
  EXPECT_EQ(prod.host_header, "backend.example:8080");
  EXPECT_EQ(prod.base_path, "/pizza");
  ASSERT_TRUE(api->sandbox);
  const Endpoint& sandbox = api->sandbox->endpoints[0];
  EXPECT_TRUE(sandbox.tls);
  EXPECT_EQ(sandbox.port, "443");
  EXPECT_NE(prod.slot, sandbox.slot);

  EXPECT_FALSE(api->cors.enabled);
  EXPECT_EQ(api->cors.allow_origins, std::vector<std::string>{"*"});
  EXPECT_EQ(api->cors.allow_headers,
            "authorization, Access-Control-Allow-Origin, Content-Type, SOAPAction, apikey, "
            "Internal-Key");
  EXPECT_EQ(api->cors.allow_methods, "GET, PUT, POST, DELETE, PATCH, OPTIONS");

  EXPECT_EQ(s->by_context.size(), 1u);
  EXPECT_EQ(s->by_context.at("/pizza/1.0.0"), api);
  ASSERT_TRUE(s->policies);
}

TEST_F(BuilderTest, EveryAuthTypeString) {
  EXPECT_EQ(parse_auth_type("None"), AuthType::kNone);
  EXPECT_EQ(parse_auth_type("Application"), AuthType::kApplication);
  EXPECT_EQ(parse_auth_type("Application User"), AuthType::kApplicationUser);
  EXPECT_EQ(parse_auth_type("Application & Application User"),
            AuthType::kApplicationAndApplicationUser);
  EXPECT_EQ(parse_auth_type("Any"), AuthType::kApplicationAndApplicationUser);
  EXPECT_FALSE(parse_auth_type("application"));
  EXPECT_FALSE(parse_auth_type(""));

  auto doc = api_document("a1", "/pizza", "1.0.0");
  json::array ops;
  for (const char* auth :
       {"None", "Application", "Application User", "Application & Application User", "Any"}) {
    ops.push_back(
        json::object{{"target", std::string("/") + auth}, {"verb", "GET"}, {"authType", auth}});
  }
  ops.push_back(json::object{{"target", "/default"}, {"verb", "GET"}});  // no authType
  doc["operations"] = ops;
  sources_.runtime_artifacts.push_back(artifact(doc));
  auto api = only_api(*build());
  ASSERT_TRUE(api);
  ASSERT_EQ(api->resources.size(), 6u);
  EXPECT_EQ(api->resources[0].auth, AuthType::kNone);
  EXPECT_EQ(api->resources[1].auth, AuthType::kApplication);
  EXPECT_EQ(api->resources[2].auth, AuthType::kApplicationUser);
  EXPECT_EQ(api->resources[3].auth, AuthType::kApplicationAndApplicationUser);
  EXPECT_EQ(api->resources[4].auth, AuthType::kApplicationAndApplicationUser);
  EXPECT_EQ(api->resources[5].auth, AuthType::kApplicationAndApplicationUser);
}

TEST_F(BuilderTest, UnknownAuthTypeSkipsTheApiWithAWarning) {
  auto doc = api_document("bad", "/bad", "1.0.0");
  doc["operations"].as_array()[0].as_object()["authType"] = "Everyone";
  sources_.runtime_artifacts.push_back(artifact(doc));
  sources_.runtime_artifacts.push_back(artifact(api_document("good", "/good", "1.0.0")));
  auto s = build();
  ASSERT_EQ(s->apis.size(), 1u);
  EXPECT_EQ(api_at(*s, 0)->id, "good");
  EXPECT_TRUE(warned("bad")) << (warnings_.empty() ? "" : warnings_[0]);
  EXPECT_TRUE(warned("Everyone"));
}

struct UrlCase {
  const char* url;
  bool tls;
  const char* host;
  const char* port;
  const char* host_header;
  const char* base_path;
};

TEST(ParseEndpointUrl, AcceptedForms) {
  const UrlCase cases[] = {
      {"http://backend", false, "backend", "80", "backend", ""},
      {"http://backend/", false, "backend", "80", "backend", ""},
      {"https://backend", true, "backend", "443", "backend", ""},
      {"http://backend:8080", false, "backend", "8080", "backend:8080", ""},
      {"https://backend:8443/v1/api/", true, "backend", "8443", "backend:8443", "/v1/api"},
      {"http://backend:80/x", false, "backend", "80", "backend:80", "/x"},
      {"http://10.0.0.7:9000/svc", false, "10.0.0.7", "9000", "10.0.0.7:9000", "/svc"},
      {"http://[::1]:8080/a", false, "::1", "8080", "[::1]:8080", "/a"},
      {"https://[2001:db8::5]/b//", true, "2001:db8::5", "443", "[2001:db8::5]", "/b"},
      {"HTTP://Backend.Example/a%20b", false, "Backend.Example", "80", "Backend.Example", "/a%20b"},
      {"http://backend:/x", false, "backend", "80", "backend", "/x"},
  };
  for (const auto& c : cases) {
    std::string error;
    auto e = parse_endpoint_url(c.url, &error);
    ASSERT_TRUE(e) << c.url << ": " << error;
    EXPECT_EQ(e->url, c.url);
    EXPECT_EQ(e->tls, c.tls) << c.url;
    EXPECT_EQ(e->host, c.host) << c.url;
    EXPECT_EQ(e->port, c.port) << c.url;
    EXPECT_EQ(e->host_header, c.host_header) << c.url;
    EXPECT_EQ(e->base_path, c.base_path) << c.url;
  }
}

TEST(ParseEndpointUrl, RefusedForms) {
  for (const char* url :
       {"", "backend:8080", "/relative/path", "ftp://backend/", "http://", "http:///path",
        "http://user:pw@backend/", "http://backend/?q=1", "http://backend:99999/",
        "http://backend:0/", "http://[v1.x]/", "http://back end/", "ws://backend/"}) {
    std::string error;
    EXPECT_FALSE(parse_endpoint_url(url, &error)) << url;
    EXPECT_FALSE(error.empty()) << url;
  }
}

TEST_F(BuilderTest, EndpointConfigSetsTimeoutsAndSuspension) {
  auto doc = api_document("a1", "/pizza", "1.0.0");
  doc["endpointConfig"] = json::parse(R"({
    "endpoint_type": "http",
    "production_endpoints": {"url": "http://backend/", "config": {
      "actionDuration": "15000", "suspendDuration": 2000, "suspendMaxDuration": "8000",
      "factor": "2.5", "suspendErrorCode": ["101504", 101505], "connectTimeout": 700}},
    "sandbox_endpoints": {"url": "http://sandbox/", "config": {
      "actionDuration": "soon", "suspendErrorCode": "101503, 101508", "factor": 0}}
  })");
  auto never = api_document("a2", "/never", "1.0.0");
  never["endpointConfig"] = json::parse(R"({"endpoint_type": "failover",
    "production_endpoints": {"url": "http://primary/"},
    "production_failovers": [{"url": "http://second/", "config": {"suspendDuration": -1,
                                                                  "suspendErrorCode": [101503]}}]
  })");
  sources_.runtime_artifacts.push_back(artifact(doc));
  sources_.runtime_artifacts.push_back(artifact(never));
  auto s = build();
  ASSERT_EQ(s->apis.size(), 2u);
  auto api = api_at(*s, 0);
  const Endpoint& p = api->production->endpoints[0];
  EXPECT_EQ(p.read_timeout, std::chrono::milliseconds(15000));
  EXPECT_EQ(p.connect_timeout, std::chrono::milliseconds(700));
  EXPECT_EQ(p.suspend.initial, std::chrono::milliseconds(2000));
  EXPECT_EQ(p.suspend.max, std::chrono::milliseconds(8000));
  EXPECT_DOUBLE_EQ(p.suspend.factor, 2.5);
  EXPECT_EQ(p.suspend.codes, (std::vector<long>{101504, 101505}));
  const Endpoint& sb = api->sandbox->endpoints[0];
  EXPECT_EQ(sb.read_timeout, Endpoint{}.read_timeout);  // unreadable: the default
  EXPECT_DOUBLE_EQ(sb.suspend.factor, 1.0);             // below 1: the default
  EXPECT_EQ(sb.suspend.codes, (std::vector<long>{101503, 101508}));
  // suspendDuration -1: never suspended, whatever the codes say.
  const Endpoint& failover = api_at(*s, 1)->production->endpoints[1];
  EXPECT_TRUE(failover.suspend.codes.empty());
  EXPECT_TRUE(api_at(*s, 1)->production->endpoints[0].suspend.codes.size() > 0);
}

TEST_F(BuilderTest, LoadBalanceAndFailoverGroups) {
  auto lb = api_document("lb", "/lb", "1.0.0");
  lb["endpointConfig"] = json::parse(R"({
    "endpoint_type": "load_balance", "algoCombination": "org.apache.synapse...RoundRobin",
    "production_endpoints": [{"url": "http://a:1/"}, {"url": "http://b:2/"}, {"url": "http://c:3/"}],
    "sandbox_endpoints": {"url": "http://s/"}
  })");
  auto fo = api_document("fo", "/fo", "1.0.0");
  fo["endpointConfig"] = json::parse(R"({
    "endpoint_type": "failover",
    "production_endpoints": {"url": "http://primary/"},
    "production_failovers": [{"url": "http://second/"}, {"url": "http://third/"}]
  })");
  sources_.runtime_artifacts.push_back(artifact(lb));
  sources_.runtime_artifacts.push_back(artifact(fo));
  auto s = build();
  ASSERT_EQ(s->apis.size(), 2u);
  const Api& l = *api_at(*s, 0);
  ASSERT_TRUE(l.production);
  EXPECT_EQ(l.production->type, EndpointGroup::Type::kLoadBalance);
  ASSERT_EQ(l.production->endpoints.size(), 3u);
  EXPECT_EQ(l.production->endpoints[2].host_header, "c:3");
  ASSERT_TRUE(l.sandbox);
  EXPECT_EQ(l.sandbox->endpoints.size(), 1u);
  const Api& f = *api_at(*s, 1);
  ASSERT_TRUE(f.production);
  EXPECT_EQ(f.production->type, EndpointGroup::Type::kFailover);
  ASSERT_EQ(f.production->endpoints.size(), 3u);
  EXPECT_EQ(f.production->endpoints[0].host, "primary");
  EXPECT_EQ(f.production->endpoints[1].host, "second");
  EXPECT_EQ(f.production->endpoints[2].host, "third");
  EXPECT_FALSE(f.sandbox);
}

TEST_F(BuilderTest, ApiWithoutEndpointsHasNoGroups) {
  auto doc = api_document("a1", "/pizza", "1.0.0");
  doc["endpointConfig"] = nullptr;
  sources_.runtime_artifacts.push_back(artifact(doc));
  auto api = only_api(*build());
  ASSERT_TRUE(api);
  EXPECT_FALSE(api->production);
  EXPECT_FALSE(api->sandbox);
}

TEST_F(BuilderTest, SlotsAreStableAcrossSnapshotsAndDistinctPerSettings) {
  auto doc = api_document("a1", "/pizza", "1.0.0");
  sources_.runtime_artifacts.push_back(artifact(doc));
  auto first = build();
  std::size_t prod = api_at(*first, 0)->production->endpoints[0].slot;
  std::size_t sandbox = api_at(*first, 0)->sandbox->endpoints[0].slot;

  // Another API on the same backend with the same settings shares its slot; a different
  // read timeout is another endpoint.
  auto other = api_document("a2", "/other", "1.0.0");
  other["endpointConfig"] = json::parse(R"({"endpoint_type": "http",
    "production_endpoints": {"url": "http://backend.example:8080/pizza/"},
    "sandbox_endpoints": {"url": "http://backend.example:8080/pizza/",
                          "config": {"actionDuration": 5000}}})");
  sources_.runtime_artifacts.push_back(artifact(other));
  auto second = build();
  EXPECT_EQ(api_at(*second, 0)->production->endpoints[0].slot, prod);
  EXPECT_EQ(api_at(*second, 0)->sandbox->endpoints[0].slot, sandbox);
  EXPECT_EQ(api_at(*second, 1)->production->endpoints[0].slot, prod);
  std::size_t slow = api_at(*second, 1)->sandbox->endpoints[0].slot;
  EXPECT_NE(slow, prod);
  EXPECT_NE(slow, sandbox);

  // Gone and back: the same slot, never handed to anyone else meanwhile.
  sources_.runtime_artifacts.clear();
  build();
  sources_.runtime_artifacts.push_back(artifact(other));
  auto fourth = build();
  EXPECT_EQ(api_at(*fourth, 0)->sandbox->endpoints[0].slot, slow);
  EXPECT_EQ(slots_.size(), 3u);
}

TEST_F(BuilderTest, AnApiNeedingASlotBeyondCapacityIsSkipped) {
  EndpointSlots small(2);
  sources_.runtime_artifacts.push_back(artifact(api_document("a1", "/one", "1.0.0")));
  auto three = api_document("a2", "/two", "1.0.0");
  three["endpointConfig"] = json::parse(R"({"endpoint_type": "http",
    "production_endpoints": {"url": "http://third/"}})");
  sources_.runtime_artifacts.push_back(artifact(three));
  std::vector<std::string> warnings;
  auto s = build_snapshot(sources_, 1, small, &warnings);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->apis.size(), 1u);
  EXPECT_EQ(api_at(*s, 0)->id, "a1");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("slot"), std::string::npos);
}

TEST_F(BuilderTest, DefaultVersionIsRoutedByContextAlone) {
  auto v1 = api_document("v1", "/pizza", "1.0.0");
  auto v2 = api_document("v2", "/pizza", "2.0.0");
  v2["isDefaultVersion"] = true;
  sources_.runtime_artifacts.push_back(artifact(v1));
  sources_.runtime_artifacts.push_back(artifact(v2));
  auto s = build();
  EXPECT_TRUE(warnings_.empty());
  ASSERT_EQ(s->by_context.size(), 3u);
  EXPECT_EQ(s->by_context.at("/pizza/1.0.0")->id, "v1");
  EXPECT_EQ(s->by_context.at("/pizza/2.0.0")->id, "v2");
  EXPECT_EQ(s->by_context.at("/pizza")->id, "v2");
  EXPECT_NE(s->by_context.find("/pizza"), nullptr);
}

TEST_F(BuilderTest, TwoDefaultVersionsTheLaterDeployedKeepsTheContext) {
  auto v1 = api_document("v1", "/pizza", "1.0.0");
  v1["isDefaultVersion"] = true;
  auto v2 = api_document("v2", "/pizza", "2.0.0");
  v2["isDefaultVersion"] = true;
  // The newer deployment comes first in the list: time decides, not order.
  sources_.runtime_artifacts.push_back(artifact(v1, 1700000500));
  sources_.runtime_artifacts.push_back(artifact(v2, 1700000100));
  auto s = build();
  EXPECT_EQ(s->by_context.at("/pizza")->id, "v1");
  EXPECT_EQ(s->by_context.at("/pizza/2.0.0")->id, "v2");
  EXPECT_TRUE(warned("/pizza"));
  EXPECT_EQ(s->apis.size(), 2u);
}

TEST_F(BuilderTest, SameContextAndVersionTheLaterDeployedWins) {
  sources_.runtime_artifacts.push_back(artifact(api_document("old", "/pizza", "1.0.0"), 100));
  sources_.runtime_artifacts.push_back(artifact(api_document("new", "/pizza", "1.0.0"), 200));
  sources_.runtime_artifacts.push_back(artifact(api_document("tie1", "/tie", "1.0.0"), 300));
  sources_.runtime_artifacts.push_back(artifact(api_document("tie2", "/tie", "1.0.0"), 300));
  auto s = build();
  EXPECT_EQ(s->by_context.at("/pizza/1.0.0")->id, "new");
  EXPECT_EQ(s->by_context.at("/tie/1.0.0")->id, "tie2");  // a tie: the later in the list
  EXPECT_TRUE(warned("new (deployed later) keeps it"));
}

TEST_F(BuilderTest, VersionInsideTheContext) {
  auto doc = api_document("a1", "/{version}/pizza", "1.0.0");
  doc["isDefaultVersion"] = true;
  sources_.runtime_artifacts.push_back(artifact(doc));
  auto s = build();
  auto api = only_api(*s);
  ASSERT_TRUE(api);
  EXPECT_EQ(api->context_version, "/1.0.0/pizza");
  EXPECT_EQ(api->context, "/pizza");
  EXPECT_EQ(s->by_context.count("/1.0.0/pizza"), 1u);
  EXPECT_EQ(s->by_context.count("/pizza"), 1u);
}

TEST_F(BuilderTest, SecuritySchemeHeadersAndFlags) {
  auto doc = api_document("a1", "/pizza", "1.0.0");
  doc["securityScheme"] = json::array{"api_key", "basic_auth"};
  doc["authorizationHeader"] = "X-Auth";
  doc["apiKeyHeader"] = "X-Key";
  doc["apiThrottlingPolicy"] = "50KPerMin";
  doc["maxTps"] = json::object{{"production", 100}, {"sandbox", "20"}};
  doc["enableApiKeyQueryParam"] = true;
  sources_.runtime_artifacts.push_back(artifact(doc));
  auto no_scheme = api_document("a2", "/plain", "1.0.0");
  no_scheme.erase("securityScheme");
  no_scheme.erase("apiKeyHeader");
  no_scheme.erase("authorizationHeader");
  sources_.runtime_artifacts.push_back(artifact(no_scheme));
  auto s = build();
  ASSERT_EQ(s->apis.size(), 2u);
  const Api& a = *api_at(*s, 0);
  EXPECT_FALSE(a.oauth2);
  EXPECT_TRUE(a.api_key);
  EXPECT_TRUE(a.basic_auth);
  EXPECT_FALSE(a.mandatory_all);
  EXPECT_EQ(a.authorization_header, "X-Auth");
  EXPECT_EQ(a.api_key_header, "X-Key");
  EXPECT_EQ(a.api_throttling_policy, "50KPerMin");
  EXPECT_EQ(a.max_tps_production, 100);
  EXPECT_EQ(a.max_tps_sandbox, 20);
  EXPECT_TRUE(a.api_key_in_query);
  const Api& b = *api_at(*s, 1);
  EXPECT_TRUE(b.oauth2);
  EXPECT_TRUE(b.mandatory_all);
  EXPECT_FALSE(b.api_key);
  EXPECT_EQ(b.authorization_header, "Authorization");
  EXPECT_EQ(b.api_key_header, "apikey");
  EXPECT_EQ(b.max_tps_production, 0);
  EXPECT_FALSE(b.api_key_in_query);
  EXPECT_FALSE(b.prototype_without_auth);
}

TEST_F(BuilderTest, LifecycleOfTheArtifactWinsOverTheRevisionDocument) {
  auto blocked = artifact(api_document("a1", "/pizza", "1.0.0"));
  blocked["lifeCycleStatus"] = "BLOCKED";
  auto plain = artifact(api_document("a2", "/plain", "1.0.0"));
  sources_.runtime_artifacts.push_back(blocked);
  sources_.runtime_artifacts.push_back(plain);
  auto s = build();
  EXPECT_EQ(api_at(*s, 0)->lifecycle, "BLOCKED");
  EXPECT_EQ(api_at(*s, 1)->lifecycle, "PUBLISHED");
}

TEST_F(BuilderTest, HeaderPoliciesInOrderAndUnknownPoliciesIgnored) {
  auto doc = api_document("a1", "/pizza", "1.0.0");
  doc["operations"].as_array()[0].as_object()["operationPolicies"] = json::parse(R"({
    "request": [
      {"policyName": "addHeader", "parameters": {"headerName": "X-Trace", "headerValue": "1"}},
      {"policyName": "removeHeader", "parameters": {"headerName": "Cookie"}},
      {"policyName": "jsonToXml", "parameters": {}}
    ],
    "response": [
      {"policyName": "addHeader", "parameters": {"headerName": "X-Served-By", "headerValue": "portico"}}
    ],
    "fault": []
  })");
  sources_.runtime_artifacts.push_back(artifact(doc));
  auto api = only_api(*build());
  ASSERT_TRUE(api);
  const Resource& r = api->resources[0];
  ASSERT_EQ(r.request_headers.size(), 2u);
  EXPECT_EQ(r.request_headers[0].kind, HeaderPolicy::Kind::kAdd);
  EXPECT_EQ(r.request_headers[0].name, "X-Trace");
  EXPECT_EQ(r.request_headers[0].value, "1");
  EXPECT_EQ(r.request_headers[1].kind, HeaderPolicy::Kind::kRemove);
  EXPECT_EQ(r.request_headers[1].name, "Cookie");
  ASSERT_EQ(r.response_headers.size(), 1u);
  EXPECT_EQ(r.response_headers[0].name, "X-Served-By");
  EXPECT_TRUE(warned("jsonToXml"));
  EXPECT_TRUE(api->resources[1].request_headers.empty());
}

TEST_F(BuilderTest, HeaderValueWithALineBreakSkipsTheApi) {
  auto doc = api_document("a1", "/pizza", "1.0.0");
  doc["operations"].as_array()[0].as_object()["operationPolicies"] = json::parse(R"({
    "request": [{"policyName": "addHeader",
                 "parameters": {"headerName": "X-A", "headerValue": "1\r\nX-Evil: 1"}}]})");
  sources_.runtime_artifacts.push_back(artifact(doc));
  auto s = build();
  EXPECT_TRUE(s->apis.empty());
  EXPECT_TRUE(warned("line break"));
}

TEST_F(BuilderTest, CorsEnabledWithCredentials) {
  auto doc = api_document("a1", "/pizza", "1.0.0");
  doc["corsConfiguration"] = json::parse(R"({"corsConfigurationEnabled": true,
    "accessControlAllowOrigins": ["https://a.example", "https://b.example"],
    "accessControlAllowCredentials": true,
    "accessControlAllowHeaders": ["authorization"], "accessControlAllowMethods": ["GET"]})");
  sources_.runtime_artifacts.push_back(artifact(doc));
  auto api = only_api(*build());
  ASSERT_TRUE(api);
  EXPECT_TRUE(api->cors.enabled);
  EXPECT_TRUE(api->cors.allow_credentials);
  EXPECT_EQ(api->cors.allow_origins.size(), 2u);
  EXPECT_EQ(api->cors.allow_headers, "authorization");
  EXPECT_EQ(api->cors.allow_methods, "GET");
}

TEST_F(BuilderTest, MalformedArtifactsAreSkippedOthersKept) {
  auto& list = sources_.runtime_artifacts;
  list.push_back(42);
  list.push_back(json::object{{"apiId", "no-doc"}});
  auto no_context = api_document("no-context", "/x", "1.0.0");
  no_context.erase("context");
  list.push_back(artifact(no_context));
  auto bad_url = api_document("bad-url", "/bad-url", "1.0.0");
  bad_url["endpointConfig"].as_object()["production_endpoints"] =
      json::object{{"url", "ftp://nope/"}};
  list.push_back(artifact(bad_url));
  auto bad_type = api_document("bad-type", "/bad-type", "1.0.0");
  bad_type["endpointConfig"].as_object()["endpoint_type"] = "address";
  list.push_back(artifact(bad_type));
  auto bad_op = api_document("bad-op", "/bad-op", "1.0.0");
  bad_op["operations"].as_array().push_back("GET /x");
  list.push_back(artifact(bad_op));
  auto root = api_document("root", "/", "1.0.0");
  list.push_back(artifact(root));
  list.push_back(artifact(api_document("good", "/good", "1.0.0")));

  auto s = build();
  ASSERT_EQ(s->apis.size(), 1u);
  EXPECT_EQ(api_at(*s, 0)->id, "good");
  EXPECT_EQ(warnings_.size(), 7u);
  for (const char* id : {"#0", "no-doc", "no-context", "bad-url", "bad-type", "bad-op", "root"})
    EXPECT_TRUE(warned(id)) << id;
}

// Every field of a realistic document replaced by values of every other JSON type: the
// builder skips or defaults, and never throws or crashes.
TEST_F(BuilderTest, MistypedFieldsNeverThrow) {
  const json::value junk[] = {
      nullptr, true, 7, -1.5, "text", json::array{1, "a"}, json::object{{"k", "v"}}};
  auto base = artifact(api_document("a1", "/pizza", "1.0.0"));
  std::size_t cases = 0;
  auto try_it = [&](json::object a) {
    SnapshotSources sources = sources_;
    sources.runtime_artifacts = {a};
    std::vector<std::string> warnings;
    EXPECT_NO_THROW(build_snapshot(sources, 1, slots_, &warnings));
    ++cases;
  };
  for (const auto& [key, value] : base) {
    for (const auto& j : junk) {
      auto a = base;
      a[key] = j;
      try_it(a);
    }
  }
  const auto& doc = base["api"].as_object();
  for (const auto& [key, value] : doc) {
    for (const auto& j : junk) {
      auto a = base;
      a["api"].as_object()[key] = j;
      try_it(a);
    }
  }
  for (const char* key : {"endpoint_type", "production_endpoints", "sandbox_endpoints"}) {
    for (const auto& j : junk) {
      auto a = base;
      a["api"].as_object()["endpointConfig"].as_object()[key] = j;
      try_it(a);
    }
  }
  EXPECT_GT(cases, 100u);
}

TEST_F(BuilderTest, ApplicationsKeyMappingsAndSubscriptions) {
  sources_.applications = json::parse(R"([
    {"id": "app1", "name": "Mobile", "owner": "alice", "throttlingPolicy": "Unlimited",
     "tokenType": "JWT", "status": "APPROVED", "updatedTime": 1},
    {"id": "app2", "name": "Web", "owner": "bob", "throttlingPolicy": "10PerMin",
     "status": "CREATED"},
    {"name": "no id"}
  ])")
                              .as_array();
  sources_.key_mappings = json::parse(R"([
    {"id": "m1", "applicationId": "app1", "keyType": "PRODUCTION", "clientId": "ck-prod"},
    {"id": "m2", "applicationId": "app1", "keyType": "SANDBOX", "clientId": "ck-sand"},
    {"id": "m3", "applicationId": "app2", "keyType": "PRODUCTION"}
  ])")
                              .as_array();
  sources_.subscriptions = json::parse(R"([
    {"id": "s1", "applicationId": "app1", "apiId": "a1", "throttlingPolicy": "Gold",
     "status": "UNBLOCKED", "createdTime": 1, "updatedTime": 2},
    {"id": "s2", "applicationId": "app1", "apiId": "a2", "throttlingPolicy": "Bronze",
     "status": "BLOCKED"},
    {"id": "s3", "applicationId": "ghost-app", "apiId": "ghost-api", "status": "ON_HOLD"},
    {"id": "s4", "apiId": "a1"}
  ])")
                               .as_array();
  auto s = build();
  EXPECT_EQ(s->applications.size(), 2u);
  const Application& app1 = s->applications.at("app1");
  EXPECT_EQ(app1.name, "Mobile");
  EXPECT_EQ(app1.owner, "alice");
  EXPECT_EQ(app1.throttling_policy, "Unlimited");
  EXPECT_EQ(app1.status, "APPROVED");
  EXPECT_EQ(s->applications.at("app2").status, "CREATED");

  EXPECT_EQ(s->clients.size(), 2u);
  EXPECT_EQ(s->clients.at("ck-prod").application_id, "app1");
  EXPECT_EQ(s->clients.at("ck-prod").key_type, "PRODUCTION");
  EXPECT_EQ(s->clients.at("ck-sand").key_type, "SANDBOX");

  const Subscription* gold = s->find_subscription("app1", "a1");
  ASSERT_TRUE(gold);
  EXPECT_EQ(gold->id, "s1");
  EXPECT_EQ(gold->throttling_policy, "Gold");
  EXPECT_EQ(gold->status, "UNBLOCKED");
  EXPECT_EQ(s->find_subscription("app1", "a2")->status, "BLOCKED");
  EXPECT_NE(gold->throttle_key, s->find_subscription("app1", "a2")->throttle_key);
  // Kept although neither side is known here: the request path decides what that means.
  ASSERT_TRUE(s->find_subscription("ghost-app", "ghost-api"));
  EXPECT_FALSE(s->find_subscription("app2", "a1"));
  EXPECT_EQ(warnings_.size(), 3u);  // app without id, mapping without client, sub without app
}

TEST_F(BuilderTest, PoliciesAreCompiled) {
  sources_.subscription_policies = json::parse(R"([{"policyId": "p1", "policyName": "Gold",
    "defaultLimit": {"type": "REQUESTCOUNTLIMIT",
                     "requestCount": {"timeUnit": "min", "unitTime": 1, "requestCount": 5000}}}])")
                                       .as_array();
  auto s = build();
  ASSERT_TRUE(s->policies);
  EXPECT_TRUE(s->policies->subscription("Gold"));
}

TEST_F(BuilderTest, EmptySourcesGiveAnEmptySnapshot) {
  auto s = build();
  EXPECT_TRUE(s->apis.empty());
  EXPECT_TRUE(s->by_context.empty());
  EXPECT_TRUE(s->applications.empty());
  EXPECT_TRUE(warnings_.empty());
  ASSERT_TRUE(s->policies);
}

}  // namespace
}  // namespace portico::gateway
