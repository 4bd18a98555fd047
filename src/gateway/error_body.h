#pragma once
// The reference's error body: {"code": <number>, "message": "...", "description": "..."}.
#include <string>
#include <string_view>

namespace portico::gateway {

std::string error_body(long code, std::string_view message, std::string_view description);

}  // namespace portico::gateway
