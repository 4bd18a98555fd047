#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <filesystem>

#include "http/server.h"
#include "http/testing/raw_client.h"

namespace portico::http {
namespace {

using namespace std::chrono_literals;
using testing::Connection;
using testing::PlainConnection;
using testing::TlsConnection;

class TlsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto [cert, key] = testing::make_self_signed_certificate();
    cert_ = cert;
    key_ = key;
  }
  static void TearDownTestSuite() {
    if (!cert_.empty()) std::filesystem::remove_all(std::filesystem::path(cert_).parent_path());
  }

  void SetUp() override {
    ASSERT_FALSE(cert_.empty()) << "could not create a certificate with the openssl CLI";
    auto router = std::make_shared<Router>();
    router->add("GET", "/whoami", [](Request& request) {
      return Response::json(200, request.secure ? "tls" : "plain");
    });
    ServerOptions options;
    options.host = "127.0.0.1";
    options.http_port = 0;
    options.https_port = 0;
    options.tls_cert_file = cert_;
    options.tls_key_file = key_;
    options.read_timeout = 5s;
    options.idle_timeout = 5s;
    server_ = std::make_unique<Server>(options, router);
    server_->start();
  }
  void TearDown() override {
    if (server_) server_->stop(1s);
  }

  static std::string cert_, key_;
  std::unique_ptr<Server> server_;
};

std::string TlsServerTest::cert_;
std::string TlsServerTest::key_;

TEST_F(TlsServerTest, BothListenersGetPorts) {
  EXPECT_GT(server_->http_port(), 0);
  EXPECT_GT(server_->https_port(), 0);
  EXPECT_NE(server_->http_port(), server_->https_port());
}

TEST_F(TlsServerTest, RequestOverTlsIsMarkedSecure) {
  TlsConnection connection(server_->https_port(), {});
  ASSERT_TRUE(connection.handshake_ok());
  ASSERT_TRUE(connection.send(Connection::request("GET", "/whoami")));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "tls");
}

TEST_F(TlsServerTest, KeepAliveWorksOverTls) {
  TlsConnection connection(server_->https_port(), {});
  ASSERT_TRUE(connection.handshake_ok());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(connection.send(Connection::request("GET", "/whoami")));
    auto response = connection.read_response();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->body, "tls");
  }
}

TEST_F(TlsServerTest, PlainListenerIsNotSecure) {
  PlainConnection connection(server_->http_port());
  ASSERT_TRUE(connection.send(Connection::request("GET", "/whoami")));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "plain");
}

TEST_F(TlsServerTest, MalformedRequestOverTlsGets400AndClose) {
  TlsConnection connection(server_->https_port(), {});
  ASSERT_TRUE(connection.handshake_ok());
  ASSERT_TRUE(connection.send("GET /whoami HTTP/1.1\nHost: a\n\n"));
  auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(TlsServerTest, SessionIsResumed) {
  SSL_SESSION* session = nullptr;
  {
    TlsConnection first(server_->https_port(), {});
    ASSERT_TRUE(first.handshake_ok());
    // TLS 1.3 tickets arrive after the handshake; a round trip makes sure we have one.
    ASSERT_TRUE(first.send(Connection::request("GET", "/whoami")));
    ASSERT_TRUE(first.read_response());
    session = first.take_session();
  }
  ASSERT_NE(session, nullptr);
  TlsConnection second(server_->https_port(), {.session = session});
  SSL_SESSION_free(session);
  ASSERT_TRUE(second.handshake_ok());
  EXPECT_TRUE(second.session_reused());
}

TEST_F(TlsServerTest, Tls12SessionIsResumedFromTheServerCache) {
  SSL_SESSION* session = nullptr;
  {
    TlsConnection first(server_->https_port(), {.max_version = TLS1_2_VERSION, .no_tickets = true});
    ASSERT_TRUE(first.handshake_ok());
    EXPECT_EQ(first.protocol(), "TLSv1.2");
    session = first.take_session();
  }
  ASSERT_NE(session, nullptr);
  TlsConnection second(server_->https_port(),
                       {.max_version = TLS1_2_VERSION, .session = session, .no_tickets = true});
  SSL_SESSION_free(session);
  ASSERT_TRUE(second.handshake_ok());
  EXPECT_TRUE(second.session_reused());
}

TEST_F(TlsServerTest, Tls11IsRefused) {
  TlsConnection connection(server_->https_port(), {.max_version = TLS1_1_VERSION});
  EXPECT_FALSE(connection.handshake_ok());
}

TEST(TlsServerConfig, MissingCertificateFailsStartNamingTheFile) {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.https_port = 0;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  Server server(options, std::make_shared<Router>());
  try {
    server.start();
    FAIL() << "expected start to throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace portico::http
