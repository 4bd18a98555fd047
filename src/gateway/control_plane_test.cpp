#include "gateway/control_plane.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <set>
#include <thread>
#include <utility>

#include "common/crypto.h"
#include "common/log.h"
#include "common/tls_material.h"
#include "http/server.h"

namespace portico::gateway {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class QuietLogs : public ::testing::Environment {
 public:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
};
const auto* const kQuietLogs = ::testing::AddGlobalTestEnvironment(new QuietLogs);

// Echoes what arrived, so that tests assert on the request the control plane built.
std::shared_ptr<http::Router> echo_router() {
  auto router = std::make_shared<http::Router>();
  auto echo = [](http::Request& request) {
    json::object query;
    for (const auto& [k, v] : request.query) query[k] = v;
    json::object out{
        {"method", request.method},
        {"path", request.path},
        {"target", request.target},
        {"query", query},
        {"authorization", std::string(request.headers.get("Authorization").value_or(""))},
        {"contentType", std::string(request.headers.get("Content-Type").value_or(""))},
        {"host", std::string(request.headers.get("Host").value_or(""))},
        {"body", request.body},
        {"remote", request.remote_address}};
    return http::Response::json(200, json::serialize(out));
  };
  router->add("GET", "/internal/data/v1/echo", echo);
  router->add("POST", "/internal/data/v1/echo", http::BodyType::form, echo);
  router->add("GET", "/prefix/internal/data/v1/echo", echo);
  router->add("GET", "/close", [](http::Request&) {
    http::Response response = http::Response::json(200, R"("bye")");
    response.headers.set("Connection", "close");
    return response;
  });
  router->add("GET", "/missing-thing", [](http::Request&) {
    return http::Response::error(404, 404, "Not Found", "no such thing");
  });
  return router;
}

// A body that says once what the request carried, then nothing (no heartbeat either).
class OnePieceStream final : public http::BodyStream {
 public:
  explicit OnePieceStream(std::string piece) : piece_(std::move(piece)) {}
  void start(std::function<void()>) override {}
  std::optional<std::string> next() override { return std::exchange(piece_, std::string()); }
  std::string heartbeat() override { return {}; }
  std::chrono::milliseconds heartbeat_interval() const override { return 1h; }
  void stop() override {}

 private:
  std::string piece_;
};

std::shared_ptr<http::Router> stream_router() {
  auto router = echo_router();
  router->add("GET", "/internal/data/v1/events", [](http::Request& request) {
    http::Response response;
    response.headers.set("Content-Type", "text/event-stream");
    response.stream = std::make_shared<OnePieceStream>(
        std::string(request.headers.get("Last-Event-ID").value_or("")) + "|" +
        std::string(request.headers.get("Authorization").value_or("")) + "|" + request.target);
    return response;
  });
  return router;
}

json::object parse(const ControlPlaneResponse& r) {
  return json::parse(r.body).as_object();
}

std::string expected_basic() {
  return "Basic " + crypto::base64_encode("gw:s3cret");
}

class HttpControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void TearDown() override {
    if (server_) server_->stop(1s);
  }
  void start(int port = 0, std::chrono::seconds idle = 10s) {
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.http_port = port;
    options.threads = 1;
    options.read_timeout = 10s;
    options.idle_timeout = idle;
    server_ = std::make_unique<http::Server>(options, echo_router());
    server_->start();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(server_->http_port()); }

  std::unique_ptr<http::Server> server_;
};

TEST_F(HttpControlPlaneTest, SendsTheInternalCredentialAndTheQuery) {
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  auto r =
      cp->call("GET", "/internal/data/v1/echo?environment=Default%20Env&after=a%2Bb&limit=1000", "",
               "", true);
  ASSERT_EQ(r.status, 200) << r.body;
  auto echo = parse(r);
  EXPECT_EQ(echo["method"], "GET");
  EXPECT_EQ(echo["path"], "/internal/data/v1/echo");
  EXPECT_EQ(echo["authorization"].as_string(), expected_basic());
  EXPECT_EQ(echo["query"].as_object()["environment"], "Default Env");
  EXPECT_EQ(echo["query"].as_object()["after"], "a+b");
  EXPECT_EQ(echo["host"].as_string(), "127.0.0.1:" + std::to_string(server_->http_port()));
}

TEST_F(HttpControlPlaneTest, NoCredentialUnlessAsked) {
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  auto r = cp->call("GET", "/internal/data/v1/echo", "", "", false);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(parse(r)["authorization"], "");
}

TEST_F(HttpControlPlaneTest, PostsABodyWithItsContentType) {
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  auto r = cp->call("POST", "/internal/data/v1/echo", "application/x-www-form-urlencoded",
                    "token=abc&token_type_hint=access_token", true);
  ASSERT_EQ(r.status, 200);
  auto echo = parse(r);
  EXPECT_EQ(echo["method"], "POST");
  EXPECT_EQ(echo["contentType"], "application/x-www-form-urlencoded");
  EXPECT_EQ(echo["body"], "token=abc&token_type_hint=access_token");
}

TEST_F(HttpControlPlaneTest, ErrorStatusesAndBodiesComeBackAsTheyAre) {
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  auto r = cp->call("GET", "/missing-thing", "", "", true);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no such thing"), std::string::npos);
  EXPECT_EQ(cp->call("GET", "/nowhere", "", "", true).status, 404);
}

TEST_F(HttpControlPlaneTest, BaseUrlPathPrefixesEveryCall) {
  auto cp = http_control_plane(base() + "/prefix/", "gw", "s3cret", true);
  auto r = cp->call("GET", "/internal/data/v1/echo", "", "", true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r)["path"], "/prefix/internal/data/v1/echo");
}

TEST_F(HttpControlPlaneTest, ManyCallsInARow) {
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(cp->call("GET", "/internal/data/v1/echo?i=" + std::to_string(i), "", "", true).status,
              200);
}

TEST_F(HttpControlPlaneTest, ConnectionCloseFromTheServerIsHonoured) {
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  EXPECT_EQ(cp->call("GET", "/close", "", "", false).status, 200);
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 200);
}

TEST_F(HttpControlPlaneTest, ReconnectsWhenTheServerClosedTheIdleConnection) {
  server_->stop(1s);
  start(0, 1s);
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  ASSERT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 200);
  std::this_thread::sleep_for(1800ms);  // the server's idle timeout closes the kept connection
  auto r = cp->call("GET", "/internal/data/v1/echo", "", "", true);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(HttpControlPlaneTest, ReconnectsToARestartedServer) {
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  ASSERT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 200);
  int port = server_->http_port();
  server_->stop(1s);
  server_.reset();
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 0);
  start(port);
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 200);
}

TEST_F(HttpControlPlaneTest, StreamDeliversTheBodyAsItComesUntilStopped) {
  server_->stop(1s);
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.http_port = 0;
  server_ = std::make_unique<http::Server>(options, stream_router());
  server_->start();
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  std::atomic<bool> stop{false};
  std::string received;
  int status = cp->stream(
      "/internal/data/v1/events?after=ep%3A5", "ep:5", 10s,
      [&](std::string_view data) {
        received += data;
        stop = true;  // the server sends nothing more: only stop ends this stream
      },
      stop);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(received, "ep:5|" + expected_basic() + "|/internal/data/v1/events?after=ep%3A5");
}

TEST_F(HttpControlPlaneTest, StreamEndsWhenNothingArrivesForTheIdleTimeout) {
  server_->stop(1s);
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.http_port = 0;
  server_ = std::make_unique<http::Server>(options, stream_router());
  server_->start();
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  std::atomic<bool> stop{false};
  std::string received;
  int status = cp->stream(
      "/internal/data/v1/events", "", 300ms, [&](std::string_view data) { received += data; },
      stop);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(received, "|" + expected_basic() + "|/internal/data/v1/events");
}

TEST_F(HttpControlPlaneTest, StreamRefusedComesBackAsItsStatus) {
  auto cp = http_control_plane(base(), "gw", "s3cret", true);
  std::atomic<bool> stop{false};
  int status = cp->stream(
      "/missing-thing", "", 10s, [](std::string_view) {}, stop);
  EXPECT_EQ(status, 404);
}

TEST(HttpControlPlane, APeerThatNeverAnswersGivesUpAfterTheCallTimeout) {
  // Listening, so the connection is made, but never accepting nor answering.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto cp = http_control_plane("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), "gw",
                               "s3cret", true, {}, 200ms);
  auto answer = std::async(std::launch::async, [&] {
    return cp->call("POST", "/internal/traffic/v1/leases", "application/json", "{}", true);
  });
  // Well before the default 30 s of other calls.
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(answer.get().status, 0);
  ::close(fd);
}

TEST(HttpControlPlane, UnreachableIsStatusZero) {
  // A port nothing listens on: bind one, note it, close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  auto cp = http_control_plane("http://127.0.0.1:" + std::to_string(port), "gw", "pw", true);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 6s);
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 0);
}

TEST(HttpControlPlane, MalformedBaseUrlIsStatusZero) {
  for (const char* url : {"", "not a url", "ftp://host/", "http://"}) {
    auto cp = http_control_plane(url, "gw", "pw", true);
    EXPECT_EQ(cp->call("GET", "/x", "", "", true).status, 0) << url;
  }
}

// A server that speaks just enough HTTP to count connections and misbehave on purpose.
class ScriptedServer {
 public:
  // `close_after_response`: close each connection after one response, without saying so.
  explicit ScriptedServer(bool close_after_response, bool cut_response = false)
      : close_after_(close_after_response), cut_(cut_response) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 8);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  int requests() const { return requests_.load(); }

 private:
  void run() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      ++accepted_;
      std::string buffer;
      char chunk[4096];
      for (;;) {
        auto end = buffer.find("\r\n\r\n");
        if (end != std::string::npos) {
          buffer.erase(0, end + 4);
          ++requests_;
          std::string body = R"({"n":)" + std::to_string(requests_.load()) + "}";
          std::string response =
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
              "Content-Length: " +
              std::to_string(body.size()) + "\r\n\r\n" + body;
          if (cut_) response.resize(response.size() / 2);
          ::send(c, response.data(), response.size(), MSG_NOSIGNAL);
          if (close_after_ || cut_) break;
          continue;
        }
        auto n = ::recv(c, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  bool close_after_;
  bool cut_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST(HttpControlPlane, KeepsOneConnectionAcrossCalls) {
  ScriptedServer server(false);
  auto cp =
      http_control_plane("http://127.0.0.1:" + std::to_string(server.port()), "gw", "pw", true);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(cp->call("GET", "/x", "", "", true).status, 200);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpControlPlane, StaleConnectionIsReplacedOnce) {
  // The server closes after every response without a Connection: close, as an idle timeout
  // does: each later call finds its kept connection dead and must retry on a new one.
  ScriptedServer server(true);
  auto cp =
      http_control_plane("http://127.0.0.1:" + std::to_string(server.port()), "gw", "pw", true);
  for (int i = 0; i < 3; ++i) {
    auto r = cp->call("GET", "/x", "", "", true);
    EXPECT_EQ(r.status, 200) << i;
    std::this_thread::sleep_for(50ms);  // let the FIN arrive
  }
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.accepted(), 3);
}

TEST(HttpControlPlane, AResponseCutShortIsNotRetried) {
  ScriptedServer server(false, true);
  auto cp =
      http_control_plane("http://127.0.0.1:" + std::to_string(server.port()), "gw", "pw", true);
  EXPECT_EQ(cp->call("POST", "/x", "application/json", "{}", true).status, 0);
  EXPECT_EQ(server.requests(), 1);  // the request may have been acted on: not sent twice
}

class TlsControlPlaneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        (std::filesystem::temp_directory_path() / ("portico-cp-tls-" + std::to_string(::getpid())))
            .string();
    files_ = ensure_tls_material(dir_, "", "");
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  void SetUp() override {
    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.http_port = -1;
    options.https_port = 0;
    options.tls_cert_file = files_.cert_file;
    options.tls_key_file = files_.key_file;
    server_ = std::make_unique<http::Server>(options, echo_router());
    server_->start();
  }
  void TearDown() override { server_->stop(1s); }
  std::string url(const char* host) const {
    return std::string("https://") + host + ":" + std::to_string(server_->https_port());
  }

  static std::string dir_;
  static TlsFiles files_;
  std::unique_ptr<http::Server> server_;
};
std::string TlsControlPlaneTest::dir_;
TlsFiles TlsControlPlaneTest::files_;

TEST_F(TlsControlPlaneTest, UnverifiedTlsReachesASelfSignedServer) {
  auto cp = http_control_plane(url("127.0.0.1"), "gw", "s3cret", false);
  auto r = cp->call("GET", "/internal/data/v1/echo", "", "", true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r)["authorization"].as_string(), expected_basic());
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 200);
}

TEST_F(TlsControlPlaneTest, VerificationRefusesAnUntrustedCertificate) {
  ::unsetenv("SSL_CERT_FILE");
  auto cp = http_control_plane(url("localhost"), "gw", "s3cret", true);
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 0);
}

TEST_F(TlsControlPlaneTest, VerificationAcceptsATrustedCertificateForItsName) {
  // OpenSSL's default trust store honours SSL_CERT_FILE, as curl does.
  ::setenv("SSL_CERT_FILE", files_.cert_file.c_str(), 1);
  auto by_name = http_control_plane(url("localhost"), "gw", "s3cret", true);
  auto by_ip = http_control_plane(url("127.0.0.1"), "gw", "s3cret", true);
  ::unsetenv("SSL_CERT_FILE");
  EXPECT_EQ(by_name->call("GET", "/internal/data/v1/echo", "", "", true).status, 200);
  EXPECT_EQ(by_ip->call("GET", "/internal/data/v1/echo", "", "", true).status, 200);
}

TEST_F(TlsControlPlaneTest, AClustersOwnCaFileIsTrustedWithoutTheSystemStore) {
  ::unsetenv("SSL_CERT_FILE");
  auto cp = http_control_plane(url("localhost"), "gw", "s3cret", true, files_.cert_file);
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/echo", "", "", true).status, 200);
}

TEST(HttpControlPlane, AnUnreadableCaFileIsRefusedAtOnce) {
  EXPECT_THROW(http_control_plane("https://127.0.0.1:1", "gw", "pw", true, "/nonexistent/ca.pem"),
               std::runtime_error);
}

TEST(SplitControlPlane, SendsTheKeyManagersEndpointsToTheKeyManager) {
  auto node = [](std::string name) {
    auto router = std::make_shared<http::Router>();
    for (const char* path : {"/oauth2/jwks", "/internal/data/v1/users/authenticate"})
      router->add("GET", path,
                  [name](http::Request&) { return http::Response::json(200, "\"" + name + "\""); });
    return in_process_control_plane(router, "gw", "pw");
  };
  auto cp = split_control_plane(node("control-plane"), node("key-manager"));
  EXPECT_EQ(cp->call("GET", "/oauth2/jwks", "", "", false).body, "\"key-manager\"");
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/users/authenticate", "", "", true).body,
            "\"control-plane\"");
}

TEST(InProcessControlPlane, DispatchesIntoTheRouterWithTheCredential) {
  auto cp = in_process_control_plane(echo_router(), "gw", "s3cret");
  auto r = cp->call("GET", "/internal/data/v1/echo?environment=Default%20Env&x=a+b", "", "", true);
  ASSERT_EQ(r.status, 200);
  auto echo = parse(r);
  EXPECT_EQ(echo["authorization"].as_string(), expected_basic());
  EXPECT_EQ(echo["path"], "/internal/data/v1/echo");
  EXPECT_EQ(echo["target"], "/internal/data/v1/echo?environment=Default%20Env&x=a+b");
  EXPECT_EQ(echo["query"].as_object()["environment"], "Default Env");
  EXPECT_EQ(echo["query"].as_object()["x"], "a b");
  EXPECT_EQ(echo["remote"], "127.0.0.1");

  auto post = cp->call("POST", "/internal/data/v1/echo", "application/json", R"({"a":1})", false);
  ASSERT_EQ(post.status, 200);
  EXPECT_EQ(parse(post)["authorization"], "");
  EXPECT_EQ(parse(post)["contentType"], "application/json");
  EXPECT_EQ(parse(post)["body"], R"({"a":1})");
}

TEST(InProcessControlPlane, RouterAnswersAndMalformedTargets) {
  auto router = echo_router();
  router->add("GET", "/boom",
              [](http::Request&) -> http::Response { throw std::runtime_error("boom"); });
  auto cp = in_process_control_plane(router, "gw", "s3cret");
  EXPECT_EQ(cp->call("GET", "/nowhere", "", "", true).status, 404);
  EXPECT_EQ(cp->call("GET", "/boom", "", "", true).status, 500);  // the router's own answer
  EXPECT_EQ(cp->call("GET", "no-slash", "", "", true).status, 0);
  EXPECT_EQ(cp->call("GET", "/internal/data/v1/echo?bad=%zz", "", "", true).status, 0);
  auto none = in_process_control_plane(nullptr, "gw", "s3cret");
  EXPECT_EQ(none->call("GET", "/x", "", "", true).status, 0);
}

TEST(ControlPlaneWorkerTest, RunsTasksInOrderOnOneThread) {
  ControlPlaneWorker worker;
  std::vector<int> order;
  std::set<std::thread::id> threads;
  std::promise<void> done;
  for (int i = 0; i < 100; ++i)
    worker.post([&, i] {
      order.push_back(i);
      threads.insert(std::this_thread::get_id());
    });
  worker.post([&] { done.set_value(); });
  done.get_future().wait();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  EXPECT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(ControlPlaneWorkerTest, AThrowingTaskDoesNotStopTheWorker) {
  ControlPlaneWorker worker;
  std::promise<int> done;
  worker.post([] { throw std::runtime_error("task failed"); });
  worker.post([&] { done.set_value(42); });
  EXPECT_EQ(done.get_future().get(), 42);
}

TEST(ControlPlaneWorkerTest, DestructionFinishesTheTaskAtHandAndDropsTheRest) {
  std::atomic<int> ran{0};
  std::promise<void> started;
  {
    ControlPlaneWorker worker;
    worker.post([&] {
      started.set_value();
      std::this_thread::sleep_for(100ms);
      ++ran;
    });
    for (int i = 0; i < 10; ++i) worker.post([&] { ++ran; });
    started.get_future().wait();
  }
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace portico::gateway
