#pragma once
// The three web portals (Publisher, Developer Portal, Admin): the files `npm run build` left
// in web/dist, served under /publisher, /devportal and /admin, and the public OAuth 2.0
// clients they sign in with. The portals use the public REST APIs only.
#include <filesystem>
#include <string>

#include "common/config.h"
#include "http/message.h"
#include "store/database.h"

namespace portico::portals {

// The client_id of each portal's public client ("portico-publisher", ...).
inline constexpr const char* kPortals[] = {"publisher", "devportal", "admin"};
std::string client_id(std::string_view portal);

// Where the built portals are: $PORTICO_WEB_ROOT when set, else a `web` folder beside the
// running binary, else the source tree's web/dist the binary was built from.
std::filesystem::path locate_web_root();

// Registers (first start) or refreshes the portals' public clients: authorization code with
// PKCE and refresh tokens, trusted with the apim:* scopes of their users, redirect URIs
// <origin>/<portal>/callback for the node's listeners on localhost, 127.0.0.1, [server] host
// and the issuer's host, and for [server] public_url (a proxy in front of the node).
void register_clients(store::Database& db, const Config& config);

// Adds the routes that serve the portals from `root`; a portal whose index.html is missing
// answers 404 with a description that says how to build it.
void register_routes(http::Router& router, const std::filesystem::path& root, const Config& config);

// All of the above: what the node calls once, with the control plane's router.
void install(http::Router& router, store::Database& db, const Config& config);

}  // namespace portico::portals
