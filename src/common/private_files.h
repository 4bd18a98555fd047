#pragma once
// The node's files are its own: the data directory is 0700, everything in it 0600 (the
// SQLite database and its journals, key material, snapshots, analytics spill files).
#include <string>

namespace portico {

// Sets the process umask to 077, so that every file and directory the node creates from now
// on (SQLite's -wal/-shm/-journal files included) has no group or other permissions from
// its first byte. Call first thing in main.
void keep_new_files_private();

// Creates `data_dir` as 0700, or tightens an existing one to 0700 and everything below it
// (left by an earlier version or copied in) to 0700 for directories and 0600 for files.
// Symbolic links are not followed. Throws std::runtime_error naming the path on failure.
void prepare_data_dir(const std::string& data_dir);

// Writes `content` to `path` with mode 0600 from its creation: a new temporary file
// (O_CREAT|O_EXCL, never an existing one), synced, then renamed over `path`, so that a crash
// leaves the old file or the new one and the content is never readable by others.
void write_private_file(const std::string& path, const std::string& content);

// The whole content of `path`. Throws std::runtime_error naming the path.
std::string read_file(const std::string& path);

}  // namespace portico
