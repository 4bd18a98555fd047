#pragma once
// Internal to src/gateway: what the proxy's client side (proxy_session.cpp) and upstream side
// (proxy_upstream.cpp) both need to write HTTP/1.1 messages on the wire: hop-by-hop rules,
// field and number formatting, the body-piece gather write, and each I/O thread's own state.
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/client_request.h"
#include "gateway/context.h"
#include "gateway/filter_common.h"
#include "gateway/proxy_session.h"
#include "gateway/snapshot_store.h"
#include "gateway/upstream.h"

namespace portico::gateway {

inline constexpr std::size_t kBodyChunk = 16 * 1024;
inline constexpr std::string_view kCrlf = "\r\n";

// Beast's fields allocate once per field; the proxy gives them its connection's arena instead,
// released between requests.
using FieldsAllocator = std::pmr::polymorphic_allocator<char>;
using Fields = boost::beast::http::basic_fields<FieldsAllocator>;

// One I/O thread's own gateway state: its view of the snapshot and its backend connections.
struct ThreadState {
  net::io_context* io = nullptr;  // the worker whose thread this is
  std::unique_ptr<SnapshotReader> reader;
  std::unique_ptr<UpstreamPool> pool;
};

// Per connection, on the session's worker thread (the server calls starters there). A session
// built on any other thread would share that thread's pool and reader with other workers,
// unlocked: refused loudly instead.
ThreadState& thread_state(GatewayShared& shared, net::io_context& io);

// Fields that describe one connection, not the message (RFC 9110 §7.6.1), and the framing
// the gateway sets itself.
bool is_hop_by_hop(boost::beast::http::field f);

// Fields a message's Connection header lines name are hop-by-hop too (RFC 9110 §7.6.1).
// The list may span several lines; most messages name nothing but keep-alive or close.
class ConnectionOptions {
 public:
  explicit ConnectionOptions(const Fields& fields);
  explicit ConnectionOptions(const ClientRequest& request);
  bool names(std::string_view field) const;

 private:
  void add(std::string_view line);

  std::array<std::string_view, 8> names_{};
  std::size_t count_ = 0;
  bool overflow_ = false;
};

void append_field(std::string& out, std::string_view name, std::string_view value);
void append_number(std::string& out, std::uint64_t value);
bool removed_by(const std::vector<HeaderEdit>& edits, std::string_view name);

// One write of a relayed body: the message's head while it is still pending (it goes out with
// the first piece: one write instead of two), a piece of the body with its chunk framing when
// the message is chunked, and the last chunk at the end.
class BodyPieceWrite {
 public:
  // Empty when there is nothing to write. The buffers stay valid until the next gather.
  std::span<const net::const_buffer> gather(const std::string* pending_head, bool chunked,
                                            const char* data, std::size_t got, bool done);

 private:
  char chunk_head_[24] = {};
  std::array<net::const_buffer, 5> pieces_;
};

}  // namespace portico::gateway
