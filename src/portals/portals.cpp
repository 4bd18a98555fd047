#include "portals/portals.h"

#include <unistd.h>

#include <cstdlib>
#include <set>

#include "common/log.h"
#include "portals/static_files.h"
#include "store/clients_repository.h"

namespace portico::portals {
namespace {

// Deep enough for every page path the portals use (/publisher/apis/{id}/documents/{docId}).
constexpr int kMaxPageDepth = 8;

std::filesystem::path running_binary() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : path;
}

// The origins a browser may load the portals from: each listener on localhost, 127.0.0.1,
// the configured host and the issuer's host.
std::vector<std::string> origins(const Config& c) {
  std::set<std::string> hosts{"localhost", "127.0.0.1"};
  if (c.server.host != "0.0.0.0" && c.server.host != "::" && !c.server.host.empty())
    hosts.insert(c.server.host);
  auto issuer = c.issuer();
  auto scheme_end = issuer.find("://");
  if (scheme_end != std::string::npos) {
    auto host_start = scheme_end + 3;
    auto host_end = issuer.find_first_of(":/", host_start);
    hosts.insert(issuer.substr(host_start, host_end - host_start));
  }
  std::vector<std::string> out;
  // Behind a proxy (several control planes behind nginx), the portals are opened there.
  if (const auto& url = c.server.public_url; !url.empty()) {
    auto scheme_end = url.find("://");
    auto path = scheme_end == std::string::npos ? std::string::npos : url.find('/', scheme_end + 3);
    out.push_back(url.substr(0, path));
  }
  for (const auto& host : hosts) {
    if (c.server.https_port > 0)
      out.push_back("https://" + host + ":" + std::to_string(c.server.https_port));
    if (c.server.http_port > 0)
      out.push_back("http://" + host + ":" + std::to_string(c.server.http_port));
  }
  return out;
}

// Pages load scripts and styles from the node only; inline styles are the component
// library's; calls go to the node and, for "try it", to the gateway's listeners.
std::string content_security_policy(const Config& c) {
  std::string connect = "'self'";
  if (c.gateway.http_port > 0) connect += " http://*:" + std::to_string(c.gateway.http_port);
  if (c.gateway.https_port > 0) connect += " https://*:" + std::to_string(c.gateway.https_port);
  return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
         "img-src 'self' data: blob:; font-src 'self' data:; connect-src " +
         connect +
         "; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
}

}  // namespace

std::string client_id(std::string_view portal) {
  return "portico-" + std::string(portal);
}

std::filesystem::path locate_web_root() {
  if (const char* env = std::getenv("PORTICO_WEB_ROOT"); env && *env) return env;
  std::error_code ec;
  auto beside = running_binary().parent_path() / "web";
  if (std::filesystem::exists(beside / "publisher" / "index.html", ec)) return beside;
#ifdef PORTICO_WEB_DIST
  return PORTICO_WEB_DIST;
#else
  return beside;
#endif
}

void register_clients(store::Database& db, const Config& config) {
  store::ClientsRepository clients(db);
  auto node_origins = origins(config);
  for (const char* portal : kPortals) {
    store::ClientRecord record;
    record.client_id = client_id(portal);
    record.name = std::string("Portico ") + portal;
    record.owner = config.admin.username;
    record.grant_types = {"authorization_code", "refresh_token"};
    for (const auto& origin : node_origins)
      record.redirect_uris.push_back(origin + "/" + portal + "/callback");
    record.public_client = true;
    record.trusted = true;
    auto existing = clients.find(record.client_id);
    if (existing) {
      record.created_at = existing->created_at;
      clients.update(record);
    } else {
      record.created_at = static_cast<std::int64_t>(std::time(nullptr));
      try {
        clients.create(record);
      } catch (const store::ConflictError&) {
        clients.update(record);  // another node of the cluster registered it first
      }
    }
    clients.set_trusted(record.client_id, true);
  }
}

void register_routes(http::Router& router, const std::filesystem::path& root,
                     const Config& config) {
  auto policy = content_security_policy(config);
  for (const char* portal : kPortals) {
    auto files = std::make_shared<const PortalFiles>(PortalFiles::load(root, portal, policy));
    if (!files->has_index())
      spdlog::warn("portal /{}: no {}; build it with `make build`", portal,
                   (root / portal / "index.html").string());
    std::string prefix = std::string("/") + portal;
    auto handler = [files, prefix](http::Request& request) {
      std::string_view path = request.path;
      path.remove_prefix(std::min(path.size(), prefix.size() + 1));
      return files->serve(path);
    };
    router.add("GET", prefix, handler);
    router.add("GET", prefix + "/", handler);  // a {param} segment is never empty
    std::string path_template = prefix;
    for (int depth = 1; depth <= kMaxPageDepth; ++depth) {
      path_template += "/{p" + std::to_string(depth) + "}";
      router.add("GET", path_template, handler);
    }
  }
}

void install(http::Router& router, store::Database& db, const Config& config) {
  register_clients(db, config);
  register_routes(router, locate_web_root(), config);
}

}  // namespace portico::portals
