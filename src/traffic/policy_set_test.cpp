#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "traffic/traffic.h"

namespace portico::traffic {
namespace {

namespace json = boost::json;

json::array arr(std::string_view text) {
  return json::parse(text).as_array();
}

std::string count_limit(std::int64_t count, std::string_view unit = "min", int unit_time = 1) {
  return R"({"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":")" + std::string(unit) +
         R"(","unitTime":)" + std::to_string(unit_time) + R"(,"requestCount":)" +
         std::to_string(count) + "}}";
}

std::string policy(std::string_view name, const std::string& limit, std::string_view extra = "") {
  return R"({"policyName":")" + std::string(name) + R"(","defaultLimit":)" + limit +
         (extra.empty() ? "" : ",") + std::string(extra) + "}";
}

struct Built {
  std::shared_ptr<const PolicySet> set;
  std::vector<std::string> warnings;
};

Built build(std::string_view subscription, std::string_view application = "[]",
            std::string_view advanced = "[]", std::string_view deny = "[]") {
  Built b;
  b.set =
      PolicySet::build(arr(subscription), arr(application), arr(advanced), arr(deny), &b.warnings);
  return b;
}

TEST(PolicySet, CompilesARequestCountSubscriptionPolicyWithBurstControl) {
  auto b =
      build("[" +
            policy("Gold", count_limit(5000),
                   R"("rateLimitCount":10,"rateLimitTimeUnit":"sec","stopOnQuotaReach":true)") +
            "]");
  ASSERT_TRUE(b.warnings.empty()) << b.warnings[0];
  const SubscriptionPolicy* gold = b.set->subscription("Gold");
  ASSERT_NE(gold, nullptr);
  EXPECT_EQ(gold->limit.kind, LimitKind::kRequests);
  EXPECT_EQ(gold->limit.amount, 5000);
  EXPECT_EQ(gold->limit.window_ms, 60'000);
  EXPECT_FALSE(gold->limit.unlimited);
  EXPECT_TRUE(gold->stop_on_quota_reach);
  EXPECT_EQ(gold->burst.amount, 10);
  EXPECT_EQ(gold->burst.window_ms, 1'000);
  EXPECT_FALSE(gold->burst.unlimited);
}

TEST(PolicySet, StopOnQuotaReachAndBurstDefaultToOffAsTheAdminSchema) {
  auto b = build("[" + policy("Bronze", count_limit(1000)) + "]");
  const SubscriptionPolicy* bronze = b.set->subscription("Bronze");
  ASSERT_NE(bronze, nullptr);
  EXPECT_FALSE(bronze->stop_on_quota_reach);
  EXPECT_TRUE(bronze->burst.unlimited);
}

TEST(PolicySet, TheReferenceUnlimitedCountMeansNoCounting) {
  auto b = build("[" + policy("Unlimited", count_limit(2147483647)) + "]");
  ASSERT_NE(b.set->subscription("Unlimited"), nullptr);
  EXPECT_TRUE(b.set->subscription("Unlimited")->limit.unlimited);
}

TEST(PolicySet, BandwidthIsCountedInBytesWith1024BasedUnits) {
  auto b = build("[]",
                 "[" +
                     policy("2MBPer3Hours",
                            R"({"type":"BANDWIDTHLIMIT","bandwidth":{"timeUnit":"hour","unitTime":3,
                     "dataAmount":2,"dataUnit":"MB"}})") +
                     "," +
                     policy("1KBPerSec",
                            R"({"type":"BANDWIDTHLIMIT","bandwidth":{"timeUnit":"sec","unitTime":1,
                     "dataAmount":1,"dataUnit":"KB"}})") +
                     "," +
                     policy("1GBPerDay",
                            R"({"type":"BANDWIDTHLIMIT","bandwidth":{"timeUnit":"day","unitTime":1,
                     "dataAmount":1,"dataUnit":"GB"}})") +
                     "]");
  ASSERT_TRUE(b.warnings.empty()) << b.warnings[0];
  const ApplicationPolicy* p = b.set->application("2MBPer3Hours");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->limit.kind, LimitKind::kBandwidth);
  EXPECT_EQ(p->limit.amount, 2 * 1024 * 1024);
  EXPECT_EQ(p->limit.window_ms, 3 * 3'600'000);
  EXPECT_EQ(b.set->application("1KBPerSec")->limit.amount, 1024);
  EXPECT_EQ(b.set->application("1GBPerDay")->limit.amount, 1024LL * 1024 * 1024);
  EXPECT_EQ(b.set->application("1GBPerDay")->limit.window_ms, 86'400'000);
}

TEST(PolicySet, EventCountLimitsCountRequests) {
  auto b = build("[" + policy("Events", R"({"type":"EVENTCOUNTLIMIT","eventCount":{"timeUnit":"min",
                                      "unitTime":1,"eventCount":300}})") +
                 "]");
  ASSERT_NE(b.set->subscription("Events"), nullptr);
  EXPECT_EQ(b.set->subscription("Events")->limit.kind, LimitKind::kRequests);
  EXPECT_EQ(b.set->subscription("Events")->limit.amount, 300);
}

TEST(PolicySet, TimeUnitsFollowSiddhiIncludingMonthAndYear) {
  auto b =
      build("[" + policy("W", count_limit(1, "week", 2)) + "," +
            policy("M", count_limit(1, "month")) + "," + policy("Y", count_limit(1, "year")) + "]");
  EXPECT_EQ(b.set->subscription("W")->limit.window_ms, 2 * 604'800'000LL);
  EXPECT_EQ(b.set->subscription("M")->limit.window_ms, 2'630'000'000LL);
  EXPECT_EQ(b.set->subscription("Y")->limit.window_ms, 31'556'900'000LL);
}

TEST(PolicySet, MalformedPoliciesAreSkippedWithOneWarningEach) {
  const char* kBad[] = {
      R"("not an object")",
      R"({"defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min","unitTime":1,"requestCount":1}}})",
      R"({"policyName":"NoLimit"})",
      R"({"policyName":"BadType","defaultLimit":{"type":"AIAPIQUOTALIMIT"}})",
      R"({"policyName":"NoBody","defaultLimit":{"type":"REQUESTCOUNTLIMIT"}})",
      R"({"policyName":"BadUnit","defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"fortnight","unitTime":1,"requestCount":1}}})",
      R"({"policyName":"ZeroTime","defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min","unitTime":0,"requestCount":1}}})",
      R"({"policyName":"ZeroCount","defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min","unitTime":1,"requestCount":0}}})",
      R"({"policyName":"TextCount","defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min","unitTime":1,"requestCount":"5"}}})",
      R"({"policyName":"Terabytes","defaultLimit":{"type":"BANDWIDTHLIMIT","bandwidth":{"timeUnit":"min","unitTime":1,"dataAmount":1,"dataUnit":"TB"}}})",
      R"({"policyName":"BurstNoUnit","rateLimitCount":5,"defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min","unitTime":1,"requestCount":1}}})",
      R"({"policyName":"BurstHour","rateLimitCount":5,"rateLimitTimeUnit":"hour","defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min","unitTime":1,"requestCount":1}}})",
      R"({"policyName":"StopText","stopOnQuotaReach":"yes","defaultLimit":{"type":"REQUESTCOUNTLIMIT","requestCount":{"timeUnit":"min","unitTime":1,"requestCount":1}}})",
  };
  std::string list = "[" + policy("Good", count_limit(10));
  for (const char* bad : kBad) list += std::string(",") + bad;
  list += "]";
  auto b = build(list);
  EXPECT_EQ(b.warnings.size(), std::size(kBad));
  EXPECT_NE(b.set->subscription("Good"), nullptr);
  EXPECT_EQ(b.set->policy_count(), 1u);
  for (const auto& w : b.warnings) EXPECT_NE(w.find("skipped"), std::string::npos) << w;
  // The warning says which policy and what was wrong with it.
  EXPECT_NE(b.warnings[5].find("'BadUnit'"), std::string::npos) << b.warnings[5];
  EXPECT_NE(b.warnings[5].find("timeUnit"), std::string::npos) << b.warnings[5];
}

TEST(PolicySet, ADuplicateNameKeepsTheFirstPolicy) {
  auto b = build("[" + policy("Same", count_limit(1)) + "," + policy("Same", count_limit(2)) + "]");
  ASSERT_NE(b.set->subscription("Same"), nullptr);
  EXPECT_EQ(b.set->subscription("Same")->limit.amount, 1);
  EXPECT_EQ(b.warnings.size(), 1u);
}

TEST(PolicySet, LevelsHaveSeparateNames) {
  auto b = build("[" + policy("Shared", count_limit(1)) + "]",
                 "[" + policy("Shared", count_limit(2)) + "]",
                 "[" + policy("Shared", count_limit(3)) + "]");
  EXPECT_EQ(b.set->subscription("Shared")->limit.amount, 1);
  EXPECT_EQ(b.set->application("Shared")->limit.amount, 2);
  EXPECT_EQ(b.set->advanced("Shared")->default_limit.amount, 3);
  EXPECT_EQ(b.set->subscription("Nope"), nullptr);
  EXPECT_EQ(b.set->application(""), nullptr);
}

TEST(PolicySet, ConditionalGroupsCompileEveryConditionType) {
  std::string groups = R"("conditionalGroups":[
    {"conditions":[{"type":"HEADERCONDITION","invertCondition":false,
                    "headerCondition":{"headerName":"User-Agent","headerValue":"^curl/"}}],
     "limit":)" + count_limit(5) +
                       R"(},
    {"conditions":[{"type":"QUERYPARAMETERCONDITION","invertCondition":true,
                    "queryParameterCondition":{"parameterName":"tier","parameterValue":"gold"}},
                   {"type":"JWTCLAIMSCONDITION",
                    "jwtClaimsCondition":{"claimUrl":"http://wso2.org/claims/role","attribute":"admin"}}],
     "limit":)" + count_limit(6) +
                       R"(},
    {"conditions":[{"type":"IPCONDITION","ipCondition":{"ipConditionType":"IPSPECIFIC",
                    "specificIP":"10.0.0.1","startingIP":null,"endingIP":null}}],
     "limit":)" + count_limit(7) +
                       R"(},
    {"conditions":[{"type":"IPCONDITION","ipCondition":{"ipConditionType":"IPRANGE",
                    "startingIP":"2001:db8::","endingIP":"2001:db8::ffff"}}],
     "limit":)" + count_limit(8) +
                       R"(},
    {"conditions":[{"type":"IPRANGECONDITION","ipCondition":{"startingIP":"10.1.0.0",
                    "endingIP":"10.1.255.255"}}],
     "limit":)" + count_limit(9) +
                       "}]";
  auto b = build("[]", "[]", "[" + policy("Adv", count_limit(100), groups) + "]");
  ASSERT_TRUE(b.warnings.empty()) << b.warnings[0];
  const AdvancedPolicy* adv = b.set->advanced("Adv");
  ASSERT_NE(adv, nullptr);
  ASSERT_EQ(adv->groups.size(), 5u);
  EXPECT_EQ(adv->default_limit.amount, 100);

  const Condition& header = adv->groups[0].conditions[0];
  EXPECT_EQ(header.type, Condition::Type::kHeader);
  EXPECT_EQ(header.name, "User-Agent");
  EXPECT_FALSE(header.invert);
  EXPECT_EQ(adv->groups[0].limit.amount, 5);

  ASSERT_EQ(adv->groups[1].conditions.size(), 2u);
  EXPECT_EQ(adv->groups[1].conditions[0].type, Condition::Type::kQueryParameter);
  EXPECT_TRUE(adv->groups[1].conditions[0].invert);
  EXPECT_EQ(adv->groups[1].conditions[1].type, Condition::Type::kJwtClaim);
  EXPECT_EQ(adv->groups[1].conditions[1].name, "http://wso2.org/claims/role");

  const Condition& specific = adv->groups[2].conditions[0];
  EXPECT_EQ(specific.type, Condition::Type::kIpSpecific);
  EXPECT_TRUE(specific.ip.contains(*parse_ip("10.0.0.1")));
  EXPECT_FALSE(specific.ip.contains(*parse_ip("10.0.0.2")));

  const Condition& v6 = adv->groups[3].conditions[0];
  EXPECT_EQ(v6.type, Condition::Type::kIpRange);
  EXPECT_TRUE(v6.ip.contains(*parse_ip("2001:db8::abcd")));
  EXPECT_FALSE(v6.ip.contains(*parse_ip("2001:db8::1:0")));

  EXPECT_TRUE(adv->groups[4].conditions[0].ip.contains(*parse_ip("10.1.2.3")));
}

TEST(PolicySet, ABadGroupIsSkippedAndThePolicyKept) {
  std::string groups = R"("conditionalGroups":[
    {"conditions":[{"type":"HEADERCONDITION",
                    "headerCondition":{"headerName":"X","headerValue":"(unclosed"}}],
     "limit":)" + count_limit(5) +
                       R"(},
    {"conditions":[], "limit":)" +
                       count_limit(5) + R"(},
    {"conditions":[{"type":"IPCONDITION","ipCondition":{"ipConditionType":"IPRANGE",
                    "startingIP":"10.0.0.9","endingIP":"10.0.0.1"}}],
     "limit":)" + count_limit(5) +
                       R"(},
    {"conditions":[{"type":"IPCONDITION","ipCondition":{"ipConditionType":"IPRANGE",
                    "startingIP":"10.0.0.1","endingIP":"2001:db8::1"}}],
     "limit":)" + count_limit(5) +
                       R"(},
    {"conditions":[{"type":"COOKIECONDITION"}], "limit":)" +
                       count_limit(5) + R"(},
    {"conditions":[{"type":"HEADERCONDITION",
                    "headerCondition":{"headerName":"X","headerValue":"ok"}}]},
    {"conditions":[{"type":"HEADERCONDITION",
                    "headerCondition":{"headerName":"X","headerValue":"fine"}}],
     "limit":)" + count_limit(5) +
                       "}]";
  auto b = build("[]", "[]", "[" + policy("Adv", count_limit(100), groups) + "]");
  const AdvancedPolicy* adv = b.set->advanced("Adv");
  ASSERT_NE(adv, nullptr);
  ASSERT_EQ(adv->groups.size(), 1u);
  EXPECT_EQ(adv->groups[0].conditions[0].value, "fine");
  ASSERT_EQ(b.warnings.size(), 6u);
  EXPECT_NE(b.warnings[0].find("conditionalGroups[0]"), std::string::npos) << b.warnings[0];
  EXPECT_NE(b.warnings[0].find("regular expression"), std::string::npos) << b.warnings[0];
}

TEST(PolicySet, DenyPoliciesCompileEachTypeAndLeaveDisabledOnesOut) {
  auto b = build("[]", "[]", "[]", R"([
    {"conditionId":"1","conditionType":"API","conditionValue":"/pets/1.0.0","conditionStatus":true},
    {"conditionId":"2","conditionType":"APPLICATION","conditionValue":"alice:shop","conditionStatus":true},
    {"conditionId":"3","conditionType":"USER","conditionValue":"mallory","conditionStatus":true},
    {"conditionId":"4","conditionType":"IP","conditionValue":{"fixedIp":"192.168.1.1","invert":false},"conditionStatus":true},
    {"conditionId":"5","conditionType":"IP","conditionValue":"2001:db8::7"},
    {"conditionId":"6","conditionType":"IPRANGE","conditionValue":{"startingIp":"172.16.0.0","endingIp":"172.31.255.255","invert":false},"conditionStatus":true},
    {"conditionId":"7","conditionType":"IPRANGE","conditionValue":{"startingIp":"10.0.0.0","endingIp":"10.255.255.255","invert":true},"conditionStatus":true},
    {"conditionId":"8","conditionType":"USER","conditionValue":"eve","conditionStatus":false},
    {"conditionId":"9","conditionType":"IP","conditionValue":"{\"fixedIp\":\"192.168.9.9\",\"invert\":false}"}
  ])");
  ASSERT_TRUE(b.warnings.empty()) << b.warnings[0];
  const auto& deny = b.set->deny();
  EXPECT_EQ(deny.apis, std::vector<std::string>{"/pets/1.0.0"});
  EXPECT_EQ(deny.applications, std::vector<std::string>{"alice:shop"});
  EXPECT_EQ(deny.users, std::vector<std::string>{"mallory"});
  EXPECT_EQ(deny.blocked_ips.size(), 4u);
  ASSERT_EQ(deny.allowed_only_ips.size(), 1u);
  EXPECT_TRUE(deny.allowed_only_ips[0].contains(*parse_ip("10.1.2.3")));
}

TEST(PolicySet, MalformedDenyPoliciesAreSkippedWithAWarning) {
  auto b = build("[]", "[]", "[]", R"([
    {"conditionId":"a","conditionType":"COUNTRY","conditionValue":"XX"},
    {"conditionId":"b","conditionType":"IPRANGE","conditionValue":{"startingIp":"10.0.0.1"}},
    {"conditionId":"c","conditionType":"IP","conditionValue":{"fixedIp":"not-an-ip"}},
    {"conditionId":"d","conditionType":"USER","conditionValue":""},
    {"conditionId":"e","conditionType":"API"},
    {"conditionId":"f","conditionType":"USER","conditionValue":"ok"}
  ])");
  EXPECT_EQ(b.warnings.size(), 5u);
  EXPECT_NE(b.warnings[0].find("'a'"), std::string::npos) << b.warnings[0];
  EXPECT_EQ(b.set->deny().users, std::vector<std::string>{"ok"});
}

TEST(PolicySet, BlockedAddressesMergeIntoDisjointRanges) {
  auto b = build("[]", "[]", "[]", R"([
    {"conditionType":"IPRANGE","conditionValue":{"startingIp":"10.0.0.1","endingIp":"10.0.0.5"}},
    {"conditionType":"IP","conditionValue":{"fixedIp":"10.0.0.6"}},
    {"conditionType":"IPRANGE","conditionValue":{"startingIp":"10.0.0.3","endingIp":"10.0.0.9"}},
    {"conditionType":"IP","conditionValue":{"fixedIp":"10.0.0.20"}}
  ])");
  const auto& ranges = b.set->deny().blocked_ips;
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].first, *parse_ip("10.0.0.1"));
  EXPECT_EQ(ranges[0].last, *parse_ip("10.0.0.9"));
  EXPECT_EQ(ranges[1].first, *parse_ip("10.0.0.20"));
}

TEST(ParseIp, HoldsIpv4AsIpv4MappedIpv6) {
  EXPECT_EQ(parse_ip("1.2.3.4"), parse_ip("::ffff:1.2.3.4"));
  EXPECT_EQ(parse_ip("1.2.3.4")->high, 0u);
  EXPECT_EQ(parse_ip("1.2.3.4")->low, 0x0000ffff01020304u);
  EXPECT_LT(*parse_ip("1.2.3.4"), *parse_ip("1.2.3.5"));
}

TEST(ParseIp, ReadsIpv6WithZonesAndBrackets) {
  EXPECT_EQ(parse_ip("2001:DB8:0::1"), parse_ip("2001:db8::1"));
  EXPECT_EQ(parse_ip("fe80::1%eth0"), parse_ip("fe80::1"));
  EXPECT_EQ(parse_ip("[::1]"), parse_ip("::1"));
  EXPECT_EQ(parse_ip("2001:db8::1")->high, 0x20010db800000000u);
}

TEST(ParseIp, RefusesWhatIsNotAnAddress) {
  EXPECT_FALSE(parse_ip(""));
  EXPECT_FALSE(parse_ip("10.0.0"));
  EXPECT_FALSE(parse_ip("10.0.0.256"));
  EXPECT_FALSE(parse_ip("example.com"));
  EXPECT_FALSE(parse_ip("1.2.3.4:8080"));
  EXPECT_FALSE(parse_ip(std::string(200, '1')));
}

}  // namespace
}  // namespace portico::traffic
