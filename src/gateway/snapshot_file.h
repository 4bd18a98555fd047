#pragma once
// The gateway's last-known configuration on disk: what a gateway restarted while the control
// plane, the key manager, the database and Redis are all down serves from. Two lines: a JSON
// header {"format", "checksum"} (SHA-256 of the rest), then the JSON document. A file whose
// checksum does not match (a torn or edited write) is refused as a whole.
//
// Beside it, PATH.journal records what changed since the file was last written whole, so
// that a gateway absorbing a stream of changes writes each change once, at the change's size,
// instead of rewriting the whole configuration (tens of megabytes at 10,000 APIs) every few
// seconds. Its first line, {"format", "base"}, names the checksum of the file it follows: a
// journal left beside another file (a crash between the two writes) is ignored. Then one line
// per write: the SHA-256 of the record, a space, the record {"position", "changes", and
// "jwks" and "revokedTokens" when they changed}; "changes" are SourceIndex::describe's
// entries. Records are appended and fsynced; a torn or altered line ends the replay there,
// and what came before it stands.
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
  std::string checksum;        // of the file as parsed (its journal names it); "" otherwise
};

// The file's text; its checksum in `checksum` when given.
std::string serialize_snapshot_file(const SnapshotFile& file, std::string* checksum = nullptr);

// nullopt with the reason in `error` for anything but a whole, intact file of this format.
std::optional<SnapshotFile> parse_snapshot_file(std::string_view text, std::string* error);

// The file at `path` with its journal replayed: what a restarted gateway serves. nullopt with
// the reason in `error` when the file is missing or not intact. A journal that cannot be
// replayed to its end is replayed as far as it can be, with the reason in `journal_warning`.
std::optional<SnapshotFile> read_snapshot_file(const std::string& path, std::string* error,
                                               std::string* journal_warning = nullptr);

std::string journal_path(const std::string& snapshot_path);
// A new journal's text: its header line, naming the snapshot file it follows.
std::string journal_header(std::string_view base_checksum);
// One journal line: the record's checksum and the record. `jwks` and `revoked` when they
// changed, null otherwise.
std::string journal_line(const events::LogPosition& position, boost::json::array changes,
                         const std::string* jwks, const boost::json::array* revoked);

// Writes `content` to `path` so that a crash leaves either the old file or the new one
// (temporary file, fsync, rename, fsync of the directory). False with the reason in `error`.
bool write_file_atomically(const std::string& path, const std::string& content, std::string* error);
// Appends `content` to the existing file `path` and fsyncs it. False with the reason in
// `error` (a missing file among them: a journal is created only with its header).
bool append_to_file(const std::string& path, const std::string& content, std::string* error);

}  // namespace portico::gateway
