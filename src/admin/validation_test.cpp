#include "admin/validation.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <regex>
#include <string>
#include <vector>

#include "common/api_error.h"

namespace portico::admin {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}

// The 400's description, or "" when `f` does not throw one.
template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    return e.description;
  }
  return "";
}

constexpr const char* kLimit =
    R"("defaultLimit":{"type":"REQUESTCOUNTLIMIT",)"
    R"("requestCount":{"timeUnit":"min","unitTime":1,"requestCount":10}})";

TEST(PolicyValidation, KeepsKnownFieldsAndDropsReadOnlyOnes) {
  auto doc = validate_policy(PolicyLevel::subscription,
                             obj(std::string(R"({"policyId":"x","isDeployed":false,"type":"T",
                                 "policyName":"P1","rateLimitCount":5,"rateLimitTimeUnit":"sec",
                                 "stopOnQuotaReach":true,"subscriberCount":9,)") +
                                 kLimit + "}"));
  EXPECT_FALSE(doc.contains("policyId"));
  EXPECT_FALSE(doc.contains("isDeployed"));
  EXPECT_FALSE(doc.contains("type"));
  EXPECT_FALSE(doc.contains("subscriberCount"));
  EXPECT_EQ(doc.at("displayName").as_string(), "P1");
  EXPECT_EQ(doc.at("rateLimitCount").as_int64(), 5);
  EXPECT_EQ(doc.at("billingPlan").as_string(), "FREE");
}

TEST(PolicyValidation, RefusesBadLimits) {
  auto bad = [](std::string limit) {
    return refusal([&] {
      validate_policy(PolicyLevel::application,
                      obj(R"({"policyName":"P","defaultLimit":)" + limit + "}"));
    });
  };
  EXPECT_NE(bad(R"({"type":"NOPE"})"), "");
  EXPECT_NE(bad(R"({"type":"REQUESTCOUNTLIMIT"})"), "");
  EXPECT_NE(bad(R"({"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"fortnight",
                "unitTime":1,"requestCount":1}})"),
            "");
  EXPECT_NE(bad(R"({"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min",
                "unitTime":0,"requestCount":1}})"),
            "");
  auto negative = bad(R"({"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min",
                      "unitTime":1,"requestCount":-5}})");
  EXPECT_NE(negative.find("defaultLimit: requestCount: "), std::string::npos) << negative;
  EXPECT_NE(bad(R"({"type":"BANDWIDTHLIMIT","bandwidth":{"timeUnit":"min","unitTime":1,
                "dataAmount":5,"dataUnit":"TB"}})"),
            "");
  EXPECT_NE(refusal([] {
              validate_policy(
                  PolicyLevel::subscription,
                  obj(std::string(R"({"policyName":"P","rateLimitCount":3,)") + kLimit + "}"));
            }),
            "");  // burst without its time unit
  EXPECT_NE(
      refusal([] { validate_policy(PolicyLevel::application, obj(R"({"policyName":"a/b"})")); }),
      "");
}

TEST(PolicyValidation, AdvancedConditions) {
  auto with_condition = [](std::string condition) {
    return obj(std::string(R"({"policyName":"A",)") + kLimit +
               R"(,"conditionalGroups":[{"conditions":[)" + condition + R"(],"limit":{"type":
               "REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min","unitTime":1,
               "requestCount":1}}}]})");
  };
  auto ok = validate_policy(PolicyLevel::advanced, with_condition(R"({"type":"IPCONDITION",
      "invertCondition":true,"ipCondition":{"ipConditionType":"IPRANGE",
      "startingIP":"10.0.0.1","endingIP":"10.0.0.255"}})"));
  auto& condition = ok.at("conditionalGroups").at(0).at("conditions").at(0);
  EXPECT_TRUE(condition.at("invertCondition").as_bool());
  validate_policy(PolicyLevel::advanced, with_condition(R"({"type":"HEADERCONDITION",
      "headerCondition":{"headerName":"X-Tier","headerValue":"gold"}})"));
  validate_policy(PolicyLevel::advanced, with_condition(R"({"type":"JWTCLAIMSCONDITION",
      "jwtClaimsCondition":{"claimUrl":"http://wso2.org/claims/role","attribute":"admin"}})"));
  validate_policy(PolicyLevel::advanced, with_condition(R"({"type":"QUERYPARAMETERCONDITION",
      "queryParameterCondition":{"parameterName":"a","parameterValue":"b"}})"));
  validate_policy(PolicyLevel::advanced, with_condition(R"({"type":"IPCONDITION",
      "ipCondition":{"ipConditionType":"IPSPECIFIC","specificIP":"2001:db8::1"}})"));

  auto refused = [&](std::string condition) {
    return refusal([&] { validate_policy(PolicyLevel::advanced, with_condition(condition)); });
  };
  EXPECT_NE(refused(R"({"type":"IPCONDITION","ipCondition":{"ipConditionType":"IPRANGE",
      "startingIP":"10.0.0.9","endingIP":"10.0.0.1"}})"),
            "");
  EXPECT_NE(refused(R"({"type":"IPCONDITION","ipCondition":{"ipConditionType":"IPRANGE",
      "startingIP":"10.0.0.1","endingIP":"::1"}})"),
            "");
  EXPECT_NE(refused(R"({"type":"IPCONDITION","ipCondition":{"specificIP":"10.0.0.256"}})"), "");
  EXPECT_NE(refused(R"({"type":"HEADERCONDITION","headerCondition":{"headerName":"X"}})"), "");
  EXPECT_NE(refused(R"({"type":"COOKIECONDITION"})"), "");
  auto where = refused(R"({"type":"IPCONDITION","ipCondition":{"specificIP":"nope"}})");
  EXPECT_NE(where.find("conditionalGroups[0]: conditions[0]: ipCondition"), std::string::npos)
      << where;
}

TEST(IpAddresses, ParseAndOrder) {
  EXPECT_TRUE(parse_ip("192.168.1.1"));
  EXPECT_TRUE(parse_ip("::ffff:10.0.0.1"));
  EXPECT_FALSE(parse_ip("192.168.1"));
  EXPECT_FALSE(parse_ip("1.2.3.4/24"));
  EXPECT_FALSE(parse_ip(""));
  EXPECT_LT(*parse_ip("10.0.0.2"), *parse_ip("10.0.0.10"));
}

TEST(DenyConditions, ValuesAreValidatedAndCanonical) {
  auto value = [](std::string body) {
    return json::serialize(validate_deny_condition(obj(body)).value);
  };
  EXPECT_EQ(value(R"({"conditionType":"API","conditionValue":"/pets/1.0.0"})"), R"("/pets/1.0.0")");
  EXPECT_EQ(value(R"({"conditionType":"APPLICATION","conditionValue":"alice:App"})"),
            R"("alice:App")");
  EXPECT_EQ(value(R"({"conditionType":"USER","conditionValue":"mallory"})"), R"("mallory")");
  EXPECT_EQ(value(R"({"conditionType":"IP","conditionValue":"2001:DB8:0:0::1"})"),
            R"({"fixedIp":"2001:db8::1","invert":false})");
  EXPECT_EQ(value(R"({"conditionType":"IP","conditionValue":{"fixedIp":"10.0.0.1",
                "invert":true}})"),
            R"({"fixedIp":"10.0.0.1","invert":true})");
  EXPECT_EQ(value(R"({"conditionType":"IPRANGE","conditionValue":{"startingIp":"10.0.0.1",
                "endingIp":"10.0.0.5"}})"),
            R"({"startingIp":"10.0.0.1","endingIp":"10.0.0.5","invert":false})");

  auto refused = [](std::string body) {
    return refusal([&] { validate_deny_condition(obj(body)); });
  };
  EXPECT_NE(refused(R"({"conditionType":"API","conditionValue":"pets"})"), "");
  EXPECT_NE(refused(R"({"conditionType":"API","conditionValue":"/pets /1"})"), "");
  EXPECT_NE(refused(R"({"conditionType":"APPLICATION","conditionValue":"App"})"), "");
  EXPECT_NE(refused(R"({"conditionType":"APPLICATION","conditionValue":":App"})"), "");
  EXPECT_NE(refused(R"({"conditionType":"USER","conditionValue":"a b"})"), "");
  EXPECT_NE(refused(R"({"conditionType":"IP","conditionValue":"300.1.1.1"})"), "");
  EXPECT_NE(refused(R"({"conditionType":"IPRANGE","conditionValue":{"startingIp":"10.0.0.5",
                "endingIp":"10.0.0.1"}})"),
            "");
  EXPECT_NE(refused(R"({"conditionType":"IPRANGE","conditionValue":"10.0.0.1"})"), "");
  EXPECT_NE(refused(R"({"conditionType":"HOST","conditionValue":"x"})"), "");
  EXPECT_NE(refused(R"({"conditionType":"USER"})"), "");
}

TEST(EnvironmentValidation, NamesHostsAndPorts) {
  auto doc = validate_environment(obj(R"({"id":"ignored","isReadOnly":true,"name":"eu-west",
      "vhosts":[{"host":"gw.example.com","httpContext":"/gw"}]})"));
  EXPECT_FALSE(doc.contains("id"));
  EXPECT_FALSE(doc.contains("isReadOnly"));
  EXPECT_EQ(doc.at("displayName").as_string(), "eu-west");
  EXPECT_EQ(doc.at("vhosts").at(0).at("httpsPort").as_int64(), 443);

  auto refused = [](std::string body) { return refusal([&] { validate_environment(obj(body)); }); };
  EXPECT_NE(refused(R"({"name":"a b","vhosts":[{"host":"x"}]})"), "");
  EXPECT_NE(refused(R"({"name":"a","vhosts":[]})"), "");
  EXPECT_NE(refused(R"({"name":"a","vhosts":[{"host":"bad_host!"}]})"), "");
  EXPECT_NE(refused(R"({"name":"a","vhosts":[{"host":"x","httpsPort":70000}]})"), "");
  EXPECT_NE(refused(R"({"name":"a","vhosts":[{"host":"x","httpContext":"/a/b"}]})"), "");
}

// The regular expressions the vhost checks replaced, kept here as the definition of the
// language the one-pass checks must accept.
TEST(EnvironmentValidation, HostAndContextChecksAcceptWhatTheirRegexesDid) {
  const std::regex host(R"((([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*)"
                        R"(([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]))");
  const std::regex context(R"(/?([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])*)");
  const std::string alphabet = "a7-/._";
  std::vector<std::string> texts = {""};
  for (std::size_t length = 1; length <= 5; ++length) {
    std::vector<std::string> longer;
    for (const auto& t : texts)
      if (t.size() == length - 1)
        for (char c : alphabet) longer.push_back(t + c);
    texts.insert(texts.end(), longer.begin(), longer.end());
  }
  for (const auto& t : texts) {
    EXPECT_EQ(is_vhost_host(t), std::regex_match(t, host)) << "host '" << t << "'";
    EXPECT_EQ(is_vhost_context(t), std::regex_match(t, context)) << "context '" << t << "'";
  }
}

TEST(EnvironmentValidation, ALongContextThatEndsBadlyIsRefusedAtOnce) {
  // 254 letters and a character the language lacks: the regex never finished on this.
  std::string context = "/" + std::string(253, 'a') + "!";
  EXPECT_FALSE(is_vhost_context(context));
  EXPECT_TRUE(is_vhost_context("/" + std::string(254, 'a')));
  std::string body = R"({"name":"a","vhosts":[{"host":"x","httpContext":")" + context + R"("}]})";
  EXPECT_NE(refusal([&] { validate_environment(obj(body)); }), "");
}

}  // namespace
}  // namespace portico::admin
