#pragma once
// Request path → API and resource, as the reference's gateway dispatches: the API by its
// context and version ("/pets/1.0.0/...", or "/pets/..." for the default version), then the
// resource by URI template and verb. Paths are normalised first so that no request reaches a
// resource it did not match (dot segments, duplicate slashes; encoded slashes refused).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/snapshot.h"

namespace portico::gateway {

// The path part of a request target (no query), normalised: percent-encoded unreserved
// characters decoded, other escapes upper-cased, "." and ".." segments resolved, runs of '/'
// collapsed. nullopt when the path cannot be served: encoded '/' or '\', NUL, a '\', a ".."
// above the root, malformed escapes, or not starting with '/'.
std::optional<std::string> normalize_path(std::string_view raw_path);
// The same into `out`, reusing its memory (the request path); false when it cannot be served.
bool normalize_path(std::string_view raw_path, std::string& out);

struct RouteMatch {
  enum class Status : std::uint8_t {
    kMatched,     // api and resource set
    kNoApi,       // no API for the path: 404
    kNoResource,  // the API has no resource for this path and verb: 900906
    kOptions,     // OPTIONS without an OPTIONS resource: answer with Allow (allowed_methods)
  };
  Status status = Status::kNoApi;
  const Api* api = nullptr;
  const Resource* resource = nullptr;
  std::string_view resource_path;  // the path after the API's context (and version), "/" at least
  std::string allowed_methods;     // kOptions: "GET, POST, OPTIONS"
};

// Matches a normalised path (from normalize_path) against the snapshot's routes. HEAD uses a
// HEAD resource when there is one, else the GET resource (the body is dropped later).
RouteMatch match_route(const Snapshot& snapshot, std::string_view method, std::string_view path);

// True when a URI template ("/pets/{id}", "/files/*") matches a normalised resource path.
// Exposed for tests.
bool template_matches(std::string_view uri_template, std::string_view resource_path);

}  // namespace portico::gateway
