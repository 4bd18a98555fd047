#include "portals/static_files.h"

#include <gtest/gtest.h>

#include <fstream>

namespace portico::portals {
namespace {

class PortalFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("portals_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(root_ / "publisher");
    std::filesystem::create_directories(root_ / "assets");
    write("publisher/index.html", "<!doctype html><title>Publisher</title>");
    write("assets/main-Ab12.js", "console.log(1)");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / name) << text;
  }
  std::filesystem::path root_;
};

TEST_F(PortalFilesTest, HashedAssetsAreCachedForAYear) {
  auto files = PortalFiles::load(root_, "publisher", "default-src 'self'");
  auto r = files.serve("assets/main-Ab12.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "console.log(1)");
  EXPECT_EQ(r.headers.get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(r.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
}

TEST_F(PortalFilesTest, PagesOfTheApplicationFallBackToIndexWithThePolicy) {
  auto files = PortalFiles::load(root_, "publisher", "default-src 'self'");
  for (std::string_view page : {"", "apis", "apis/123/overview"}) {
    auto r = files.serve(page);
    EXPECT_EQ(r.status, 200) << page;
    EXPECT_NE(r.body.find("<title>Publisher</title>"), std::string::npos);
    EXPECT_EQ(r.headers.get("Cache-Control"), "no-cache");
    EXPECT_EQ(r.headers.get("Content-Security-Policy"), "default-src 'self'");
  }
}

TEST_F(PortalFilesTest, MissingFilesAre404NotThePage) {
  auto files = PortalFiles::load(root_, "publisher", "x");
  EXPECT_EQ(files.serve("assets/gone-123.js").status, 404);
  EXPECT_EQ(files.serve("favicon.ico").status, 404);
}

TEST_F(PortalFilesTest, AnUnbuiltPortalSaysHowToBuildIt) {
  auto files = PortalFiles::load(root_, "admin", "x");
  EXPECT_FALSE(files.has_index());
  auto r = files.serve("");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("make build"), std::string::npos);
}

TEST(ContentType, ByExtension) {
  EXPECT_EQ(content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("a.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace portico::portals
