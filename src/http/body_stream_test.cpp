// Responses whose body streams (http::BodyStream), over a real server and a real socket.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "common/log.h"
#include "http/server.h"
#include "http/testing/raw_client.h"

namespace portico::http {
namespace {

using namespace std::chrono_literals;
using testing::PlainConnection;

// Pieces the test pushes, handed out when the server asks.
class TestStream final : public BodyStream {
 public:
  void start(std::function<void()> wake) override {
    std::lock_guard lock(mutex_);
    wake_ = std::move(wake);
    started_ = true;
    changed_.notify_all();
  }
  std::optional<std::string> next() override {
    std::lock_guard lock(mutex_);
    if (pieces_.empty()) {
      if (finished_) return std::nullopt;
      return std::string();
    }
    std::string piece = std::move(pieces_.front());
    pieces_.pop_front();
    return piece;
  }
  std::string heartbeat() override { return ": beat\n\n"; }
  std::chrono::milliseconds heartbeat_interval() const override { return heartbeat_; }
  void stop() override {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    wake_ = nullptr;
    changed_.notify_all();
  }

  void push(std::string piece, bool finish = false) {
    std::lock_guard lock(mutex_);
    pieces_.push_back(std::move(piece));
    finished_ = finish;
    if (wake_) wake_();
  }
  bool wait_started() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return started_; });
  }
  bool wait_stopped() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return stopped_; });
  }

  std::chrono::milliseconds heartbeat_ = 60s;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> wake_;
  std::deque<std::string> pieces_;
  bool started_ = false;
  bool finished_ = false;
  bool stopped_ = false;
};

class BodyStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    auto router = std::make_shared<Router>();
    router->add("GET", "/stream", [this](Request&) {
      Response response;
      response.headers.set("Content-Type", "text/event-stream");
      response.stream = stream_;
      return response;
    });
    ServerOptions options;
    options.host = "127.0.0.1";
    options.http_port = 0;
    options.read_timeout = read_timeout_;
    server_ = std::make_unique<Server>(options, router);
    server_->start();
  }
  void TearDown() override {
    if (server_) server_->stop(1s);
  }

  std::chrono::seconds read_timeout_ = 10s;
  std::shared_ptr<TestStream> stream_ = std::make_shared<TestStream>();
  std::unique_ptr<Server> server_;
};

// The shortest read timeout the configuration allows: a stream must outlive it.
class ShortReadTimeoutTest : public BodyStreamTest {
 protected:
  ShortReadTimeoutTest() { read_timeout_ = 1s; }
};

constexpr std::string_view kGet = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(BodyStreamTest, PiecesArriveAsChunksWhenProduced) {
  PlainConnection client(server_->http_port());
  ASSERT_TRUE(client.send(kGet));
  ASSERT_TRUE(client.read_until("\r\n\r\n"));
  EXPECT_NE(client.received().find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(client.received().find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(client.received().find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_EQ(client.received().find("Content-Length"), std::string::npos);
  ASSERT_TRUE(stream_->wait_started());
  stream_->push("hello");
  EXPECT_TRUE(client.read_until("5\r\nhello\r\n"));
  stream_->push("second piece");
  EXPECT_TRUE(client.read_until("c\r\nsecond piece\r\n"));
}

TEST_F(BodyStreamTest, AFinishedStreamEndsTheBodyAndTheConnection) {
  PlainConnection client(server_->http_port());
  ASSERT_TRUE(client.send(kGet));
  ASSERT_TRUE(stream_->wait_started());
  stream_->push("last", true);
  EXPECT_TRUE(client.read_until("4\r\nlast\r\n0\r\n\r\n"));
  EXPECT_TRUE(client.read_to_end());
}

TEST_F(BodyStreamTest, AnIdleStreamCarriesHeartbeats) {
  stream_->heartbeat_ = 50ms;
  PlainConnection client(server_->http_port());
  ASSERT_TRUE(client.send(kGet));
  EXPECT_TRUE(client.read_until("8\r\n: beat\n\n\r\n"));
}

TEST_F(ShortReadTimeoutTest, AStreamOutlivesTheRequestsReadTimeout) {
  // The read timeout bounds receiving a request, not how long its response may stream: 25
  // heartbeats 100 ms apart take well past it, and the connection stays open throughout.
  stream_->heartbeat_ = 100ms;
  PlainConnection client(server_->http_port());
  ASSERT_TRUE(client.send(kGet));
  std::string beats;
  for (int i = 0; i < 25; ++i) beats += "8\r\n: beat\n\n\r\n";
  EXPECT_TRUE(client.read_until(beats));
  stream_->push("still here");
  EXPECT_TRUE(client.read_until("a\r\nstill here\r\n"));
}

TEST_F(BodyStreamTest, AClientLeavingStopsTheStream) {
  auto client = std::make_unique<PlainConnection>(server_->http_port());
  ASSERT_TRUE(client->send(kGet));
  ASSERT_TRUE(stream_->wait_started());
  client.reset();
  EXPECT_TRUE(stream_->wait_stopped());
}

TEST_F(BodyStreamTest, StoppingTheServerClosesStreams) {
  PlainConnection client(server_->http_port());
  ASSERT_TRUE(client.send(kGet));
  ASSERT_TRUE(stream_->wait_started());
  server_->stop(5s);
  EXPECT_TRUE(stream_->wait_stopped());
  EXPECT_TRUE(client.read_to_end());
}

TEST_F(BodyStreamTest, Http10GetsTheBodyUnframedUntilClose) {
  PlainConnection client(server_->http_port());
  ASSERT_TRUE(client.send("GET /stream HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(stream_->wait_started());
  stream_->push("raw", true);
  EXPECT_TRUE(client.read_to_end());
  EXPECT_NE(client.received().find("HTTP/1.0 200"), std::string::npos);
  EXPECT_NE(client.received().find("\r\n\r\nraw"), std::string::npos);
  EXPECT_EQ(client.received().find("chunked"), std::string::npos);
}

}  // namespace
}  // namespace portico::http
