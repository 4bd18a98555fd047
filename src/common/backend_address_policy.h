#pragma once
// Which addresses an API's backend may have: the publisher checks the endpoints it saves,
// the gateway the address it is about to connect to (after name resolution, so that a name
// that resolves to a refused address is refused too). Built once from the configuration.
//
// Refused, whatever the settings: the node's own listeners (its control-plane and gateway
// ports on a loopback, unspecified or local-interface address), so that an API cannot
// publish the node's loopback-only admin and metrics endpoints. Refused unless allowed by
// `[security]`: loopback (127.0.0.0/8, ::1, 0.0.0.0, ::, localhost) and link-local
// (169.254.0.0/16 with the cloud metadata service, fe80::/10) addresses.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"

namespace portico {

// An IPv4 or IPv6 address as 16 bytes; IPv4 is held IPv4-mapped (::ffff:a.b.c.d).
using IpBytes = std::array<std::uint8_t, 16>;

// Any numeric form the system resolver accepts ("127.1", "2130706433", "[::1]", "::ffff:
// 127.0.0.1"), without a name lookup; nullopt for a host name.
std::optional<IpBytes> parse_numeric_host(std::string_view host);

class BackendAddressPolicy {
 public:
  // Everything allowed but the listeners in `own_ports` on `local_addresses`.
  BackendAddressPolicy(bool allow_loopback, bool allow_link_local, std::vector<int> own_ports,
                       std::vector<IpBytes> local_addresses);

  // From `[security]`, the listener ports of `[server]` and `[gateway]` and the addresses of
  // the machine's interfaces (read once, here).
  static BackendAddressPolicy from_config(const Config& config);

  // Why a connection to `address`:`port` is refused; nullopt when it is allowed.
  std::optional<std::string> refusal(const IpBytes& address, int port) const;

  // The check at save time, on a URL's host (brackets allowed) and port: numeric hosts and
  // the localhost names are judged as their address; other names pass (the gateway judges
  // what they resolve to when it connects).
  std::optional<std::string> refusal_for_host(std::string_view host, int port) const;

 private:
  bool is_own_listener(const IpBytes& address, int port) const;

  bool allow_loopback_;
  bool allow_link_local_;
  std::vector<int> own_ports_;
  std::vector<IpBytes> local_addresses_;
};

// The host and port of an http(s) URL ("http://user@[::1]:8080/x" gives "[::1]" and 8080;
// the scheme's port when none is given); nullopt when it is not an http(s) URL.
struct HostAndPort {
  std::string host;
  int port = 0;
};
std::optional<HostAndPort> http_url_host_and_port(std::string_view url);

}  // namespace portico
