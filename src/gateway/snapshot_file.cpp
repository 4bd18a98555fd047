#include "gateway/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/crypto.h"
#include "gateway/source_index.h"

namespace portico::gateway {
namespace {

namespace json = boost::json;

constexpr int kFormat = 2;
constexpr int kJournalFormat = 1;
constexpr std::size_t kChecksumDigits = 64;  // SHA-256 in hex

// The names the lists carry in the file.
const std::pair<std::string_view, json::array SnapshotSources::*> kFileKeys[] = {
    {"runtimeArtifacts", &SnapshotSources::runtime_artifacts},
    {"applications", &SnapshotSources::applications},
    {"keyMappings", &SnapshotSources::key_mappings},
    {"subscriptions", &SnapshotSources::subscriptions},
    {"subscriptionPolicies", &SnapshotSources::subscription_policies},
    {"applicationPolicies", &SnapshotSources::application_policies},
    {"advancedPolicies", &SnapshotSources::advanced_policies},
    {"denyPolicies", &SnapshotSources::deny_policies},
};

std::string string_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::object position_json(const events::LogPosition& position) {
  return json::object{{"epoch", position.epoch}, {"sequence", position.sequence}};
}

events::LogPosition position_of(const json::value* value, events::LogPosition fallback) {
  if (value == nullptr || !value->is_object()) return fallback;
  events::LogPosition position;
  position.epoch = string_of(value->get_object(), "epoch");
  if (auto* seq = value->get_object().if_contains("sequence")) {
    if (seq->is_uint64()) position.sequence = seq->get_uint64();
    if (seq->is_int64() && seq->get_int64() >= 0)
      position.sequence = static_cast<std::uint64_t>(seq->get_int64());
  }
  return position;
}

std::optional<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

// Applies the journal `text` to `file`, parsed from the snapshot file the journal must
// follow. Returns the reason it stopped before the end, "" when it did not.
std::string replay_journal(std::string_view text, SnapshotFile& file) {
  auto newline = text.find('\n');
  if (newline == std::string_view::npos) return "it has no header line";
  boost::system::error_code ec;
  json::value header = json::parse(text.substr(0, newline), ec);
  const json::object* h = !ec ? header.if_object() : nullptr;
  const json::value* format = h ? h->if_contains("format") : nullptr;
  if (format == nullptr || !format->is_int64() || format->get_int64() != kJournalFormat)
    return "it has an unknown format";
  if (string_of(*h, "base") != file.checksum) return "it follows another snapshot file";
  text.remove_prefix(newline + 1);
  if (text.empty()) return "";
  SourceIndex index;
  index.reset(std::move(file.sources));
  std::string stopped;
  for (std::size_t line = 1; !text.empty(); ++line) {
    newline = text.find('\n');
    if (newline == std::string_view::npos) {
      stopped = "record " + std::to_string(line) + " is torn";
      break;
    }
    std::string_view entry = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    std::string_view body =
        entry.size() > kChecksumDigits + 1 ? entry.substr(kChecksumDigits + 1) : "";
    if (entry.size() <= kChecksumDigits + 1 || entry[kChecksumDigits] != ' ' ||
        entry.substr(0, kChecksumDigits) != crypto::sha256_hex(body)) {
      stopped = "record " + std::to_string(line) + " does not match its checksum";
      break;
    }
    json::value record = json::parse(body, ec);
    const json::object* r = !ec ? record.if_object() : nullptr;
    const json::value* changes = r ? r->if_contains("changes") : nullptr;
    if (changes == nullptr || !changes->is_array()) {
      stopped = "record " + std::to_string(line) + " is not a journal record";
      break;
    }
    for (const auto& change : changes->get_array()) index.apply(change);
    file.position = position_of(r->if_contains("position"), file.position);
    if (auto* jwks = r->if_contains("jwks"); jwks != nullptr && jwks->is_string())
      file.jwks = std::string(jwks->get_string());
    if (auto* revoked = r->if_contains("revokedTokens"); revoked != nullptr && revoked->is_array())
      file.revoked = revoked->get_array();
  }
  file.sources = index.sources();
  return stopped;
}

// Writes all of `content` to `fd`; false with the reason in `error`.
bool write_all(int fd, const std::string& name, const std::string& content, std::string* error) {
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "cannot write " + name + ": " + std::strerror(errno);
      return false;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string serialize_snapshot_file(const SnapshotFile& file, std::string* checksum) {
  json::object doc;
  doc["environment"] = file.environment;
  doc["clusterId"] = file.cluster_id;
  doc["issuer"] = file.issuer;
  doc["jwks"] = file.jwks;
  doc["position"] = position_json(file.position);
  for (const auto& [key, member] : kFileKeys) doc[key] = file.sources.*member;
  doc["revokedTokens"] = file.revoked;
  std::string body = json::serialize(doc);
  std::string sum = crypto::sha256_hex(body);
  json::object header{{"format", kFormat}, {"checksum", sum}};
  if (checksum != nullptr) *checksum = std::move(sum);
  return json::serialize(header) + "\n" + body;
}

std::optional<SnapshotFile> parse_snapshot_file(std::string_view text, std::string* error) {
  auto fail = [&](std::string reason) {
    *error = std::move(reason);
    return std::nullopt;
  };
  auto newline = text.find('\n');
  if (newline == std::string_view::npos) return fail("it has no header line");
  boost::system::error_code ec;
  json::value header = json::parse(text.substr(0, newline), ec);
  if (ec || !header.is_object()) return fail("its header is not JSON");
  auto* format = header.get_object().if_contains("format");
  if (format == nullptr || !format->is_int64() || format->get_int64() != kFormat)
    return fail("it has an unknown format");
  std::string_view body = text.substr(newline + 1);
  std::string checksum = crypto::sha256_hex(body);
  if (string_of(header.get_object(), "checksum") != checksum)
    return fail("its checksum does not match its content");
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return fail("its content is not a JSON object");
  const json::object& o = doc.get_object();
  SnapshotFile file;
  file.environment = string_of(o, "environment");
  file.cluster_id = string_of(o, "clusterId");
  file.issuer = string_of(o, "issuer");
  file.jwks = string_of(o, "jwks");
  file.position = position_of(o.if_contains("position"), {});
  file.sources.environment = file.environment;
  for (const auto& [key, member] : kFileKeys)
    if (auto* list = o.if_contains(key); list != nullptr && list->is_array())
      file.sources.*member = list->get_array();
  if (auto* list = o.if_contains("revokedTokens"); list != nullptr && list->is_array())
    file.revoked = list->get_array();
  file.checksum = std::move(checksum);
  return file;
}

std::optional<SnapshotFile> read_snapshot_file(const std::string& path, std::string* error,
                                               std::string* journal_warning) {
  auto text = read_whole(path);
  if (!text) {
    *error = "it cannot be read";
    return std::nullopt;
  }
  auto file = parse_snapshot_file(*text, error);
  if (!file) return std::nullopt;
  text.reset();
  // No journal: the file was written whole and nothing came after it.
  if (auto journal = read_whole(journal_path(path))) {
    std::string stopped = replay_journal(*journal, *file);
    if (!stopped.empty() && journal_warning != nullptr) *journal_warning = std::move(stopped);
  }
  return file;
}

std::string journal_path(const std::string& snapshot_path) {
  return snapshot_path + ".journal";
}

std::string journal_header(std::string_view base_checksum) {
  return json::serialize(json::object{{"format", kJournalFormat}, {"base", base_checksum}}) + "\n";
}

std::string journal_line(const events::LogPosition& position, json::array changes,
                         const std::string* jwks, const json::array* revoked) {
  json::object record{{"position", position_json(position)}, {"changes", std::move(changes)}};
  if (jwks != nullptr) record["jwks"] = *jwks;
  if (revoked != nullptr) record["revokedTokens"] = *revoked;
  std::string body = json::serialize(record);
  return crypto::sha256_hex(body) + " " + body + "\n";
}

bool append_to_file(const std::string& path, const std::string& content, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  bool written = write_all(fd, path, content, error);
  if (written && ::fsync(fd) != 0) {
    *error = "cannot flush " + path + ": " + std::strerror(errno);
    written = false;
  }
  ::close(fd);
  return written;
}

bool write_file_atomically(const std::string& path, const std::string& content,
                           std::string* error) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create " + temp + ": " + std::strerror(errno);
    return false;
  }
  if (!write_all(fd, temp, content, error)) {
    ::close(fd);
    ::unlink(temp.c_str());
    return false;
  }
  // The data must be on disk before the rename makes it the snapshot file.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    *error = "cannot flush " + temp + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return false;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + temp + " to " + path + ": " + std::strerror(errno);
    ::unlink(temp.c_str());
    return false;
  }
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return true;
}

}  // namespace portico::gateway
