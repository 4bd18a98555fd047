#pragma once
// Internal to src/gateway: connections to backends, owned by one I/O thread. Each thread
// keeps its own keep-alive pool and its own view of which endpoints are suspended, so the
// request path shares nothing between threads.
#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/backend_address_policy.h"
#include "gateway/deadline.h"
#include "gateway/snapshot.h"

namespace portico::gateway {

namespace beast = boost::beast;
namespace net = boost::asio;

// Sockets on an io_context's own executor type: the polymorphic any_io_executor costs a
// type-erased executor copy per operation on the request path. Time limits are Deadlines,
// not Beast's basic_stream, which re-arms a timer around every operation.
using TcpStream = net::basic_stream_socket<net::ip::tcp, net::io_context::executor_type>;
using TlsStream = beast::ssl_stream<TcpStream>;

// One connection to one endpoint, plain or TLS, with its read buffer (bytes the backend sent
// beyond a response stay with the connection) and its time limit: when the deadline passes,
// the socket is closed, so the operation under way fails and timed_out() says why.
class UpstreamConnection {
 public:
  UpstreamConnection(net::io_context& io, net::ssl::context* tls, std::size_t slot);

  bool is_tls() const { return tls_ != nullptr; }
  TcpStream& lowest();
  Deadline& deadline() { return deadline_; }
  bool timed_out() const { return deadline_.expired(); }
  TcpStream& plain() { return plain_; }
  TlsStream& secure() { return *tls_; }
  beast::flat_buffer& buffer() { return buffer_; }
  std::size_t slot() const { return slot_; }
  bool reused = false;  // taken from the pool rather than freshly connected
  std::chrono::steady_clock::time_point idle_since;

  // Calls f(stream) with the connection's stream type.
  template <class F>
  decltype(auto) visit(F&& f) {
    if (tls_) return f(*tls_);
    return f(plain_);
  }

 private:
  TcpStream plain_;
  std::unique_ptr<TlsStream> tls_;
  beast::flat_buffer buffer_;
  std::size_t slot_;
  Deadline deadline_;
};

struct UpstreamOptions {
  std::size_t max_idle_per_endpoint = 64;
  std::chrono::seconds idle_timeout{30};
  // Which addresses a new connection may go to (null: any); pooled connections were checked
  // when they were opened.
  const BackendAddressPolicy* address_policy = nullptr;
};

// The reference's transport error codes.
inline constexpr long kUpstreamConnectFailed = 101503;
inline constexpr long kUpstreamTimedOut = 101504;
inline constexpr long kUpstreamClosed = 101505;
inline constexpr long kUpstreamConnectTimedOut = 101508;

class UpstreamPool {
 public:
  using ConnectHandler =
      std::function<void(long transport_code, std::unique_ptr<UpstreamConnection>)>;

  UpstreamPool(net::io_context& io, net::ssl::context& tls_client, UpstreamOptions options);

  // An idle pooled connection to the endpoint, or null. `verify_open` peeks at the socket
  // (one system call) to skip connections the backend closed while idle: worth it when the
  // request has a body, which cannot be replayed on a fresh connection once sent.
  std::unique_ptr<UpstreamConnection> take(const Endpoint& endpoint, bool verify_open);
  // Back to the pool after a complete exchange on a connection the backend keeps alive.
  void give_back(std::unique_ptr<UpstreamConnection> connection);
  // Opens a new connection (TCP connect, then the TLS handshake for https). transport_code 0
  // on success, else kUpstreamConnectFailed / kUpstreamConnectTimedOut. An address the policy
  // refuses (after name resolution) fails with kUpstreamConnectFailed and a log line.
  void connect(const Endpoint& endpoint, ConnectHandler done);

  // suspendOnFailure: an endpoint that failed with one of its suspend codes is skipped until
  // its suspension ends; each consecutive failure multiplies the duration by the factor.
  bool is_suspended(const Endpoint& endpoint, std::chrono::steady_clock::time_point now) const;
  void record_failure(const Endpoint& endpoint, long code,
                      std::chrono::steady_clock::time_point now);
  void record_success(const Endpoint& endpoint);
  // Round robin position for a load-balanced group, keyed by its first endpoint's slot.
  std::size_t next_round_robin(std::size_t group_key);

 private:
  struct Suspension {
    std::chrono::steady_clock::time_point until{};
    std::chrono::milliseconds last{0};
  };
  // The addresses of `candidates` the policy allows; logs once when it refuses any.
  std::vector<net::ip::tcp::endpoint> allowed(
      const Endpoint& endpoint, const std::vector<net::ip::tcp::endpoint>& candidates);

  net::io_context& io_;
  net::ssl::context& tls_client_;
  UpstreamOptions options_;
  std::unordered_map<std::size_t, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
  std::unordered_map<std::size_t, Suspension> suspensions_;
  std::unordered_map<std::size_t, std::size_t> round_robin_;
};

}  // namespace portico::gateway
