#pragma once
// Internal to src/publisher: the scopes APIs define and the roles each is bound to, in
// memory, so that the key manager's check per token request is a hash lookup, and the
// publisher's check that a scope name belongs to one API. Refreshed per API on every write.
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace portico::publisher {

// Scope names and the role that nobody holds (role names are never empty): what roles()
// answers for a scope no one may be granted.
inline constexpr const char* kNoRole = "";

class ScopeIndex {
 public:
  using Bindings = std::vector<std::pair<std::string, std::vector<std::string>>>;

  // The API that owns a scope name: its versions by the same provider share its scopes.
  static std::string owner_of(const std::string& api_name, const std::string& provider);

  void set(const std::string& api_id, const std::string& owner, const Bindings& scopes);
  void erase(const std::string& api_id);

  // The roles `scope` is bound to (empty: any role); nullopt when no API defines it. When
  // several APIs define it (versions, or definitions stored before names were unique), the
  // strictest wins: a definition without bindings does not open a scope another binds, and
  // a role must be in every definition's bindings ({kNoRole} when none is).
  std::optional<std::vector<std::string>> roles(const std::string& scope) const;

  // Whether an API of another owner than `owner` defines `scope`.
  bool taken_by_other(const std::string& scope, const std::string& owner) const;

 private:
  struct Definition {
    std::string owner;
    std::vector<std::string> roles;
  };
  void erase_locked(const std::string& api_id);
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bindings> by_api_;
  // scope -> the APIs defining it -> their owner and the roles each binds it to
  std::unordered_map<std::string, std::unordered_map<std::string, Definition>> by_scope_;
};

}  // namespace portico::publisher
