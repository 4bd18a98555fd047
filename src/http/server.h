#pragma once
// The HTTP/1.1 server (Boost.Beast on Asio): plain and TLS listeners, one io_context per
// thread, keep-alive, protocol limits and graceful shutdown. Beast stays behind this door.
#include <chrono>
#include <memory>
#include <string>

#include "http/message.h"

namespace portico::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int http_port = 0;          // 0: a free port; -1: no plain listener
  int https_port = -1;        // 0: a free port; -1: no TLS listener
  std::string tls_cert_file;  // PEM, required when https_port >= 0
  std::string tls_key_file;
  std::string tls_key_pem;  // the key itself; when set, used instead of tls_key_file
  int threads = 1;
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  std::size_t max_request_line_bytes = 8 * 1024;  // longer → 414
  std::size_t max_header_bytes = 64 * 1024;       // more → 431
  std::size_t max_header_count = 100;             // more → 431
  std::chrono::seconds read_timeout{30};
  std::chrono::seconds idle_timeout{60};
};

namespace detail {
class SessionStarter;
}

class Server {
 public:
  Server(ServerOptions options, std::shared_ptr<const Router> router);
  // A server whose connections `starter` serves (see http/session.h), with the same
  // listeners, I/O threads, TLS and drain as the Router's.
  Server(ServerOptions options, std::shared_ptr<detail::SessionStarter> starter);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners and starts the I/O threads. Throws std::runtime_error naming the
  // address and port when a listener cannot bind.
  void start();
  // The ports actually bound (useful with port 0); -1 when that listener is off.
  int http_port() const;
  int https_port() const;
  // Starts the drain and returns at once: the listeners close, so new connections are refused
  // (a load balancer moves them to another node); connections idle between requests close;
  // every response from now on says Connection: close, and its connection closes after it.
  // A request that has already arrived is answered rather than reset. Call after start(),
  // from any thread but the server's own; later calls do nothing.
  void drain();
  // Drains (unless drain() already began), lets in-flight requests finish for at most `grace`,
  // closes what is left, then stops the threads. Safe to call once from any thread but the
  // server's own.
  void stop(std::chrono::seconds grace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::http
