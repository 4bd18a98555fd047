#include "analytics/spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace portico::analytics {
namespace {

constexpr std::string_view kExtension = ".jsonl";
constexpr std::string_view kTemporary = ".jsonl.tmp";

std::runtime_error io_error(const std::string& what, const std::filesystem::path& path) {
  return std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

void write_all(int fd, const std::string& data, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw io_error("cannot write", path);
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::filesystem::path SpillStore::path(const std::string& batch_id) const {
  return dir_ / (batch_id + std::string(kExtension));
}

void SpillStore::open() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create " + dir_.string() + ": " + ec.message());
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(kTemporary)) std::filesystem::remove(entry.path(), ec);
  }
}

void SpillStore::write(const std::string& batch_id, const RollupMap& rollups) {
  std::string data;
  for (const auto& [key, counters] : rollups) {
    data += rollup_line(key, counters);
    data += '\n';
  }
  const std::filesystem::path target = path(batch_id);
  const std::filesystem::path temporary = dir_ / (batch_id + std::string(kTemporary));
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw io_error("cannot create", temporary);
  try {
    write_all(fd, data, temporary);
    // The data reaches the disk before the rename makes it the file: after a crash the file
    // is either the old version or the new one, never a torn one.
    if (::fsync(fd) != 0) throw io_error("cannot fsync", temporary);
  } catch (...) {
    ::close(fd);
    std::error_code ec;
    std::filesystem::remove(temporary, ec);
    throw;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    std::error_code ec;
    std::filesystem::remove(temporary, ec);
    throw io_error("cannot rename to", target);
  }
  // The rename itself is durable once the directory is synced.
  int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

std::vector<std::string> SpillStore::list() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(kExtension) && !name.ends_with(kTemporary))
      out.push_back(name.substr(0, name.size() - kExtension.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<RollupMap> SpillStore::read(const std::string& batch_id) const {
  std::ifstream in(path(batch_id));
  if (!in) return std::nullopt;
  RollupMap out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto parsed = parse_rollup_line(line);
    if (!parsed) return std::nullopt;
    out[parsed->first].add(parsed->second);
  }
  if (in.bad()) return std::nullopt;
  return out;
}

void SpillStore::remove(const std::string& batch_id) {
  std::error_code ec;
  std::filesystem::remove(path(batch_id), ec);
}

std::vector<std::string> SpillStore::trim_to(std::uintmax_t max_bytes, const std::string& keep) {
  const std::vector<std::string> batches = list();
  std::vector<std::uintmax_t> sizes;
  std::uintmax_t total = 0;
  for (const std::string& batch_id : batches) {
    std::error_code ec;
    std::uintmax_t size = std::filesystem::file_size(path(batch_id), ec);
    sizes.push_back(ec ? 0 : size);
    total += sizes.back();
  }
  std::vector<std::string> removed;
  for (std::size_t i = 0; i < batches.size() && total > max_bytes; ++i) {
    if (batches[i] == keep) continue;
    remove(batches[i]);
    removed.push_back(batches[i]);
    total -= sizes[i];
  }
  return removed;
}

void SpillStore::quarantine(const std::string& batch_id) {
  std::error_code ec;
  std::filesystem::rename(path(batch_id), dir_ / (batch_id + ".bad"), ec);
}

}  // namespace portico::analytics
