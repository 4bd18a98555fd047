#include "common/private_files.h"

#include "common/unique_fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace portico {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kPrivateFile = 0600;
constexpr mode_t kPrivateDirectory = 0700;

// chmod without following a symbolic link: a link planted in the data directory must not
// make the node change the mode of a file elsewhere.
void tighten(const fs::path& path, mode_t mode) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw_errno("cannot stat", path.string());
  if (S_ISLNK(st.st_mode)) return;
  if ((st.st_mode & 07777) == mode) return;
  if (::chmod(path.c_str(), mode) != 0) throw_errno("cannot restrict the mode of", path.string());
}

void write_all(int fd, const std::string& content, const std::string& path) {
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("cannot write", path);
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void keep_new_files_private() {
  ::umask(077);
}

void prepare_data_dir(const std::string& data_dir) {
  fs::path dir(data_dir.empty() ? "." : data_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("cannot create the data directory " + dir.string() + ": " +
                             ec.message());
  tighten(dir, kPrivateDirectory);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    auto status = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_directory(status)) {
      tighten(it->path(), kPrivateDirectory);
    } else if (fs::is_regular_file(status)) {
      tighten(it->path(), kPrivateFile);
    }
  }
  if (ec)
    throw std::runtime_error("cannot read the data directory " + dir.string() + ": " +
                             ec.message());
}

void write_private_file(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  // A temporary left by a crash is ours to replace; O_EXCL then guarantees that the file we
  // write is the one we created, with our mode.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) throw_errno("cannot remove", tmp);
  {
    UniqueFd fd(
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, kPrivateFile));
    if (fd.get() < 0) throw_errno("cannot create", tmp);
    write_all(fd.get(), content, tmp);
    if (::fsync(fd.get()) != 0) throw_errno("cannot sync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    throw_errno("cannot rename to", path);
  }
  // The rename is durable once the directory is synced.
  fs::path parent = fs::path(path).parent_path();
  UniqueFd dir(::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
}

std::string read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno("cannot read", path);
  std::string content;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot read", path);
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

}  // namespace portico
