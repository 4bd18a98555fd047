#include "portals/static_files.h"

#include <fstream>
#include <sstream>

namespace portico::portals {
namespace {

constexpr const char* kImmutable = "public, max-age=31536000, immutable";
constexpr const char* kRevalidate = "no-cache";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void load_tree(const std::filesystem::path& dir, const std::string& prefix,
               std::map<std::string, std::shared_ptr<const StaticFile>, std::less<>>& files) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    auto relative = std::filesystem::relative(entry.path(), dir).generic_string();
    auto file = std::make_shared<StaticFile>();
    file->content_type = content_type_for(relative);
    file->body = read_file(entry.path());
    files[prefix + relative] = std::move(file);
  }
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::string content_type_for(std::string_view name) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [extension, type] : kTypes)
    if (ends_with(name, extension)) return type;
  return "application/octet-stream";
}

PortalFiles PortalFiles::load(const std::filesystem::path& root, std::string_view portal,
                              std::string content_security_policy) {
  PortalFiles out;
  out.content_security_policy_ = std::move(content_security_policy);
  load_tree(root / std::string(portal), "", out.files_);
  load_tree(root / "assets", "assets/", out.files_);
  return out;
}

http::Response PortalFiles::serve(std::string_view relative) const {
  std::string_view name = relative;
  auto found = name.empty() ? files_.end() : files_.find(name);
  bool page = false;
  if (found == files_.end()) {
    auto last = name.substr(name.rfind('/') == std::string_view::npos ? 0 : name.rfind('/') + 1);
    bool names_a_file = name.rfind("assets/", 0) == 0 || last.find('.') != std::string_view::npos;
    if (names_a_file) return http::Response::error(404, 404, "Not Found", "No such file");
    found = files_.find("index.html");
    if (found == files_.end())
      return http::Response::error(404, 404, "Not Found",
                                   "The portals are not built: run `make build` (or `npm ci && "
                                   "npm run build` in web/), or set PORTICO_WEB_ROOT");
    page = true;
  }
  http::Response response;
  response.body = found->second->body;
  response.headers.set("Content-Type", found->second->content_type);
  response.headers.set("X-Content-Type-Options", "nosniff");
  bool hashed = found->first.rfind("assets/", 0) == 0;
  response.headers.set("Cache-Control", hashed ? kImmutable : kRevalidate);
  if (page || found->first == "index.html" || ends_with(found->first, ".html")) {
    response.headers.set("Content-Security-Policy", content_security_policy_);
    response.headers.set("X-Frame-Options", "DENY");
    response.headers.set("Referrer-Policy", "no-referrer");
  }
  return response;
}

}  // namespace portico::portals
