#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "traffic/traffic.h"

namespace portico::traffic {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kT0 = 1'700'000'040'000;  // a minute boundary

std::string count_limit(std::int64_t count, std::string_view unit = "min") {
  return R"({"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":")" + std::string(unit) +
         R"(","unitTime":1,"requestCount":)" + std::to_string(count) + "}}";
}

std::string bandwidth_limit(std::int64_t kb) {
  return R"({"type":"BANDWIDTHLIMIT","bandwidth":{"timeUnit":"min","unitTime":1,"dataAmount":)" +
         std::to_string(kb) + R"(,"dataUnit":"KB"}})";
}

std::string policy(std::string_view name, const std::string& limit, std::string_view extra = "") {
  return R"({"policyName":")" + std::string(name) + R"(","defaultLimit":)" + limit +
         (extra.empty() ? "" : ",") + std::string(extra) + "}";
}

std::string group(std::string_view conditions, const std::string& limit) {
  return R"({"conditions":[)" + std::string(conditions) + R"(],"limit":)" + limit + "}";
}

std::string header_condition(std::string_view name, std::string_view value, bool invert = false) {
  return R"({"type":"HEADERCONDITION","invertCondition":)" +
         std::string(invert ? "true" : "false") + R"(,"headerCondition":{"headerName":")" +
         std::string(name) + R"(","headerValue":")" + std::string(value) + R"("}})";
}

// Policies by level, as JSON arrays' contents.
struct Policies {
  std::string subscription = "", application = "", advanced = "", deny = "";

  std::shared_ptr<const PolicySet> build() const {
    std::vector<std::string> warnings;
    auto set = PolicySet::build(json::parse("[" + subscription + "]").as_array(),
                                json::parse("[" + application + "]").as_array(),
                                json::parse("[" + advanced + "]").as_array(),
                                json::parse("[" + deny + "]").as_array(), &warnings);
    EXPECT_TRUE(warnings.empty()) << warnings[0];
    return set;
  }
};

class Attributes : public RequestAttributes {
 public:
  std::map<std::string, std::string, std::less<>> headers, query, claims;

  std::optional<std::string_view> header(std::string_view name) const override {
    return find(headers, name);
  }
  std::optional<std::string_view> query_parameter(std::string_view name) const override {
    return find(query, name);
  }
  std::optional<std::string_view> claim(std::string_view name) const override {
    return find(claims, name);
  }

 private:
  static std::optional<std::string_view> find(
      const std::map<std::string, std::string, std::less<>>& m, std::string_view name) {
    auto it = m.find(name);
    if (it == m.end()) return std::nullopt;
    return std::string_view(it->second);
  }
};

// A request of application "app-1" (owner alice, app "shop") by user "bob" to API "api-1"
// (/pets/1.0.0), GET /pets, with no policies; tests set what they exercise.
ThrottleRequest base_request() {
  ThrottleRequest r;
  r.client_ip = "192.0.2.10";
  r.api_id = "api-1";
  r.api_context_version = "/pets/1.0.0";
  r.resource_key = "api-1:GET:/pets";
  r.subscription_key = "app-1:api-1";
  r.application_id = "app-1";
  r.application_owner_and_name = "alice:shop";
  r.user = "bob";
  r.key_type = "PRODUCTION";
  r.now_ms = kT0;
  return r;
}

int allowed(Throttler& t, const PolicySet& p, const ThrottleRequest& r, int attempts) {
  int n = 0;
  for (int i = 0; i < attempts; ++i) n += t.decide(p, r).allowed ? 1 : 0;
  return n;
}

// --- subscription tier and burst control -----------------------------------------------

TEST(Throttler, SubscriptionTierAdmitsItsQuotaThenRefusesWith900804) {
  auto p = Policies{.subscription = policy("Three", count_limit(3), R"("stopOnQuotaReach":true)")}
               .build();
  Throttler t;
  auto r = base_request();
  r.subscription_policy = "Three";
  EXPECT_EQ(allowed(t, *p, r, 3), 3);
  auto d = t.decide(*p, r);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.level, ThrottleLevel::kSubscription);
  EXPECT_EQ(d.status, 429);
  EXPECT_EQ(d.code, 900804);
  EXPECT_EQ(d.message, "Subscription level throttled out");
  EXPECT_FALSE(d.description.empty());
  EXPECT_EQ(d.retry_after_seconds, 60);
}

TEST(Throttler, SubscriptionsAreCountedSeparately) {
  auto p =
      Policies{.subscription = policy("One", count_limit(1), R"("stopOnQuotaReach":true)")}.build();
  Throttler t;
  auto r = base_request();
  r.subscription_policy = "One";
  EXPECT_TRUE(t.decide(*p, r).allowed);
  EXPECT_FALSE(t.decide(*p, r).allowed);
  r.subscription_key = "app-2:api-1";
  EXPECT_TRUE(t.decide(*p, r).allowed);
}

TEST(Throttler, WithoutStopOnQuotaReachTheRequestPassesMarkedOverQuota) {
  auto p = Policies{.subscription = policy("Two", count_limit(2), R"("stopOnQuotaReach":false)")}
               .build();
  Throttler t;
  auto r = base_request();
  r.subscription_policy = "Two";
  EXPECT_FALSE(t.decide(*p, r).subscription_over_quota);
  EXPECT_FALSE(t.decide(*p, r).subscription_over_quota);
  auto d = t.decide(*p, r);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.subscription_over_quota);
}

TEST(Throttler, BurstControlRefusesWith900807AndResetsNextSecond) {
  auto p = Policies{.subscription = policy(
                        "Spiky", count_limit(1000),
                        R"("rateLimitCount":2,"rateLimitTimeUnit":"sec","stopOnQuotaReach":true)")}
               .build();
  Throttler t;
  auto r = base_request();
  r.subscription_policy = "Spiky";
  r.now_ms = kT0 + 200;
  EXPECT_EQ(allowed(t, *p, r, 2), 2);
  auto d = t.decide(*p, r);
  EXPECT_EQ(d.level, ThrottleLevel::kBurst);
  EXPECT_EQ(d.status, 429);
  EXPECT_EQ(d.code, 900807);
  EXPECT_EQ(d.message, "Message throttled out");
  EXPECT_EQ(d.retry_after_seconds, 1);
  r.now_ms = kT0 + 1000;
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
}

TEST(Throttler, BurstControlStillAppliesWhenTheQuotaDoesNotStop) {
  auto p = Policies{.subscription = policy(
                        "Soft", count_limit(1),
                        R"("rateLimitCount":3,"rateLimitTimeUnit":"min","stopOnQuotaReach":false)")}
               .build();
  Throttler t;
  auto r = base_request();
  r.subscription_policy = "Soft";
  EXPECT_EQ(allowed(t, *p, r, 5), 3);
  EXPECT_EQ(t.decide(*p, r).code, 900807);
}

// --- application tier --------------------------------------------------------------------

TEST(Throttler, ApplicationTierCountsPerApplicationAndUser) {
  auto p = Policies{.application = policy("TwoPerMin", count_limit(2))}.build();
  Throttler t;
  auto r = base_request();
  r.application_policy = "TwoPerMin";
  EXPECT_EQ(allowed(t, *p, r, 2), 2);
  auto d = t.decide(*p, r);
  EXPECT_EQ(d.level, ThrottleLevel::kApplication);
  EXPECT_EQ(d.status, 429);
  EXPECT_EQ(d.code, 900803);
  EXPECT_EQ(d.message, "Application level throttle out");
  // Another user of the same application has a quota of their own...
  r.user = "carol";
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
  // ...while the same user through another API of the application shares it.
  r.user = "bob";
  r.api_id = "api-2";
  r.subscription_key = "app-1:api-2";
  EXPECT_FALSE(t.decide(*p, r).allowed);
}

// --- advanced policies ---------------------------------------------------------------------

TEST(Throttler, ApiLevelPolicyIsSharedByEveryCallerAndRefusesWith900800) {
  auto p = Policies{.advanced = policy("ThreePerMin", count_limit(3))}.build();
  Throttler t;
  auto r = base_request();
  r.api_policy = "ThreePerMin";
  EXPECT_EQ(allowed(t, *p, r, 2), 2);
  r.application_id = "app-2";
  r.user = "dave";
  EXPECT_EQ(allowed(t, *p, r, 2), 1);
  auto d = t.decide(*p, r);
  EXPECT_EQ(d.level, ThrottleLevel::kApi);
  EXPECT_EQ(d.status, 429);
  EXPECT_EQ(d.code, 900800);
  EXPECT_EQ(d.message, "Message throttled out");
  r.api_id = "api-2";
  EXPECT_TRUE(t.decide(*p, r).allowed);
}

TEST(Throttler, ResourceLevelPolicyCountsPerResourceAndRefusesWith900802) {
  auto p = Policies{.advanced = policy("TwoPerMin", count_limit(2))}.build();
  Throttler t;
  auto r = base_request();
  r.resource_policy = "TwoPerMin";
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
  auto d = t.decide(*p, r);
  EXPECT_EQ(d.level, ThrottleLevel::kResource);
  EXPECT_EQ(d.code, 900802);
  EXPECT_EQ(d.message, "Resource level throttle out");
  r.resource_key = "api-1:POST:/pets";
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
}

TEST(Throttler, AMatchingHeaderGroupCountsAgainstItsOwnLimit) {
  auto p = Policies{.advanced =
                        policy("Tiered", count_limit(2),
                               R"("conditionalGroups":[)" +
                                   group(header_condition("X-Tier", "gold"), count_limit(5)) + "]")}
               .build();
  Throttler t;
  Attributes gold;
  gold.headers["X-Tier"] = "gold";
  auto r = base_request();
  r.api_policy = "Tiered";
  r.attributes = &gold;
  EXPECT_EQ(allowed(t, *p, r, 10), 5);
  Attributes plain;
  r.attributes = &plain;
  EXPECT_EQ(allowed(t, *p, r, 10), 2);
  // Without attributes at all, header conditions do not hold: the default limit applies.
  r.attributes = nullptr;
  EXPECT_EQ(allowed(t, *p, r, 1), 0);
}

TEST(Throttler, HeaderValuesAreFoundAnywhereAndRegexesApply) {
  auto p =
      Policies{.advanced = policy(
                   "Agents", count_limit(100),
                   R"("conditionalGroups":[)" +
                       group(header_condition("User-Agent", "Mozilla"), count_limit(1)) + "," +
                       group(header_condition("User-Agent", "^curl/[0-9]+"), count_limit(2)) + "]")}
          .build();
  Throttler t;
  Attributes a;
  auto r = base_request();
  r.api_policy = "Agents";
  r.attributes = &a;
  a.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64)";
  EXPECT_EQ(allowed(t, *p, r, 3), 1);
  a.headers["User-Agent"] = "curl/8.1.2";
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
  a.headers["User-Agent"] = "wget curl/8";  // not at the start
  EXPECT_EQ(allowed(t, *p, r, 3), 3);
}

TEST(Throttler, QueryParametersAndClaimsMustMatchWhole) {
  auto p = Policies{.advanced = policy("ByParam", count_limit(100),
                                       R"("conditionalGroups":[)" +
                                           group(R"({"type":"QUERYPARAMETERCONDITION",
                                       "queryParameterCondition":{"parameterName":"plan",
                                                                  "parameterValue":"free"}})",
                                                 count_limit(1)) +
                                           "," +
                                           group(R"({"type":"JWTCLAIMSCONDITION",
                                       "jwtClaimsCondition":{"claimUrl":"org",
                                                             "attribute":"acme|globex"}})",
                                                 count_limit(2)) +
                                           "]")}
               .build();
  Throttler t;
  Attributes a;
  auto r = base_request();
  r.api_policy = "ByParam";
  r.attributes = &a;
  a.query["plan"] = "free";
  EXPECT_EQ(allowed(t, *p, r, 3), 1);
  a.query["plan"] = "freebie";
  a.claims["org"] = "globex";
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
  a.claims["org"] = "globex-inc";
  EXPECT_EQ(allowed(t, *p, r, 3), 3);
}

TEST(Throttler, IpConditionsMatchTheClientAddressIncludingIpv6Ranges) {
  auto p = Policies{.advanced = policy("ByIp", count_limit(100),
                                       R"("conditionalGroups":[)" +
                                           group(R"({"type":"IPCONDITION","ipCondition":{
                                       "ipConditionType":"IPSPECIFIC","specificIP":"10.0.0.1"}})",
                                                 count_limit(1)) +
                                           "," +
                                           group(R"({"type":"IPCONDITION","ipCondition":{
                                       "ipConditionType":"IPRANGE","startingIP":"2001:db8::",
                                       "endingIP":"2001:db8::ff"}})",
                                                 count_limit(2)) +
                                           "]")}
               .build();
  Throttler t;
  auto r = base_request();
  r.api_policy = "ByIp";
  r.client_ip = "10.0.0.1";
  EXPECT_EQ(allowed(t, *p, r, 3), 1);
  r.client_ip = "2001:db8::42";
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
  r.client_ip = "2001:db8::42";
  r.client_ip = "2001:db8::1:0";
  EXPECT_EQ(allowed(t, *p, r, 3), 3);
}

TEST(Throttler, AnInvertedConditionHoldsWhenTheValueDoesNotMatch) {
  auto p =
      Policies{.advanced = policy(
                   "NotInternal", count_limit(100),
                   R"("conditionalGroups":[)" +
                       group(header_condition("X-Internal", "yes", true), count_limit(1)) + "]")}
          .build();
  Throttler t;
  Attributes a;
  auto r = base_request();
  r.api_policy = "NotInternal";
  r.attributes = &a;
  // No header at all: "not matching" holds.
  EXPECT_EQ(allowed(t, *p, r, 3), 1);
  a.headers["X-Internal"] = "yes";
  EXPECT_EQ(allowed(t, *p, r, 3), 3);
}

TEST(Throttler, AllConditionsOfAGroupMustHold) {
  auto p = Policies{.advanced = policy(
                        "Both", count_limit(100),
                        R"("conditionalGroups":[)" +
                            group(header_condition("X-A", "1") + "," + header_condition("X-B", "1"),
                                  count_limit(1)) +
                            "]")}
               .build();
  Throttler t;
  Attributes a;
  auto r = base_request();
  r.api_policy = "Both";
  r.attributes = &a;
  a.headers["X-A"] = "1";
  EXPECT_EQ(allowed(t, *p, r, 3), 3);
  a.headers["X-B"] = "1";
  EXPECT_EQ(allowed(t, *p, r, 3), 1);
}

TEST(Throttler, EveryMatchingGroupCountsAndAnyOfThemRefuses) {
  auto p =
      Policies{.advanced = policy("Overlap", count_limit(100),
                                  R"("conditionalGroups":[)" +
                                      group(header_condition("X-A", "1"), count_limit(3)) + "," +
                                      group(header_condition("X-B", "1"), count_limit(1)) + "]")}
          .build();
  Throttler t;
  Attributes both;
  both.headers = {{"X-A", "1"}, {"X-B", "1"}};
  auto r = base_request();
  r.api_policy = "Overlap";
  r.attributes = &both;
  EXPECT_EQ(allowed(t, *p, r, 3), 1);
  // The refusals gave back what group A had taken: A still has two left.
  Attributes only_a;
  only_a.headers = {{"X-A", "1"}};
  r.attributes = &only_a;
  EXPECT_EQ(allowed(t, *p, r, 5), 2);
}

// --- bandwidth -------------------------------------------------------------------------------

TEST(Throttler, BandwidthRefusesOnceTheWindowsBytesReachTheLimit) {
  auto p = Policies{.application = policy("OneKB", bandwidth_limit(1))}.build();
  Throttler t;
  auto r = base_request();
  r.application_policy = "OneKB";
  r.request_bytes = 100;
  auto first = t.decide(*p, r);
  ASSERT_TRUE(first.allowed);
  ASSERT_EQ(first.bandwidth_count, 1);
  t.record_bytes(first, 600, r.now_ms);  // 700 bytes counted
  auto second = t.decide(*p, r);         // 800
  ASSERT_TRUE(second.allowed);
  t.record_bytes(second, 600, r.now_ms);  // 1400 >= 1024
  auto third = t.decide(*p, r);
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.code, 900803);
  // The next window starts from zero.
  r.now_ms += kMinute;
  EXPECT_TRUE(t.decide(*p, r).allowed);
}

TEST(Throttler, RequestCountDecisionsCarryNoBandwidthCounters) {
  auto p = Policies{.application = policy("Ten", count_limit(10))}.build();
  Throttler t;
  auto r = base_request();
  r.application_policy = "Ten";
  EXPECT_EQ(t.decide(*p, r).bandwidth_count, 0);
}

// --- backend ---------------------------------------------------------------------------------

TEST(Throttler, BackendMaxTpsRefusesWith503AndCountsPerKeyType) {
  auto p = Policies{}.build();
  Throttler t;
  auto r = base_request();
  r.backend_max_tps = 2;
  r.now_ms = kT0 + 500;
  EXPECT_EQ(allowed(t, *p, r, 2), 2);
  auto d = t.decide(*p, r);
  EXPECT_EQ(d.level, ThrottleLevel::kBackend);
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.code, 900801);
  EXPECT_EQ(d.message, "Hard limit exceeded");
  EXPECT_EQ(d.retry_after_seconds, 1);
  r.key_type = "SANDBOX";
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
  r.key_type = "PRODUCTION";
  r.now_ms = kT0 + 1000;
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
}

// --- order, give-back, windows -------------------------------------------------------------

TEST(Throttler, TheFirstRefusalInTheReferenceOrderIsReported) {
  auto p = Policies{.subscription = policy("One", count_limit(1), R"("stopOnQuotaReach":true)"),
                    .application = policy("One", count_limit(1)),
                    .advanced = policy("One", count_limit(1))}
               .build();
  Throttler t;
  auto r = base_request();
  r.api_policy = "One";
  r.resource_policy = "One";
  r.subscription_policy = "One";
  r.application_policy = "One";
  r.backend_max_tps = 1;
  EXPECT_TRUE(t.decide(*p, r).allowed);
  EXPECT_EQ(t.decide(*p, r).code, 900800);  // API before all the others
  r.api_policy = "";
  EXPECT_EQ(t.decide(*p, r).code, 900802);  // then resource
  r.resource_policy = "";
  EXPECT_EQ(t.decide(*p, r).code, 900804);  // then subscription
  r.subscription_policy = "";
  EXPECT_EQ(t.decide(*p, r).code, 900803);  // then application
  r.application_policy = "";
  EXPECT_EQ(t.decide(*p, r).code, 900801);  // then the backend
}

TEST(Throttler, ARefusedRequestIsNotCountedAtEarlierLevels) {
  auto p = Policies{.subscription = policy("One", count_limit(1), R"("stopOnQuotaReach":true)"),
                    .advanced = policy("ThreePerMin", count_limit(3))}
               .build();
  Throttler t;
  auto r = base_request();
  r.api_policy = "ThreePerMin";
  r.subscription_policy = "One";
  EXPECT_TRUE(t.decide(*p, r).allowed);
  EXPECT_EQ(t.decide(*p, r).code, 900804);
  EXPECT_EQ(t.decide(*p, r).code, 900804);
  // The API-level counter holds only the one admitted request: two more fit.
  r.subscription_policy = "";
  r.application_id = "app-2";
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
}

TEST(Throttler, WindowsRollOverAtEpochAlignedBoundaries) {
  auto p = Policies{.application = policy("Two", count_limit(2))}.build();
  Throttler t;
  auto r = base_request();
  r.application_policy = "Two";
  r.now_ms = kT0 + kMinute - 2;
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
  r.now_ms = kT0 + kMinute - 1;
  EXPECT_FALSE(t.decide(*p, r).allowed);
  r.now_ms = kT0 + kMinute;
  EXPECT_EQ(allowed(t, *p, r, 3), 2);
}

TEST(Throttler, RetryAfterIsTheTimeToTheEndOfTheRefusingWindowRoundedUp) {
  auto p = Policies{.application = policy("One", count_limit(1)),
                    .advanced = policy("Hourly", count_limit(1, "hour"))}
               .build();
  Throttler t;
  auto r = base_request();
  r.application_policy = "One";
  r.now_ms = kT0 + 200;
  t.decide(*p, r);
  EXPECT_EQ(t.decide(*p, r).retry_after_seconds, 60);  // 59.8 s left
  r.now_ms = kT0 + 59'500;
  EXPECT_EQ(t.decide(*p, r).retry_after_seconds, 1);  // 0.5 s left
  r.now_ms = kT0 + 59'999;
  EXPECT_EQ(t.decide(*p, r).retry_after_seconds, 1);  // never 0

  const std::int64_t hour_start = 1'699'999'200'000;  // divisible by 3,600,000
  auto h = base_request();
  h.api_policy = "Hourly";
  h.now_ms = hour_start + 10 * kMinute;
  t.decide(*p, h);
  EXPECT_EQ(t.decide(*p, h).retry_after_seconds, 50 * 60);
}

// --- unlimited and unknown -------------------------------------------------------------------

TEST(Throttler, UnlimitedPoliciesNeverCount) {
  auto p = Policies{.subscription =
                        policy("Unlimited", count_limit(2147483647), R"("stopOnQuotaReach":true)"),
                    .application = policy("Unlimited", count_limit(2147483647)),
                    .advanced = policy("Unlimited", count_limit(2147483647))}
               .build();
  Throttler t(ThrottlerOptions{.counter_slots = 16});
  auto r = base_request();
  r.api_policy = r.resource_policy = r.subscription_policy = r.application_policy = "Unlimited";
  EXPECT_EQ(allowed(t, *p, r, 10'000), 10'000);
  EXPECT_EQ(t.stats().slots_in_use, 0u);
}

TEST(Throttler, APolicyNameTheSetDoesNotKnowIsNotEnforced) {
  auto p = Policies{}.build();
  Throttler t;
  auto r = base_request();
  r.subscription_policy = "Gone";
  r.application_policy = "Gone";
  r.api_policy = "Gone";
  EXPECT_EQ(allowed(t, *p, r, 100), 100);
}

TEST(Throttler, AFullCounterTableFailsOpenAndSaysSo) {
  auto p = Policies{.application = policy("One", count_limit(1))}.build();
  Throttler t(ThrottlerOptions{.counter_slots = 16});
  auto r = base_request();
  r.application_policy = "One";
  std::vector<std::string> users;
  for (int i = 0; i < 16; ++i) users.push_back("user" + std::to_string(i));
  for (const auto& u : users) {
    r.user = u;
    ASSERT_TRUE(t.decide(*p, r).allowed);
  }
  r.user = "one-too-many";
  auto d = t.decide(*p, r);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.untracked);
  EXPECT_EQ(t.stats().untracked, 1u);
}

// --- deny policies -----------------------------------------------------------------------------

struct DenyCase {
  const char* name;
  std::string condition;
  void (*aim)(ThrottleRequest&);
};

TEST(Throttler, EachKindOfBlockingConditionRefusesWith900805) {
  const DenyCase cases[] = {
      {"API", R"({"conditionType":"API","conditionValue":"/pets/1.0.0"})", [](ThrottleRequest&) {}},
      {"APPLICATION", R"({"conditionType":"APPLICATION","conditionValue":"alice:shop"})",
       [](ThrottleRequest&) {}},
      {"USER", R"({"conditionType":"USER","conditionValue":"bob"})", [](ThrottleRequest&) {}},
      {"IP", R"({"conditionType":"IP","conditionValue":{"fixedIp":"192.0.2.10","invert":false}})",
       [](ThrottleRequest&) {}},
      {"IPv6",
       R"({"conditionType":"IP","conditionValue":{"fixedIp":"2001:db8::7","invert":false}})",
       [](ThrottleRequest& r) { r.client_ip = "2001:DB8:0::7"; }},
      {"IPv4 mapped", R"({"conditionType":"IP","conditionValue":{"fixedIp":"192.0.2.10"}})",
       [](ThrottleRequest& r) { r.client_ip = "::ffff:192.0.2.10"; }},
      {"IPRANGE",
       R"({"conditionType":"IPRANGE","conditionValue":{"startingIp":"192.0.2.0","endingIp":"192.0.2.255","invert":false}})",
       [](ThrottleRequest&) {}},
      {"IPv6 range",
       R"({"conditionType":"IPRANGE","conditionValue":{"startingIp":"2001:db8::","endingIp":"2001:db8::ffff:ffff","invert":false}})",
       [](ThrottleRequest& r) { r.client_ip = "2001:db8::1:2"; }},
      {"inverted IP",
       R"({"conditionType":"IP","conditionValue":{"fixedIp":"10.9.9.9","invert":true}})",
       [](ThrottleRequest&) {}},
      {"inverted range",
       R"({"conditionType":"IPRANGE","conditionValue":{"startingIp":"10.0.0.0","endingIp":"10.255.255.255","invert":true}})",
       [](ThrottleRequest&) {}},
  };
  for (const auto& c : cases) {
    auto p = Policies{.deny = c.condition}.build();
    Throttler t;
    auto r = base_request();
    c.aim(r);
    auto d = t.decide(*p, r);
    EXPECT_FALSE(d.allowed) << c.name;
    EXPECT_EQ(d.level, ThrottleLevel::kDenied) << c.name;
    EXPECT_EQ(d.status, 429) << c.name;
    EXPECT_EQ(d.code, 900805) << c.name;
    EXPECT_EQ(d.message, "Message blocked") << c.name;
    EXPECT_EQ(d.retry_after_seconds, 0) << c.name;
  }
}

TEST(Throttler, BlockingConditionsLetEverythingElseThrough) {
  auto p = Policies{.deny = R"({"conditionType":"API","conditionValue":"/cats/1.0.0"},
                               {"conditionType":"APPLICATION","conditionValue":"alice:other"},
                               {"conditionType":"USER","conditionValue":"mallory"},
                               {"conditionType":"IP","conditionValue":{"fixedIp":"192.0.2.11"}},
                               {"conditionType":"IPRANGE","conditionValue":{"startingIp":"192.0.3.0","endingIp":"192.0.3.255"}},
                               {"conditionType":"IPRANGE","conditionValue":{"startingIp":"192.0.2.0","endingIp":"192.0.2.255","invert":true}},
                               {"conditionType":"USER","conditionValue":"bob","conditionStatus":false})"}
               .build();
  Throttler t;
  auto r = base_request();
  EXPECT_TRUE(t.decide(*p, r).allowed);
  r.client_ip = "192.0.3.1";
  EXPECT_FALSE(t.decide(*p, r).allowed);
  // Outside the allow-only range, and an address that cannot be read, are blocked.
  r.client_ip = "198.51.100.1";
  EXPECT_FALSE(t.decide(*p, r).allowed);
  r.client_ip = "unknown";
  EXPECT_FALSE(t.decide(*p, r).allowed);
}

TEST(Throttler, ABlockedRequestTakesNoCounter) {
  auto p = Policies{.application = policy("One", count_limit(1)),
                    .deny = R"({"conditionType":"IP","conditionValue":{"fixedIp":"192.0.2.66"}})"}
               .build();
  Throttler t;
  auto r = base_request();
  r.application_policy = "One";
  r.client_ip = "192.0.2.66";
  EXPECT_EQ(t.decide(*p, r).code, 900805);
  r.client_ip = "192.0.2.10";
  EXPECT_TRUE(t.decide(*p, r).allowed);
}

// --- concurrency -------------------------------------------------------------------------------

TEST(Throttler, FourThreadsGetExactlyTheLimitAtEveryLevel) {
  auto p =
      Policies{.subscription = policy("Thousand", count_limit(1000), R"("stopOnQuotaReach":true)"),
               .application = policy("Thousand", count_limit(1000))}
          .build();
  Throttler t;
  for (int level = 0; level < 2; ++level) {
    auto r = base_request();
    (level == 0 ? r.subscription_policy : r.application_policy) = "Thousand";
    std::atomic<int> total{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        int mine = 0;
        for (int n = 0; n < 5000; ++n) mine += t.decide(*p, r).allowed ? 1 : 0;
        total += mine;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(total.load(), 1000) << (level == 0 ? "subscription" : "application");
  }
}

// --- long windows: export and restore ---------------------------------------------------------

namespace persistence {

constexpr std::int64_t kDay = 86'400'000;

// A subscription of 5 requests a day (stop on quota reach) and an application tier of 100 a
// minute, both counting base_request().
struct DayAndMinute {
  std::shared_ptr<const PolicySet> policies =
      Policies{.subscription = policy("Day", count_limit(5, "day"), R"("stopOnQuotaReach":true)"),
               .application = policy("Minute", count_limit(100))}
          .build();
  ThrottleRequest request = [] {
    auto r = base_request();
    r.subscription_policy = "Day";
    r.application_policy = "Minute";
    return r;
  }();
};

TEST(Throttler, TwoThrottlersNameTheSameCounterWithTheSameKey) {
  DayAndMinute s;
  Throttler a, b;
  EXPECT_EQ(allowed(a, *s.policies, s.request, 2), 2);
  EXPECT_EQ(allowed(b, *s.policies, s.request, 1), 1);
  auto from_a = a.long_windows(kT0);
  auto from_b = b.long_windows(kT0);
  ASSERT_EQ(from_a.size(), 1u);
  ASSERT_EQ(from_b.size(), 1u);
  EXPECT_EQ(from_a[0].key, from_b[0].key);
  EXPECT_EQ(from_a[0].count, 2);
  EXPECT_EQ(from_b[0].count, 1);
}

TEST(Throttler, LongWindowsExportOnlyWindowsOfAnHourOrLonger) {
  DayAndMinute s;
  Throttler t;
  EXPECT_EQ(allowed(t, *s.policies, s.request, 3), 3);
  auto windows = t.long_windows(kT0);
  ASSERT_EQ(windows.size(), 1u);  // the day, not the minute
  EXPECT_EQ(windows[0].window_ms, kDay);
  EXPECT_EQ(windows[0].window, kT0 / kDay);
  EXPECT_EQ(windows[0].count, 3);
  EXPECT_TRUE(t.long_windows(kT0 - kT0 % kDay + kDay).empty());  // the next day
}

TEST(Throttler, ARestoredCountIsSpentFromWhereItWas) {
  DayAndMinute s;
  Throttler before;
  EXPECT_EQ(allowed(before, *s.policies, s.request, 3), 3);
  Throttler after;
  EXPECT_EQ(after.restore(before.long_windows(kT0), kT0 + 1000), 1u);
  s.request.now_ms = kT0 + 2000;
  EXPECT_EQ(allowed(after, *s.policies, s.request, 5), 2);
  EXPECT_EQ(after.decide(*s.policies, s.request).code, 900804);
}

TEST(Throttler, CountsOfWindowsThatEndedAreNotRestored) {
  DayAndMinute s;
  Throttler before;
  EXPECT_EQ(allowed(before, *s.policies, s.request, 5), 5);
  Throttler after;
  const std::int64_t next_day = kT0 - kT0 % kDay + kDay;
  EXPECT_EQ(after.restore(before.long_windows(kT0), next_day), 0u);
  s.request.now_ms = next_day;
  EXPECT_EQ(allowed(after, *s.policies, s.request, 6), 5);
}

TEST(Throttler, CounterKeysAreSixteenLowercaseHexDigits) {
  EXPECT_EQ(format_counter_key(0x9f86d081884c7d65ULL), "9f86d081884c7d65");
  EXPECT_EQ(format_counter_key(1), "0000000000000001");
  EXPECT_EQ(parse_counter_key("9f86d081884c7d65"), 0x9f86d081884c7d65ULL);
  EXPECT_EQ(parse_counter_key("ffffffffffffffff"), ~std::uint64_t{0});
  EXPECT_EQ(parse_counter_key("9F86D081884C7D65"), std::nullopt);
  EXPECT_EQ(parse_counter_key("9f86d081884c7d6"), std::nullopt);
  EXPECT_EQ(parse_counter_key("9f86d081884c7d651"), std::nullopt);
  EXPECT_EQ(parse_counter_key("+f86d081884c7d65"), std::nullopt);
}

}  // namespace persistence

}  // namespace
}  // namespace portico::traffic
