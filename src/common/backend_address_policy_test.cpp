#include "common/backend_address_policy.h"

#include <gtest/gtest.h>

namespace portico {
namespace {

IpBytes ip(std::string_view text) {
  auto parsed = parse_numeric_host(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(IpBytes{});
}

BackendAddressPolicy strict() {
  return BackendAddressPolicy(false, false, {9443, 9280}, {ip("10.1.2.3")});
}

TEST(BackendAddressPolicy, RefusesLoopbackInEveryNumericSpelling) {
  auto policy = strict();
  for (std::string_view host :
       {"127.0.0.1", "127.1", "2130706433", "0x7f000001", "0.0.0.0", "[::1]",
        "::", "::ffff:127.0.0.1", "::127.0.0.1", "localhost", "LOCALHOST.", "api.localhost"})
    EXPECT_TRUE(policy.refusal_for_host(host, 8080).has_value()) << host;
}

TEST(BackendAddressPolicy, RefusesLinkLocalAndTheMetadataService) {
  auto policy = strict();
  for (std::string_view host :
       {"169.254.169.254", "[fe80::1]", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe"})
    EXPECT_TRUE(policy.refusal_for_host(host, 80).has_value()) << host;
}

TEST(BackendAddressPolicy, AllowsPublicAddressesAndLeavesNamesToConnectTime) {
  auto policy = strict();
  EXPECT_FALSE(policy.refusal_for_host("93.184.216.34", 443));
  EXPECT_FALSE(policy.refusal_for_host("[2001:db8::1]", 443));
  EXPECT_FALSE(policy.refusal_for_host("backend.example.com", 443));
}

TEST(BackendAddressPolicy, SettingsAllowLoopbackAndLinkLocal) {
  BackendAddressPolicy open(true, true, {9443}, {});
  EXPECT_FALSE(open.refusal_for_host("127.0.0.1", 8080));
  EXPECT_FALSE(open.refusal_for_host("169.254.169.254", 80));
}

TEST(BackendAddressPolicy, OwnListenersAreRefusedEvenWhenLoopbackIsAllowed) {
  BackendAddressPolicy open(true, true, {9443, 9280}, {ip("10.1.2.3")});
  EXPECT_TRUE(open.refusal_for_host("127.0.0.1", 9280).has_value());
  EXPECT_TRUE(open.refusal_for_host("localhost", 9443).has_value());
  EXPECT_TRUE(open.refusal_for_host("10.1.2.3", 9443).has_value());
  EXPECT_TRUE(open.refusal_for_host("::ffff:10.1.2.3", 9443).has_value());
  EXPECT_FALSE(open.refusal_for_host("10.1.2.3", 8080));
  EXPECT_FALSE(open.refusal_for_host("10.9.9.9", 9443));
}

TEST(HttpUrlHostAndPort, ReadsTheHostAsTheGatewayDoes) {
  auto a = http_url_host_and_port("http://%31%32%37.0.0.1:8080/x");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = http_url_host_and_port("https://[::1]/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 443);
  EXPECT_FALSE(http_url_host_and_port("ftp://example.com/"));
}

}  // namespace
}  // namespace portico
