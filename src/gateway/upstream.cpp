#include "gateway/upstream.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <algorithm>
#include <ctime>

namespace portico::gateway {

namespace {

constexpr std::size_t kReadReserve = 16 * 1024;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// An idle keep-alive connection the backend has closed (or sent stray bytes on) must not be
// used: a one-byte peek that does not wait tells, at the cost of one system call.
IpBytes bytes_of(const net::ip::address& address) {
  IpBytes out{};
  if (address.is_v4()) {
    out[10] = out[11] = 0xff;
    auto v4 = address.to_v4().to_bytes();
    std::copy(v4.begin(), v4.end(), out.begin() + 12);
  } else {
    auto v6 = address.to_v6().to_bytes();
    std::copy(v6.begin(), v6.end(), out.begin());
  }
  return out;
}

bool looks_open(UpstreamConnection& c) {
  if (!c.lowest().is_open()) return false;
  char byte;
  ssize_t n = ::recv(c.lowest().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return false;  // orderly close
  if (n > 0) return false;   // bytes nobody asked for: the exchange is out of step
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

}  // namespace

UpstreamConnection::UpstreamConnection(net::io_context& io, net::ssl::context* tls,
                                       std::size_t slot)
    : plain_(io), slot_(slot), deadline_(io, [this] {
        beast::error_code ignored;
        lowest().close(ignored);
      }) {
  if (tls != nullptr) tls_ = std::make_unique<TlsStream>(io, *tls);
  // Beast sizes each read by the buffer's free capacity (at least 512 bytes): without room
  // reserved, a body would be relayed in pieces the size of the response head.
  buffer_.reserve(kReadReserve);
}

TcpStream& UpstreamConnection::lowest() {
  return tls_ ? beast::get_lowest_layer(*tls_) : plain_;
}

UpstreamPool::UpstreamPool(net::io_context& io, net::ssl::context& tls_client,
                           UpstreamOptions options)
    : io_(io), tls_client_(tls_client), options_(options) {}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const Endpoint& endpoint, bool verify_open) {
  auto it = idle_.find(endpoint.slot);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  auto now = coarse_now();
  while (!list.empty()) {
    // Most recently used first: it is the likeliest to be open still.
    std::unique_ptr<UpstreamConnection> c = std::move(list.back());
    list.pop_back();
    if (now - c->idle_since < options_.idle_timeout && (!verify_open || looks_open(*c))) {
      c->reused = true;
      return c;
    }
  }
  return nullptr;
}

void UpstreamPool::give_back(std::unique_ptr<UpstreamConnection> connection) {
  auto& list = idle_[connection->slot()];
  if (list.size() >= options_.max_idle_per_endpoint) {
    // The oldest goes: the pool keeps what recent traffic needed.
    list.erase(list.begin());
  }
  connection->idle_since = coarse_now();
  connection->deadline().expires_never();
  list.push_back(std::move(connection));
}

void UpstreamPool::connect(const Endpoint& endpoint, ConnectHandler done) {
  auto connection = std::make_unique<UpstreamConnection>(io_, endpoint.tls ? &tls_client_ : nullptr,
                                                         endpoint.slot);
  auto* raw = connection.get();
  raw->deadline().expires_after(endpoint.connect_timeout);

  // Called once the TCP connection is up (or failed).
  auto on_connected = [this, &endpoint, connection = std::move(connection),
                       done = std::move(done)](beast::error_code ec) mutable {
    if (ec) {
      long code = connection->timed_out() ? kUpstreamConnectTimedOut : kUpstreamConnectFailed;
      return done(code, nullptr);
    }
    connection->lowest().set_option(tcp::no_delay(true), ec);
    if (!connection->is_tls()) return done(0, std::move(connection));
    auto& stream = connection->secure();
    // SNI and the name the certificate must carry.
    if (!SSL_set_tlsext_host_name(stream.native_handle(), endpoint.host.c_str())) {
      return done(kUpstreamConnectFailed, nullptr);
    }
    stream.set_verify_callback(net::ssl::host_name_verification(endpoint.host));
    stream.async_handshake(
        net::ssl::stream_base::client,
        [connection = std::move(connection), done = std::move(done)](beast::error_code ec) mutable {
          if (ec) {
            long code = connection->timed_out() ? kUpstreamConnectTimedOut : kUpstreamConnectFailed;
            return done(code, nullptr);
          }
          done(0, std::move(connection));
        });
  };

  boost::system::error_code parse_error;
  std::string host = endpoint.host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  auto address = net::ip::make_address(host, parse_error);
  unsigned short port = static_cast<unsigned short>(std::stoi(endpoint.port));
  if (!parse_error) {
    auto targets = allowed(endpoint, {tcp::endpoint(address, port)});
    if (targets.empty()) {
      // Answered from the event loop, as a failed connect would be.
      return net::post(io_, [on_connected = std::move(on_connected)]() mutable {
        on_connected(net::error::access_denied);
      });
    }
    raw->lowest().async_connect(targets.front(), std::move(on_connected));
    return;
  }
  // A host name: resolved per new connection (the system resolver caches, and pooled
  // connections make new ones rare), and judged by what it resolves to, so that a name
  // pointing at a refused address (or rebound to one) is refused.
  auto resolver = std::make_shared<tcp::resolver>(io_);
  resolver->async_resolve(
      endpoint.host, endpoint.port,
      [this, &endpoint, raw, resolver, on_connected = std::move(on_connected)](
          beast::error_code ec, tcp::resolver::results_type results) mutable {
        if (ec) return on_connected(ec);
        // The connect timeout covers the lookup too: past it, there is no socket to close.
        if (raw->timed_out()) return on_connected(net::error::timed_out);
        std::vector<tcp::endpoint> candidates;
        for (const auto& entry : results) candidates.push_back(entry.endpoint());
        auto targets = allowed(endpoint, candidates);
        if (targets.empty()) return on_connected(net::error::access_denied);
        net::async_connect(
            raw->lowest(), targets,
            [on_connected = std::move(on_connected)](
                beast::error_code ec, const tcp::endpoint&) mutable { on_connected(ec); });
      });
}

std::vector<tcp::endpoint> UpstreamPool::allowed(const Endpoint& endpoint,
                                                 const std::vector<tcp::endpoint>& candidates) {
  if (options_.address_policy == nullptr) return candidates;
  std::vector<tcp::endpoint> out;
  for (const auto& candidate : candidates) {
    auto refused =
        options_.address_policy->refusal(bytes_of(candidate.address()), candidate.port());
    if (!refused) {
      out.push_back(candidate);
      continue;
    }
    spdlog::warn("gateway: backend {} refused: {} resolves to {}: {}", endpoint.url, endpoint.host,
                 candidate.address().to_string(), *refused);
  }
  return out;
}

bool UpstreamPool::is_suspended(const Endpoint& endpoint, Clock::time_point now) const {
  auto it = suspensions_.find(endpoint.slot);
  return it != suspensions_.end() && now < it->second.until;
}

void UpstreamPool::record_failure(const Endpoint& endpoint, long code, Clock::time_point now) {
  const SuspendPolicy& policy = endpoint.suspend;
  if (std::find(policy.codes.begin(), policy.codes.end(), code) == policy.codes.end()) return;
  Suspension& s = suspensions_[endpoint.slot];
  std::chrono::milliseconds next =
      s.last.count() == 0
          ? policy.initial
          : std::chrono::milliseconds(static_cast<std::int64_t>(s.last.count() * policy.factor));
  next = std::min(next, policy.max);
  s.last = next;
  s.until = now + next;
}

void UpstreamPool::record_success(const Endpoint& endpoint) {
  suspensions_.erase(endpoint.slot);
}

std::size_t UpstreamPool::next_round_robin(std::size_t group_key) {
  return round_robin_[group_key]++;
}

}  // namespace portico::gateway
