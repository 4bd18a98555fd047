#pragma once
// One portal's built files, read into memory once at start (they are small and never change
// while the node runs), and the answer to a request path under the portal's prefix.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace portico::portals {

struct StaticFile {
  std::string content_type;
  std::string body;
};

class PortalFiles {
 public:
  // Reads <root>/<portal>/ (index.html and the rest) and <root>/assets/ (shared by the three
  // portals, served as <portal>/assets/...). `content_security_policy` goes on every page.
  static PortalFiles load(const std::filesystem::path& root, std::string_view portal,
                          std::string content_security_policy);

  bool has_index() const { return files_.count("index.html") > 0; }

  // `relative` is the request path after "/<portal>/" ("" for the portal itself). A file
  // answers with its bytes: hashed assets (under assets/) cached for a year as immutable,
  // other files revalidated. A path that names no file and has no extension is a page of the
  // single-page application: index.html. Anything else: 404.
  http::Response serve(std::string_view relative) const;

 private:
  std::map<std::string, std::shared_ptr<const StaticFile>, std::less<>> files_;
  std::string content_security_policy_;
};

// The media type for a file name's extension; application/octet-stream when unknown.
std::string content_type_for(std::string_view filename);

}  // namespace portico::portals
