#pragma once
// The control plane's one error type: a handler throws it, the HTTP layer turns it
// into the reference's JSON error body {"code", "message", "description"}.
#include <map>
#include <stdexcept>
#include <string>

namespace portico {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, long code, std::string message, std::string description = {})
      : std::runtime_error(message),
        status(status),
        code(code),
        message(std::move(message)),
        description(std::move(description)) {}

  int status;
  long code;  // the reference's numeric code (its REST APIs use the HTTP status as code)
  std::string message;
  std::string description;
  // Extra response headers (WWW-Authenticate on 401, Retry-After on 429).
  std::map<std::string, std::string> headers;

  static ApiError bad_request(std::string description) {
    return ApiError(400, 400, "Bad Request", std::move(description));
  }
  static ApiError unauthorized(std::string description) {
    ApiError e(401, 401, "Unauthorized", std::move(description));
    e.headers["WWW-Authenticate"] = "Basic realm=\"portico\", Bearer realm=\"portico\"";
    return e;
  }
  static ApiError forbidden(std::string description) {
    return ApiError(403, 403, "Forbidden", std::move(description));
  }
  static ApiError not_found(std::string description) {
    return ApiError(404, 404, "Not Found", std::move(description));
  }
  static ApiError conflict(std::string description) {
    return ApiError(409, 409, "Conflict", std::move(description));
  }
};

}  // namespace portico
