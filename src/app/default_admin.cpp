#include "app/default_admin.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "common/crypto.h"
#include "common/log.h"

namespace portico {
namespace {

constexpr std::string_view kDefaultPassword = "admin";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  std::string h = lower(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h == "localhost" || h.ends_with(".localhost")) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

bool admin_has_default_password(const Config& config, keymanager::KeyManager& key_manager) {
  // The stored hash decides, not the configuration: the configured password applies only
  // when the administrator is first created, and may have been changed since.
  auto admin = key_manager.users().find(config.admin.username);
  return admin && crypto::verify_secret(admin->password_hash, kDefaultPassword);
}

void enforce_default_admin_policy(const Config& config, bool has_default_password) {
  if (!has_default_password) return;
  const std::string& host = config.server.host;
  if (!is_loopback_host(host) && !config.security.allow_default_admin) {
    throw ConfigError(
        "the administrator '" + config.admin.username +
        "' still has the default password 'admin' and server.host = \"" + host +
        "\" is not a loopback address: change the password (README, docs/security.md), bind "
        "server.host to 127.0.0.1, or set security.allow_default_admin = true");
  }
  spdlog::warn(
      "!!! SECURITY: the administrator '{}' has the default password 'admin'. Anyone who "
      "reaches {}:{} can administer this node. Change it (README, docs/security.md). !!!",
      config.admin.username, host, config.server.https_port);
}

}  // namespace portico
