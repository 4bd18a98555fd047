#include "gateway/snapshot_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "gateway/snapshot_file.h"
#include "http/message.h"

namespace portico::gateway {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class QuietLogs : public ::testing::Environment {
 public:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
};
const auto* const kQuietLogs = ::testing::AddGlobalTestEnvironment(new QuietLogs);

constexpr std::string_view kBase = "/internal/data/v1/";

// The internal data API as a unit-test double: lists by path, keyset paging by a key field,
// pages of at most `page_size` (smaller than the loader's limit, so that paging is exercised),
// and failures on demand.
class FakeControlPlane final : public ControlPlane {
 public:
  ControlPlaneResponse call(std::string_view method, std::string_view path_and_query,
                            std::string_view, std::string_view, bool credential) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    if (unreachable_) return {};
    std::string target(path_and_query);
    auto question = target.find('?');
    std::string path = target.substr(0, question);
    auto query = http::parse_form(question == std::string::npos ? "" : target.substr(question + 1))
                     .value_or(std::multimap<std::string, std::string>{});
    auto param = [&](const std::string& name) {
      auto it = query.find(name);
      return it == query.end() ? std::string() : it->second;
    };
    if (method != "GET" || !credential || path.rfind(kBase, 0) != 0) return {401, "{}"};
    std::string list = path.substr(kBase.size());
    ++page_calls_[list];
    if (list == "cluster") return {200, json::serialize(json::object{{"clusterId", cluster_id_}})};
    if (list.rfind("applications/", 0) == 0) return application(list.substr(13));
    if (list.rfind("runtime-artifacts/", 0) == 0)
      return runtime_artifact(list.substr(18), param("environment"));
    if (fail_list_ == list && page_calls_[list] == fail_on_page_) return {500, "{}"};
    if (list == "runtime-artifacts") {
      environments_seen_.push_back(param("environment"));
      if (param("environment").empty()) return {400, "{}"};
    }
    if (param("limit") != "1000") return {400, R"({"message":"limit"})"};
    auto key = list == "runtime-artifacts" ? "apiId" : list == "revoked-tokens" ? "jti" : "id";
    std::string after = param("after");
    json::array page;
    std::string next;
    for (const auto& item : lists_[list]) {
      std::string k(item.as_object().at(key).as_string());
      if (!after.empty() && k <= after) continue;
      if (page.size() == page_size_) {
        next = std::string(page.back().as_object().at(key).as_string());
        break;
      }
      page.push_back(item);
    }
    if (repeat_next_) next = after.empty() ? "x" : after;
    return {200, json::serialize(json::object{{"list", page}, {"next", next}})};
  }

  // The per-item read of one application: its fields, key mappings and subscriptions.
  ControlPlaneResponse application(const std::string& id) {
    for (const auto& item : lists_["applications"]) {
      if (item.as_object().at("id").as_string() != id) continue;
      json::object body = item.as_object();
      json::array keys, subs;
      for (const auto& k : lists_["application-key-mappings"])
        if (k.as_object().at("applicationId").as_string() == id) keys.push_back(k);
      for (const auto& sub : lists_["subscriptions"])
        if (sub.as_object().at("applicationId").as_string() == id) subs.push_back(sub);
      body["keyMappings"] = keys;
      body["subscriptions"] = subs;
      return {200, json::serialize(body)};
    }
    return {404, "{}"};
  }

  // The per-item read of one API's runtime artifact in an environment.
  ControlPlaneResponse runtime_artifact(const std::string& id, const std::string& environment) {
    if (environment.empty()) return {400, "{}"};
    for (const auto& item : lists_["runtime-artifacts"])
      if (item.as_object().at("apiId").as_string() == id) return {200, json::serialize(item)};
    return {404, "{}"};
  }

  // Items must be added in key order (as the real API serves them).
  void set(const std::string& list, json::array items) {
    std::lock_guard lock(mutex_);
    lists_[list] = std::move(items);
  }
  void set_cluster_id(const std::string& id) {
    std::lock_guard lock(mutex_);
    cluster_id_ = id;
  }
  void set_unreachable(bool value) {
    std::lock_guard lock(mutex_);
    unreachable_ = value;
  }
  void fail_page(const std::string& list, int page) {
    std::lock_guard lock(mutex_);
    fail_list_ = list;
    fail_on_page_ = page;
    page_calls_.clear();
  }
  void repeat_next(bool value) {
    std::lock_guard lock(mutex_);
    repeat_next_ = value;
  }
  int page_calls(const std::string& list) {
    std::lock_guard lock(mutex_);
    return page_calls_[list];
  }
  void reset_counts() {
    std::lock_guard lock(mutex_);
    page_calls_.clear();
    calls_ = 0;
  }
  std::vector<std::string> environments_seen() {
    std::lock_guard lock(mutex_);
    return environments_seen_;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, json::array> lists_;
  std::map<std::string, int> page_calls_;
  std::vector<std::string> environments_seen_;
  std::string cluster_id_ = "cluster-a";
  std::size_t page_size_ = 2;
  bool unreachable_ = false;
  bool repeat_next_ = false;
  std::string fail_list_;
  int fail_on_page_ = 0;
  int calls_ = 0;
};

json::object artifact(const std::string& id, const std::string& context) {
  json::object api{{"id", id},
                   {"name", id},
                   {"context", context},
                   {"version", "1.0.0"},
                   {"provider", "admin"},
                   {"lifeCycleStatus", "PUBLISHED"},
                   {"isDefaultVersion", false},
                   {"endpointConfig",
                    {{"endpoint_type", "http"},
                     {"production_endpoints", {{"url", "http://backend:8080/" + id}}}}},
                   {"operations", json::array{{{"target", "/*"},
                                               {"verb", "GET"},
                                               {"authType", "Application & Application User"}}}}};
  return {{"apiId", id},
          {"revisionId", "r-" + id},
          {"environment", "Default"},
          {"deployedTime", 1},
          {"api", api},
          {"openapi", "{\"openapi\":\"3.0.1\"}"}};
}

std::int64_t now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class LoaderTest : public ::testing::Test {
 protected:
  // The snapshot file with its journal replayed, as a restarted gateway reads it.
  std::optional<SnapshotFile> on_disk() {
    std::string error;
    return read_snapshot_file((dir_ / "snapshot.json").string(), &error);
  }
  // How many subscriptions the file, read so, holds.
  std::size_t file_subscriptions() {
    auto file = on_disk();
    return file ? file->sources.subscriptions.size() : 0;
  }
  // app3 subscribes to api4 on the control plane (as "s-new"), and the loader hears of it.
  void announce_new_subscription(SnapshotLoader& loader, std::uint64_t sequence) {
    subscribe_app3_to_api4("s-new");
    loader.on_event(events::Event{sequence, "subscription.created",
                                  R"({"subscription_id":"s-new","application_id":"app3"})", 0});
  }
  // Whether the file, read so, has an API at `context`.
  bool file_has_context(std::string_view context) {
    auto file = on_disk();
    return file &&
           json::serialize(file->sources.runtime_artifacts).find(context) != std::string::npos;
  }

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-loader-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    json::array apis;
    for (int i = 0; i < 5; ++i)
      apis.push_back(artifact("api" + std::to_string(i), "/ctx" + std::to_string(i)));
    cp_.set("runtime-artifacts", apis);
    json::array apps, mappings, subs;
    for (int i = 0; i < 7; ++i) {
      std::string n = std::to_string(i);
      apps.push_back(json::object{{"id", "app" + n},
                                  {"name", "A" + n},
                                  {"owner", "alice"},
                                  {"throttlingPolicy", "Unlimited"},
                                  {"status", "APPROVED"}});
      mappings.push_back(json::object{{"id", "m" + n},
                                      {"applicationId", "app" + n},
                                      {"keyType", "PRODUCTION"},
                                      {"clientId", "client" + n}});
      subs.push_back(json::object{{"id", "s" + n},
                                  {"applicationId", "app" + n},
                                  {"apiId", "api" + std::to_string(i % 5)},
                                  {"throttlingPolicy", "Gold"},
                                  {"status", "UNBLOCKED"}});
    }
    cp_.set("applications", apps);
    cp_.set("application-key-mappings", mappings);
    cp_.set("subscriptions", subs);
    cp_.set("revoked-tokens", json::array{{{"jti", "j-old"}, {"expiresAt", now() + 3600}},
                                          {{"jti", "j-past"}, {"expiresAt", now() - 10}}});
  }
  void TearDown() override {
    loader_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The control plane's subscriptions: the fixture's seven, plus app3 to api4 as `id`.
  void subscribe_app3_to_api4(const std::string& id) {
    json::array subs;
    for (int i = 0; i < 7; ++i)
      subs.push_back(json::object{{"id", "s" + std::to_string(i)},
                                  {"applicationId", "app" + std::to_string(i)},
                                  {"apiId", "api" + std::to_string(i % 5)},
                                  {"status", "UNBLOCKED"}});
    subs.push_back(json::object{
        {"id", id}, {"applicationId", "app3"}, {"apiId", "api4"}, {"status", "UNBLOCKED"}});
    cp_.set("subscriptions", subs);
  }

  LoaderOptions options(bool with_file = true) {
    LoaderOptions o;
    o.environment = "Default";
    o.snapshot_file = with_file ? (dir_ / "snapshot.json").string() : "";
    o.debounce_ms = 50;
    o.resync_seconds = 0;
    o.snapshot_write_seconds = 0;  // every pull writes the file at once
    return o;
  }
  SnapshotLoader& make_loader(LoaderOptions o) {
    loader_ = std::make_unique<SnapshotLoader>(std::move(o), cp_, worker_, store_);
    return *loader_;
  }
  // Polls `condition` for up to 5 s.
  template <class Condition>
  bool eventually(Condition condition) {
    for (int i = 0; i < 500; ++i) {
      if (condition()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return condition();
  }

  std::filesystem::path dir_;
  FakeControlPlane cp_;
  ControlPlaneWorker worker_;
  SnapshotStore store_;
  std::unique_ptr<SnapshotLoader> loader_;
};

TEST_F(LoaderTest, InitialLoadPullsEveryPageOfEveryList) {
  EXPECT_FALSE(store_.ready());
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  EXPECT_TRUE(store_.ready());
  auto s = store_.snapshot();
  EXPECT_EQ(s->environment, "Default");
  EXPECT_EQ(s->apis.size(), 5u);
  EXPECT_EQ(s->by_context.size(), 5u);
  EXPECT_EQ(s->applications.size(), 7u);
  EXPECT_EQ(s->clients.size(), 7u);
  EXPECT_EQ(s->subscriptions.size(), 7u);
  ASSERT_TRUE(s->find_subscription("app6", "api1"));
  // Pages of two: 5 APIs take 3 pages, 7 applications 4; empty lists one.
  EXPECT_EQ(cp_.page_calls("runtime-artifacts"), 3);
  EXPECT_EQ(cp_.page_calls("applications"), 4);
  EXPECT_EQ(cp_.page_calls("subscriptions"), 4);
  EXPECT_EQ(cp_.page_calls("policies/advanced"), 1);
  EXPECT_EQ(cp_.page_calls("deny-policies"), 1);
  for (const auto& env : cp_.environments_seen()) EXPECT_EQ(env, "Default");
  EXPECT_TRUE(store_.revoked()->contains("j-old"));
  EXPECT_FALSE(store_.revoked()->contains("j-past"));  // expired: pruned
  auto stats = loader.stats();
  EXPECT_EQ(stats.pulls_ok, 1u);
  EXPECT_FALSE(stats.loaded_from_file);
}

TEST_F(LoaderTest, AFailingPagePublishesNothing) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  auto before = store_.snapshot();
  auto generation = store_.generation();
  cp_.set("runtime-artifacts", json::array{artifact("new", "/new")});
  cp_.fail_page("subscriptions", 2);
  EXPECT_FALSE(loader.refresh_now());
  EXPECT_EQ(store_.snapshot(), before);
  EXPECT_EQ(store_.generation(), generation);
  EXPECT_EQ(loader.stats().pulls_failed, 1u);
  // Once the page answers again, the next pull publishes the whole new state.
  cp_.fail_page("", 0);
  EXPECT_TRUE(loader.refresh_now());
  ASSERT_EQ(store_.snapshot()->apis.size(), 1u);
  EXPECT_EQ(store_.snapshot()->apis.count("new"), 1u);
  EXPECT_GT(store_.snapshot()->version, before->version);
}

TEST_F(LoaderTest, APageKeyThatRepeatsFailsThePull) {
  auto& loader = make_loader(options(false));
  cp_.repeat_next(true);
  EXPECT_FALSE(loader.load_initial());
  EXPECT_FALSE(store_.ready());
}

TEST_F(LoaderTest, UnreachableControlPlaneFallsBackToTheSnapshotFile) {
  {
    auto& first = make_loader(options());
    ASSERT_TRUE(first.load_initial());
  }
  loader_.reset();
  auto file = dir_ / "snapshot.json";
  ASSERT_TRUE(std::filesystem::exists(file));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "snapshot.json.tmp"));
  // The file keeps what the gateway needs and drops the OpenAPI definitions.
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("3.0.1"), std::string::npos);
  EXPECT_NE(text.find("/ctx4"), std::string::npos);

  // A restarted gateway while the control plane is down.
  SnapshotStore restarted;
  cp_.set_unreachable(true);
  SnapshotLoader loader(options(), cp_, worker_, restarted);
  EXPECT_TRUE(loader.load_initial());
  EXPECT_TRUE(restarted.ready());
  EXPECT_EQ(restarted.snapshot()->apis.size(), 5u);
  EXPECT_EQ(restarted.snapshot()->clients.size(), 7u);
  EXPECT_TRUE(restarted.revoked()->contains("j-old"));
  auto stats = loader.stats();
  EXPECT_TRUE(stats.loaded_from_file);
  EXPECT_EQ(stats.pulls_failed, 1u);
}

TEST_F(LoaderTest, UnreachableWithoutAFileLeavesTheStoreEmpty) {
  cp_.set_unreachable(true);
  auto& loader = make_loader(options());
  EXPECT_FALSE(loader.load_initial());
  EXPECT_FALSE(store_.ready());
  EXPECT_TRUE(store_.snapshot()->apis.empty());
}

TEST_F(LoaderTest, ASnapshotFileOfAnotherEnvironmentIsIgnored) {
  {
    auto& first = make_loader(options());
    ASSERT_TRUE(first.load_initial());
  }
  loader_.reset();
  cp_.set_unreachable(true);
  SnapshotStore restarted;
  auto o = options();
  o.environment = "Internal";
  SnapshotLoader loader(o, cp_, worker_, restarted);
  EXPECT_FALSE(loader.load_initial());
  EXPECT_FALSE(restarted.ready());
}

TEST_F(LoaderTest, ACorruptSnapshotFileIsIgnored) {
  {
    std::ofstream out(dir_ / "snapshot.json");
    out << R"({"format":1,"environment":"Default","runtimeArtifacts":[)";
  }
  cp_.set_unreachable(true);
  auto& loader = make_loader(options());
  EXPECT_FALSE(loader.load_initial());
  EXPECT_FALSE(store_.ready());
}

TEST_F(LoaderTest, AFailedInitialPullIsRetriedWithBackoff) {
  cp_.set_unreachable(true);
  auto& loader = make_loader(options(false));
  EXPECT_FALSE(loader.load_initial());
  cp_.set_unreachable(false);
  // The first retry comes after one second.
  EXPECT_TRUE(eventually([&] { return store_.ready(); }));
  EXPECT_EQ(store_.snapshot()->apis.size(), 5u);
}

TEST_F(LoaderTest, RevocationEventsApplyAtOnce) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  auto snapshot = store_.snapshot();
  events::Event event{1, "token.revoked",
                      R"({"jti":"j-new","expires_at":)" + std::to_string(now() + 600) +
                          R"(,"client_id":"client1"})",
                      now()};
  loader.on_event(event);
  // Synchronously: no pull, no wait.
  EXPECT_TRUE(store_.revoked()->contains("j-new"));
  EXPECT_TRUE(store_.revoked()->contains("j-old"));
  EXPECT_EQ(store_.snapshot(), snapshot);

  loader.on_event({2, "api_key.revoked",
                   R"({"jti":"k-1","expires_at":)" + std::to_string(now() + 600) +
                       R"(,"application_id":"app1"})",
                   now()});
  EXPECT_TRUE(store_.revoked()->contains("k-1"));
  // Already expired: nothing to refuse that expiry does not refuse anyway.
  loader.on_event({3, "token.revoked",
                   R"({"jti":"j-expired","expires_at":)" + std::to_string(now() - 5) + "}", now()});
  EXPECT_FALSE(store_.revoked()->contains("j-expired"));
  // Malformed payloads are ignored.
  loader.on_event({4, "token.revoked", "not json", now()});
  loader.on_event({5, "token.revoked", R"({"expires_at": 1})", now()});
  EXPECT_EQ(loader.stats().revocations_applied, 2u);
}

TEST_F(LoaderTest, ARevocationSurvivesAPullThatDoesNotListItYet) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  loader.on_event({1, "token.revoked",
                   R"({"jti":"j-race","expires_at":)" + std::to_string(now() + 600) + "}", now()});
  ASSERT_TRUE(loader.refresh_now());
  EXPECT_TRUE(store_.revoked()->contains("j-race"));
  EXPECT_TRUE(store_.revoked()->contains("j-old"));
}

TEST_F(LoaderTest, EventsAboutNoReadableItemTriggerOneDebouncedPull) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  cp_.reset_counts();
  cp_.set("runtime-artifacts", json::array{artifact("fresh", "/fresh")});
  for (int i = 0; i < 20; ++i)
    loader.on_event(
        {static_cast<std::uint64_t>(i), "environment.updated", R"({"name":"Default"})", now()});
  EXPECT_TRUE(eventually([&] {
    auto s = store_.snapshot();
    return s->apis.size() == 1 && s->apis.count("fresh") == 1;
  }));
  std::this_thread::sleep_for(200ms);
  // A burst within the debounce window shares one pull.
  EXPECT_EQ(cp_.page_calls("runtime-artifacts"), 1);
}

TEST_F(LoaderTest, AnApiEventReReadsThatApiAloneAndPatchesItIn) {
  auto o = options();
  o.snapshot_write_seconds = 0;
  auto& loader = make_loader(o);
  ASSERT_TRUE(loader.load_initial());
  cp_.reset_counts();
  json::array apis;
  for (int i = 0; i < 5; ++i)
    apis.push_back(artifact("api" + std::to_string(i), "/ctx" + std::to_string(i)));
  apis.push_back(artifact("fresh", "/fresh"));
  cp_.set("runtime-artifacts", apis);
  for (int i = 0; i < 20; ++i)
    loader.on_event({static_cast<std::uint64_t>(i), "api.deployed",
                     R"({"api_id":"fresh","revision_id":"r","environment":"Default"})", now()});
  ASSERT_TRUE(eventually([&] { return store_.snapshot()->by_context.count("/fresh/1.0.0"); }));
  EXPECT_EQ(store_.snapshot()->apis.size(), 6u);
  EXPECT_EQ(cp_.page_calls("runtime-artifacts"), 0);  // no full pull
  EXPECT_GE(cp_.page_calls("runtime-artifacts/fresh"), 1);
  // The snapshot file follows the patch.
  EXPECT_TRUE(eventually([&] { return file_has_context("/fresh"); }));

  // Undeployed: the per-item read answers 404 and the API leaves the snapshot and the file.
  apis.pop_back();
  cp_.set("runtime-artifacts", apis);
  loader.on_event({30, "api.undeployed",
                   R"({"api_id":"fresh","revision_id":"r","environment":"Default"})", now()});
  ASSERT_TRUE(eventually([&] { return store_.snapshot()->apis.count("fresh") == 0; }));
  EXPECT_EQ(store_.snapshot()->by_context.count("/fresh/1.0.0"), 0u);
  EXPECT_EQ(store_.snapshot()->apis.size(), 5u);
  EXPECT_EQ(cp_.page_calls("runtime-artifacts"), 0);
  EXPECT_TRUE(eventually([&] { return on_disk() && !file_has_context("/fresh"); }));
}

TEST_F(LoaderTest, APolicyEventReReadsThePolicyListsAlone) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  auto before = store_.snapshot();
  cp_.reset_counts();
  cp_.set("deny-policies", json::array{json::object{{"id", "d1"},
                                                    {"conditionType", "APPLICATION"},
                                                    {"conditionValue", "alice:shop"},
                                                    {"conditionStatus", true}}});
  loader.on_event({1, "deny_policy.created", R"({"id":"d1"})", now()});
  ASSERT_TRUE(eventually([&] { return store_.snapshot()->policies != before->policies; }));
  EXPECT_EQ(cp_.page_calls("deny-policies"), 1);
  EXPECT_EQ(cp_.page_calls("runtime-artifacts"), 0);
  EXPECT_EQ(cp_.page_calls("subscriptions"), 0);
  // Everything else is shared with the snapshot before.
  auto after = store_.snapshot();
  EXPECT_EQ(after->apis.at("api1"), before->apis.at("api1"));
  EXPECT_EQ(after->subscriptions.size(), before->subscriptions.size());
}

TEST_F(LoaderTest, AnApplicationPatchReachesTheSnapshotFileWithoutAFullPull) {
  auto o = options();
  o.snapshot_write_seconds = 0;
  auto& loader = make_loader(o);
  ASSERT_TRUE(loader.load_initial());
  cp_.reset_counts();
  announce_new_subscription(loader, 1);
  ASSERT_TRUE(eventually([&] { return file_subscriptions() == 8; }));
  auto file = on_disk();
  ASSERT_TRUE(file);
  EXPECT_EQ(file->sources.applications.size(), 7u);
  EXPECT_EQ(file->sources.key_mappings.size(), 7u);
  EXPECT_EQ(file->sources.runtime_artifacts.size(), 5u);
  EXPECT_EQ(cp_.page_calls("subscriptions"), 0);  // no full pull
}

TEST_F(LoaderTest, DeploymentsToAnotherEnvironmentAreIgnored) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  cp_.reset_counts();
  loader.on_event(
      {1, "api.deployed", R"({"api_id":"x","revision_id":"r","environment":"Internal"})", now()});
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(cp_.page_calls("runtime-artifacts"), 0);
  loader.on_event({2, "subscription.created", R"({"subscription_id":"s9"})", now()});
  EXPECT_TRUE(eventually([&] { return cp_.page_calls("subscriptions") > 0; }));
}

TEST_F(LoaderTest, UserEventsAreForwardedNotPulled) {
  std::atomic<int> forwarded{0};
  auto o = options();
  o.on_user_deleted = [&](const events::Event& e) {
    if (e.payload_json.find("alice") != std::string::npos) ++forwarded;
  };
  auto& loader = make_loader(o);
  ASSERT_TRUE(loader.load_initial());
  cp_.reset_counts();
  loader.on_event({1, "user.deleted", R"({"username":"alice"})", now()});
  EXPECT_EQ(forwarded.load(), 1);
  loader.on_event({2, "user.updated", R"({"username":"alice"})", now()});
  EXPECT_EQ(forwarded.load(), 2);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(cp_.page_calls("applications"), 0);
}

TEST_F(LoaderTest, PeriodicResyncPullsWithoutEvents) {
  auto o = options();
  o.resync_seconds = 1;
  auto& loader = make_loader(o);
  ASSERT_TRUE(loader.load_initial());
  auto first = store_.snapshot()->version;
  cp_.set("runtime-artifacts", json::array{artifact("later", "/later")});
  EXPECT_TRUE(eventually([&] { return store_.snapshot()->version > first; }));
  EXPECT_EQ(store_.snapshot()->apis.count("later"), 1u);
}

TEST_F(LoaderTest, SnapshotVersionsIncrease) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  auto v1 = store_.snapshot()->version;
  ASSERT_TRUE(loader.refresh_now());
  EXPECT_GT(store_.snapshot()->version, v1);
}

TEST(SnapshotStoreTest, ReaderPicksUpPublishesByGeneration) {
  SnapshotStore store;
  EXPECT_FALSE(store.ready());
  SnapshotReader reader(store);
  ASSERT_TRUE(reader.snapshot());
  ASSERT_TRUE(reader.revoked());
  auto s = std::make_shared<Snapshot>();
  s->version = 7;
  store.publish(std::shared_ptr<const Snapshot>(s));
  EXPECT_TRUE(store.ready());
  EXPECT_EQ(reader.snapshot()->version, 0u);  // until refresh()
  reader.refresh();
  EXPECT_EQ(reader.snapshot()->version, 7u);
  auto revoked = std::make_shared<RevokedTokens>();
  revoked->jtis.emplace("j", 1);
  store.publish(std::shared_ptr<const RevokedTokens>(revoked));
  reader.refresh();
  EXPECT_TRUE(reader.revoked()->contains("j"));
  EXPECT_EQ(reader.snapshot()->version, 7u);  // untouched by a revocation publish
}

TEST(SnapshotStoreTest, ReadersOnManyThreadsWhilePublishing) {
  SnapshotStore store;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  std::atomic<std::uint64_t> seen_max{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      SnapshotReader reader(store);
      std::uint64_t last = 0;
      while (!stop.load()) {
        reader.refresh();
        std::uint64_t v = reader.snapshot()->version;
        EXPECT_GE(v, last);  // never goes back
        last = v;
      }
      std::uint64_t prev = seen_max.load();
      while (last > prev && !seen_max.compare_exchange_weak(prev, last)) {
      }
    });
  }
  for (std::uint64_t v = 1; v <= 2000; ++v) {
    auto s = std::make_shared<Snapshot>();
    s->version = v;
    store.publish(std::shared_ptr<const Snapshot>(s));
  }
  std::this_thread::sleep_for(20ms);
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(seen_max.load(), 2000u);
}

constexpr const char* kJwks = R"({"keys":[]})";

TEST_F(LoaderTest, TheSnapshotFileCarriesClusterIssuerJwksAndPosition) {
  auto o = options();
  o.issuer = "https://cp.example:9443/oauth2/token";
  o.current_jwks = [] { return std::string(kJwks); };
  auto& loader = make_loader(o);
  loader.on_log_reset(events::LogPosition{"epoch-1", 0});
  loader.on_event(events::Event{42, "subscription.created", "{}", 0});
  ASSERT_TRUE(loader.refresh_now());
  std::string error;
  auto file = parse_snapshot_file(read_text(dir_ / "snapshot.json"), &error);
  ASSERT_TRUE(file.has_value()) << error;
  EXPECT_EQ(file->cluster_id, "cluster-a");
  EXPECT_EQ(file->issuer, "https://cp.example:9443/oauth2/token");
  EXPECT_EQ(file->jwks, kJwks);
  EXPECT_EQ(file->position.epoch, "epoch-1");
  EXPECT_EQ(file->position.sequence, 42u);
  EXPECT_EQ(file->sources.runtime_artifacts.size(), 5u);
}

TEST_F(LoaderTest, AFileWhoseChecksumDoesNotMatchIsIgnored) {
  {
    auto& first = make_loader(options());
    ASSERT_TRUE(first.load_initial());
  }
  loader_.reset();
  auto path = dir_ / "snapshot.json";
  std::string text = read_text(path);
  auto at = text.find("/ctx4");
  ASSERT_NE(at, std::string::npos);
  text[at + 1] = 'X';  // one byte changed: still JSON, no longer what was written
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  cp_.set_unreachable(true);
  SnapshotStore restarted;
  SnapshotLoader loader(options(), cp_, worker_, restarted);
  EXPECT_FALSE(loader.load_initial());
  EXPECT_FALSE(restarted.ready());
}

TEST_F(LoaderTest, AGatewayStartedFromItsFileGetsTheFilesJwks) {
  auto o = options();
  o.current_jwks = [] { return std::string(kJwks); };
  {
    auto& first = make_loader(o);
    ASSERT_TRUE(first.load_initial());
  }
  loader_.reset();
  cp_.set_unreachable(true);
  std::string given;
  auto restarted_options = options();
  restarted_options.on_file_jwks = [&](const std::string& jwks) { given = jwks; };
  SnapshotStore restarted;
  SnapshotLoader loader(restarted_options, cp_, worker_, restarted);
  EXPECT_TRUE(loader.load_initial());
  EXPECT_EQ(given, kJwks);
  EXPECT_EQ(restarted.snapshot()->apis.size(), 5u);
}

TEST_F(LoaderTest, APullFromAnotherClusterIsRefusedAndCounted) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  auto before = store_.snapshot();
  cp_.set_cluster_id("cluster-b");
  cp_.set("runtime-artifacts", json::array{artifact("other", "/other")});
  EXPECT_FALSE(loader.refresh_now());
  EXPECT_EQ(store_.snapshot(), before);
  EXPECT_EQ(loader.stats().snapshots_refused, 1u);
  EXPECT_NE(loader.metrics_text().find("portico_gateway_snapshot_refused_total 1\n"),
            std::string::npos);
}

TEST_F(LoaderTest, AGatewayRestartedFromItsFileRefusesAnotherCluster) {
  {
    auto& first = make_loader(options());
    ASSERT_TRUE(first.load_initial());
  }
  loader_.reset();
  cp_.set_cluster_id("cluster-b");
  cp_.set("runtime-artifacts", json::array{artifact("other", "/other")});
  SnapshotStore restarted;
  SnapshotLoader loader(options(), cp_, worker_, restarted);
  EXPECT_TRUE(loader.load_initial());  // from the file
  EXPECT_EQ(restarted.snapshot()->apis.size(), 5u);
  EXPECT_EQ(loader.stats().snapshots_refused, 1u);
  EXPECT_TRUE(loader.stats().loaded_from_file);
}

TEST_F(LoaderTest, APullThatDropsEveryApiIsRefusedUnlessForced) {
  {
    auto& first = make_loader(options());
    ASSERT_TRUE(first.load_initial());
  }
  loader_.reset();
  cp_.set("runtime-artifacts", json::array{});
  {
    SnapshotStore restarted;
    SnapshotLoader loader(options(), cp_, worker_, restarted);
    EXPECT_TRUE(loader.load_initial());
    EXPECT_EQ(restarted.snapshot()->apis.size(), 5u);  // the file's
    EXPECT_EQ(loader.stats().snapshots_refused, 1u);
  }
  auto forced = options();
  forced.force_snapshot = true;
  SnapshotStore restarted;
  SnapshotLoader loader(forced, cp_, worker_, restarted);
  EXPECT_TRUE(loader.load_initial());
  EXPECT_TRUE(restarted.snapshot()->apis.empty());
  EXPECT_EQ(loader.stats().snapshots_refused, 0u);
  EXPECT_FALSE(loader.stats().loaded_from_file);
}

TEST_F(LoaderTest, TheFileIsRewrittenAtMostEverySnapshotWriteSeconds) {
  auto o = options();
  o.snapshot_write_seconds = 3600;
  auto& loader = make_loader(o);
  ASSERT_TRUE(loader.load_initial());
  cp_.set("runtime-artifacts", json::array{artifact("api0", "/ctx0"), artifact("new", "/new")});
  ASSERT_TRUE(loader.refresh_now());
  EXPECT_EQ(store_.snapshot()->apis.size(), 2u);
  // Served at once, written later: the file still holds the first pull.
  EXPECT_FALSE(file_has_context("/new"));
}

TEST_F(LoaderTest, AWriteHeldBackIsMadeWhenTheLoaderStops) {
  auto o = options();
  o.snapshot_write_seconds = 3600;
  auto& loader = make_loader(o);
  ASSERT_TRUE(loader.load_initial());
  cp_.set("runtime-artifacts", json::array{artifact("api0", "/ctx0"), artifact("new", "/new")});
  ASSERT_TRUE(loader.refresh_now());
  loader_.reset();  // SIGTERM: the gateway stops well within the hour
  EXPECT_TRUE(file_has_context("/new"));
}

TEST_F(LoaderTest, ASubscriptionEventReReadsItsApplicationWithoutAFullPull) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  ASSERT_EQ(store_.snapshot()->find_subscription("app3", "api4"), nullptr);
  subscribe_app3_to_api4("s9");
  cp_.reset_counts();
  loader.on_event(
      events::Event{1, "subscription.created",
                    R"({"subscription_id":"s9","application_id":"app3","api_id":"api4"})", 0});
  ASSERT_TRUE(eventually([&] { return store_.snapshot()->find_subscription("app3", "api4"); }));
  EXPECT_NE(store_.snapshot()->find_subscription("app3", "api3"), nullptr);  // kept
  EXPECT_EQ(store_.snapshot()->apis.size(), 5u);
  EXPECT_EQ(cp_.page_calls("runtime-artifacts"), 0);  // no full pull
  EXPECT_EQ(cp_.page_calls("applications/app3"), 1);
  EXPECT_EQ(loader.stats().patches_applied, 1u);
}

TEST_F(LoaderTest, AnEventAboutAnApplicationThatIsGoneRemovesIt) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  json::array apps;
  for (int i = 0; i < 7; ++i)
    if (i != 2)
      apps.push_back(json::object{{"id", "app" + std::to_string(i)}, {"status", "APPROVED"}});
  cp_.set("applications", apps);
  loader.on_event(events::Event{1, "application.deleted", R"({"application_id":"app2"})", 0});
  ASSERT_TRUE(eventually([&] { return store_.snapshot()->applications.count("app2") == 0; }));
  auto s = store_.snapshot();
  EXPECT_EQ(s->clients.count("client2"), 0u);
  EXPECT_EQ(s->find_subscription("app2", "api2"), nullptr);
  EXPECT_EQ(s->applications.size(), 6u);
  EXPECT_EQ(s->clients.size(), 6u);
}

TEST_F(LoaderTest, APullALogResetAsksForFirstStillHonoursTheFile) {
  {
    auto& first = make_loader(options());
    ASSERT_TRUE(first.load_initial());
  }
  loader_.reset();
  cp_.set_cluster_id("cluster-b");
  cp_.set("runtime-artifacts", json::array{});
  SnapshotStore restarted;
  SnapshotLoader loader(options(), cp_, worker_, restarted);
  loader.on_log_reset();  // the event log's reset comes before the first load
  EXPECT_TRUE(loader.load_initial());
  EXPECT_EQ(restarted.snapshot()->apis.size(), 5u);  // the file's, not the other cluster's
  EXPECT_GE(loader.stats().snapshots_refused, 1u);
}

// After the first whole write, a change goes to the journal beside the file: the file's bytes
// stay as they were, and a gateway restarted while the control plane is down serves the file
// with the journal replayed, revocations included.
TEST_F(LoaderTest, AChangeAfterTheFirstWriteGoesToTheJournalAndARestartReplaysIt) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  ASSERT_TRUE(loader.refresh_now());  // returns once the first, whole, write is on disk
  std::string whole = read_text(dir_ / "snapshot.json");
  std::string journal = read_text(dir_ / "snapshot.json.journal");
  EXPECT_EQ(std::count(journal.begin(), journal.end(), '\n'), 1);  // its header alone
  loader.on_event(
      events::Event{1, "token.revoked",
                    R"({"jti":"j-new","expires_at":)" + std::to_string(now() + 600) + "}", now()});
  announce_new_subscription(loader, 2);
  ASSERT_TRUE(eventually([&] { return file_subscriptions() == 8; }));
  EXPECT_EQ(read_text(dir_ / "snapshot.json"), whole);
  journal = read_text(dir_ / "snapshot.json.journal");
  EXPECT_EQ(std::count(journal.begin(), journal.end(), '\n'), 2);
  EXPECT_NE(journal.find("s-new"), std::string::npos);
  EXPECT_EQ(journal.find("/ctx4"), std::string::npos);  // the change alone, not the APIs

  loader_.reset();
  cp_.set_unreachable(true);
  SnapshotStore restarted;
  SnapshotLoader again(options(), cp_, worker_, restarted);
  EXPECT_TRUE(again.load_initial());
  EXPECT_TRUE(again.stats().loaded_from_file);
  EXPECT_NE(restarted.snapshot()->find_subscription("app3", "api4"), nullptr);
  EXPECT_EQ(restarted.snapshot()->apis.size(), 5u);
  EXPECT_TRUE(restarted.revoked()->contains("j-new"));
  EXPECT_TRUE(restarted.revoked()->contains("j-old"));
  EXPECT_EQ(again.position().sequence, 2u);
}

// A crash in the middle of an append leaves a torn last record: the records before it stand,
// the torn one is dropped; a journal whose header names another file is ignored as a whole.
TEST_F(LoaderTest, ATornJournalRecordIsDroppedAndAJournalOfAnotherFileIgnored) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  ASSERT_TRUE(loader.refresh_now());  // the first write, whole, is on disk: the rest journals
  subscribe_app3_to_api4("s-first");
  loader.on_event(events::Event{1, "subscription.created", R"({"application_id":"app3"})", 0});
  ASSERT_TRUE(eventually([&] {
    auto file = on_disk();
    return file &&
           json::serialize(file->sources.subscriptions).find("s-first") != std::string::npos;
  }));
  json::array apis;
  for (int i = 0; i < 5; ++i)
    apis.push_back(artifact("api" + std::to_string(i), "/ctx" + std::to_string(i)));
  apis.push_back(artifact("late", "/late"));
  cp_.set("runtime-artifacts", apis);
  loader.on_event({2, "api.deployed", R"({"api_id":"late","environment":"Default"})", now()});
  ASSERT_TRUE(eventually([&] { return file_has_context("/late"); }));
  loader_.reset();

  auto journal_path = dir_ / "snapshot.json.journal";
  std::string journal = read_text(journal_path);
  auto write_journal = [&](const std::string& text) {
    std::ofstream out(journal_path, std::ios::binary | std::ios::trunc);
    out << text;
  };
  cp_.set_unreachable(true);
  auto restart = [&] {
    SnapshotStore restarted;
    SnapshotLoader again(options(), cp_, worker_, restarted);
    EXPECT_TRUE(again.load_initial());
    return restarted.snapshot();
  };
  write_journal(journal.substr(0, journal.size() - 5));  // the last record torn
  auto served = restart();
  EXPECT_NE(served->find_subscription("app3", "api4"), nullptr);
  EXPECT_EQ(served->apis.count("late"), 0u);

  std::string other = journal;
  other.replace(other.find("\"base\":\"") + 8, 4, "0000");
  write_journal(other);
  served = restart();
  EXPECT_EQ(served->find_subscription("app3", "api4"), nullptr);
  EXPECT_EQ(served->apis.count("late"), 0u);
  EXPECT_EQ(served->apis.size(), 5u);  // the file itself still serves
}

// A resync that finds what the gateway already has writes nothing.
TEST_F(LoaderTest, AResyncThatChangesNothingLeavesTheFileAndJournalAlone) {
  auto& loader = make_loader(options());
  ASSERT_TRUE(loader.load_initial());
  ASSERT_TRUE(loader.refresh_now());
  std::string whole = read_text(dir_ / "snapshot.json");
  std::string journal = read_text(dir_ / "snapshot.json.journal");
  ASSERT_TRUE(loader.refresh_now());
  EXPECT_EQ(read_text(dir_ / "snapshot.json"), whole);
  EXPECT_EQ(read_text(dir_ / "snapshot.json.journal"), journal);
  // One API changed on the control plane: the resync journals that API alone.
  json::array apis;
  for (int i = 0; i < 5; ++i)
    apis.push_back(
        artifact("api" + std::to_string(i), i == 2 ? "/moved" : "/ctx" + std::to_string(i)));
  cp_.set("runtime-artifacts", apis);
  ASSERT_TRUE(loader.refresh_now());
  EXPECT_EQ(read_text(dir_ / "snapshot.json"), whole);
  journal = read_text(dir_ / "snapshot.json.journal");
  EXPECT_EQ(std::count(journal.begin(), journal.end(), '\n'), 2);
  EXPECT_NE(journal.find("/moved"), std::string::npos);
  EXPECT_TRUE(file_has_context("/moved"));
}

}  // namespace
}  // namespace portico::gateway
