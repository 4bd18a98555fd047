#pragma once
// Writes the snapshot file on a thread of its own at the lowest CPU priority (SCHED_IDLE).
// Putting a large configuration's lists together, serializing and checksumming them takes a
// few hundred milliseconds (10,000 APIs, 100,000 subscriptions); on a busy gateway that must
// come out of idle time, not out of the share of the CPU the I/O threads would otherwise get.
// Even from idle time, rewriting tens of megabytes every few seconds under a stream of changes
// costs the I/O threads (memory bandwidth, page faults, the disk): so after the first whole
// write, the changed items go to the file's journal (see snapshot_file.h), and the file is
// written whole again only when the journal has grown to half its size.
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <set>
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

  // `header` (everything but the sources), `sources` (a cheap copy: see SourceIndex) and the
  // keys of the items changed since the last submit (SourceIndex::take_changes) to be
  // written; replaces a write asked for earlier that has not started yet, keeping its
  // changes. Returns at once.
  void submit(SnapshotFile header, SourceIndex sources, std::set<std::string> changed);
  // Returns once everything submitted so far is on disk (or failed, with a warning).
  void flush();

 private:
  struct Job {
    SnapshotFile header;
    SourceIndex sources;
    std::set<std::string> changed;
  };
  void run();
  void write(Job job);
  bool write_whole(Job& job, std::string* error);
  bool append(Job& job, std::string* error);

  std::string path_;
  // What is on disk as this writer left it; the writer thread only. A journal follows only a
  // file this writer wrote whole: base_checksum_ is "" until then, and after a failed write.
  std::string base_checksum_;
  std::string cluster_id_;
  std::size_t base_bytes_ = 0;
  std::size_t journal_bytes_ = 0;
  std::string jwks_;
  boost::json::array revoked_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<Job> pending_;
  bool writing_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace portico::gateway
