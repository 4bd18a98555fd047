#pragma once
// Writes the snapshot file on a thread of its own at the lowest CPU priority (SCHED_IDLE).
// Putting a large configuration's lists together, serializing and checksumming them takes a
// few hundred milliseconds (10,000 APIs, 100,000 subscriptions); on a busy gateway that must
// come out of idle time, not out of the share of the CPU the I/O threads would otherwise get.
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "gateway/snapshot_file.h"
#include "gateway/source_index.h"

namespace portico::gateway {

class SnapshotFileWriter {
 public:
  explicit SnapshotFileWriter(std::string path);
  ~SnapshotFileWriter();  // writes what is pending, then stops
  SnapshotFileWriter(const SnapshotFileWriter&) = delete;
  SnapshotFileWriter& operator=(const SnapshotFileWriter&) = delete;

  // `header` (everything but the sources) and `sources` (a cheap copy: see SourceIndex) to be
  // written; replaces a write asked for earlier that has not started yet. Returns at once.
  void submit(SnapshotFile header, SourceIndex sources);
  // Returns once everything submitted so far is on disk (or failed, with a warning).
  void flush();

 private:
  struct Job {
    SnapshotFile header;
    SourceIndex sources;
  };
  void run();
  void write(Job job);

  std::string path_;
  std::size_t last_hash_ = 0;  // the writer thread only
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Job> pending_;
  bool writing_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace portico::gateway
