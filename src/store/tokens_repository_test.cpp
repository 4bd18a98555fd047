#include "store/tokens_repository.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/store_test_fixture.h"

namespace portico::store {
namespace {

constexpr std::int64_t kNow = 1700000000;

RefreshTokenRecord refresh(const std::string& hash, const std::string& family,
                           std::int64_t expires_at = kNow + 3600) {
  return RefreshTokenRecord{hash,          family,     "cid-1", "alice",
                            "openid read", expires_at, false,   false};
}

// Starts `n` threads at once (as far as a spin barrier can) and joins them.
template <class Fn>
void run_together(int n, Fn fn) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < n) std::this_thread::yield();
      fn(i);
    });
  }
  for (auto& t : threads) t.join();
}

class TokensRepositoryTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (!IsSkipped()) tokens_ = std::make_unique<TokensRepository>(*db_);
  }
  std::unique_ptr<TokensRepository> tokens_;
};
PORTICO_STORE_BACKENDS(TokensRepositoryTest);

TEST_P(TokensRepositoryTest, StoredRefreshTokenIsFound) {
  tokens_->store_refresh_token(refresh("h1", "fam-1"));
  auto found = tokens_->find_refresh_token("h1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->token_hash, "h1");
  EXPECT_EQ(found->family_id, "fam-1");
  EXPECT_EQ(found->client_id, "cid-1");
  EXPECT_EQ(found->subject, "alice");
  EXPECT_EQ(found->scope, "openid read");
  EXPECT_EQ(found->expires_at, kNow + 3600);
  EXPECT_FALSE(found->used);
  EXPECT_FALSE(found->revoked);
  EXPECT_FALSE(tokens_->find_refresh_token("h2"));
  EXPECT_THROW(tokens_->store_refresh_token(refresh("h1", "fam-2")), ConflictError);
}

TEST_P(TokensRepositoryTest, RefreshTokenIsConsumedOnce) {
  tokens_->store_refresh_token(refresh("h1", "fam-1"));
  RefreshTokenRecord out;
  ASSERT_EQ(tokens_->consume_refresh_token("h1", kNow, out), RefreshOutcome::consumed);
  EXPECT_EQ(out.token_hash, "h1");
  EXPECT_EQ(out.family_id, "fam-1");
  EXPECT_EQ(out.subject, "alice");
  EXPECT_EQ(out.scope, "openid read");
  EXPECT_TRUE(out.used);
  EXPECT_TRUE(tokens_->find_refresh_token("h1")->used);
}

TEST_P(TokensRepositoryTest, SecondConsumeIsReplayAndRevokesTheFamily) {
  tokens_->store_refresh_token(refresh("h1", "fam-1"));
  RefreshTokenRecord out;
  ASSERT_EQ(tokens_->consume_refresh_token("h1", kNow, out), RefreshOutcome::consumed);
  // The rotation issued h2 in the same family; another grant's token stands apart.
  tokens_->store_refresh_token(refresh("h2", "fam-1"));
  tokens_->store_refresh_token(refresh("other", "fam-2"));

  RefreshTokenRecord replay_out;
  EXPECT_EQ(tokens_->consume_refresh_token("h1", kNow + 1, replay_out),
            RefreshOutcome::replayed_family_revoked);
  EXPECT_TRUE(tokens_->find_refresh_token("h2")->revoked);
  EXPECT_TRUE(tokens_->find_refresh_token("h1")->revoked);
  EXPECT_FALSE(tokens_->find_refresh_token("other")->revoked);
  // The sibling is dead too: presenting it is itself a replay.
  EXPECT_EQ(tokens_->consume_refresh_token("h2", kNow + 2, replay_out),
            RefreshOutcome::replayed_family_revoked);
  EXPECT_EQ(tokens_->consume_refresh_token("other", kNow + 2, replay_out),
            RefreshOutcome::consumed);
}

TEST_P(TokensRepositoryTest, ExpiredRefreshTokenIsExpiredAndStaysUnused) {
  tokens_->store_refresh_token(refresh("h1", "fam-1", kNow));
  tokens_->store_refresh_token(refresh("h2", "fam-1", kNow + 10));
  RefreshTokenRecord out;
  EXPECT_EQ(tokens_->consume_refresh_token("h1", kNow, out), RefreshOutcome::expired);
  EXPECT_FALSE(tokens_->find_refresh_token("h1")->used);
  EXPECT_FALSE(tokens_->find_refresh_token("h2")->revoked);
}

TEST_P(TokensRepositoryTest, UnknownRefreshTokenIsUnknown) {
  RefreshTokenRecord out;
  EXPECT_EQ(tokens_->consume_refresh_token("nope", kNow, out), RefreshOutcome::unknown);
}

TEST_P(TokensRepositoryTest, RevokedFamilyCannotBeConsumed) {
  tokens_->store_refresh_token(refresh("h1", "fam-1"));
  tokens_->revoke_refresh_family("fam-1");
  EXPECT_TRUE(tokens_->find_refresh_token("h1")->revoked);
  RefreshTokenRecord out;
  EXPECT_EQ(tokens_->consume_refresh_token("h1", kNow, out),
            RefreshOutcome::replayed_family_revoked);
  EXPECT_FALSE(tokens_->find_refresh_token("h1")->used);
}

TEST_P(TokensRepositoryTest, ConcurrentConsumersClaimTheTokenOnce) {
  tokens_->store_refresh_token(refresh("h1", "fam-1"));
  constexpr int kThreads = 8;
  std::vector<RefreshOutcome> outcomes(kThreads, RefreshOutcome::unknown);
  std::atomic<int> errors{0};
  run_together(kThreads, [&](int i) {
    try {
      RefreshTokenRecord out;
      outcomes[i] = tokens_->consume_refresh_token("h1", kNow, out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      ++errors;
    }
  });
  EXPECT_EQ(errors.load(), 0);
  int consumed = 0, replayed = 0;
  for (auto o : outcomes) {
    consumed += o == RefreshOutcome::consumed;
    replayed += o == RefreshOutcome::replayed_family_revoked;
  }
  EXPECT_EQ(consumed, 1);
  EXPECT_EQ(replayed, kThreads - 1);
}

TEST_P(TokensRepositoryTest, AuthorizationCodeIsClaimedOnceThenReplayed) {
  AuthorizationCodeRecord code{"c1",     "cid-1",
                               "alice",  "https://app.example/cb",
                               "openid", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                               kNow + 60};
  tokens_->store_authorization_code(code);
  AuthorizationCodeRecord taken;
  ASSERT_EQ(tokens_->claim_authorization_code("c1", "fam-1", taken), CodeOutcome::claimed);
  EXPECT_EQ(taken.code_hash, "c1");
  EXPECT_EQ(taken.client_id, "cid-1");
  EXPECT_EQ(taken.subject, "alice");
  EXPECT_EQ(taken.redirect_uri, "https://app.example/cb");
  EXPECT_EQ(taken.scope, "openid");
  EXPECT_EQ(taken.code_challenge, code.code_challenge);
  EXPECT_EQ(taken.expires_at, kNow + 60);
  EXPECT_EQ(taken.family_id, "fam-1");
  EXPECT_FALSE(tokens_->is_authorization_code_replayed("c1"));

  AuthorizationCodeRecord replayed;
  ASSERT_EQ(tokens_->claim_authorization_code("c1", "fam-2", replayed), CodeOutcome::replayed);
  EXPECT_EQ(replayed.family_id, "fam-1");  // the grant of the first use
  EXPECT_TRUE(tokens_->is_authorization_code_replayed("c1"));
  AuthorizationCodeRecord none;
  EXPECT_EQ(tokens_->claim_authorization_code("unknown", "fam-3", none), CodeOutcome::unknown);
}

TEST_P(TokensRepositoryTest, ConcurrentClaimersGetTheCodeOnce) {
  tokens_->store_authorization_code({"c1", "cid-1", "alice", "https://a/cb", "", "", kNow + 60});
  constexpr int kThreads = 8;
  std::atomic<int> taken{0}, errors{0};
  run_together(kThreads, [&](int i) {
    try {
      AuthorizationCodeRecord out;
      if (tokens_->claim_authorization_code("c1", "fam-" + std::to_string(i), out) ==
          CodeOutcome::claimed)
        ++taken;
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      ++errors;
    }
  });
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(taken.load(), 1);
}

TEST_P(TokensRepositoryTest, RevokingAUserRevokesTheirRefreshAndUnexpiredAccessTokens) {
  tokens_->store_refresh_token(refresh("r1", "fam-1"));
  auto bob = refresh("r2", "fam-2");
  bob.subject = "bob";
  tokens_->store_refresh_token(bob);
  tokens_->store_user_access_token({"jti-a", "fam-1", "cid-1", "alice", kNow + 100});
  tokens_->store_user_access_token({"jti-old", "fam-1", "cid-1", "alice", kNow - 1});
  tokens_->store_user_access_token({"jti-b", "fam-2", "cid-1", "bob", kNow + 100});
  OpaqueTokenRecord opaque{"o1",         "jti-o", "cid-2",     "alice", "",
                           "PRODUCTION", kNow,    kNow + 3600, false,   "APPLICATION_USER"};
  tokens_->store_opaque_token(opaque);
  tokens_->store_user_access_token({"jti-o", "fam-3", "cid-2", "alice", kNow + 3600});

  auto revoked = tokens_->revoke_user_tokens("alice", kNow);
  ASSERT_EQ(revoked.size(), 2u);
  EXPECT_EQ(revoked[0].jti, "jti-a");
  EXPECT_EQ(revoked[0].client_id, "cid-1");
  EXPECT_EQ(revoked[0].expires_at, kNow + 100);
  EXPECT_EQ(revoked[1].jti, "jti-o");
  EXPECT_TRUE(tokens_->is_jti_revoked("jti-a"));
  EXPECT_FALSE(tokens_->is_jti_revoked("jti-old"));
  EXPECT_TRUE(tokens_->find_opaque_token("o1")->revoked);
  EXPECT_TRUE(tokens_->find_refresh_token("r1")->revoked);
  EXPECT_FALSE(tokens_->find_refresh_token("r2")->revoked);
  EXPECT_FALSE(tokens_->is_jti_revoked("jti-b"));
}

TEST_P(TokensRepositoryTest, RevokingAGrantRevokesItsFamilyOnly) {
  tokens_->store_refresh_token(refresh("r1", "fam-1"));
  tokens_->store_refresh_token(refresh("r2", "fam-2"));
  tokens_->store_user_access_token({"jti-1", "fam-1", "cid-1", "alice", kNow + 100});
  tokens_->store_user_access_token({"jti-2", "fam-2", "cid-1", "alice", kNow + 100});
  auto revoked = tokens_->revoke_grant("fam-1", kNow);
  ASSERT_EQ(revoked.size(), 1u);
  EXPECT_EQ(revoked[0].jti, "jti-1");
  EXPECT_TRUE(tokens_->find_refresh_token("r1")->revoked);
  EXPECT_FALSE(tokens_->find_refresh_token("r2")->revoked);
  EXPECT_FALSE(tokens_->is_jti_revoked("jti-2"));
}

TEST_P(TokensRepositoryTest, OpaqueTokenIsStoredFoundAndRevoked) {
  OpaqueTokenRecord t{"o1",         "jti-1", "cid-1",     "alice", "read write",
                      "PRODUCTION", kNow,    kNow + 3600, false};
  tokens_->store_opaque_token(t);
  auto found = tokens_->find_opaque_token("o1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->token_hash, "o1");
  EXPECT_EQ(found->jti, "jti-1");
  EXPECT_EQ(found->client_id, "cid-1");
  EXPECT_EQ(found->subject, "alice");
  EXPECT_EQ(found->scope, "read write");
  EXPECT_EQ(found->key_type, "PRODUCTION");
  EXPECT_EQ(found->issued_at, kNow);
  EXPECT_EQ(found->expires_at, kNow + 3600);
  EXPECT_FALSE(found->revoked);
  EXPECT_EQ(found->user_type, "APPLICATION");

  EXPECT_TRUE(tokens_->revoke_opaque_token("o1"));
  EXPECT_TRUE(tokens_->find_opaque_token("o1")->revoked);
  EXPECT_TRUE(tokens_->revoke_opaque_token("o1"));
  EXPECT_FALSE(tokens_->revoke_opaque_token("o2"));
  EXPECT_FALSE(tokens_->find_opaque_token("o2"));
}

TEST_P(TokensRepositoryTest, RevokedJtiIsKeptUntilExpiryThenPurged) {
  tokens_->revoke_jti("jti-1", kNow + 100, kNow);
  tokens_->revoke_jti("jti-2", kNow + 200, kNow);
  tokens_->revoke_jti("jti-1", kNow + 100, kNow + 5);  // revoking twice is no error
  EXPECT_TRUE(tokens_->is_jti_revoked("jti-1"));
  EXPECT_FALSE(tokens_->is_jti_revoked("jti-3"));

  using List = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(tokens_->list_revoked_jtis(kNow), (List{{"jti-1", kNow + 100}, {"jti-2", kNow + 200}}));
  EXPECT_EQ(tokens_->list_revoked_jtis(kNow + 100), (List{{"jti-2", kNow + 200}}));

  EXPECT_EQ(tokens_->purge_expired(kNow + 99), 0);
  EXPECT_TRUE(tokens_->is_jti_revoked("jti-1"));
  EXPECT_EQ(tokens_->purge_expired(kNow + 100), 1);
  EXPECT_FALSE(tokens_->is_jti_revoked("jti-1"));
  EXPECT_TRUE(tokens_->is_jti_revoked("jti-2"));
}

TEST_P(TokensRepositoryTest, PurgeRemovesEveryKindOfExpiredState) {
  tokens_->store_refresh_token(refresh("r-old", "fam-1", kNow - 1));
  tokens_->store_refresh_token(refresh("r-new", "fam-1", kNow + 1));
  tokens_->store_authorization_code({"c-old", "cid", "alice", "https://a/cb", "", "", kNow - 1});
  tokens_->store_authorization_code({"c-new", "cid", "alice", "https://a/cb", "", "", kNow + 1});
  tokens_->store_opaque_token({"o-old", "j1", "cid", "alice", "", "PRODUCTION", 0, kNow, false});
  tokens_->store_opaque_token(
      {"o-new", "j2", "cid", "alice", "", "PRODUCTION", 0, kNow + 1, false});
  tokens_->revoke_jti("j-old", kNow - 5, kNow - 10);
  tokens_->store_user_access_token({"u-old", "fam-1", "cid", "alice", kNow});

  EXPECT_EQ(tokens_->purge_expired(kNow), 5);
  EXPECT_FALSE(tokens_->find_refresh_token("r-old"));
  EXPECT_TRUE(tokens_->find_refresh_token("r-new"));
  EXPECT_FALSE(tokens_->find_opaque_token("o-old"));
  EXPECT_TRUE(tokens_->find_opaque_token("o-new"));
  EXPECT_FALSE(tokens_->is_jti_revoked("j-old"));
  AuthorizationCodeRecord out;
  EXPECT_EQ(tokens_->claim_authorization_code("c-old", "f", out), CodeOutcome::unknown);
  EXPECT_EQ(tokens_->claim_authorization_code("c-new", "f", out), CodeOutcome::claimed);
}

TEST_P(TokensRepositoryTest, SeveralNodesPurgingAtOnceRemoveEveryExpiredRowExactlyOnce) {
  for (int i = 0; i < 40; ++i) {
    std::string n = std::to_string(i);
    tokens_->store_refresh_token(refresh("r-" + n, "fam-" + n, kNow - 1));
    tokens_->store_authorization_code({"c-" + n, "cid", "alice", "https://a/cb", "", "", kNow - 1});
    tokens_->revoke_jti("j-" + n, kNow - 5, kNow - 10);
  }
  std::atomic<int> removed{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> nodes;
  for (int n = 0; n < 3; ++n)
    nodes.emplace_back([&] {
      try {
        removed += tokens_->purge_expired(kNow);
      } catch (const std::exception&) {
        ++failures;
      }
    });
  for (auto& t : nodes) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(removed.load(), 120);
}

}  // namespace
}  // namespace portico::store
