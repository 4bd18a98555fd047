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

  // An API whose artifact is about `bytes` long.
  static json::object big_api(const std::string& id, std::size_t bytes, char fill) {
    return json::object{{"apiId", id}, {"description", std::string(bytes, fill)}};
  }
  // The configuration as a full pull reads it.
  void load(json::array artifacts) {
    SnapshotSources pulled;
    pulled.environment = "Default";
    pulled.runtime_artifacts = std::move(artifacts);
    sources_.reset(std::move(pulled));
  }
  // What changed in sources_ since the last submit, as the loader hands it over.
  void submit(SnapshotFileWriter& writer) {
    SnapshotFile header;
    header.environment = "Default";
    header.cluster_id = "cluster-a";
    writer.submit(std::move(header), sources_, sources_.take_changes());
  }
  // The file with its journal replayed.
  SnapshotFile on_disk() {
    std::string error;
    auto file = read_snapshot_file(path_, &error);
    EXPECT_TRUE(file) << error;
    return file ? *file : SnapshotFile{};
  }

  std::filesystem::path dir_;
  std::string path_;
  SourceIndex sources_;
};

TEST_F(SnapshotFileWriterTest, TheJournalIsFoldedIntoTheFileOnceItOutgrowsIt) {
  SnapshotFileWriter writer(path_);
  load({big_api("api1", 1000, 'a')});
  submit(writer);
  writer.flush();
  std::string whole = read_text(path_);
  // Changes of 400 KB each: the first three go to the journal (1 MiB is the least a journal
  // may hold), the fourth finds it past that and rewrites the file whole.
  const char fills[] = {'b', 'c', 'd', 'e'};
  for (int i = 0; i < 4; ++i) {
    sources_.set_artifact("api1", big_api("api1", 400 * 1024, fills[i]));
    submit(writer);
    writer.flush();
    if (i < 3) {
      EXPECT_EQ(read_text(path_), whole) << i;
      EXPECT_GT(std::filesystem::file_size(path_ + ".journal"), 400u * 1024 * (i + 1)) << i;
    }
  }
  EXPECT_NE(read_text(path_), whole);
  EXPECT_LT(std::filesystem::file_size(path_ + ".journal"), 200u);  // a fresh header
  auto file = on_disk();
  ASSERT_EQ(file.sources.runtime_artifacts.size(), 1u);
  EXPECT_EQ(file.sources.runtime_artifacts[0].at("description").as_string().front(), 'e');
}

TEST_F(SnapshotFileWriterTest, WritesAskedForBeforeOneStartsKeepEveryChange) {
  load({big_api("api1", 10, 'a'), big_api("api2", 10, 'a')});
  {
    SnapshotFileWriter writer(path_);
    submit(writer);
    writer.flush();
    // Two submits in a row: the second may replace the first before it starts, and must
    // still journal both changes.
    sources_.set_artifact("api1", big_api("api1", 10, 'x'));
    submit(writer);
    sources_.set_artifact("api2", big_api("api2", 10, 'y'));
    submit(writer);
  }  // the destructor writes what is pending
  std::string lists = json::serialize(on_disk().sources.runtime_artifacts);
  EXPECT_NE(lists.find("xxxxxxxxxx"), std::string::npos);
  EXPECT_NE(lists.find("yyyyyyyyyy"), std::string::npos);
}

TEST_F(SnapshotFileWriterTest, AJournalRemovedUnderTheWriterMakesTheNextWriteWhole) {
  SnapshotFileWriter writer(path_);
  load({big_api("api1", 10, 'a')});
  submit(writer);
  writer.flush();
  std::filesystem::remove(path_ + ".journal");
  sources_.set_artifact("api1", big_api("api1", 10, 'b'));
  submit(writer);  // fails: no journal to append to
  writer.flush();
  sources_.set_artifact("api1", big_api("api1", 10, 'c'));
  submit(writer);  // whole again
  writer.flush();
  EXPECT_EQ(on_disk().sources.runtime_artifacts.at(0).at("description").as_string(), "cccccccccc");
  EXPECT_TRUE(std::filesystem::exists(path_ + ".journal"));
}

}  // namespace
}  // namespace portico::gateway
