#pragma once
// Internal to src/gateway: the client connection of an API call. Reads a request head
// strictly, runs the filter chain, hands the request to its upstream side (proxy_upstream.h:
// endpoint, pooled connection, backend response), streams both bodies through it, keeps the
// connection alive between requests, and answers local replies in the reference's shape.
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <vector>

#include "gateway/context.h"
#include "gateway/gateway.h"
#include "gateway/snapshot_store.h"
#include "gateway/upstream.h"
#include "http/session.h"

namespace portico::gateway {

// What every session of one gateway shares; immutable while the gateway runs, except through
// the store's own publishing.
struct GatewayShared {
  const GatewayOptions& options;
  const SnapshotStore& store;
  const std::vector<std::unique_ptr<Filter>>& chain;
  net::ssl::context& upstream_tls;
};

class ProxySessionStarter final : public http::detail::SessionStarter {
 public:
  explicit ProxySessionStarter(GatewayShared& shared) : shared_(shared) {}
  void start(http::detail::ServerContext& context, http::detail::Worker& worker,
             boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls) override;

 private:
  GatewayShared& shared_;
};

}  // namespace portico::gateway
