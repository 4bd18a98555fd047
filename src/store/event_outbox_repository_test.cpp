#include "store/event_outbox_repository.h"

#include <gtest/gtest.h>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

class EventOutboxRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) outbox_ = std::make_unique<EventOutboxRepository>(*db_);
  }
  std::vector<std::string> drain_types(std::size_t max) {
    std::vector<std::string> types;
    outbox_->drain(max, [&](const std::vector<OutboxRow>& rows) {
      for (auto& r : rows) types.push_back(r.type);
      return true;
    });
    return types;
  }
  std::unique_ptr<EventOutboxRepository> outbox_;
};
PORTICO_STORE_BACKENDS(EventOutboxRepositoryTest);

TEST_P(EventOutboxRepositoryTest, DrainsInPublicationOrderAndDeletesWhatWasDelivered) {
  outbox_->append("a", R"({"id":1})", 100);
  outbox_->append("b", "{}", 101);
  outbox_->append("c", "{}", 102);
  std::vector<OutboxRow> first;
  EXPECT_EQ(outbox_->drain(2,
                           [&](const auto& rows) {
                             first = rows;
                             return true;
                           }),
            2u);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].type, "a");
  EXPECT_EQ(first[0].payload, R"({"id":1})");
  EXPECT_EQ(first[0].published_at, 100);
  EXPECT_EQ(first[1].type, "b");
  EXPECT_EQ(drain_types(10), std::vector<std::string>{"c"});
  EXPECT_EQ(outbox_->size(), 0u);
}

TEST_P(EventOutboxRepositoryTest, AFailedDeliveryKeepsEveryRow) {
  outbox_->append("a", "{}", 100);
  outbox_->append("b", "{}", 101);
  EXPECT_EQ(outbox_->drain(10, [](const auto&) { return false; }), 0u);
  EXPECT_EQ(outbox_->size(), 2u);
  EXPECT_EQ(drain_types(10), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace portico::store
