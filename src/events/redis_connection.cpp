#include "events/redis_connection.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>

#include <charconv>
#include <stdexcept>

namespace portico::events {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

int parse_int(std::string_view text, int min, int max, const char* what) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < min || v > max)
    throw std::invalid_argument(std::string("redis URL: ") + what + " '" + std::string(text) +
                                "' is not a number from " + std::to_string(min) + " to " +
                                std::to_string(max));
  return v;
}

}  // namespace

RedisAddress parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme)
    throw std::invalid_argument("redis URL '" + std::string(url) +
                                "' does not start with redis://");
  RedisAddress a;
  auto rest = url.substr(kScheme.size());
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto credentials = rest.substr(0, at);
    auto colon = credentials.find(':');
    a.password =
        std::string(colon == std::string_view::npos ? credentials : credentials.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty()) a.db = parse_int(db, 0, 1 << 20, "database");
    rest = rest.substr(0, slash);
  }
  // host, host:port, [v6], [v6]:port
  auto host_end = !rest.empty() && rest.front() == '[' ? rest.find(']') : std::string_view::npos;
  auto colon = rest.find(':');
  if (!rest.empty() && rest.front() == '[') {
    if (host_end == std::string_view::npos)
      throw std::invalid_argument("redis URL '" + std::string(url) + "' has an unclosed [");
    colon = host_end + 1 < rest.size() && rest[host_end + 1] == ':' ? host_end + 1
                                                                    : std::string_view::npos;
  }
  if (colon != std::string_view::npos) {
    a.port = parse_int(rest.substr(colon + 1), 1, 65535, "port");
    rest = rest.substr(0, colon);
  }
  if (rest.size() > 2 && rest.front() == '[') rest = rest.substr(1, rest.size() - 2);
  if (rest.empty()) throw std::invalid_argument("redis URL '" + std::string(url) + "' has no host");
  a.host = std::string(rest);
  return a;
}

void ReplyDeleter::operator()(redisReply* r) const {
  freeReplyObject(r);
}

RedisConnection::RedisConnection(RedisAddress address, std::chrono::milliseconds timeout)
    : address_(std::move(address)), timeout_(timeout) {}

RedisConnection::~RedisConnection() {
  close();
}

void RedisConnection::close() {
  std::lock_guard lock(fd_mutex_);
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

void RedisConnection::interrupt() {
  std::lock_guard lock(fd_mutex_);
  if (ctx_ && ctx_->fd >= 0) ::shutdown(ctx_->fd, SHUT_RDWR);
}

bool RedisConnection::ensure_connected() {
  if (ctx_) return true;
  redisContext* c =
      redisConnectWithTimeout(address_.host.c_str(), address_.port, to_timeval(timeout_));
  if (!c || c->err) {
    last_error_ = c ? c->errstr : "cannot allocate a Redis context";
    if (c) redisFree(c);
    return false;
  }
  redisSetTimeout(c, to_timeval(timeout_));
  {
    std::lock_guard lock(fd_mutex_);
    ctx_ = c;
  }
  auto check = [&](std::vector<std::string> args) {
    auto r = command(args);
    if (!r || r->type == REDIS_REPLY_ERROR) {
      if (r) last_error_ = std::string(r->str, r->len);
      close();
      return false;
    }
    return true;
  };
  if (!address_.password.empty() && !check({"AUTH", address_.password})) return false;
  if (address_.db != 0 && !check({"SELECT", std::to_string(address_.db)})) return false;
  return true;
}

Reply RedisConnection::command(const std::vector<std::string>& args,
                               std::chrono::milliseconds extra_timeout) {
  if (!ctx_) return nullptr;
  if (extra_timeout.count() > 0) redisSetTimeout(ctx_, to_timeval(timeout_ + extra_timeout));
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (!raw) {
    last_error_ = ctx_->errstr;
    close();
    return nullptr;
  }
  if (extra_timeout.count() > 0) redisSetTimeout(ctx_, to_timeval(timeout_));
  return Reply(raw);
}

}  // namespace portico::events
