#include "events/sse.h"

#include <gtest/gtest.h>

#include <vector>

namespace portico::events::sse {
namespace {

std::vector<Message> parse_in_pieces(std::string_view text, std::size_t piece) {
  Parser parser;
  std::vector<Message> messages;
  for (std::size_t at = 0; at < text.size(); at += piece) {
    EXPECT_TRUE(
        parser.feed(text.substr(at, piece), [&](const Message& m) { messages.push_back(m); }));
  }
  return messages;
}

TEST(SseTest, PositionIdRoundTrips) {
  LogPosition position{"a1b2", 42};
  EXPECT_EQ(position_id(position), "a1b2:42");
  EXPECT_EQ(parse_position("a1b2:42"), position);
  EXPECT_EQ(parse_position(""), LogPosition{});
  EXPECT_EQ(position_id(LogPosition{}), "");
}

TEST(SseTest, MalformedPositionsAreRefused) {
  EXPECT_FALSE(parse_position("noseq"));
  EXPECT_FALSE(parse_position(":5"));
  EXPECT_FALSE(parse_position("epoch:"));
  EXPECT_FALSE(parse_position("epoch:12x"));
  EXPECT_FALSE(parse_position("epoch:-1"));
}

TEST(SseTest, EventsSurviveAnySplitOfTheStream) {
  std::string text = format_reset({"ep", 7}) + std::string(kHeartbeat) +
                     format_event("ep", Event{8, "token.revoked", R"({"id":"t1"})", 0}) +
                     format_event("ep", Event{9, "api.deployed", R"({"apiId":"a"})", 0});
  for (std::size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    auto messages = parse_in_pieces(text, piece);
    ASSERT_EQ(messages.size(), 3u) << "pieces of " << piece;
    EXPECT_EQ(messages[0].event, kResetEvent);
    EXPECT_EQ(messages[0].id, "ep:7");
    EXPECT_EQ(messages[1].event, "token.revoked");
    EXPECT_EQ(messages[1].id, "ep:8");
    EXPECT_EQ(messages[1].data, R"({"id":"t1"})");
    EXPECT_EQ(messages[2].data, R"({"apiId":"a"})");
  }
}

TEST(SseTest, CrLfAndCrLineEndsAreLineEnds) {
  auto messages = parse_in_pieces("id: e:1\r\nevent: x\r\ndata: a\r\n\r\nid: e:2\rdata: b\r\r", 1);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].id, "e:1");
  EXPECT_EQ(messages[0].data, "a");
  EXPECT_EQ(messages[1].id, "e:2");
  EXPECT_EQ(messages[1].data, "b");
}

TEST(SseTest, MultiLineDataIsJoinedWithLineFeeds) {
  std::string text = format_event("e", Event{1, "x", "line one\nline two", 0});
  auto messages = parse_in_pieces(text, 5);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].data, "line one\nline two");
}

TEST(SseTest, CommentsAloneDispatchNothing) {
  auto messages = parse_in_pieces(": keep-alive\n\n: again\n\n", 4);
  EXPECT_TRUE(messages.empty());
}

TEST(SseTest, OverlongLineIsRefused) {
  Parser parser(16);
  EXPECT_FALSE(parser.feed(std::string(32, 'x'), [](const Message&) {}));
}

}  // namespace
}  // namespace portico::events::sse
