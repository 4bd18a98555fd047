#pragma once
// Per-gateway credentials of the internal data API (migration 0015): created and revoked by an
// admin, checked on every internal request. The secret itself is never stored.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct GatewayCredentialRecord {
  std::string id;
  std::string username;
  std::string secret_hash;  // SHA-256, hex, of a random secret
  std::string name;
  std::string environment;
  std::int64_t created_time = 0;
  std::int64_t revoked_time = 0;  // 0: live
};

class GatewayCredentialsRepository {
 public:
  explicit GatewayCredentialsRepository(Database& db) : db_(db) {}
  void create(const GatewayCredentialRecord& record);
  std::vector<GatewayCredentialRecord> list();
  std::optional<GatewayCredentialRecord> find(const std::string& id);
  std::optional<GatewayCredentialRecord> find_by_username(const std::string& username);
  // False when there is no such credential or it was revoked already.
  bool revoke(const std::string& id, std::int64_t now);

 private:
  Database& db_;
};

}  // namespace portico::store
