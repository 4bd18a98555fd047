#include "http/testing/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace portico::http::testing {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string> RawResponse::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (iequals(field, name)) return value;
  }
  return std::nullopt;
}

Connection::Connection(int port, std::chrono::seconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count());
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return;
  }
  fd_ = fd;
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

long Connection::read_some(char* data, std::size_t size) {
  for (;;) {
    ssize_t n = ::recv(fd_, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

bool Connection::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool Connection::send(std::string_view bytes) {
  return fd_ >= 0 && write_all(bytes);
}

bool Connection::fill() {
  char chunk[16384];
  long n = read_some(chunk, sizeof chunk);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<RawResponse> Connection::read_response(bool head_request) {
  if (fd_ < 0) return std::nullopt;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  std::string head = buffer_.substr(0, end + 2);
  buffer_.erase(0, end + 4);

  RawResponse response;
  auto line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 12) return std::nullopt;
  response.status = std::atoi(status_line.substr(9, 3).c_str());
  response.reason = status_line.size() > 13 ? status_line.substr(13) : "";
  for (std::size_t pos = line_end + 2; pos < head.size();) {
    auto next = head.find("\r\n", pos);
    std::string line = head.substr(pos, next - pos);
    pos = next + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    response.headers.emplace_back(line.substr(0, colon), value);
  }
  if (head_request || response.status == 204 || response.status == 304) return response;
  if (auto length = response.header("Content-Length")) {
    std::size_t size = std::stoul(*length);
    while (buffer_.size() < size) {
      if (!fill()) return std::nullopt;
    }
    response.body = buffer_.substr(0, size);
    buffer_.erase(0, size);
  } else {
    while (fill()) {
    }
    response.body = std::move(buffer_);
    buffer_.clear();
  }
  return response;
}

bool Connection::closed_by_peer() {
  if (fd_ < 0 || !buffer_.empty()) return false;
  char byte;
  long n = read_some(&byte, 1);
  if (n == 0) return true;
  return n < 0 && (errno == ECONNRESET || errno == EPIPE);
}

bool Connection::read_until(std::string_view text) {
  while (buffer_.find(text) == std::string::npos) {
    if (fd_ < 0 || !fill()) return false;
  }
  return true;
}

bool Connection::read_to_end() {
  if (fd_ < 0) return false;
  char chunk[16384];
  for (;;) {
    long n = read_some(chunk, sizeof chunk);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string Connection::request(std::string_view method, std::string_view target,
                                std::string_view extra_headers, std::string_view body) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  out.append(extra_headers);
  if (!body.empty()) out.append("Content-Length: " + std::to_string(body.size()) + "\r\n");
  out.append("\r\n").append(body);
  return out;
}

TlsConnection::TlsConnection(int port, Options options, std::chrono::seconds timeout)
    : Connection(port, timeout) {
  if (fd_ < 0) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  if (options.max_version != 0) {
    // Old protocols also need the lowest security level to be offered at all.
    SSL_CTX_set_security_level(ctx_, 0);
    SSL_CTX_set_cipher_list(ctx_, "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx_, 0);
    SSL_CTX_set_max_proto_version(ctx_, options.max_version);
  }
  if (options.no_tickets) SSL_CTX_set_options(ctx_, SSL_OP_NO_TICKET);
  SSL* ssl = SSL_new(ctx_);
  SSL_set_fd(ssl, fd_);
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (options.session != nullptr) SSL_set_session(ssl, options.session);
  if (SSL_connect(ssl) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    return;
  }
  ssl_ = ssl;
}

TlsConnection::~TlsConnection() {
  if (ssl_ != nullptr) {
    // close_notify: without it OpenSSL marks the client's session as not resumable.
    SSL_shutdown(ssl_);
    ERR_clear_error();
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

bool TlsConnection::session_reused() const {
  return ssl_ != nullptr && SSL_session_reused(ssl_);
}

std::string TlsConnection::protocol() const {
  return ssl_ ? SSL_get_version(ssl_) : "";
}

ssl_session_st* TlsConnection::take_session() const {
  return ssl_ ? SSL_get1_session(ssl_) : nullptr;
}

long TlsConnection::read_some(char* data, std::size_t size) {
  if (ssl_ == nullptr) return -1;
  int n = SSL_read(ssl_, data, static_cast<int>(size));
  if (n > 0) return n;
  int error = SSL_get_error(ssl_, n);
  ERR_clear_error();
  // close_notify, or the TCP connection closed under TLS: either way the server is done.
  if (error == SSL_ERROR_ZERO_RETURN) return 0;
  if (error == SSL_ERROR_SYSCALL && errno == 0) return 0;
  if (error == SSL_ERROR_SSL) return 0;
  return -1;
}

bool TlsConnection::write_all(std::string_view bytes) {
  if (ssl_ == nullptr) return false;
  while (!bytes.empty()) {
    int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::pair<std::string, std::string> make_self_signed_certificate() {
  char pattern[] = "/tmp/portico-http-test-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) return {};
  std::string dir = pattern;
  std::string cert = dir + "/cert.pem";
  std::string key = dir + "/key.pem";
  std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1"
      " -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0 || !std::filesystem::exists(cert)) return {};
  return {cert, key};
}

}  // namespace portico::http::testing
