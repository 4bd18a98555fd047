#pragma once
// OpenAPI definitions (Swagger 2.0, OpenAPI 3.0 and 3.1; JSON or YAML): bounded parsing,
// the validation the reference's import does, and what Portico takes from a definition —
// name, version, context, endpoints, operations (paths × verbs) and OAuth 2.0 scopes.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace portico::publisher::openapi {

inline constexpr std::size_t kMaxDefinitionBytes = 5 * 1024 * 1024;
inline constexpr std::size_t kMaxDepth = 64;
inline constexpr std::size_t kMaxNodes = 500'000;  // after YAML aliases are expanded
// The text YAML aliases may expand to (scalars and keys, in bytes): a few times the document,
// so that one large anchored scalar named by thousands of aliases cannot take the memory.
inline constexpr std::size_t kExpansionFactor = 10;
inline constexpr std::size_t kMinExpandedBytes = 1024 * 1024;
inline constexpr std::size_t kMaxExpandedBytes = 32 * 1024 * 1024;
inline constexpr std::size_t kMaxPaths = 2'000;
inline constexpr std::size_t kMaxOperations = 5'000;

struct Scope {
  std::string name;
  std::string description;
  std::vector<std::string> roles;  // the reference's x-scopes-bindings / x-wso2-scopes roles
};

struct Operation {
  std::string target;  // the path template, e.g. "/pets/{petId}"
  std::string verb;    // upper case
  std::vector<std::string> scopes;
  std::string auth_type;          // x-auth-type, empty when the definition does not say
  std::string throttling_policy;  // x-throttling-tier, empty when absent
};

struct Definition {
  std::vector<std::string> errors;  // empty when valid
  // The document is over a resource limit (size, depth, nodes, expanded bytes): not a verdict
  // on the definition but a refused request (400).
  bool over_limits = false;
  boost::json::value document;  // the parsed definition (null when unparseable)
  std::string openapi_version;  // "2.0", "3.0.3", ...
  std::string title;
  std::string version;
  std::string description;
  std::string context;  // x-wso2-basePath, basePath or the first server's path; may be empty
  std::vector<std::string> endpoints;
  std::vector<Operation> operations;
  std::vector<Scope> scopes;

  bool valid() const { return errors.empty(); }
};

// Parses (JSON when it starts with '{', YAML otherwise) and validates `text`.
Definition parse(std::string_view text);

// An OpenAPI 3.0 document for an API created without one, from its publisher JSON shape
// (name, version, description, operations, scopes).
boost::json::object generate(const boost::json::object& api);

// Brings a stored definition in line with the API's operations and scopes (after PUT /apis):
// drops operations the API no longer has, adds new ones, rewrites an operation's security
// only where its scopes changed, and declares the API's scopes in an OAuth 2.0 scheme.
// Everything else (schemas, parameters, descriptions, other schemes) is kept.
boost::json::object sync(boost::json::object definition, const boost::json::object& api);

}  // namespace portico::publisher::openapi
