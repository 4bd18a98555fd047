// IP addresses as 128-bit numbers for blocking conditions and IP conditions.
#include <arpa/inet.h>

#include <cstring>

#include "traffic/traffic.h"

namespace portico::traffic {

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';

  unsigned char bytes[16] = {};
  if (inet_pton(AF_INET, buffer, bytes + 12) == 1) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
  } else if (inet_pton(AF_INET6, buffer, bytes) != 1) {
    return std::nullopt;
  }
  IpAddress ip;
  for (int i = 0; i < 8; ++i) ip.high = (ip.high << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) ip.low = (ip.low << 8) | bytes[i];
  return ip;
}

}  // namespace portico::traffic
