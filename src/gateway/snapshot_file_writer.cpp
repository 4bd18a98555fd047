#include "gateway/snapshot_file_writer.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "common/log.h"

namespace portico::gateway {
namespace {

// Where SCHED_IDLE is refused, nice 10: about a tenth of the CPU share of a thread at 0
// while the I/O threads are busy.
constexpr int kWriterNice = 10;

// The journal is folded into a whole write once it exceeds half the file, or this (a small
// configuration's journal may outgrow its file a little: replaying it costs nothing).
constexpr std::size_t kMinJournalBytes = 1 << 20;

// SCHED_IDLE: the thread runs only on CPU time no other thread wants, and a waking I/O thread
// takes the CPU from it at once. Lowering a thread's own policy needs no privilege.
void lower_priority() {
  sched_param none{};
  if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &none) == 0) return;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kWriterNice) != 0)
    spdlog::debug("snapshot file writer: priority not lowered");
}

}  // namespace

SnapshotFileWriter::SnapshotFileWriter(std::string path)
    : path_(std::move(path)), thread_([this] { run(); }) {}

SnapshotFileWriter::~SnapshotFileWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void SnapshotFileWriter::submit(SnapshotFile header, SourceIndex sources,
                                std::set<std::string> changed) {
  {
    std::lock_guard lock(mutex_);
    if (pending_) changed.merge(pending_->changed);
    pending_ = Job{std::move(header), std::move(sources), std::move(changed)};
  }
  wake_.notify_all();
}

void SnapshotFileWriter::flush() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [&] { return !pending_ && !writing_; });
}

void SnapshotFileWriter::run() {
  lower_priority();  // this thread only: the rest of the process keeps its priority
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return pending_ || stopping_; });
    if (!pending_) return;  // stopping, nothing left to write
    Job job = std::move(*pending_);
    pending_.reset();
    writing_ = true;
    lock.unlock();
    write(std::move(job));
    lock.lock();
    writing_ = false;
    wake_.notify_all();
  }
}

void SnapshotFileWriter::write(Job job) {
  bool whole = base_checksum_.empty() || job.header.cluster_id != cluster_id_ ||
               journal_bytes_ > std::max(base_bytes_ / 2, kMinJournalBytes);
  std::string error;
  if (whole ? write_whole(job, &error) : append(job, &error)) return;
  spdlog::warn("snapshot file not written: {}", error);
  base_checksum_.clear();  // the next write starts again from a whole file
}

bool SnapshotFileWriter::write_whole(Job& job, std::string* error) {
  job.header.sources = job.sources.sources();
  std::string checksum;
  std::string text = serialize_snapshot_file(job.header, &checksum);
  // The file first: until the new journal replaces the old one, the old one names the old
  // file and is ignored beside the new.
  if (!write_file_atomically(path_, text, error)) return false;
  std::string journal = journal_header(checksum);
  if (!write_file_atomically(journal_path(path_), journal, error)) return false;
  base_checksum_ = std::move(checksum);
  base_bytes_ = text.size();
  journal_bytes_ = journal.size();
  cluster_id_ = job.header.cluster_id;
  jwks_ = std::move(job.header.jwks);
  revoked_ = std::move(job.header.revoked);
  return true;
}

bool SnapshotFileWriter::append(Job& job, std::string* error) {
  bool jwks_changed = job.header.jwks != jwks_;
  bool revoked_changed = job.header.revoked != revoked_;
  // A resync that changed nothing leaves the disk alone (the file's age then tells how long
  // the configuration has been stable, not when the gateway last pulled).
  if (job.changed.empty() && !jwks_changed && !revoked_changed) return true;
  std::string line = journal_line(job.header.position, job.sources.describe(job.changed),
                                  jwks_changed ? &job.header.jwks : nullptr,
                                  revoked_changed ? &job.header.revoked : nullptr);
  if (!append_to_file(journal_path(path_), line, error)) return false;
  journal_bytes_ += line.size();
  jwks_ = std::move(job.header.jwks);
  revoked_ = std::move(job.header.revoked);
  return true;
}

}  // namespace portico::gateway
