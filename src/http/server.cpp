#include "http/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include <openssl/ssl.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "common/log.h"
#include "http/session.h"

namespace portico::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {

// After a stop's drain period: how long force-closed sessions get to unwind before the
// io_contexts are stopped regardless.
constexpr std::chrono::seconds kUnwindGrace{1};

std::string host_port(const std::string& host, int port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Offer HTTP/1.1 only; a client that insists on h2 gets no ALPN answer and may fall back.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* in,
                unsigned int in_size, void*) {
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_size, kHttp11, sizeof kHttp11, in, in_size) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::unique_ptr<ssl::context> make_tls_context(const ServerOptions& options) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are all fine).
  SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL");

  boost::system::error_code ec;
  context->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    throw std::runtime_error("cannot load TLS certificate '" + options.tls_cert_file +
                             "': " + ec.message());
  }
  if (!options.tls_key_pem.empty()) {
    // Keys sealed at rest are opened by the caller and never reach the disk in the clear.
    context->use_private_key(boost::asio::buffer(options.tls_key_pem), ssl::context::pem, ec);
  } else {
    context->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot load TLS private key '" + options.tls_key_file +
                             "': " + ec.message());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    throw std::runtime_error("TLS private key '" + options.tls_key_file +
                             "' does not match certificate '" + options.tls_cert_file + "'");
  }

  // Resumption saves a full handshake per reconnect: a server-side cache for TLS 1.2 session
  // ids, and tickets (on by default in OpenSSL) for TLS 1.3 and for clients that ask.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
  static constexpr unsigned char kSessionIdContext[] = "portico";
  SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof kSessionIdContext - 1);
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
  return context;
}

// Accepts on the server's accept thread and hands each connection to the next worker in
// turn. Accepting on a thread of its own means a slow handler delays neither new
// connections for the other workers nor the closing of the listener when the server stops.
class Listener {
 public:
  Listener(detail::ServerContext& context, std::vector<std::unique_ptr<detail::Worker>>& workers,
           net::io_context& accept_io, ssl::context* tls)
      : context_(context),
        workers_(workers),
        tls_(tls),
        acceptor_(accept_io),
        retry_timer_(accept_io) {}

  // Returns the bound port; throws naming host:port when it cannot listen.
  int open(const std::string& host, int port) {
    const char* kind = tls_ != nullptr ? "HTTPS" : "HTTP";
    auto fail = [&](const boost::system::error_code& ec) {
      return std::runtime_error(std::string("cannot listen for ") + kind + " on " +
                                host_port(host, port) + ": " + ec.message());
    };
    boost::system::error_code ec;
    tcp::resolver resolver(acceptor_.get_executor());
    auto endpoints = resolver.resolve(host, std::to_string(port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec) throw fail(ec);
    if (endpoints.empty()) throw fail(net::error::host_not_found);
    tcp::endpoint endpoint = endpoints.begin()->endpoint();
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw fail(ec);
    return acceptor_.local_endpoint().port();
  }

  void accept() {
    detail::Worker& worker = *workers_[next_worker_++ % workers_.size()];
    acceptor_.async_accept(worker.io,
                           [this, &worker](boost::system::error_code ec, tcp::socket socket) {
                             if (ec == net::error::operation_aborted || !acceptor_.is_open())
                               return;
                             if (ec) {
                               // Out of descriptors, typically: retrying at once would spin.
                               spdlog::warn("accept failed: {}", ec.message());
                               retry_timer_.expires_after(std::chrono::milliseconds(100));
                               retry_timer_.async_wait([this](boost::system::error_code wait_ec) {
                                 if (!wait_ec && acceptor_.is_open()) accept();
                               });
                               return;
                             }
                             // A session is built, run and destroyed on its worker's thread
                             // only: its registry and a starter's per-thread state (the
                             // gateway's upstream pool) have no lock.
                             net::post(worker.io, [&context = context_, &worker, tls = tls_,
                                                   socket = std::move(socket)]() mutable {
                               if (context.starter) {
                                 context.starter->start(context, worker, std::move(socket), tls);
                               } else {
                                 detail::start_session(context, worker, std::move(socket), tls);
                               }
                             });
                             accept();
                           });
  }

  // On the accept thread.
  void close() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
  }

 private:
  detail::ServerContext& context_;
  std::vector<std::unique_ptr<detail::Worker>>& workers_;
  ssl::context* tls_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  std::size_t next_worker_ = 0;
};

}  // namespace

// Member order is destruction order reversed: listeners go before the accept io_context they
// are bound to, and the workers' io_contexts, whose pending handlers may still hold
// sessions, go before the context and TLS context those sessions use.
struct Server::Impl {
  Impl(ServerOptions options, std::shared_ptr<const Router> router,
       std::shared_ptr<detail::SessionStarter> starter)
      : context(std::move(options), std::move(router), std::move(starter)) {}

  detail::ServerContext context;
  std::unique_ptr<ssl::context> tls;
  std::vector<std::unique_ptr<detail::Worker>> workers;
  net::io_context accept_io{1};
  std::unique_ptr<Listener> http_listener;
  std::unique_ptr<Listener> https_listener;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_guards;
  std::vector<std::thread> threads;  // the accept thread, then one per worker
  int http_port = -1;
  int https_port = -1;
  bool started = false;
  bool stopped = false;
};

Server::Server(ServerOptions options, std::shared_ptr<const Router> router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router), nullptr)) {}

Server::Server(ServerOptions options, std::shared_ptr<detail::SessionStarter> starter)
    : impl_(std::make_unique<Impl>(std::move(options), nullptr, std::move(starter))) {}

Server::~Server() {
  if (impl_->started && !impl_->stopped) stop(std::chrono::seconds(0));
}

void Server::start() {
  Impl& impl = *impl_;
  if (impl.started) throw std::logic_error("Server::start called twice");
  const ServerOptions& options = impl.context.options;
  if (options.https_port >= 0) impl.tls = make_tls_context(options);

  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) impl.workers.push_back(std::make_unique<detail::Worker>());
  if (options.http_port >= 0) {
    impl.http_listener =
        std::make_unique<Listener>(impl.context, impl.workers, impl.accept_io, nullptr);
    impl.http_port = impl.http_listener->open(options.host, options.http_port);
  }
  if (options.https_port >= 0) {
    impl.https_listener =
        std::make_unique<Listener>(impl.context, impl.workers, impl.accept_io, impl.tls.get());
    impl.https_port = impl.https_listener->open(options.host, options.https_port);
  }
  if (impl.http_listener) impl.http_listener->accept();
  if (impl.https_listener) impl.https_listener->accept();

  std::vector<net::io_context*> contexts{&impl.accept_io};
  for (auto& worker : impl.workers) contexts.push_back(&worker->io);
  for (net::io_context* io : contexts) {
    impl.work_guards.push_back(net::make_work_guard(*io));
    impl.threads.emplace_back([io] {
      for (;;) {
        try {
          io->run();
          return;
        } catch (const std::exception& e) {
          // Handlers use error codes; this is a bug, but one connection's bug must not take
          // the whole server down.
          spdlog::error("HTTP I/O thread: unexpected exception: {}", e.what());
        }
      }
    });
  }
  impl.started = true;
  spdlog::info("HTTP server listening on {} (http port {}, https port {}, {} threads)",
               options.host, impl.http_port, impl.https_port, threads);
}

int Server::http_port() const {
  return impl_->http_port;
}
int Server::https_port() const {
  return impl_->https_port;
}

namespace {

// Runs `action` on every session of every worker, each on its worker's thread.
void for_each_session(std::vector<std::unique_ptr<detail::Worker>>& workers,
                      void (detail::SessionBase::*action)()) {
  for (auto& worker : workers) {
    net::post(worker->io, [w = worker.get(), action] {
      // Copied: the registry must not change under the loop.
      std::vector<detail::SessionBase*> sessions(w->sessions.begin(), w->sessions.end());
      for (auto* session : sessions) (session->*action)();
    });
  }
}

}  // namespace

void Server::drain() {
  Impl& impl = *impl_;
  if (!impl.started || impl.context.stopping.exchange(true)) return;
  net::post(impl.accept_io, [&impl] {
    if (impl.http_listener) impl.http_listener->close();
    if (impl.https_listener) impl.https_listener->close();
  });
  for_each_session(impl.workers, &detail::SessionBase::on_stop);
}

void Server::stop(std::chrono::seconds grace) {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  for (const auto& thread : impl.threads) {
    // Joining itself would hang forever; a handler must ask another thread to stop the server.
    if (thread.get_id() == std::this_thread::get_id()) {
      throw std::logic_error("Server::stop called from one of the server's own threads");
    }
  }
  impl.stopped = true;
  drain();
  if (!impl.context.wait_for_no_sessions(grace)) {
    spdlog::warn("HTTP server: drain period over, closing remaining connections");
    for_each_session(impl.workers, &detail::SessionBase::force_close);
    impl.context.wait_for_no_sessions(kUnwindGrace);
  }

  impl.work_guards.clear();
  impl.accept_io.stop();
  for (auto& worker : impl.workers) worker->io.stop();
  // A handler still running past the drain period is waited for here: a thread cannot be
  // interrupted safely in the middle of a handler.
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();
  spdlog::info("HTTP server stopped");
}

}  // namespace portico::http
