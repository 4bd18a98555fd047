#include "common/private_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/crypto.h"

namespace portico {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class PrivateFilesTest : public ::testing::Test {
 protected:
  PrivateFilesTest()
      : root_(fs::temp_directory_path() / ("portico-files-" + crypto::random_token(9))) {
    fs::create_directories(root_);
  }
  ~PrivateFilesTest() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path root_;
};

TEST_F(PrivateFilesTest, CreatesTheDataDirectoryOwnerOnly) {
  fs::path dir = root_ / "data";
  prepare_data_dir(dir.string());
  EXPECT_EQ(mode_of(dir), 0700u);
}

TEST_F(PrivateFilesTest, TightensAnExistingDirectoryAndEverythingInIt) {
  fs::path dir = root_ / "data";
  fs::create_directories(dir / "tls");
  std::ofstream(dir / "portico.db") << "db";
  std::ofstream(dir / "tls" / "server.key") << "key";
  ::chmod(dir.c_str(), 0755);
  ::chmod((dir / "tls").c_str(), 0755);
  ::chmod((dir / "portico.db").c_str(), 0644);
  ::chmod((dir / "tls" / "server.key").c_str(), 0644);

  prepare_data_dir(dir.string());

  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(dir / "tls"), 0700u);
  EXPECT_EQ(mode_of(dir / "portico.db"), 0600u);
  EXPECT_EQ(mode_of(dir / "tls" / "server.key"), 0600u);
}

TEST_F(PrivateFilesTest, DoesNotFollowASymbolicLinkOut) {
  fs::path outside = root_ / "outside.txt";
  std::ofstream(outside) << "not the node's";
  ::chmod(outside.c_str(), 0644);
  fs::path dir = root_ / "data";
  fs::create_directories(dir);
  fs::create_symlink(outside, dir / "link");

  prepare_data_dir(dir.string());

  EXPECT_EQ(mode_of(outside), 0644u);
}

TEST_F(PrivateFilesTest, WritesA0600FileWithTheContentAndNoTemporaryLeft) {
  fs::path path = root_ / "key.pem";
  write_private_file(path.string(), "secret");
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(read_file(path.string()), "secret");
  EXPECT_FALSE(fs::exists(root_ / "key.pem.tmp"));
}

TEST_F(PrivateFilesTest, ReplacesAnExistingFileAndAStaleTemporary) {
  fs::path path = root_ / "key.pem";
  std::ofstream(path) << "old";
  std::ofstream(root_ / "key.pem.tmp") << "stale";
  ::chmod(path.c_str(), 0644);
  write_private_file(path.string(), "new");
  EXPECT_EQ(read_file(path.string()), "new");
  EXPECT_EQ(mode_of(path), 0600u);
}

}  // namespace
}  // namespace portico
