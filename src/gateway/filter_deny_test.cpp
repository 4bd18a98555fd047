#include "gateway/filter_deny.h"

#include <gtest/gtest.h>

#include "gateway/filter_testing.h"

namespace portico::gateway {
namespace {

using namespace filter_test;

std::string ip_condition(std::string_view ip, bool invert = false) {
  return R"({"conditionType":"IP","conditionValue":{"fixedIp":")" + std::string(ip) +
         R"(","invert":)" + (invert ? "true" : "false") + "}}";
}

class DenyFilterTest : public ::testing::Test {
 protected:
  // Not authenticated: the filter runs before authentication.
  std::unique_ptr<Call> get() { return call(snapshot_, "GET", "/pets/1.0.0/items"); }

  std::shared_ptr<Snapshot> snapshot_ = snapshot_with();
  DenyFilter filter_;
};

TEST_F(DenyFilterTest, ABlockedAddressIsRefusedWithoutACredential) {
  snapshot_->policies = policies("", "", "", ip_condition(kClientIp));
  auto c = get();
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.status, 429);
  EXPECT_EQ(c->ctx.reply.code, 900805);
  EXPECT_EQ(c->ctx.reply.message, "Message blocked");
  EXPECT_FALSE(reply_header(c->ctx.reply, "Retry-After"));
}

TEST_F(DenyFilterTest, AnAddressOutsideAnInvertedConditionIsRefused) {
  snapshot_->policies = policies("", "", "", ip_condition("192.0.2.200", true));
  auto c = get();
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.code, 900805);
}

TEST_F(DenyFilterTest, ABlockedApiIsRefusedBeforeAuthentication) {
  snapshot_->policies =
      policies("", "", "", R"({"conditionType":"API","conditionValue":"/pets/1.0.0"})");
  auto c = get();
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kReply);
  EXPECT_EQ(c->ctx.reply.code, 900805);
}

TEST_F(DenyFilterTest, OtherAddressesAndCallerConditionsPass) {
  snapshot_->policies =
      policies("", "", "",
               ip_condition("192.0.2.200") +
                   R"(,{"conditionType":"APPLICATION","conditionValue":"bob:shop"})");
  auto c = get();
  EXPECT_EQ(run(filter_, c->ctx), FilterStatus::kContinue);
}

}  // namespace
}  // namespace portico::gateway
