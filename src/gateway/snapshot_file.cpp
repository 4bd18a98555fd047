#include "gateway/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/crypto.h"

namespace portico::gateway {
namespace {

namespace json = boost::json;

constexpr int kFormat = 2;

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

}  // namespace

std::string serialize_snapshot_file(const SnapshotFile& file) {
  json::object doc;
  doc["environment"] = file.environment;
  doc["clusterId"] = file.cluster_id;
  doc["issuer"] = file.issuer;
  doc["jwks"] = file.jwks;
  doc["position"] =
      json::object{{"epoch", file.position.epoch}, {"sequence", file.position.sequence}};
  for (const auto& [key, member] : kFileKeys) doc[key] = file.sources.*member;
  doc["revokedTokens"] = file.revoked;
  std::string body = json::serialize(doc);
  json::object header{{"format", kFormat}, {"checksum", crypto::sha256_hex(body)}};
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
  if (string_of(header.get_object(), "checksum") != crypto::sha256_hex(body))
    return fail("its checksum does not match its content");
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return fail("its content is not a JSON object");
  const json::object& o = doc.get_object();
  SnapshotFile file;
  file.environment = string_of(o, "environment");
  file.cluster_id = string_of(o, "clusterId");
  file.issuer = string_of(o, "issuer");
  file.jwks = string_of(o, "jwks");
  if (auto* p = o.if_contains("position"); p != nullptr && p->is_object()) {
    file.position.epoch = string_of(p->get_object(), "epoch");
    if (auto* seq = p->get_object().if_contains("sequence")) {
      if (seq->is_uint64()) file.position.sequence = seq->get_uint64();
      if (seq->is_int64() && seq->get_int64() >= 0)
        file.position.sequence = static_cast<std::uint64_t>(seq->get_int64());
    }
  }
  file.sources.environment = file.environment;
  for (const auto& [key, member] : kFileKeys)
    if (auto* list = o.if_contains(key); list != nullptr && list->is_array())
      file.sources.*member = list->get_array();
  if (auto* list = o.if_contains("revokedTokens"); list != nullptr && list->is_array())
    file.revoked = list->get_array();
  return file;
}

bool write_file_atomically(const std::string& path, const std::string& content,
                           std::string* error) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create " + temp + ": " + std::strerror(errno);
    return false;
  }
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "cannot write " + temp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(temp.c_str());
      return false;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
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
