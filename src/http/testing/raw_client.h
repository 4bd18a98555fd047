#pragma once
// Test-only clients that speak HTTP/1.1 as raw bytes over real sockets, so that tests can
// send what a well-behaved client library would refuse to send (obs-fold, bare LF, ...).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct ssl_st;
struct ssl_ctx_st;
struct ssl_session_st;

namespace portico::http::testing {

struct RawResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First field of that name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
};

// A connection to 127.0.0.1:port. Reads give up after `timeout` so a broken server fails a
// test instead of hanging it.
class Connection {
 public:
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool send(std::string_view bytes);
  // One response; nullopt when the connection ends or times out first. HEAD responses have
  // no body whatever their Content-Length says, hence `head_request`.
  std::optional<RawResponse> read_response(bool head_request = false);
  // True when the server closes the connection (EOF or reset) before sending anything more.
  bool closed_by_peer();
  // For bodies that stream: reads until `text` has arrived (false on EOF or timeout first);
  // everything read so far stays in received().
  bool read_until(std::string_view text);
  // Reads until the server closes the connection; false on a timeout first.
  bool read_to_end();
  const std::string& received() const { return buffer_; }
  // A request with the given method, target and extra header lines ("Name: value\r\n"...).
  static std::string request(std::string_view method, std::string_view target,
                             std::string_view extra_headers = "", std::string_view body = "");

 protected:
  Connection(int port, std::chrono::seconds timeout);
  // >0 bytes, 0 on EOF, -1 on error or timeout.
  virtual long read_some(char* data, std::size_t size);
  virtual bool write_all(std::string_view bytes);
  bool fill();  // appends to buffer_; false on EOF/error

  int fd_ = -1;
  std::string buffer_;
};

class PlainConnection : public Connection {
 public:
  explicit PlainConnection(int port, std::chrono::seconds timeout = std::chrono::seconds(10))
      : Connection(port, timeout) {}
  bool connected() const { return fd_ >= 0; }
};

// TLS over OpenSSL directly (not Asio) to keep test compile times low. Trusts any
// certificate: the tests check the server's TLS behaviour, not the client's validation.
class TlsConnection : public Connection {
 public:
  struct Options {
    int max_version = 0;  // e.g. TLS1_1_VERSION to try an old protocol; 0 = library max
    ssl_session_st* session = nullptr;  // to attempt resumption
    bool no_tickets = false;            // TLS 1.2: resume through the server's session cache
  };
  TlsConnection(int port, Options options, std::chrono::seconds timeout = std::chrono::seconds(10));
  ~TlsConnection() override;
  bool handshake_ok() const { return ssl_ != nullptr; }
  bool session_reused() const;
  std::string protocol() const;
  // The session to resume later (caller frees with SSL_SESSION_free).
  ssl_session_st* take_session() const;

 protected:
  long read_some(char* data, std::size_t size) override;
  bool write_all(std::string_view bytes) override;

 private:
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
};

// Writes a self-signed certificate and key for CN=localhost into a new temporary directory,
// using the openssl command line; returns {cert_path, key_path}, or empty paths on failure.
std::pair<std::string, std::string> make_self_signed_certificate();

}  // namespace portico::http::testing
