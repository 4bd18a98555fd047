#pragma once
// RFC 6749 §5.2 errors of the token, revocation and introspection endpoints.
#include <stdexcept>
#include <string>

namespace portico::keymanager {

class OAuthError : public std::runtime_error {
 public:
  OAuthError(int status, std::string error, std::string description)
      : std::runtime_error(description),
        status(status),
        error(std::move(error)),
        description(std::move(description)) {}
  int status;
  std::string error;
  std::string description;

  static OAuthError invalid_request(std::string d) { return {400, "invalid_request", d}; }
  // 401 with WWW-Authenticate (added by the endpoint), RFC 6749 §5.2.
  static OAuthError invalid_client(std::string d) { return {401, "invalid_client", d}; }
  static OAuthError invalid_grant(std::string d) { return {400, "invalid_grant", d}; }
  static OAuthError unauthorized_client(std::string d) { return {400, "unauthorized_client", d}; }
  static OAuthError unsupported_grant_type(std::string d) {
    return {400, "unsupported_grant_type", d};
  }
  static OAuthError invalid_scope(std::string d) { return {400, "invalid_scope", d}; }
};

}  // namespace portico::keymanager
