#include "http/user_content.h"

#include <gtest/gtest.h>

namespace portico::http {
namespace {

TEST(UserContent, CarriesNosniffSandboxAndAttachment) {
  Response r = user_content("text/html", "<script>1</script>", Disposition::attachment, "a.html");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type"), "text/html");
  EXPECT_EQ(r.headers.get("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.headers.get("Content-Security-Policy"), "default-src 'none'; sandbox");
  EXPECT_EQ(r.headers.get("Content-Disposition"), R"(attachment; filename="a.html")");
}

TEST(UserContent, ImagesAreInlineAndFilenamesCannotBreakTheHeader) {
  Response r = user_content("image/svg+xml", "<svg/>", Disposition::inline_image,
                            "x\"\r\nSet-Cookie: a=b/\xc3\xa9");
  EXPECT_EQ(r.headers.get("Content-Disposition"), R"(inline; filename="x___Set-Cookie: a=b___")");
}

}  // namespace
}  // namespace portico::http
