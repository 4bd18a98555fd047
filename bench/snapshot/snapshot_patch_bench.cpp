// What one change costs a gateway holding 10,000 APIs and 100,000 subscriptions: the per-item
// patch an application, key or subscription event causes (re-read the application, patch it
// in) and the one an API event causes (re-read and compile its artifact, patch it in), against
// the full rebuild every event used to cost (re-pull and rebuild everything).
// Prints both and their ratio. Build: cmake --build build --target snapshot_patch_bench.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include <cstdio>
#include <map>
#include <string>

#include "gateway/snapshot_builder.h"
#include "gateway/snapshot_patch.h"

namespace {

namespace json = boost::json;
using namespace portico::gateway;

constexpr int kApis = 10000;
constexpr int kApplications = 20000;
constexpr int kSubscriptionsPerApplication = 5;  // 100,000 subscriptions

json::object artifact(int i) {
  std::string id = "api-" + std::to_string(i);
  json::object api{
      {"id", id},
      {"name", id},
      {"context", "/ctx" + std::to_string(i)},
      {"version", "1.0.0"},
      {"provider", "admin"},
      {"lifeCycleStatus", "PUBLISHED"},
      {"endpointConfig",
       {{"endpoint_type", "http"},
        {"production_endpoints", {{"url", "http://backend:8080/" + id}}}}},
      {"operations",
       json::array{
           {{"target", "/*"}, {"verb", "GET"}, {"authType", "Application & Application User"}},
           {{"target", "/items/{id}"}, {"verb", "POST"}, {"authType", "Application"}}}}};
  return {{"apiId", id}, {"revisionId", "r-" + id}, {"deployedTime", 1}, {"api", api}};
}

json::object subscription(int app, int api) {
  return {{"id", "s-" + std::to_string(app) + "-" + std::to_string(api)},
          {"applicationId", "app-" + std::to_string(app)},
          {"apiId", "api-" + std::to_string(api)},
          {"throttlingPolicy", "Gold"},
          {"status", "UNBLOCKED"}};
}

const SnapshotSources& sources() {
  static const SnapshotSources s = [] {
    SnapshotSources s;
    s.environment = "Default";
    for (int i = 0; i < kApis; ++i) s.runtime_artifacts.push_back(artifact(i));
    for (int a = 0; a < kApplications; ++a) {
      std::string id = "app-" + std::to_string(a);
      s.applications.push_back(json::object{{"id", id}, {"status", "APPROVED"}});
      s.key_mappings.push_back(json::object{{"id", "m-" + id},
                                            {"applicationId", id},
                                            {"keyType", "PRODUCTION"},
                                            {"clientId", "c-" + id}});
      for (int k = 0; k < kSubscriptionsPerApplication; ++k)
        s.subscriptions.push_back(subscription(a, (a * 7 + k * 13) % kApis));
    }
    return s;
  }();
  return s;
}

std::shared_ptr<const Snapshot> built() {
  static EndpointSlots slots;
  static const auto snapshot = build_snapshot(sources(), 1, slots, nullptr);
  return snapshot;
}

// One application gains a subscription: the record its per-item read answers.
ApplicationRecord changed_application() {
  json::object body{{"id", "app-42"}, {"status", "APPROVED"}};
  json::array keys{json::object{
      {"applicationId", "app-42"}, {"keyType", "PRODUCTION"}, {"clientId", "c-app-42"}}};
  json::array subs;
  for (int k = 0; k <= kSubscriptionsPerApplication; ++k) subs.push_back(subscription(42, k));
  body["keyMappings"] = keys;
  body["subscriptions"] = subs;
  return *parse_application_record(body);
}

void BM_FullRebuild(benchmark::State& state) {
  EndpointSlots slots;
  for (auto _ : state) benchmark::DoNotOptimize(build_snapshot(sources(), 2, slots, nullptr));
}
BENCHMARK(BM_FullRebuild)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_OneApplicationPatched(benchmark::State& state) {
  auto base = built();
  auto record = changed_application();
  for (auto _ : state) benchmark::DoNotOptimize(with_application(*base, record, 2));
}
BENCHMARK(BM_OneApplicationPatched)->Unit(benchmark::kMillisecond);

// A new revision of one API is deployed: the artifact its per-item read answers, compiled and
// patched in.
void BM_OneApiPatched(benchmark::State& state) {
  auto base = built();
  EndpointSlots slots;
  json::value changed = artifact(42);
  changed.as_object()["revisionId"] = "r-2";
  for (auto _ : state)
    benchmark::DoNotOptimize(with_api(*base, compile_api(changed, slots, nullptr), 2));
}
BENCHMARK(BM_OneApiPatched)->Unit(benchmark::kMillisecond);

// Keeps each benchmark's mean real time per iteration, for the ratio.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs)
      if (run.iterations > 0)
        seconds[run.benchmark_name()] =
            run.real_accumulated_time / static_cast<double>(run.iterations);
  }
  std::map<std::string, double> seconds;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  built();  // the fixture is not what is measured
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto full = reporter.seconds.find("BM_FullRebuild/iterations:3");
  auto patch = reporter.seconds.find("BM_OneApplicationPatched");
  auto api_patch = reporter.seconds.find("BM_OneApiPatched");
  auto end = reporter.seconds.end();
  if (full != end && patch != end && api_patch != end && patch->second > 0 &&
      api_patch->second > 0) {
    std::printf(
        "\n%d APIs, %d applications, %d subscriptions\n"
        "full rebuild:              %10.3f ms\n"
        "one application patch:     %10.3f ms   ratio (rebuild/patch): %10.1f\n"
        "one API (revision) patch:  %10.3f ms   ratio (rebuild/patch): %10.1f\n",
        kApis, kApplications, kApplications * kSubscriptionsPerApplication, full->second * 1e3,
        patch->second * 1e3, full->second / patch->second, api_patch->second * 1e3,
        full->second / api_patch->second);
  }
  return 0;
}
