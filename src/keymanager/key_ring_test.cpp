#include "keymanager/key_ring.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/clock.h"
#include "store/signing_keys_repository.h"

namespace portico::keymanager {
namespace {

// Key rings of several "nodes" on one SQLite database in a temporary directory.
class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-keyring-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    db_ = store::Database::open((dir_ / "test.db").string(), 4);
    db_->migrate();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<KeyRing> ring(std::chrono::seconds reload_interval = std::chrono::seconds(5)) {
    return std::make_unique<KeyRing>(*db_, jwt::Algorithm::ES256, 90, KeyEncryption(),
                                     reload_interval);
  }
  int active_keys() {
    int active = 0;
    for (auto& k : store::SigningKeysRepository(*db_).list_current(unix_now()))
      if (k.retired_at == 0) ++active;
    return active;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
};

TEST_F(KeyRingTest, NodesStartingTogetherOnAnEmptyDatabaseShareOneActiveKey) {
  auto first = ring();
  auto second = ring();
  std::thread a([&] { first->load(); });
  std::thread b([&] { second->load(); });
  a.join();
  b.join();
  EXPECT_EQ(active_keys(), 1);
  EXPECT_EQ(first->active()->kid(), second->active()->kid());
}

TEST_F(KeyRingTest, AKeyAnotherNodeRotatedIsFoundByItsKid) {
  auto here = ring();
  auto there = ring();
  here->load();
  there->load();
  std::string kid = there->rotate();
  EXPECT_NE(here->find(kid), nullptr);
  EXPECT_EQ(active_keys(), 1);
}

TEST_F(KeyRingTest, UnknownKidsReloadAtMostOncePerInterval) {
  auto here = ring(std::chrono::seconds(3600));
  auto there = ring();
  here->load();
  there->load();
  EXPECT_EQ(here->find("made-up"), nullptr);  // spends this interval's reload
  std::string kid = there->rotate();
  EXPECT_EQ(here->find(kid), nullptr);
  here->reload();  // what the rotation's event does
  EXPECT_NE(here->find(kid), nullptr);
  EXPECT_EQ(here->active()->kid(), kid);
}

TEST_F(KeyRingTest, ConcurrentRotationsLeaveExactlyOneActiveKey) {
  auto first = ring();
  first->load();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([this] {
      auto r = ring();
      r->rotate();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(active_keys(), 1);
}

}  // namespace
}  // namespace portico::keymanager
