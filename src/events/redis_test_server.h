#pragma once
// A throwaway redis-server (Debian's binary) on a free loopback port, without persistence,
// for tests: start, stop, freeze (SIGSTOP) and restart it empty.
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "events/redis_connection.h"

extern char** environ;

namespace portico::events::testing {

inline constexpr const char* kRedisServerBinary = "/usr/bin/redis-server";

inline bool redis_server_available() {
  return ::access(kRedisServerBinary, X_OK) == 0;
}

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class RedisTestServer {
 public:
  RedisTestServer() : port_(free_port()) {}
  ~RedisTestServer() { stop(); }
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  // Starts it (empty) and waits until it answers PING.
  bool start() {
    std::string port = std::to_string(port_);
    const char* argv[] = {
        kRedisServerBinary, "--port", port.c_str(), "--bind", "127.0.0.1",  "--save",  "",
        "--appendonly",     "no",     "--dir",      "/tmp",   "--loglevel", "warning", nullptr};
    if (posix_spawn(&pid_, kRedisServerBinary, nullptr, nullptr, const_cast<char**>(argv),
                    environ) != 0)
      return false;
    RedisConnection probe(RedisAddress{"127.0.0.1", port_, "", 0}, std::chrono::milliseconds(200));
    for (int i = 0; i < 100; ++i) {
      if (probe.ensure_connected() && probe.command({"PING"})) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void freeze() { ::kill(pid_, SIGSTOP); }
  void thaw() { ::kill(pid_, SIGCONT); }

 private:
  int port_;
  pid_t pid_ = -1;
};

}  // namespace portico::events::testing
