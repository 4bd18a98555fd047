#pragma once
// How a gateway talks to the control plane (internal data API, JWKS, introspection, Basic
// credential checks). Calls block, so they run only on the gateway's control-plane thread,
// never on an I/O thread; results go back to the requesting I/O thread by posting.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/message.h"

namespace portico::gateway {

struct ControlPlaneResponse {
  int status = 0;  // 0: the control plane could not be reached
  std::string body;
};

class ControlPlane {
 public:
  virtual ~ControlPlane() = default;
  // One request. `internal_credential`: send HTTP Basic with the [internal_api] credential.
  // Blocking; never throws (an unreachable control plane answers status 0).
  virtual ControlPlaneResponse call(std::string_view method, std::string_view path_and_query,
                                    std::string_view content_type, std::string_view body,
                                    bool internal_credential) = 0;
  // A long GET with the internal credential whose body arrives piece by piece (the control
  // plane's event stream): the contract of events::SseTransport (events/sse_event_stream.h).
  // Blocking, on a connection of its own; returns the status, 0 when not reached or not
  // supported (the in-process control plane has no stream).
  virtual int stream(const std::string& path_and_query, const std::string& last_event_id,
                     std::chrono::milliseconds idle_timeout,
                     const std::function<void(std::string_view)>& on_data,
                     const std::atomic<bool>& stop) {
    (void)path_and_query, (void)last_event_id, (void)idle_timeout, (void)on_data, (void)stop;
    return 0;
  }
};

// All-in-one: dispatches into the node's own router, no socket.
std::unique_ptr<ControlPlane> in_process_control_plane(std::shared_ptr<const http::Router> router,
                                                       std::string internal_username,
                                                       std::string internal_password);

// A separate gateway: HTTP or HTTPS to `base_url` (e.g. "https://cp.example:9443"), keeping one
// keep-alive connection. TLS certificates are verified unless `verify_tls` is false, against
// the PEM bundle `ca_file` when given (a cluster's own CA), else the system's trust store.
// Throws std::runtime_error when `ca_file` cannot be read. `timeout` > 0 bounds the connection
// and each call (lease calls to traffic managers); 0: 5 s to connect, 30 s a call.
std::unique_ptr<ControlPlane> http_control_plane(std::string base_url,
                                                 std::string internal_username,
                                                 std::string internal_password, bool verify_tls,
                                                 const std::string& ca_file = {},
                                                 std::chrono::milliseconds timeout = {});

// A gateway whose key manager is a node of its own: the key manager's endpoints (/oauth2/*:
// JWKS, introspection) go to `key_manager`, everything else to `control_plane`.
std::unique_ptr<ControlPlane> split_control_plane(std::unique_ptr<ControlPlane> control_plane,
                                                  std::unique_ptr<ControlPlane> key_manager);

// One thread that runs blocking control-plane work in order.
class ControlPlaneWorker {
 public:
  ControlPlaneWorker();
  ~ControlPlaneWorker();  // finishes the task at hand, drops the rest
  void post(std::function<void()> task);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace portico::gateway
