#pragma once
// Internal to src/gateway: the upstream side of one API call. Picks the endpoint (failover,
// load balance, suspensions), takes a pooled connection or opens one, sends the request head
// and relays the body the client side reads, reads the backend's response head and relays
// its body to the client side, and maps transport failures to the reference's errors.
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "gateway/proxy_wire.h"

namespace portico::gateway {

// The client side (the downstream connection) as the upstream side sees it.
class ExchangeClient {
 public:
  // Keeps the client's session alive while an operation of the exchange is under way.
  virtual std::shared_ptr<void> hold() = 0;
  // The request has no body left to read from the client.
  virtual bool request_done() const = 0;
  // Reads the next piece of the request body into the shared body buffer, then calls
  // UpstreamExchange::write_request_piece (failures of the client's read it answers itself).
  virtual void read_request_piece() = 0;
  // The backend's response head is in UpstreamExchange::response(): mediate and write it.
  virtual void on_response_head() = 0;
  // `got` bytes of the response body are in the shared body buffer: write them, then call
  // UpstreamExchange::relay_response_body, or end the exchange after the last.
  virtual void write_response_piece(std::size_t got) = 0;
  // Bytes of the response went to the client already.
  virtual bool response_started() const = 0;
  virtual void local_reply(int status, long code, std::string_view message,
                           std::string_view description, std::string_view error_type) = 0;
  // Nothing sensible can follow on either connection: close the client's.
  virtual void abort() = 0;

 protected:
  ~ExchangeClient() = default;
};

class UpstreamExchange {
 public:
  using ResponseParser =
      boost::beast::http::response_parser<boost::beast::http::buffer_body, FieldsAllocator>;

  // Everything referenced belongs to the client's session and outlives the exchange.
  UpstreamExchange(ExchangeClient& client, ThreadState& thread, RequestContext& ctx,
                   const ClientRequest& request, Deadline& client_deadline,
                   std::pmr::memory_resource& fields_arena, std::span<char, kBodyChunk> body);

  // The request passed the filters: proxy it to an endpoint of its API.
  void start();
  // The client side read `got` more bytes of the request body into the shared buffer.
  void write_request_piece(std::size_t got);
  // Reads the next piece of the response body for ExchangeClient::write_response_piece.
  void relay_response_body();
  // The response as the backend sent it (head and framing), once on_response_head was called.
  const ResponseParser& response() const { return *response_; }

  // The exchange is over: the connection goes back to the pool when both sides of it ended
  // cleanly, else it is closed.
  void finish(bool request_done);
  // Closes the backend connection (the exchange failed).
  void drop_connection() { upstream_.reset(); }
  // The server is shutting down: the connection's operation under way fails.
  void close_connection();
  // The client's side has an operation under way: the backend is not timed meanwhile.
  void stop_timer();
  // Before the next request: the response parser goes, with the arena it used.
  void reset() { response_.reset(); }

 private:
  void pick_endpoint();
  void try_next_endpoint(long last_code);
  void acquire_connection();
  void acquire_fresh();
  void build_upstream_head();
  void append_query(std::string& out);
  void send_upstream_head();
  void read_upstream_head();
  void on_upstream_head(beast::error_code ec);
  bool request_had_body() const;
  bool idempotent() const;
  void upstream_io_failed(beast::error_code ec, bool request_sent);
  void upstream_failed(long code);
  void time_upstream();

  ExchangeClient& client_;
  ThreadState& thread_;
  RequestContext& ctx_;
  const ClientRequest& request_;
  Deadline& client_deadline_;
  std::pmr::memory_resource& fields_arena_;
  std::span<char, kBodyChunk> body_;

  const EndpointGroup* group_ = nullptr;
  const Endpoint* endpoint_ = nullptr;
  std::size_t next_index_ = 0;
  std::size_t attempts_ = 0;
  std::unique_ptr<UpstreamConnection> upstream_;
  std::optional<ResponseParser> response_;
  std::string upstream_head_;
  std::string forwarded_for_;
  BodyPieceWrite piece_write_;
  bool upstream_chunked_ = false;
  bool upstream_head_pending_ = false;
};

}  // namespace portico::gateway
