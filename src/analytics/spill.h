#pragma once
// Rollups kept on disk while the database is down: <data_dir>/analytics-spill/<batch>.jsonl,
// one rollup per line, each file written whole (temporary file, fsync, rename), so that a
// file is either absent or complete. Batch ids start with the unix ms of their creation, so
// that name order is age order. Internal to src/analytics; used by the writer thread only.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analytics/rollup.h"

namespace portico::analytics {

class SpillStore {
 public:
  explicit SpillStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Creates the directory and removes temporary files a crash left behind. Throws
  // std::runtime_error when the directory cannot be created.
  void open();
  const std::filesystem::path& dir() const { return dir_; }

  // Writes (or replaces) the file of `batch_id`. Throws std::runtime_error on an I/O error;
  // the previous version of the file, if any, is then left as it was.
  void write(const std::string& batch_id, const RollupMap& rollups);
  // Batch ids on disk, oldest first.
  std::vector<std::string> list() const;
  // The rollups of a batch; nullopt when the file is missing or a line does not parse.
  std::optional<RollupMap> read(const std::string& batch_id) const;
  void remove(const std::string& batch_id);
  // Removes the oldest files until the files take at most `max_bytes`, sparing `keep` (the
  // file being written). Returns the batch ids removed, oldest first.
  std::vector<std::string> trim_to(std::uintmax_t max_bytes, const std::string& keep = {});
  // Renames a file that does not parse to <batch>.bad, out of the replay's way, for a human.
  void quarantine(const std::string& batch_id);

 private:
  std::filesystem::path path(const std::string& batch_id) const;
  std::filesystem::path dir_;
};

}  // namespace portico::analytics
