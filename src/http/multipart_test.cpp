#include "http/multipart.h"

#include <gtest/gtest.h>

#include <random>

namespace portico::http {
namespace {

TEST(MultipartBoundary, ReadsQuotedAndBareBoundaries) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc123"), "abc123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\""), "a b;c");
}

TEST(MultipartBoundary, RefusesOtherTypesAndBadBoundaries) {
  EXPECT_FALSE(multipart_boundary("application/json"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')));
}

TEST(ParseMultipart, SplitsFieldsAndFiles) {
  std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"additionalProperties\"\r\n\r\n"
      "{\"name\":\"a\"}\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"api.yaml\"\r\n"
      "Content-Type: application/x-yaml\r\n\r\n"
      "openapi: 3.0.0\r\n\r\nline\r\n"
      "--XyZ--\r\n";
  auto parts = parse_multipart(body, "XyZ");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "additionalProperties");
  EXPECT_EQ((*parts)[0].data, "{\"name\":\"a\"}");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[1].filename, "api.yaml");
  EXPECT_EQ((*parts)[1].content_type, "application/x-yaml");
  EXPECT_EQ((*parts)[1].data, "openapi: 3.0.0\r\n\r\nline");
  EXPECT_EQ(find_part(*parts, "file"), &(*parts)[1]);
  EXPECT_EQ(find_part(*parts, "missing"), nullptr);
}

TEST(ParseMultipart, KeepsBinaryDataAndSkipsPreamble) {
  std::string data("\x89PNG\r\n\x1a\n\0\x01", 10);
  std::string body =
      "preamble\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; "
      "filename=\"x.png\"\r\n\r\n" +
      data + "\r\n--b--";
  auto parts = parse_multipart(body, "b");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, data);
}

TEST(ParseMultipart, RefusesMalformedBodies) {
  EXPECT_FALSE(parse_multipart("no delimiter at all", "b"));
  // Unterminated: no closing delimiter.
  EXPECT_FALSE(parse_multipart("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "b"));
  // A part without Content-Disposition.
  EXPECT_FALSE(parse_multipart("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b"));
  // Not form-data, or no name.
  EXPECT_FALSE(
      parse_multipart("--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--", "b"));
  EXPECT_FALSE(parse_multipart("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "b"));
  // Header line without a colon.
  EXPECT_FALSE(parse_multipart("--b\r\ngarbage\r\n\r\nx\r\n--b--", "b"));
}

TEST(ParseMultipart, EnforcesPartAndHeaderLimits) {
  std::string body;
  for (int i = 0; i < 3; ++i)
    body += "--b\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nx\r\n";
  body += "--b--";
  EXPECT_TRUE(parse_multipart(body, "b", {.max_parts = 3}));
  EXPECT_FALSE(parse_multipart(body, "b", {.max_parts = 2}));
  std::string big_header =
      "--b\r\nContent-Disposition: form-data; name=\"p\"\r\nX-Pad: " + std::string(9000, 'a') +
      "\r\n\r\nx\r\n--b--";
  EXPECT_FALSE(parse_multipart(big_header, "b"));
}

}  // namespace
}  // namespace portico::http

namespace portico::http {
namespace {

// Every prefix and many single-byte mutations of a real body: the parser answers with parts
// or nullopt, never an exception or an out-of-range read.
TEST(ParseMultipart, TruncatedAndMutatedBodiesNeverThrow) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x \\\"q\\\".txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nhello\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"b\"\r\n\r\n\r\n--XyZ--\r\n";
  ASSERT_TRUE(parse_multipart(body, "XyZ"));
  for (std::size_t n = 0; n <= body.size(); ++n)
    EXPECT_NO_THROW(parse_multipart(body.substr(0, n), "XyZ"));
  std::mt19937 rng(7);
  const std::string alphabet = "-\r\n\";=: Xx\\";
  for (int i = 0; i < 5000; ++i) {
    std::string mutated = body;
    mutated[rng() % mutated.size()] = alphabet[rng() % alphabet.size()];
    EXPECT_NO_THROW(parse_multipart(mutated, "XyZ"));
  }
}

}  // namespace
}  // namespace portico::http
