#pragma once
// Internal to src/http and to servers built on its listeners: one accepted connection (plain
// or TLS) and what the connections of a server share. server.cpp and session.cpp include
// this, and the gateway, whose proxy sessions replace the Router's.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "http/message.h"
#include "http/request_head.h"
#include "http/server.h"

namespace portico::http::detail {

struct ServerContext;
struct Worker;

// Serves accepted connections in place of the Router's HTTP/1.1 session (the gateway's
// proxy). Called on `worker`'s thread; a session it starts registers in worker.sessions and
// calls context.session_started()/session_ended() so that stop() can drain it.
class SessionStarter {
 public:
  virtual ~SessionStarter() = default;
  virtual void start(ServerContext& context, Worker& worker, boost::asio::ip::tcp::socket socket,
                     boost::asio::ssl::context* tls) = 0;
};

// State shared by every connection of one server; it outlives them all.
struct ServerContext {
  ServerContext(ServerOptions opts, std::shared_ptr<const Router> r,
                std::shared_ptr<SessionStarter> s = nullptr);

  void session_started();
  void session_ended();
  // Waits until no session is left or `timeout` passes; true when none is left.
  bool wait_for_no_sessions(std::chrono::milliseconds timeout);

  const ServerOptions options;
  const HeadLimits limits;
  const std::shared_ptr<const Router> router;
  const std::shared_ptr<SessionStarter> starter;  // null: the Router's sessions
  // Set once by Server::drain: sessions finish the request at hand, then close.
  std::atomic<bool> stopping{false};

 private:
  std::mutex mutex_;
  std::condition_variable no_sessions_;
  std::size_t sessions_ = 0;
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Server is draining: close now if waiting between requests with nothing of a next request
  // arrived; otherwise the session notices `stopping` when it answers and closes after that
  // response. A connection that has not carried a request yet was opened to send one: its
  // first request is answered (bounded by the read timeout and the drain period).
  virtual void on_stop() = 0;
  // The drain period is over.
  virtual void force_close() = 0;
};

// One io_context and its thread. A session lives on one worker and is touched only from
// that worker's thread, so the registry needs no lock.
struct Worker {
  // Declared before `io`: handlers destroyed with `io` still deregister their sessions here.
  std::unordered_set<SessionBase*> sessions;
  boost::asio::io_context io{1};
};

// Starts serving an accepted socket; called on `worker`'s thread. `tls` null means plain HTTP.
void start_session(ServerContext& context, Worker& worker, boost::asio::ip::tcp::socket socket,
                   boost::asio::ssl::context* tls);

}  // namespace portico::http::detail
