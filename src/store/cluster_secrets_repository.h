#pragma once
// Named secrets shared by every node of a cluster (the client-secret HMAC key).
#include <cstdint>
#include <string>

#include "store/database.h"

namespace portico::store {

class ClusterSecretsRepository {
 public:
  explicit ClusterSecretsRepository(Database& db) : db_(db) {}
  // The stored value of `name`; stores `candidate` first when there is none. Nodes starting
  // together all end up with the first one written.
  std::string get_or_create(const std::string& name, const std::string& candidate,
                            std::int64_t now);

 private:
  Database& db_;
};

}  // namespace portico::store
