#include "gateway/snapshot_file_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace portico::gateway {
namespace {

namespace json = boost::json;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class SnapshotFileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("portico-writer-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "snapshot.json").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  SnapshotFile header() const {
    SnapshotFile h;
    h.environment = "Default";
    h.cluster_id = "cluster-a";
    return h;
  }
  // An API whose artifact is about `bytes` long.
  static json::object big_api(const std::string& id, std::size_t bytes, char fill) {
    return json::object{{"apiId", id}, {"description", std::string(bytes, fill)}};
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(SnapshotFileWriterTest, TheJournalIsFoldedIntoTheFileOnceItOutgrowsIt) {
  SnapshotFileWriter writer(path_);
  SourceIndex sources;
  SnapshotSources first;
  first.environment = "Default";
  first.runtime_artifacts = {big_api("api1", 1000, 'a')};
  sources.reset(std::move(first));
  writer.submit(header(), sources, sources.take_changes());
  writer.flush();
  std::string whole = read_text(path_);
  // Changes of 400 KB each: the first three go to the journal (1 MiB is the least a journal
  // may hold), the fourth finds it past that and rewrites the file whole.
  const char fills[] = {'b', 'c', 'd', 'e'};
  for (int i = 0; i < 4; ++i) {
    sources.set_artifact("api1", big_api("api1", 400 * 1024, fills[i]));
    writer.submit(header(), sources, sources.take_changes());
    writer.flush();
    if (i < 3) {
      EXPECT_EQ(read_text(path_), whole) << i;
      EXPECT_GT(std::filesystem::file_size(path_ + ".journal"), 400u * 1024 * (i + 1)) << i;
    }
  }
  EXPECT_NE(read_text(path_), whole);
  EXPECT_LT(std::filesystem::file_size(path_ + ".journal"), 200u);  // a fresh header
  std::string error;
  auto file = read_snapshot_file(path_, &error);
  ASSERT_TRUE(file) << error;
  ASSERT_EQ(file->sources.runtime_artifacts.size(), 1u);
  EXPECT_EQ(file->sources.runtime_artifacts[0].at("description").as_string().front(), 'e');
}

TEST_F(SnapshotFileWriterTest, WritesAskedForBeforeOneStartsKeepEveryChange) {
  SourceIndex sources;
  SnapshotSources first;
  first.environment = "Default";
  first.runtime_artifacts = {big_api("api1", 10, 'a'), big_api("api2", 10, 'a')};
  sources.reset(std::move(first));
  {
    SnapshotFileWriter writer(path_);
    writer.submit(header(), sources, sources.take_changes());
    writer.flush();
    // Two submits in a row: the second may replace the first before it starts, and must
    // still journal both changes.
    sources.set_artifact("api1", big_api("api1", 10, 'x'));
    writer.submit(header(), sources, sources.take_changes());
    sources.set_artifact("api2", big_api("api2", 10, 'y'));
    writer.submit(header(), sources, sources.take_changes());
  }  // the destructor writes what is pending
  std::string error;
  auto file = read_snapshot_file(path_, &error);
  ASSERT_TRUE(file) << error;
  std::string lists = json::serialize(file->sources.runtime_artifacts);
  EXPECT_NE(lists.find("xxxxxxxxxx"), std::string::npos);
  EXPECT_NE(lists.find("yyyyyyyyyy"), std::string::npos);
}

TEST_F(SnapshotFileWriterTest, AJournalRemovedUnderTheWriterMakesTheNextWriteWhole) {
  SnapshotFileWriter writer(path_);
  SourceIndex sources;
  SnapshotSources first;
  first.environment = "Default";
  first.runtime_artifacts = {big_api("api1", 10, 'a')};
  sources.reset(std::move(first));
  writer.submit(header(), sources, sources.take_changes());
  writer.flush();
  std::filesystem::remove(path_ + ".journal");
  sources.set_artifact("api1", big_api("api1", 10, 'b'));
  writer.submit(header(), sources, sources.take_changes());  // fails: no journal to append to
  writer.flush();
  sources.set_artifact("api1", big_api("api1", 10, 'c'));
  writer.submit(header(), sources, sources.take_changes());  // whole again
  writer.flush();
  std::string error;
  auto file = read_snapshot_file(path_, &error);
  ASSERT_TRUE(file) << error;
  EXPECT_EQ(file->sources.runtime_artifacts[0].at("description").as_string(), "cccccccccc");
  EXPECT_TRUE(std::filesystem::exists(path_ + ".journal"));
}

}  // namespace
}  // namespace portico::gateway
