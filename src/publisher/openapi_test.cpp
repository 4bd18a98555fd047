#include "publisher/openapi.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <random>

namespace portico::publisher::openapi {
namespace {

const Operation* find_op(const Definition& d, std::string_view verb, std::string_view target) {
  for (const auto& o : d.operations)
    if (o.verb == verb && o.target == target) return &o;
  return nullptr;
}

std::string all_errors(const Definition& d) {
  std::string out;
  for (const auto& e : d.errors) out += e + "\n";
  return out;
}

constexpr const char* kPetstore30Yaml = R"(openapi: 3.0.3
info:
  title: Petstore
  version: 1.0
  description: Pets and their owners
servers:
  - url: https://pets.example.com/petstore/v1
paths:
  /pets:
    get:
      operationId: listPets
      security:
        - petstore_auth: [read:pets]
      responses:
        '200': {description: ok}
    post:
      operationId: addPet
      x-throttling-tier: Unlimited
      security:
        - petstore_auth: [write:pets, read:pets]
      responses:
        '201': {description: created}
  /pets/{petId}:
    parameters:
      - name: petId
        in: path
        required: true
        schema: {type: string}
    get:
      operationId: getPet
      responses:
        '200': {description: ok}
    delete:
      operationId: deletePet
      x-auth-type: None
      security: []
      responses:
        '204': {description: gone}
components:
  securitySchemes:
    petstore_auth:
      type: oauth2
      flows:
        implicit:
          authorizationUrl: https://auth.example.com/authorize
          scopes:
            read:pets: read your pets
            write:pets: modify pets
          x-scopes-bindings:
            write:pets: admin, creator
security:
  - petstore_auth: [read:pets]
)";

TEST(OpenApi, Reads30YamlOperationsPathParametersAndScopes) {
  Definition d = parse(kPetstore30Yaml);
  ASSERT_TRUE(d.valid()) << all_errors(d);
  EXPECT_EQ(d.openapi_version, "3.0.3");
  EXPECT_EQ(d.title, "Petstore");
  EXPECT_EQ(d.version, "1.0");  // as written, not the float 1
  EXPECT_EQ(d.context, "/petstore/v1");
  ASSERT_EQ(d.endpoints.size(), 1u);
  EXPECT_EQ(d.operations.size(), 4u);
  const Operation* post = find_op(d, "POST", "/pets");
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post->scopes, (std::vector<std::string>{"write:pets", "read:pets"}));
  EXPECT_EQ(post->throttling_policy, "Unlimited");
  const Operation* get_pet = find_op(d, "GET", "/pets/{petId}");
  ASSERT_NE(get_pet, nullptr);
  EXPECT_EQ(get_pet->scopes, std::vector<std::string>{"read:pets"});  // the root requirement
  const Operation* del = find_op(d, "DELETE", "/pets/{petId}");
  ASSERT_NE(del, nullptr);
  EXPECT_TRUE(del->scopes.empty());
  EXPECT_EQ(del->auth_type, "None");
  ASSERT_EQ(d.scopes.size(), 2u);
  auto write = std::find_if(d.scopes.begin(), d.scopes.end(),
                            [](const Scope& s) { return s.name == "write:pets"; });
  ASSERT_NE(write, d.scopes.end());
  EXPECT_EQ(write->roles, (std::vector<std::string>{"admin", "creator"}));
}

constexpr const char* kSwagger20Json = R"({
  "swagger": "2.0",
  "info": {"title": "Orders", "version": "2.1.0"},
  "host": "orders.example.com",
  "basePath": "/orders",
  "schemes": ["https"],
  "securityDefinitions": {
    "oauth": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a.example/x",
              "scopes": {"orders_read": "read orders", "orders_write": "write orders"}},
    "key": {"type": "apiKey", "name": "apikey", "in": "header"}
  },
  "parameters": {"orderId": {"name": "orderId", "in": "path", "required": true, "type": "string"}},
  "paths": {
    "/orders/{orderId}": {
      "get": {"parameters": [{"$ref": "#/parameters/orderId"}],
              "security": [{"oauth": ["orders_read"]}, {"key": []}],
              "responses": {"200": {"description": "ok"}}},
      "put": {"parameters": [{"name": "orderId", "in": "path", "required": true, "type": "string"}],
              "security": [{"oauth": ["orders_write"]}],
              "responses": {"200": {"description": "ok"}}}
    },
    "/orders": {"post": {"responses": {"201": {"description": "created"}}}}
  }
})";

TEST(OpenApi, ReadsSwagger20JsonWithParameterReferences) {
  Definition d = parse(kSwagger20Json);
  ASSERT_TRUE(d.valid()) << all_errors(d);
  EXPECT_EQ(d.openapi_version, "2.0");
  EXPECT_EQ(d.context, "/orders");
  EXPECT_EQ(d.endpoints, std::vector<std::string>{"https://orders.example.com/orders"});
  EXPECT_EQ(d.operations.size(), 3u);
  EXPECT_EQ(find_op(d, "GET", "/orders/{orderId}")->scopes,
            std::vector<std::string>{"orders_read"});
  EXPECT_EQ(find_op(d, "PUT", "/orders/{orderId}")->scopes,
            std::vector<std::string>{"orders_write"});
  EXPECT_TRUE(find_op(d, "POST", "/orders")->scopes.empty());
  EXPECT_EQ(d.scopes.size(), 2u);
}

TEST(OpenApi, ReadsTheReferencesWso2ScopeExtension) {
  Definition d = parse(R"(swagger: '2.0'
info: {title: Legacy, version: v1}
x-wso2-basePath: /legacy/v1
paths:
  /items:
    get:
      x-scope: items_view
      responses: {'200': {description: ok}}
x-wso2-security:
  apim:
    x-wso2-scopes:
      - {name: items_view, description: view, key: items_view, roles: 'admin,subscriber'}
)");
  ASSERT_TRUE(d.valid()) << all_errors(d);
  EXPECT_EQ(d.context, "/legacy/v1");
  EXPECT_EQ(d.operations[0].scopes, std::vector<std::string>{"items_view"});
  ASSERT_EQ(d.scopes.size(), 1u);
  EXPECT_EQ(d.scopes[0].roles, (std::vector<std::string>{"admin", "subscriber"}));
}

TEST(OpenApi, Accepts31WithoutPaths) {
  Definition d = parse(R"({"openapi": "3.1.0", "info": {"title": "Hooks", "version": "1"},
                          "webhooks": {}})");
  EXPECT_TRUE(d.valid()) << all_errors(d);
  EXPECT_TRUE(d.operations.empty());
}

TEST(OpenApi, ListsEveryProblemOfABrokenDefinition) {
  Definition d = parse(R"({
    "openapi": "3.0.0",
    "info": {"title": "Broken"},
    "paths": {
      "pets": {"get": {"responses": {}}},
      "/pets/{id}": {"get": {"responses": {}}},
      "/a/{b": {"get": {"responses": {}}},
      "/x": {"get": {"operationId": "dup", "responses": {}},
             "post": {"operationId": "dup", "security": [{"nope": []}]}}
    }
  })");
  EXPECT_FALSE(d.valid());
  std::string errors = all_errors(d);
  EXPECT_NE(errors.find("info.version"), std::string::npos) << errors;
  EXPECT_NE(errors.find("'pets' does not start with /"), std::string::npos) << errors;
  EXPECT_NE(errors.find("path parameter 'id' is not declared"), std::string::npos) << errors;
  EXPECT_NE(errors.find("malformed"), std::string::npos) << errors;
  EXPECT_NE(errors.find("not unique"), std::string::npos) << errors;
  EXPECT_NE(errors.find("responses is missing"), std::string::npos) << errors;
  EXPECT_NE(errors.find("'nope' is not defined"), std::string::npos) << errors;
}

TEST(OpenApi, RefusesWhatIsNotADefinition) {
  EXPECT_FALSE(parse("").valid());
  EXPECT_FALSE(parse("{not json").valid());
  EXPECT_FALSE(parse("key: [unclosed").valid());
  EXPECT_FALSE(parse("just text").valid());
  EXPECT_FALSE(parse(R"({"swagger": "1.2", "info": {}})").valid());
  EXPECT_FALSE(parse(R"({"openapi": "4.0.0", "info": {}})").valid());
  EXPECT_FALSE(parse(R"({"info": {"title": "t", "version": "1"}, "paths": {}})").valid());
  EXPECT_FALSE(parse(R"({"openapi": "3.0.0", "info": {"title": "a", "version": "1"},
                         "paths": {"/a": {"get": {"responses": {}, "security": [{"o": ["s"]}]}}},
                         "components": {"securitySchemes": {"o": {"type": "oauth2",
                           "flows": {"implicit": {"scopes": {}}}}}}})")
                   .valid());
}

TEST(OpenApi, BoundsDepthSizeAndAliasExpansion) {
  std::string deep_json(200, '[');
  deep_json = "{\"a\":" + deep_json + std::string(200, ']') + "}";
  EXPECT_FALSE(parse(deep_json).valid());
  std::string deep_yaml = "a: " + std::string(200, '[') + std::string(200, ']');
  EXPECT_FALSE(parse(deep_yaml).valid());
  EXPECT_FALSE(parse(std::string(kMaxDefinitionBytes + 1, ' ')).valid());
  // A billion-laughs style document: few bytes, exponential expansion through aliases.
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) laughs += std::string(i ? ", *" : "*") + prev;
    laughs += "]\n";
    prev = c;
  }
  Definition d = parse(laughs);
  EXPECT_FALSE(d.valid());
  EXPECT_NE(all_errors(d).find("nodes"), std::string::npos) << all_errors(d);
}

TEST(OpenApi, BoundsTheTextAliasesExpandTo) {
  // One large anchored scalar, named by many aliases: few nodes, but every alias would
  // become its own copy of the text.
  std::string bomb = "openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths: {}\nx-big: &big " +
                     std::string(200 * 1024, 'a') + "\nx-refs:\n";
  for (int i = 0; i < 2000; ++i) bomb += "  - *big\n";
  Definition d = parse(bomb);
  EXPECT_FALSE(d.valid());
  EXPECT_TRUE(d.over_limits);
  EXPECT_NE(all_errors(d).find("aliases"), std::string::npos) << all_errors(d);

  // A few aliases of the same text stay well within the bound.
  std::string modest = "openapi: 3.0.1\ninfo: {title: t, version: '1'}\npaths: {}\nx-big: &big " +
                       std::string(200 * 1024, 'a') + "\nx-refs: [*big, *big, *big]\n";
  Definition ok = parse(modest);
  EXPECT_FALSE(ok.over_limits) << all_errors(ok);
}

TEST(OpenApi, GeneratesADefinitionFromOperations) {
  boost::json::object api = boost::json::parse(R"({
    "name": "Gen", "version": "1.0.0", "description": "d",
    "scopes": [{"scope": {"name": "gen_read", "description": "r", "bindings": ["admin"]}}],
    "operations": [{"target": "/items/{id}", "verb": "GET", "scopes": ["gen_read"],
                    "authType": "Application", "throttlingPolicy": "Unlimited"},
                   {"target": "/items/{id}", "verb": "DELETE", "scopes": []}]})")
                                .as_object();
  boost::json::object doc = generate(api);
  Definition d = parse(boost::json::serialize(doc));
  ASSERT_TRUE(d.valid()) << all_errors(d);
  EXPECT_EQ(d.operations.size(), 2u);
  EXPECT_EQ(find_op(d, "GET", "/items/{id}")->scopes, std::vector<std::string>{"gen_read"});
  ASSERT_EQ(d.scopes.size(), 1u);
  EXPECT_EQ(d.scopes[0].roles, std::vector<std::string>{"admin"});
}

}  // namespace
}  // namespace portico::publisher::openapi

namespace portico::publisher::openapi {
namespace {

boost::json::object api_from(const Definition& d) {
  boost::json::object api;
  boost::json::array ops;
  for (const auto& o : d.operations) {
    boost::json::array scopes;
    for (const auto& s : o.scopes) scopes.push_back(boost::json::string(s));
    ops.push_back(boost::json::object{
        {"target", o.target},
        {"verb", o.verb},
        {"authType", o.auth_type.empty() ? "Application & Application User" : o.auth_type},
        {"throttlingPolicy", o.throttling_policy.empty() ? "Unlimited" : o.throttling_policy},
        {"scopes", std::move(scopes)}});
  }
  api["operations"] = std::move(ops);
  boost::json::array scopes;
  for (const auto& s : d.scopes)
    scopes.push_back(boost::json::object{
        {"scope", boost::json::object{{"name", s.name}, {"description", s.description}}}});
  api["scopes"] = std::move(scopes);
  return api;
}

TEST(OpenApiSync, UnchangedOperationsLeaveTheDefinitionAsItWas) {
  for (const char* text : {kPetstore30Yaml, kSwagger20Json}) {
    Definition d = parse(text);
    ASSERT_TRUE(d.valid());
    boost::json::object original = d.document.as_object();
    boost::json::object synced = sync(original, api_from(d));
    EXPECT_EQ(synced["paths"], original["paths"]);
  }
}

TEST(OpenApiSync, FollowsRemovedAddedAndRescopedOperations) {
  for (const char* text : {kPetstore30Yaml, kSwagger20Json}) {
    Definition d = parse(text);
    boost::json::object api = api_from(d);
    auto& ops = api["operations"].as_array();
    ops.erase(ops.begin());  // drop the first operation
    ops[0].as_object()["scopes"] = boost::json::array{"brand_new"};
    ops.push_back(boost::json::object{{"target", "/new/{thing}"},
                                      {"verb", "PATCH"},
                                      {"authType", "None"},
                                      {"throttlingPolicy", "Unlimited"},
                                      {"scopes", boost::json::array{}}});
    api["scopes"].as_array().push_back(
        boost::json::object{{"scope", boost::json::object{{"name", "brand_new"}}}});
    Definition again = parse(boost::json::serialize(sync(d.document.as_object(), api)));
    ASSERT_TRUE(again.valid()) << all_errors(again);
    ASSERT_EQ(again.operations.size(), d.operations.size());
    EXPECT_EQ(find_op(again, d.operations[0].verb, d.operations[0].target), nullptr);
    const Operation* rescoped = find_op(again, d.operations[1].verb, d.operations[1].target);
    ASSERT_NE(rescoped, nullptr);
    EXPECT_EQ(rescoped->scopes, std::vector<std::string>{"brand_new"});
    const Operation* added = find_op(again, "PATCH", "/new/{thing}");
    ASSERT_NE(added, nullptr);
    EXPECT_EQ(added->auth_type, "None");
    EXPECT_EQ(again.title, d.title);
  }
}

}  // namespace
}  // namespace portico::publisher::openapi

namespace portico::publisher::openapi {
namespace {

// Every prefix and many single-byte mutations of real definitions: parse() answers with a
// definition or a list of problems, never an escaping exception or a crash.
TEST(OpenApiRobustness, TruncatedAndMutatedDefinitionsNeverThrow) {
  std::mt19937 rng(12345);
  for (std::string text : {std::string(kPetstore30Yaml), std::string(kSwagger20Json)}) {
    for (std::size_t n = 0; n < text.size(); n += 7) EXPECT_NO_THROW(parse(text.substr(0, n)));
    const std::string alphabet = "{}[]:,'\"&*!|>-\n #\\\x00\xff";
    for (int i = 0; i < 2000; ++i) {
      std::string mutated = text;
      mutated[rng() % mutated.size()] = alphabet[rng() % alphabet.size()];
      EXPECT_NO_THROW(parse(mutated));
    }
  }
}

}  // namespace
}  // namespace portico::publisher::openapi
