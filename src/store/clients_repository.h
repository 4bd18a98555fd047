#pragma once
// OAuth 2.0 clients registered with the Key Manager.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace portico::store {

struct ClientRecord {
  std::string client_id;
  std::string secret_hash;  // argon2id encoded; empty for a public client
  std::string name;
  std::string owner;  // username of the registering user
  std::vector<std::string> grant_types;
  std::vector<std::string> redirect_uris;
  std::string token_type = "JWT";  // "JWT" or "OAUTH" (opaque)
  bool public_client = false;
  // The reference's application claims; empty when registered through DCR alone.
  std::string application_id;
  std::string application_name;
  std::string application_tier;
  std::string key_type = "PRODUCTION";     // PRODUCTION or SANDBOX
  std::int64_t access_token_lifetime = 0;  // seconds; 0: the configured default
  std::int64_t created_at = 0;
  // An administrator trusts the client with the REST API scopes (apim:*) of its users.
  bool trusted = false;
};

class ClientsRepository {
 public:
  explicit ClientsRepository(Database& db) : db_(db) {}
  // Throws ConflictError when the client_id exists. create and update throw
  // std::invalid_argument for an empty grant type or redirect URI or one holding whitespace
  // (the lists are stored space-separated).
  void create(const ClientRecord& client);
  std::optional<ClientRecord> find(const std::string& client_id);
  // Replaces every field but client_id, created_at and trusted; false when there is no such
  // client.
  bool update(const ClientRecord& client);
  // False when there is no such client.
  bool set_trusted(const std::string& client_id, bool trusted);
  bool remove(const std::string& client_id);

 private:
  Database& db_;
};

}  // namespace portico::store
