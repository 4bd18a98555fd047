#include "gateway/snapshot_file_writer.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <utility>

#include "common/log.h"

namespace portico::gateway {
namespace {

// Where SCHED_IDLE is refused, nice 10: about a tenth of the CPU share of a thread at 0
// while the I/O threads are busy.
constexpr int kWriterNice = 10;

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

void SnapshotFileWriter::submit(SnapshotFile header, SourceIndex sources) {
  {
    std::lock_guard lock(mutex_);
    pending_ = Job{std::move(header), std::move(sources)};
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
  job.header.sources = job.sources.sources();
  std::string text = serialize_snapshot_file(job.header);
  // A resync that changed nothing leaves the disk alone (the file's age then tells how long
  // the configuration has been stable, not when the gateway last pulled).
  std::size_t hash = std::hash<std::string>{}(text);
  if (hash == last_hash_ && std::filesystem::exists(path_)) return;
  std::string error;
  if (write_file_atomically(path_, text, &error))
    last_hash_ = hash;
  else
    spdlog::warn("snapshot file not written: {}", error);
}

}  // namespace portico::gateway
