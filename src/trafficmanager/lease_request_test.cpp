#include "trafficmanager/lease_request.h"

#include <gtest/gtest.h>

#include "common/api_error.h"

namespace portico::trafficmanager {
namespace {

std::string body_with(const std::string& counter) {
  return R"({"gateway": "gw1", "counters": [)" + counter + "]}";
}

std::string refusal(const std::string& body) {
  try {
    parse_lease_request(body);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    return e.description;
  }
  ADD_FAILURE() << "accepted " << body;
  return {};
}

TEST(LeaseRequest, ReadsEveryField) {
  auto r = parse_lease_request(body_with(
      R"({"key": "9f86d081884c7d65", "window_ms": 60000, "window": 29371234, "limit": 1000,
          "overdraft": 2, "want": 25, "return": 3})"));
  EXPECT_EQ(r.gateway, "gw1");
  ASSERT_EQ(r.counters.size(), 1u);
  const CounterAsk& c = r.counters[0];
  EXPECT_EQ(c.key, "9f86d081884c7d65");
  EXPECT_EQ(c.window_ms, 60000);
  EXPECT_EQ(c.window, 29371234);
  EXPECT_EQ(c.limit, 1000);
  EXPECT_EQ(c.overdraft, 2);
  EXPECT_EQ(c.want, 25);
  EXPECT_EQ(c.give_back, 3);
  EXPECT_EQ(c.window_end_ms(), 29371235LL * 60000);
  EXPECT_EQ(c.id(), "9f86d081884c7d65:60000:29371234");
}

TEST(LeaseRequest, AmountsDefaultToZeroAndAHeartbeatHasNoCounters) {
  auto r = parse_lease_request(
      body_with(R"({"key": "0123456789abcdef", "window_ms": 1000, "window": 0, "limit": 1})"));
  EXPECT_EQ(r.counters[0].want, 0);
  EXPECT_EQ(r.counters[0].overdraft, 0);
  EXPECT_EQ(r.counters[0].give_back, 0);
  EXPECT_TRUE(parse_lease_request(R"({"gateway": "gw1", "counters": []})").counters.empty());
}

TEST(LeaseRequest, RefusesAWrongGateway) {
  EXPECT_NE(refusal(R"({"counters": []})").find("gateway"), std::string::npos);
  EXPECT_NE(refusal(R"({"gateway": "", "counters": []})").find("gateway"), std::string::npos);
  EXPECT_NE(
      refusal(R"({"gateway": ")" + std::string(129, 'g') + R"(", "counters": []})").find("gateway"),
      std::string::npos);
}

TEST(LeaseRequest, RefusesAMissingOrOversizedCounterList) {
  EXPECT_NE(refusal(R"({"gateway": "gw1"})").find("counters"), std::string::npos);
  std::string many = R"({"gateway": "gw1", "counters": [)";
  for (int i = 0; i <= 1000; ++i)
    many += std::string(i ? "," : "") +
            R"({"key": "0123456789abcdef", "window_ms": 1000, "window": 0, "limit": 1})";
  EXPECT_NE(refusal(many + "]}").find("1000"), std::string::npos);
}

TEST(LeaseRequest, RefusesAKeyThatIsNotSixteenLowercaseHexDigits) {
  for (const char* key : {"9F86D081884C7D65", "9f86d081884c7d6", "9f86d081884c7d650", "zz"})
    EXPECT_NE(refusal(body_with(R"({"key": ")" + std::string(key) +
                                R"(", "window_ms": 1000, "window": 0, "limit": 1})"))
                  .find("counters[0]: 'key'"),
              std::string::npos);
}

TEST(LeaseRequest, RefusesAmountsOutOfRange) {
  const std::string head = R"({"key": "0123456789abcdef", )";
  EXPECT_NE(
      refusal(body_with(head + R"("window_ms": 999, "window": 0, "limit": 1})")).find("window_ms"),
      std::string::npos);
  EXPECT_NE(
      refusal(body_with(head + R"("window_ms": 1000, "window": 0, "limit": 0})")).find("limit"),
      std::string::npos);
  EXPECT_NE(
      refusal(body_with(head + R"("window_ms": 1000, "window": -1, "limit": 1})")).find("window"),
      std::string::npos);
  EXPECT_NE(refusal(body_with(head + R"("window_ms": 1000, "window": 0, "limit": 1, "want": -1})"))
                .find("want"),
            std::string::npos);
  EXPECT_NE(refusal(body_with(head + R"("window_ms": 1000, "window": 0, "limit": 1,
                                        "overdraft": 1099511627776})"))
                .find("overdraft"),
            std::string::npos);
  EXPECT_NE(refusal(body_with(head + R"("window_ms": 1000, "window": 0, "limit": 1,
                                        "return": "3"})"))
                .find("return"),
            std::string::npos);
  EXPECT_NE(refusal(body_with(head + R"("window": 0, "limit": 1})")).find("window_ms"),
            std::string::npos);
}

TEST(LeaseRequest, RefusesABodyThatIsNotAnObject) {
  refusal("[]");
  refusal("{");
  refusal(R"({"gateway": "gw1", "counters": [1]})");
}

}  // namespace
}  // namespace portico::trafficmanager
