#pragma once
// The Key Manager's HTTP endpoints, one file per family; internal to src/keymanager.
#include "http/message.h"
#include "keymanager/keymanager.h"

namespace portico::keymanager {

void add_oauth_routes(KeyManager& km, http::Router& router);
void add_authorize_routes(KeyManager& km, http::Router& router);
void add_registration_routes(KeyManager& km, http::Router& router);

// "Basic base64(id:secret)" → (id, secret), each form-url-decoded (RFC 6749 §2.3.1);
// nullopt when the header is absent or not Basic; OAuthError invalid_client if malformed.
std::optional<std::pair<std::string, std::string>> basic_credentials(const http::Request& request);

}  // namespace portico::keymanager
