// The batch a gateway sends: what it writes parses back; what a caller could get wrong is
// refused whole with a 400 naming the fault.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "analytics/batch.h"
#include "analytics/test_support.h"
#include "common/api_error.h"

namespace portico::analytics {
namespace {

namespace json = boost::json;
using testing::make_event;

RollupMap sample_rollups() {
  RollupMap rollups;
  add_event(rollups, make_event({.api = "Pets", .timestamp_ms = 1'700'000'040'000}));
  add_event(rollups, make_event({.api = "Pets", .status = 500, .timestamp_ms = 1'700'000'040'000}));
  add_event(rollups, make_event({.api = "Orders", .app = "", .owner = ""}));
  return rollups;
}

// A valid batch as JSON, for a test to spoil one field of.
json::object valid_batch() {
  return json::parse(batch_json("1700000040000-000001-0000abcd", "gw-1", sample_rollups()))
      .as_object();
}

// The description of the 400 that parsing `body` throws; empty when it parses.
std::string refusal(const json::object& body) {
  try {
    parse_batch(json::serialize(body));
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400) << e.description;
    return e.description;
  }
  return {};
}

TEST(AnalyticsBatchTest, WhatASenderWritesParsesBackUnderTheBatchsNodeId) {
  RollupMap rollups = sample_rollups();
  Batch batch = parse_batch(batch_json("1700000040000-000001-0000abcd", "gw-1", rollups));
  EXPECT_EQ(batch.batch_id, "1700000040000-000001-0000abcd");
  EXPECT_EQ(batch.node_id, "gw-1");
  ASSERT_EQ(batch.rollups.size(), rollups.size());
  auto sent = rollups.begin();
  for (const auto& [key, counters] : batch.rollups) {
    RollupKey expected = sent->first;
    expected.node_id = "gw-1";
    EXPECT_EQ(key, expected);
    EXPECT_EQ(counters.requests, sent->second.requests);
    EXPECT_EQ(counters.histogram, sent->second.histogram);
    ++sent;
  }
}

TEST(AnalyticsBatchTest, ABadBatchIsRefusedNamingTheFault) {
  EXPECT_EQ(refusal(valid_batch()), "");

  auto spoiled = [](auto change) {
    json::object o = valid_batch();
    change(o);
    return refusal(o);
  };
  auto first_rollup = [](json::object& o) -> json::object& {
    return o["rollups"].as_array()[0].as_object();
  };
  EXPECT_NE(spoiled([](json::object& o) { o.erase("batchId"); }), "");
  EXPECT_NE(spoiled([](json::object& o) { o["batchId"] = "../../etc/passwd"; }), "");
  EXPECT_NE(spoiled([](json::object& o) { o["batchId"] = std::string(65, 'a'); }), "");
  EXPECT_NE(spoiled([](json::object& o) { o["nodeId"] = ""; }), "");
  EXPECT_NE(spoiled([](json::object& o) { o["nodeId"] = std::string("gw\0x", 4); }), "");
  EXPECT_NE(spoiled([](json::object& o) { o["rollups"] = json::array(); }), "");
  EXPECT_NE(spoiled([](json::object& o) { o["rollups"] = "many"; }), "");
  EXPECT_NE(spoiled([&](json::object& o) { first_rollup(o)["requests"] = -1; }), "");
  EXPECT_NE(spoiled([&](json::object& o) { first_rollup(o)["requests"] = 1.5; }), "");
  EXPECT_NE(spoiled([&](json::object& o) { first_rollup(o)["errors"] = 99; }), "");
  EXPECT_NE(spoiled([&](json::object& o) { first_rollup(o)["minute"] = 1'700'000'041; }), "");
  EXPECT_NE(spoiled([&](json::object& o) { first_rollup(o)["statusClass"] = "9xx"; }), "");
  EXPECT_NE(spoiled([&](json::object& o) { first_rollup(o).erase("apiId"); }), "");
  EXPECT_NE(spoiled([&](json::object& o) { first_rollup(o)["apiId"] = std::string(257, 'a'); }),
            "");
  EXPECT_NE(spoiled([&](json::object& o) { first_rollup(o)["histogram"].as_array().pop_back(); }),
            "");
  // The buckets must account for every request: one more in a bucket is one too many.
  std::string description = spoiled([&](json::object& o) {
    json::value& bucket = first_rollup(o)["histogram"].as_array()[0];
    bucket = bucket.as_int64() + 1;
  });
  EXPECT_NE(description.find("rollups[0]"), std::string::npos) << description;
  EXPECT_NE(description.find("histogram"), std::string::npos) << description;

  EXPECT_THROW(parse_batch("not json"), ApiError);
  EXPECT_THROW(parse_batch("[]"), ApiError);
}

TEST(AnalyticsBatchTest, TooManyRollupsOrTooManyBytesAreRefused) {
  RollupMap many;
  for (std::size_t i = 0; i <= kMaxBatchRollups; ++i)
    add_event(many, make_event({.api = "api-" + std::to_string(i)}));
  EXPECT_THROW(parse_batch(batch_json("b-1", "gw-1", many)), ApiError);
  try {
    parse_batch(std::string(kMaxBatchBytes + 1, ' '));
    FAIL() << "a body over the bound parsed";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 413);
  }
}

}  // namespace
}  // namespace portico::analytics
