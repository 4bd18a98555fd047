#include "publisher/runtime_fields.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

#include "common/api_error.h"

namespace portico::publisher::runtime_fields {
namespace {

json::value parse(const std::string& text) {
  return json::parse(text);
}

// The description of the ApiError `f` throws; fails the test when it throws none or another.
template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    return e.description;
  }
  ADD_FAILURE() << "no ApiError";
  return {};
}

TEST(MaxTps, KeepsTheGivenBackendsAsNumbers) {
  EXPECT_EQ(max_tps(parse(R"({"production":1000,"sandbox":"10"})")),
            parse(R"({"production":1000,"sandbox":10})"));
  EXPECT_EQ(max_tps(parse(R"({"production":0})")), parse(R"({"production":0})"));
}

TEST(MaxTps, NullOrEmptyClearsIt) {
  EXPECT_TRUE(max_tps(nullptr).is_null());
  EXPECT_TRUE(max_tps(parse("{}")).is_null());
  EXPECT_TRUE(max_tps(parse(R"({"production":"","sandbox":null})")).is_null());
}

TEST(MaxTps, RefusesNegativesFractionsHugeValuesAndOtherShapes) {
  EXPECT_NE(refusal([] { max_tps(parse(R"({"production":-1})")); }).find("maxTps.production"),
            std::string::npos);
  refusal([] { max_tps(parse(R"({"sandbox":1.5})")); });
  refusal([] { max_tps(parse(R"({"sandbox":"ten"})")); });
  refusal([] { max_tps(parse(R"({"sandbox":1e30})")); });
  refusal([] { max_tps(parse(R"({"production":18446744073709551615})")); });
  refusal([] { max_tps(parse("[1000]")); });
  refusal([] { max_tps(parse("1000")); });
}

TEST(OperationPolicies, NormalizeHeaderPoliciesAndDropUnknownKeys) {
  auto out =
      operation_policies(parse(R"({"request":[{"policyName":"addHeader","policyId":"x","parameters":
                 {"headerName":"X-Tenant","headerValue":"acme","other":1}}],
                "response":[{"policyName":"removeHeader","policyVersion":"v1",
                 "parameters":{"headerName":"Server"}}]})"),
                         "operation GET /a");
  EXPECT_EQ(out, parse(R"({"request":[{"policyName":"addHeader","policyVersion":"v1",
                            "parameters":{"headerName":"X-Tenant","headerValue":"acme"}}],
                           "response":[{"policyName":"removeHeader","policyVersion":"v1",
                            "parameters":{"headerName":"Server"}}],
                           "fault":[]})"));
  EXPECT_EQ(operation_policies(nullptr, "op"), no_operation_policies());
}

TEST(OperationPolicies, RefuseWhatTheGatewayCannotApply) {
  auto policy = [](const std::string& p) {
    return refusal([&] { operation_policies(parse(R"({"request":[)" + p + "]}"), "operation X"); });
  };
  EXPECT_NE(policy(R"({"policyName":"jsonToXml","parameters":{}})").find("not supported"),
            std::string::npos);
  EXPECT_NE(
      policy(R"({"policyName":"addHeader","parameters":{"headerName":"X-A"}})").find("headerValue"),
      std::string::npos);
  policy(R"({"policyName":"addHeader","policyVersion":"v2",
             "parameters":{"headerName":"X-A","headerValue":"1"}})");
  policy(R"({"policyName":"addHeader","parameters":{"headerName":"X A","headerValue":"1"}})");
  policy(
      R"({"policyName":"addHeader","parameters":{"headerName":"X-A","headerValue":"a\r\nB: c"}})");
  EXPECT_NE(
      policy(R"({"policyName":"removeHeader","parameters":{"headerName":"Transfer-Encoding"}})")
          .find("managed by the gateway"),
      std::string::npos);
  policy(R"({"policyName":"addHeader","parameters":{"headerName":"content-length",
             "headerValue":"0"}})");
  policy(R"({"policyName":"removeHeader"})");
  policy(R"("addHeader")");
  std::string value(kMaxHeaderValueLength + 1, 'v');
  policy(R"({"policyName":"addHeader","parameters":{"headerName":"X-A","headerValue":")" + value +
         R"("}})");

  std::string many;
  for (std::size_t i = 0; i <= kMaxPoliciesPerFlow; ++i)
    many += std::string(i ? "," : "") +
            R"({"policyName":"removeHeader","parameters":{"headerName":"X-A"}})";
  refusal([&] { operation_policies(parse(R"({"request":[)" + many + "]}"), "op"); });
  EXPECT_NE(refusal([] {
              operation_policies(parse(R"({"fault":[{"policyName":"removeHeader",
                                  "parameters":{"headerName":"X-A"}}]})"),
                                 "op");
            }).find("fault"),
            std::string::npos);
  refusal([] { operation_policies(parse(R"({"request":{}})"), "op"); });
  refusal([] { operation_policies(parse("[]"), "op"); });
}

TEST(Endpoint, KeepsTheUrlAndTheReferencesAdvancedConfigAsNumbers) {
  // As the reference's publisher sends it: numbers in strings, "" for what was left empty.
  auto out = endpoint(parse(R"({"url":"https://b.example/v1","endpoint_type":"http",
      "template_not_supported":false,"config":{"actionDuration":"30000","actionSelect":"fault",
      "suspendDuration":"","suspendMaxDuration":"60000","factor":"2","suspendErrorCode":
      ["101503","101504"],"retryTimeOut":"3","retryDelay":"","retryErroCode":"101504, 101505",
      "connectTimeout":5000,"format":"soap11"}})"),
                      "endpointConfig.production_endpoints");
  EXPECT_EQ(out, parse(R"({"url":"https://b.example/v1","config":{"actionDuration":30000,
      "actionSelect":"fault","suspendMaxDuration":60000,"factor":2.0,
      "suspendErrorCode":["101503","101504"],"retryTimeOut":3,
      "retryErroCode":["101504","101505"],"connectTimeout":5000}})"));
  // A config with nothing set leaves no config behind.
  EXPECT_EQ(endpoint(parse(R"({"url":"http://b.example","config":{"retryDelay":""}})"), "e"),
            parse(R"({"url":"http://b.example"})"));
  // -1: the reference's never-suspend, for failover endpoints.
  EXPECT_EQ(endpoint_config(parse(R"({"suspendDuration":-1})").as_object(), "c"),
            parse(R"({"suspendDuration":-1})"));
}

TEST(Endpoint, RefusesBadNumbersActionsAndErrorCodes) {
  auto config = [](const std::string& c) {
    return refusal([&] {
      endpoint(parse(R"({"url":"https://b.example","config":)" + c + "}"), "endpointConfig.x");
    });
  };
  EXPECT_NE(config(R"({"actionDuration":0})").find("endpointConfig.x.config.actionDuration"),
            std::string::npos);
  config(R"({"actionDuration":"30s"})");
  config(R"({"actionDuration":3600001})");
  config(R"({"actionSelect":"neverTimeout"})");
  config(R"({"suspendDuration":-2})");
  config(R"({"suspendDuration":60000,"suspendMaxDuration":1000})");
  config(R"({"factor":0.5})");
  config(R"({"factor":"NaN"})");
  config(R"({"retryTimeOut":11})");
  config(R"({"retryDelay":-1})");
  config(R"({"connectTimeout":0})");
  EXPECT_NE(config(R"({"suspendErrorCode":["101503","404"]})").find("'404'"), std::string::npos);
  config(R"({"retryErroCode":[true]})");
  config(R"({"retryErroCode":{"a":1}})");
  config(R"("fast")");
  refusal([] { endpoint(parse(R"({"url":"ftp://b.example"})"), "e"); });
  refusal([] { endpoint(parse(R"("https://b.example")"), "e"); });
}

TEST(HeaderNames, AreTokensOfBoundedLength) {
  check_header_name("X-Api_Key.1", "apiKeyHeader");
  refusal([] { check_header_name("", "apiKeyHeader"); });
  refusal([] { check_header_name("Api Key", "apiKeyHeader"); });
  refusal([] { check_header_name("a:b", "apiKeyHeader"); });
  refusal([] { check_header_name(std::string(kMaxHeaderNameLength + 1, 'a'), "apiKeyHeader"); });
}

}  // namespace
}  // namespace portico::publisher::runtime_fields
