#include "gateway/control_plane.h"

#include <openssl/ssl.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "common/crypto.h"
#include "common/log.h"

namespace portico::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kCallTimeout = std::chrono::seconds(30);
// A page of 1000 runtime artifacts carries 1000 API documents; bounded all the same, so that
// a misbehaving peer cannot exhaust the gateway's memory.
constexpr std::uint64_t kMaxResponseBytes = 256ull * 1024 * 1024;
constexpr std::uint32_t kMaxResponseHeaderBytes = 64 * 1024;

std::string basic_authorization(const std::string& username, const std::string& password) {
  return "Basic " + crypto::base64_encode(username + ":" + password);
}

// ---- in-process ----------------------------------------------------------------------------

class InProcessControlPlane final : public ControlPlane {
 public:
  InProcessControlPlane(std::shared_ptr<const http::Router> router, std::string username,
                        std::string password)
      : router_(std::move(router)), authorization_(basic_authorization(username, password)) {}

  ControlPlaneResponse call(std::string_view method, std::string_view path_and_query,
                            std::string_view content_type, std::string_view body,
                            bool internal_credential) override {
    try {
      if (!router_ || path_and_query.empty() || path_and_query.front() != '/') return {};
      http::Request request;
      request.method = std::string(method);
      request.target = std::string(path_and_query);
      // As the HTTP session splits a target: percent-decoded path, form-decoded query.
      auto question = path_and_query.find('?');
      auto path = boost::urls::make_pct_string_view(path_and_query.substr(0, question));
      if (!path) return {};
      request.path = path->decode();
      if (question != std::string_view::npos) {
        auto query = http::parse_form(path_and_query.substr(question + 1));
        if (!query) return {};
        request.query = std::move(*query);
      }
      request.headers.set("Host", "localhost");
      if (!content_type.empty()) request.headers.set("Content-Type", std::string(content_type));
      if (internal_credential) request.headers.set("Authorization", authorization_);
      request.body = std::string(body);
      request.remote_address = "127.0.0.1";
      http::Response response = router_->dispatch(request);
      return {response.status, std::move(response.body)};
    } catch (const std::exception& e) {
      spdlog::warn("in-process control plane: {} {} failed: {}", method, path_and_query, e.what());
      return {};
    } catch (...) {
      return {};
    }
  }

 private:
  std::shared_ptr<const http::Router> router_;
  std::string authorization_;
};

// ---- HTTP(S) -------------------------------------------------------------------------------

// A synchronous client over Beast's asynchronous operations: each call runs the private
// io_context until the operation completes, so that tcp_stream's deadlines bound every step
// (Beast's synchronous calls have no timeouts).
class HttpControlPlane final : public ControlPlane {
 public:
  HttpControlPlane(std::string base_url, std::string username, std::string password,
                   bool verify_tls, const std::string& ca_file, std::chrono::milliseconds timeout)
      : connect_timeout_(timeout.count() > 0 ? Clock::duration(timeout) : kConnectTimeout),
        call_timeout_(timeout.count() > 0 ? Clock::duration(timeout) : kCallTimeout),
        base_url_(std::move(base_url)),
        authorization_(basic_authorization(username, password)),
        verify_tls_(verify_tls),
        ssl_context_(ssl::context::tls_client) {
    auto url = boost::urls::parse_absolute_uri(base_url_);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
      spdlog::error("control plane URL '{}' is not an http(s) URL with a host", base_url_);
      return;
    }
    tls_ = url->scheme() == "https";
    if (url->host_type() == boost::urls::host_type::ipv6) {
      host_ = url->host_ipv6_address().to_string();
      ip_literal_ = true;
    } else {
      host_ = url->host();
      ip_literal_ = url->host_type() == boost::urls::host_type::ipv4;
    }
    port_ = url->has_port() && !url->port().empty() ? std::string(url->port())
                                                    : std::string(tls_ ? "443" : "80");
    host_header_ = std::string(url->encoded_host_and_port());
    base_path_ = std::string(url->encoded_path());
    while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
    if (tls_) {
      ssl_context_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                               ssl::context::no_tlsv1_1);
      if (verify_tls_) {
        // The cluster's own CA when given; else the system's trust store (SSL_CERT_FILE /
        // SSL_CERT_DIR override it, as for curl).
        if (ca_file.empty())
          ssl_context_.set_default_verify_paths();
        else
          load_ca_file(ca_file);
        ssl_context_.set_verify_mode(ssl::verify_peer);
      } else {
        ssl_context_.set_verify_mode(ssl::verify_none);
      }
    }
    valid_ = true;
  }

  ~HttpControlPlane() override { close(); }

  ControlPlaneResponse call(std::string_view method, std::string_view path_and_query,
                            std::string_view content_type, std::string_view body,
                            bool internal_credential) override {
    std::lock_guard lock(mutex_);
    if (!valid_ || path_and_query.empty() || path_and_query.front() != '/') return {};
    try {
      const auto deadline = Clock::now() + call_timeout_;
      bhttp::request<bhttp::string_body> request;
      auto verb = bhttp::string_to_verb(method);
      if (verb == bhttp::verb::unknown)
        request.method_string(method);
      else
        request.method(verb);
      request.target(base_path_ + std::string(path_and_query));
      request.version(11);
      request.set(bhttp::field::host, host_header_);
      request.set(bhttp::field::user_agent, "portico-gateway");
      request.set(bhttp::field::accept, "application/json");
      if (!content_type.empty()) request.set(bhttp::field::content_type, content_type);
      if (internal_credential) request.set(bhttp::field::authorization, authorization_);
      request.body() = std::string(body);
      request.prepare_payload();
      request.keep_alive(true);

      // A kept-alive connection the server has since closed fails at once and without a byte
      // of response: that one case is retried, on a fresh connection. Nothing else is (the
      // request may have been acted on).
      for (int attempt = 0; attempt < 2; ++attempt) {
        bool reused = connected_;
        if (!connected_ && !connect(deadline)) return {};
        bool got_bytes = false;
        bhttp::response<bhttp::string_body> response;
        beast::error_code ec = exchange(request, response, deadline, got_bytes);
        if (!ec) {
          if (!response.keep_alive()) close();
          return {static_cast<int>(response.result_int()), std::move(response.body())};
        }
        close();
        if (!reused || got_bytes || ec == beast::error::timeout) {
          spdlog::warn("control plane {}: {} {} failed: {}", base_url_, method, path_and_query,
                       ec.message());
          return {};
        }
      }
      return {};
    } catch (const std::exception& e) {
      close();
      spdlog::warn("control plane {}: {} {} failed: {}", base_url_, method, path_and_query,
                   e.what());
      return {};
    }
  }

  int stream(const std::string& path_and_query, const std::string& last_event_id,
             std::chrono::milliseconds idle_timeout,
             const std::function<void(std::string_view)>& on_data,
             const std::atomic<bool>& stop) override {
    std::lock_guard lock(mutex_);
    if (!valid_ || path_and_query.empty() || path_and_query.front() != '/') return 0;
    try {
      close();  // a stream has a connection of its own, from start to end
      if (!connect(Clock::now() + connect_timeout_)) return 0;
      bhttp::request<bhttp::empty_body> request{bhttp::verb::get, base_path_ + path_and_query, 11};
      request.set(bhttp::field::host, host_header_);
      request.set(bhttp::field::user_agent, "portico-gateway");
      request.set(bhttp::field::accept, "text/event-stream");
      request.set(bhttp::field::authorization, authorization_);
      if (!last_event_id.empty()) request.set("Last-Event-ID", last_event_id);
      int status = tls_ ? stream_on(*tls_stream_, request, idle_timeout, on_data, stop)
                        : stream_on(*plain_stream_, request, idle_timeout, on_data, stop);
      close();
      return status;
    } catch (...) {
      close();
      throw;  // on_data's own failure, for the caller to handle
    }
  }

 private:
  template <class Stream>
  int stream_on(Stream& stream, bhttp::request<bhttp::empty_body>& request,
                std::chrono::milliseconds idle_timeout,
                const std::function<void(std::string_view)>& on_data,
                const std::atomic<bool>& stop) {
    tcp().expires_after(kCallTimeout);
    auto ec = run_until(stop, [&](auto handler) { bhttp::async_write(stream, request, handler); });
    if (ec) return 0;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(kMaxResponseHeaderBytes);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // it goes on and on
    tcp().expires_after(idle_timeout);
    ec = run_until(
        stop, [&](auto handler) { bhttp::async_read_header(stream, buffer_, parser, handler); });
    if (ec) {
      spdlog::warn("control plane {}: event stream: {}", base_url_, ec.message());
      return 0;
    }
    int status = static_cast<int>(parser.get().result_int());
    if (status != 200) return status;
    std::array<char, 16 * 1024> piece;
    while (!parser.is_done() && !stop) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      // Every read must bring something within idle_timeout: heartbeats come more often.
      tcp().expires_after(idle_timeout);
      ec = run_until(
          stop, [&](auto handler) { bhttp::async_read_some(stream, buffer_, parser, handler); });
      if (ec == bhttp::error::need_buffer) ec = {};
      std::size_t got = piece.size() - parser.get().body().size;
      if (got > 0) on_data(std::string_view(piece.data(), got));
      if (ec) {
        spdlog::warn("control plane {}: event stream: {}", base_url_, ec.message());
        break;
      }
    }
    return status;
  }

  // As run(), and gives up (cancelling the operation) once `stop` is set.
  template <class Initiate>
  beast::error_code run_until(const std::atomic<bool>& stop, Initiate initiate) {
    beast::error_code result = asio::error::would_block;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    while (result == asio::error::would_block && !stop) {
      io_.run_for(std::chrono::milliseconds(200));
      if (io_.stopped()) io_.restart();
    }
    if (result == asio::error::would_block) {
      tcp().cancel();
      io_.restart();
      io_.run();
    }
    return result;
  }

  void load_ca_file(const std::string& ca_file) {
    beast::error_code ec;
    ssl_context_.load_verify_file(ca_file, ec);
    if (ec) throw std::runtime_error("cannot read the CA file " + ca_file + ": " + ec.message());
  }

  // Starts an asynchronous operation and runs the io_context until nothing is left to run:
  // the operation's own completion and the cancelled timers it leaves behind.
  template <class Initiate>
  beast::error_code run(Initiate initiate) {
    beast::error_code result = asio::error::would_block;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  beast::tcp_stream& tcp() { return tls_ ? tls_stream_->next_layer() : *plain_stream_; }

  bool connect(Clock::time_point deadline) {
    // Name resolution is synchronous (getaddrinfo cannot be interrupted anyway); the
    // resolver's own timeouts bound it.
    tcp::resolver resolver(io_);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host_, port_, ec);
    if (ec) {
      spdlog::warn("control plane {}: cannot resolve {}: {}", base_url_, host_, ec.message());
      return false;
    }
    if (tls_)
      tls_stream_.emplace(io_, ssl_context_);
    else
      plain_stream_.emplace(io_);
    buffer_.clear();
    tcp().expires_at(std::min(deadline, Clock::now() + connect_timeout_));
    ec = run([&](auto handler) { tcp().async_connect(endpoints, handler); });
    if (ec) {
      spdlog::warn("control plane {}: cannot connect: {}", base_url_, ec.message());
      close();
      return false;
    }
    tcp().socket().set_option(tcp::no_delay(true), ec);
    if (tls_) {
      // SNI carries names only (RFC 6066), never address literals.
      if (!ip_literal_ && !SSL_set_tlsext_host_name(tls_stream_->native_handle(), host_.c_str())) {
        close();
        return false;
      }
      if (verify_tls_) tls_stream_->set_verify_callback(ssl::host_name_verification(host_));
      tcp().expires_at(std::min(deadline, Clock::now() + connect_timeout_));
      ec = run(
          [&](auto handler) { tls_stream_->async_handshake(ssl::stream_base::client, handler); });
      if (ec) {
        spdlog::warn("control plane {}: TLS handshake failed: {}", base_url_, ec.message());
        close();
        return false;
      }
    }
    connected_ = true;
    return true;
  }

  template <class Stream>
  beast::error_code exchange_on(Stream& stream, bhttp::request<bhttp::string_body>& request,
                                bhttp::response<bhttp::string_body>& response,
                                Clock::time_point deadline, bool& got_bytes) {
    tcp().expires_at(deadline);
    beast::error_code ec = run([&](auto handler) { bhttp::async_write(stream, request, handler); });
    if (ec) return ec;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    parser.header_limit(kMaxResponseHeaderBytes);
    ec = run([&](auto handler) { bhttp::async_read(stream, buffer_, parser, handler); });
    got_bytes = parser.got_some() || buffer_.size() > 0;
    if (ec) return ec;
    response = parser.release();
    return {};
  }

  beast::error_code exchange(bhttp::request<bhttp::string_body>& request,
                             bhttp::response<bhttp::string_body>& response,
                             Clock::time_point deadline, bool& got_bytes) {
    if (tls_) return exchange_on(*tls_stream_, request, response, deadline, got_bytes);
    return exchange_on(*plain_stream_, request, response, deadline, got_bytes);
  }

  // Drops the connection without a TLS close_notify: waiting for the peer's answer would
  // block, and the peer learns of the close from the TCP FIN all the same.
  void close() {
    connected_ = false;
    beast::error_code ignored;
    if (tls_stream_) {
      tls_stream_->next_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
      tls_stream_->next_layer().close();
      tls_stream_.reset();
    }
    if (plain_stream_) {
      plain_stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
      plain_stream_->close();
      plain_stream_.reset();
    }
    buffer_.clear();
  }

  std::mutex mutex_;  // one call at a time on the one connection
  Clock::duration connect_timeout_;
  Clock::duration call_timeout_;
  std::string base_url_;
  std::string authorization_;
  bool verify_tls_;
  bool valid_ = false;
  bool tls_ = false;
  bool ip_literal_ = false;
  std::string host_, port_, host_header_, base_path_;
  asio::io_context io_{1};
  ssl::context ssl_context_;
  std::optional<beast::tcp_stream> plain_stream_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace

std::unique_ptr<ControlPlane> in_process_control_plane(std::shared_ptr<const http::Router> router,
                                                       std::string internal_username,
                                                       std::string internal_password) {
  return std::make_unique<InProcessControlPlane>(std::move(router), std::move(internal_username),
                                                 std::move(internal_password));
}

std::unique_ptr<ControlPlane> http_control_plane(std::string base_url,
                                                 std::string internal_username,
                                                 std::string internal_password, bool verify_tls,
                                                 const std::string& ca_file,
                                                 std::chrono::milliseconds timeout) {
  return std::make_unique<HttpControlPlane>(std::move(base_url), std::move(internal_username),
                                            std::move(internal_password), verify_tls, ca_file,
                                            timeout);
}

namespace {

class SplitControlPlane final : public ControlPlane {
 public:
  SplitControlPlane(std::unique_ptr<ControlPlane> control_plane,
                    std::unique_ptr<ControlPlane> key_manager)
      : control_plane_(std::move(control_plane)), key_manager_(std::move(key_manager)) {}

  ControlPlaneResponse call(std::string_view method, std::string_view path_and_query,
                            std::string_view content_type, std::string_view body,
                            bool internal_credential) override {
    ControlPlane& target = path_and_query.starts_with("/oauth2/") ? *key_manager_ : *control_plane_;
    return target.call(method, path_and_query, content_type, body, internal_credential);
  }

 private:
  std::unique_ptr<ControlPlane> control_plane_;
  std::unique_ptr<ControlPlane> key_manager_;
};

}  // namespace

std::unique_ptr<ControlPlane> split_control_plane(std::unique_ptr<ControlPlane> control_plane,
                                                  std::unique_ptr<ControlPlane> key_manager) {
  return std::make_unique<SplitControlPlane>(std::move(control_plane), std::move(key_manager));
}

// ---- worker --------------------------------------------------------------------------------

struct ControlPlaneWorker::Impl {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> tasks;
  bool stopping = false;
  std::thread thread;

  void loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopping || !tasks.empty(); });
        if (stopping) return;
        task = std::move(tasks.front());
        tasks.pop_front();
      }
      // A task that throws must not take the thread (and every later task) with it.
      try {
        task();
      } catch (const std::exception& e) {
        spdlog::error("control-plane task failed: {}", e.what());
      } catch (...) {
        spdlog::error("control-plane task failed");
      }
    }
  }
};

ControlPlaneWorker::ControlPlaneWorker() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->loop(); });
}

ControlPlaneWorker::~ControlPlaneWorker() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    dropped.swap(impl_->tasks);
  }
  impl_->wake.notify_all();
  dropped.clear();  // outside the lock: a task's captures may post on destruction
  if (impl_->thread.get_id() == std::this_thread::get_id()) {
    // Destroyed by its own task: the thread still runs the end of loop(), which reads Impl;
    // leave both to it (a one-off leak beats a use after free).
    impl_->thread.detach();
    (void)impl_.release();
  } else if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
}

void ControlPlaneWorker::post(std::function<void()> task) {
  if (!task) return;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return;
    impl_->tasks.push_back(std::move(task));
  }
  impl_->wake.notify_one();
}

}  // namespace portico::gateway
