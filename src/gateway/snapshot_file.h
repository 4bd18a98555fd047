#pragma once
// The gateway's last-known configuration on disk: what a gateway restarted while the control
// plane, the key manager, the database and Redis are all down serves from. Two lines: a JSON
// header {"format", "checksum"} (SHA-256 of the rest), then the JSON document. A file whose
// checksum does not match (a torn or edited write) is refused as a whole.
#include <boost/json/array.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "events/event_bus.h"
#include "gateway/snapshot_builder.h"

namespace portico::gateway {

struct SnapshotFile {
  std::string environment;
  std::string cluster_id;        // of the control plane it was pulled from; "" when it said none
  std::string issuer;            // the expected `iss` of access tokens
  std::string jwks;              // the key manager's JWKS document, as fetched; "" when none yet
  events::LogPosition position;  // the last event applied before it was written
  SnapshotSources sources;
  boost::json::array revoked;  // revoked token ids, as the internal data API lists them
};

std::string serialize_snapshot_file(const SnapshotFile& file);

// nullopt with the reason in `error` for anything but a whole, intact file of this format.
std::optional<SnapshotFile> parse_snapshot_file(std::string_view text, std::string* error);

// Writes `content` to `path` so that a crash leaves either the old file or the new one
// (temporary file, fsync, rename, fsync of the directory). False with the reason in `error`.
bool write_file_atomically(const std::string& path, const std::string& content, std::string* error);

}  // namespace portico::gateway
