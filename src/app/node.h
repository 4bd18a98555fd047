#pragma once
// One running Portico process: the components its profile names, wired together.
#include <memory>
#include <string>

#include "common/config.h"

namespace portico {

class Node {
 public:
  // Validates the profile; throws ConfigError for an unknown or not yet available one.
  Node(Config config, std::string profile);
  ~Node();
  // Opens storage, migrates, initializes components and starts listening.
  void start();
  // Blocks until SIGTERM or SIGINT, then drains and stops.
  void run_until_signalled();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico
