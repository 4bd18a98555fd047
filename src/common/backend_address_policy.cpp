#include "common/backend_address_policy.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace portico {
namespace {

IpBytes mapped_v4(const in_addr& a) {
  IpBytes b{};
  b[10] = 0xff;
  b[11] = 0xff;
  std::memcpy(b.data() + 12, &a.s_addr, 4);
  return b;
}

IpBytes from_v6(const in6_addr& a) {
  IpBytes b{};
  std::memcpy(b.data(), a.s6_addr, 16);
  return b;
}

bool is_v4_mapped(const IpBytes& b) {
  return std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) &&
         b[10] == 0xff && b[11] == 0xff;
}

// The IPv4 address an IPv6 one stands for: IPv4-mapped, IPv4-compatible (::a.b.c.d, which
// some stacks still route) and the NAT64 well-known prefix 64:ff9b::/96.
std::optional<std::array<std::uint8_t, 4>> embedded_v4(const IpBytes& b) {
  static constexpr std::array<std::uint8_t, 12> kNat64 = {0, 0x64, 0xff, 0x9b, 0, 0,
                                                          0, 0,    0,    0,    0, 0};
  bool zeros = std::all_of(b.begin(), b.begin() + 12, [](std::uint8_t x) { return x == 0; });
  bool compatible = zeros && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1);
  bool nat64 = std::equal(kNat64.begin(), kNat64.end(), b.begin());
  if (!is_v4_mapped(b) && !compatible && !nat64) return std::nullopt;
  return std::array<std::uint8_t, 4>{b[12], b[13], b[14], b[15]};
}

bool is_unspecified_v6(const IpBytes& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

bool is_loopback_v6(const IpBytes& b) {
  return std::all_of(b.begin(), b.begin() + 15, [](std::uint8_t x) { return x == 0; }) &&
         b[15] == 1;
}

// Loopback, and the unspecified address, which Linux connects to the local host.
bool is_loopback(const IpBytes& b) {
  if (auto v4 = embedded_v4(b)) return (*v4)[0] == 127 || (*v4)[0] == 0;
  return is_loopback_v6(b) || is_unspecified_v6(b);
}

bool is_link_local(const IpBytes& b) {
  if (auto v4 = embedded_v4(b)) return (*v4)[0] == 169 && (*v4)[1] == 254;
  return b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
}

bool is_localhost_name(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  auto lower_equals = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == y;
           });
  };
  if (lower_equals(host, "localhost")) return true;
  return host.size() > 10 && lower_equals(host.substr(host.size() - 10), ".localhost");
}

std::vector<IpBytes> interface_addresses() {
  std::vector<IpBytes> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    if (i->ifa_addr->sa_family == AF_INET)
      out.push_back(mapped_v4(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr));
    else if (i->ifa_addr->sa_family == AF_INET6)
      out.push_back(from_v6(reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr));
  }
  freeifaddrs(list);
  return out;
}

}  // namespace

std::optional<IpBytes> parse_numeric_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() > 255) return std::nullopt;
  std::string text(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* result = nullptr;
  if (getaddrinfo(text.c_str(), nullptr, &hints, &result) != 0 || result == nullptr)
    return std::nullopt;
  std::optional<IpBytes> out;
  if (result->ai_family == AF_INET)
    out = mapped_v4(reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr);
  else if (result->ai_family == AF_INET6)
    out = from_v6(reinterpret_cast<sockaddr_in6*>(result->ai_addr)->sin6_addr);
  freeaddrinfo(result);
  return out;
}

BackendAddressPolicy::BackendAddressPolicy(bool allow_loopback, bool allow_link_local,
                                           std::vector<int> own_ports,
                                           std::vector<IpBytes> local_addresses)
    : allow_loopback_(allow_loopback),
      allow_link_local_(allow_link_local),
      own_ports_(std::move(own_ports)),
      local_addresses_(std::move(local_addresses)) {}

BackendAddressPolicy BackendAddressPolicy::from_config(const Config& config) {
  std::vector<int> ports;
  for (int port : {config.server.https_port, config.server.http_port, config.gateway.http_port,
                   config.gateway.https_port, config.gateway.admin_port})
    if (port > 0) ports.push_back(port);
  return BackendAddressPolicy(config.security.allow_loopback_backends,
                              config.security.allow_link_local_backends, std::move(ports),
                              interface_addresses());
}

bool BackendAddressPolicy::is_own_listener(const IpBytes& address, int port) const {
  if (std::find(own_ports_.begin(), own_ports_.end(), port) == own_ports_.end()) return false;
  if (is_loopback(address)) return true;
  IpBytes canonical = address;
  if (auto v4 = embedded_v4(address)) {
    canonical = IpBytes{};
    canonical[10] = canonical[11] = 0xff;
    std::copy(v4->begin(), v4->end(), canonical.begin() + 12);
  }
  return std::find(local_addresses_.begin(), local_addresses_.end(), canonical) !=
         local_addresses_.end();
}

std::optional<std::string> BackendAddressPolicy::refusal(const IpBytes& address, int port) const {
  if (is_own_listener(address, port))
    return "the address is one of the node's own listeners (port " + std::to_string(port) + ")";
  if (!allow_loopback_ && is_loopback(address))
    return "loopback addresses are not allowed (security.allow_loopback_backends)";
  if (!allow_link_local_ && is_link_local(address))
    return "link-local addresses are not allowed (security.allow_link_local_backends)";
  return std::nullopt;
}

std::optional<std::string> BackendAddressPolicy::refusal_for_host(std::string_view host,
                                                                  int port) const {
  if (auto address = parse_numeric_host(host)) return refusal(*address, port);
  if (is_localhost_name(host)) {
    IpBytes loopback{};
    loopback[15] = 1;
    return refusal(loopback, port);
  }
  return std::nullopt;
}

std::optional<HostAndPort> http_url_host_and_port(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return std::nullopt;
  const boost::urls::url_view& u = *parsed;
  bool tls = u.scheme_id() == boost::urls::scheme::https;
  if (!tls && u.scheme_id() != boost::urls::scheme::http) return std::nullopt;
  if (!u.has_authority()) return std::nullopt;
  HostAndPort out;
  // Decoded, as the gateway reads it: "%31%32%37.0.0.1" is 127.0.0.1.
  out.host = u.host_type() == boost::urls::host_type::ipv6 ? u.host_ipv6_address().to_string()
                                                           : std::string(u.host());
  out.port = tls ? 443 : 80;
  if (u.has_port() && !u.port().empty()) {
    std::string_view digits = u.port();
    int port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    out.port = port;
  }
  return out;
}

}  // namespace portico
