#pragma once
// Logging: spdlog behind a small door so that components need not include it.
#include <spdlog/spdlog.h>

#include <string>

namespace portico {

// Sets the level ("trace".."off") and format ("text" or "json" lines) of the default logger.
void configure_logging(const std::string& level, const std::string& format);

}  // namespace portico
