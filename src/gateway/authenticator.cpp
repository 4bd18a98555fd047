#include "gateway/authenticator.h"

#include <boost/asio/post.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <limits>
#include <mutex>
#include <set>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "gateway/jwt_validator.h"
#include "gateway/token_cache.h"
#include "http/message.h"

namespace json = boost::json;

namespace portico::gateway {
namespace {

// Cache domains: the same text presented as a bearer token, an API key or a Basic credential
// is three different questions.
constexpr unsigned char kDomainBearer = 'B';
constexpr unsigned char kDomainApiKey = 'K';
constexpr unsigned char kDomainBasic = 'U';

// Key Manager opaque tokens are 43 characters; anything much longer is not one of them and is
// not worth a round trip.
constexpr std::size_t kMaxOpaqueTokenBytes = 4096;
// base64 of the internal API's longest accepted username and password (100 + 1024 bytes).
constexpr std::size_t kMaxBasicBytes = 2048;
// A refusal from the control plane (inactive token, wrong password) is remembered this long:
// long enough to stop a client from hammering the control plane with the same credential,
// short enough that a credential that became valid is not refused for long.
constexpr std::int64_t kRefusalCacheSeconds = 10;
// Users deleted recently, remembered so that each I/O thread can drop their cached Basic
// credentials; a thread that fell further behind drops all of its Basic entries.
constexpr std::size_t kMaxTombstones = 1024;
// Control-plane work waiting on the worker. A flood of made-up opaque tokens or Basic
// credentials must not queue without bound (each costs a round trip): beyond this many, the
// answer is kUnavailable at once.
constexpr std::int64_t kMaxPendingResolves = 4096;
// Basic checks waiting for their thread; each costs a password hash on the control plane, whose
// own queue ([security] hash_queue) is the real bound. Beyond this many, kUnavailable at once.
constexpr std::int64_t kMaxPendingBasic = 256;
// The control plane's code for a locked account or address.
constexpr std::string_view kLockedCode = "17003";

constexpr std::string_view kNoCredential = "no credential";
constexpr std::string_view kTokenTooLong = "token too long";
constexpr std::string_view kUnknownKid = "unknown signing key";
constexpr std::string_view kKeysUnavailable = "signing keys unavailable";
constexpr std::string_view kUnreachable = "control plane unreachable";
constexpr std::string_view kIntrospectionFailed = "introspection failed";
constexpr std::string_view kIntrospectionRefused = "introspection refused the gateway";
constexpr std::string_view kIntrospectionMalformed = "introspection answer malformed";
constexpr std::string_view kInactive = "token inactive";
constexpr std::string_view kNotAccessToken = "not an access token";
constexpr std::string_view kBasicMalformed = "malformed Basic credential";
constexpr std::string_view kBasicWrong = "wrong username or password";
constexpr std::string_view kBasicFailed = "user check failed";
constexpr std::string_view kBasicRefused = "user check refused the gateway";
constexpr std::string_view kBasicMalformedAnswer = "user check answer malformed";
constexpr std::string_view kShuttingDown = "authenticator stopped";
constexpr std::string_view kBusy = "too many credentials waiting for the control plane";

AuthResult ok(std::shared_ptr<const Principal> principal) {
  return AuthResult{AuthResult::Status::kOk, std::move(principal), {}};
}
AuthResult invalid(std::string_view detail) {
  return AuthResult{AuthResult::Status::kInvalid, nullptr, detail};
}
AuthResult unavailable(std::string_view detail) {
  return AuthResult{AuthResult::Status::kUnavailable, nullptr, detail};
}

AuthResult from_entry(const CacheEntry& entry) {
  return entry.principal ? ok(entry.principal) : invalid(entry.detail);
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  if (b > 0 && a > std::numeric_limits<std::int64_t>::max() - b)
    return std::numeric_limits<std::int64_t>::max();
  return a + b;
}

// The time and the outcome of the last JWKS refetch, in one atomic word so that a reader never
// pairs one refetch's time with another's outcome.
constexpr std::int64_t kNeverFetched = std::numeric_limits<std::int64_t>::min();
std::int64_t pack_refetch(std::int64_t now, bool succeeded) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(now) << 1) | (succeeded ? 1 : 0);
}
std::int64_t refetch_time(std::int64_t packed) {
  return packed >> 1;
}
bool refetch_succeeded(std::int64_t packed) {
  return (packed & 1) != 0;
}

// user:password out of base64 (RFC 7617). False when it is not that shape.
bool split_basic(std::string_view value, std::string& username, std::string& password) {
  if (value.empty() || value.size() > kMaxBasicBytes) return false;
  auto decoded = crypto::base64_decode(value);
  if (!decoded) return false;
  auto colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return false;
  username = decoded->substr(0, colon);
  password = decoded->substr(colon + 1);
  return true;
}

// Authenticators alive in this process, so that a thread creating its cache for a new one can
// drop the caches it kept for those that are gone.
std::mutex live_mutex;
std::set<std::uint64_t>& live_ids() {
  static std::set<std::uint64_t> ids;
  return ids;
}
std::atomic<std::uint64_t> next_id{1};

}  // namespace

// What an I/O thread keeps for one Authenticator: its cache and its view of the shared state.
struct ThreadState {
  explicit ThreadState(std::size_t capacity) : cache(capacity) {}
  TokenCache cache;
  std::shared_ptr<const KeySet> keys;
  std::uint64_t key_generation = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t user_generation = 0;
};

// Everything the worker's tasks and the posted callbacks touch, shared with them so that an
// Authenticator destroyed with work in flight leaves them nothing dangling.
struct Core {
  Core(AuthenticatorOptions opts, ControlPlane& cp, ControlPlaneWorker& w)
      : options(std::move(opts)),
        control_plane(cp),
        worker(w),
        salt(crypto::random_bytes(16)),
        hasher(salt),
        id(next_id.fetch_add(1)),
        keys(std::make_shared<const KeySet>()),
        worker_cache(options.cache_entries_per_thread),
        basic_worker_cache(options.cache_entries_per_thread) {
    rules.leeway_seconds = options.leeway_seconds;
    rules.issuer = options.issuer;
    std::lock_guard lock(live_mutex);
    live_ids().insert(id);
  }
  ~Core() {
    std::lock_guard lock(live_mutex);
    live_ids().erase(id);
  }

  ThreadState& thread_state();
  // This thread's view of the key set, refreshed when a new one was published.
  const KeySet& thread_keys(ThreadState& st);
  // Drops this thread's cached Basic credentials of users deleted since it last looked.
  void apply_forgotten(ThreadState& st);
  std::pair<std::shared_ptr<const KeySet>, std::uint64_t> current_keys();

  bool load_jwks();
  bool apply_jwks(const std::string& text, std::string_view origin);
  std::optional<AuthResult> unknown_kid_verdict(std::int64_t now) const;

  std::optional<AuthResult> try_jwt(std::string_view token, JwtUse use, unsigned char domain,
                                    std::int64_t now);
  std::optional<AuthResult> try_cached(std::string_view value, unsigned char domain,
                                       std::int64_t now);
  std::optional<AuthResult> try_basic(std::string_view value, std::int64_t now);

  // The answer of a worker task and what the requesting thread should cache.
  struct Resolved {
    AuthResult result;
    bool cache = false;
    TokenKey key{};
    CacheEntry entry;
  };
  Resolved resolve_jwt(const std::string& token, JwtUse use, unsigned char domain,
                       std::int64_t now);
  Resolved resolve_opaque(const std::string& token, std::int64_t now);
  Resolved resolve_basic(const std::string& value, const std::string& client_ip, std::int64_t now);
  Resolved answer(Resolved r, std::int64_t now);

  AuthenticatorOptions options;
  JwtRules rules;
  ControlPlane& control_plane;
  ControlPlaneWorker& worker;
  const std::string salt;
  const TokenHasher hasher;
  const std::uint64_t id;

  std::mutex mutex;       // guards `keys`, `jwks_text` and `tombstones`; never taken on a cache hit
  std::string jwks_text;  // the document `keys` were parsed from, for the snapshot file
  std::shared_ptr<const KeySet> keys;
  std::atomic<std::uint64_t> key_generation{0};
  std::atomic<std::int64_t> last_refetch{kNeverFetched};

  std::atomic<std::uint64_t> user_generation{0};
  std::deque<std::pair<std::uint64_t, std::string>> tombstones;  // (generation, username)

  // Answers the worker fetched, so that the same new credential seen by several I/O threads
  // (each with its own cache) costs one control-plane call. Touched on the worker thread only.
  TokenCache worker_cache;
  // The same for Basic answers, touched on the Basic thread only.
  TokenCache basic_worker_cache;
  std::atomic<bool> stopped{false};
  std::atomic<std::int64_t> pending{0};
  std::atomic<std::int64_t> pending_basic{0};
};

ThreadState& Core::thread_state() {
  thread_local std::vector<std::pair<std::uint64_t, std::unique_ptr<ThreadState>>> states;
  for (auto& [state_id, state] : states)
    if (state_id == id) return *state;
  {
    std::lock_guard lock(live_mutex);
    std::erase_if(states, [](const auto& s) { return live_ids().count(s.first) == 0; });
  }
  states.emplace_back(id, std::make_unique<ThreadState>(options.cache_entries_per_thread));
  return *states.back().second;
}

const KeySet& Core::thread_keys(ThreadState& st) {
  if (key_generation.load(std::memory_order_acquire) != st.key_generation) {
    std::lock_guard lock(mutex);
    st.keys = keys;
    st.key_generation = key_generation.load(std::memory_order_relaxed);
  }
  return *st.keys;
}

void Core::apply_forgotten(ThreadState& st) {
  if (user_generation.load(std::memory_order_acquire) == st.user_generation) return;
  std::vector<std::string> names;
  bool all = false;
  std::uint64_t seen;
  {
    std::lock_guard lock(mutex);
    seen = user_generation.load(std::memory_order_relaxed);
    if (tombstones.empty() || tombstones.front().first > st.user_generation + 1) {
      all = true;
    } else {
      for (const auto& [generation, name] : tombstones)
        if (generation > st.user_generation) names.push_back(name);
    }
  }
  st.cache.erase_if([&](const CacheEntry& e) {
    if (!e.principal || e.principal->kind != Principal::Kind::kBasic) return false;
    return all || std::find(names.begin(), names.end(), e.principal->user) != names.end();
  });
  st.user_generation = seen;
}

std::pair<std::shared_ptr<const KeySet>, std::uint64_t> Core::current_keys() {
  std::lock_guard lock(mutex);
  return {keys, key_generation.load(std::memory_order_relaxed)};
}

bool Core::load_jwks() {
  auto response = control_plane.call("GET", "/oauth2/jwks", "", "", false);
  if (response.status != 200) {
    spdlog::warn("gateway: JWKS fetch failed (status {})", response.status);
    return false;
  }
  return apply_jwks(response.body, "the control plane's");
}

bool Core::apply_jwks(const std::string& text, std::string_view origin) {
  std::size_t skipped = 0;
  auto parsed = KeySet::parse(text, &skipped);
  if (!parsed) {
    spdlog::warn("gateway: {} JWKS is not a JWKS document", origin);
    return false;
  }
  if (skipped != 0) spdlog::warn("gateway: {} unusable key(s) in the JWKS skipped", skipped);
  auto fresh = std::make_shared<const KeySet>(std::move(*parsed));
  std::lock_guard lock(mutex);
  keys = std::move(fresh);
  jwks_text = text;
  key_generation.fetch_add(1, std::memory_order_release);
  return true;
}

// An unknown kid shortly after a refetch: the refetch already told what there is to know.
std::optional<AuthResult> Core::unknown_kid_verdict(std::int64_t now) const {
  std::int64_t last = last_refetch.load(std::memory_order_acquire);
  if (last == kNeverFetched) return std::nullopt;
  std::int64_t at = refetch_time(last);
  // A clock that went back counts as within the period: no refetch storm on a clock step.
  if (now - at >= options.jwks_refetch_seconds) return std::nullopt;
  return refetch_succeeded(last) ? invalid(kUnknownKid) : unavailable(kKeysUnavailable);
}

std::optional<AuthResult> Core::try_jwt(std::string_view token, JwtUse use, unsigned char domain,
                                        std::int64_t now) {
  ThreadState& st = thread_state();
  const KeySet& key_set = thread_keys(st);
  TokenKey key;
  bool hashed = hasher.hash(domain, token, key);
  if (hashed) {
    // An entry verified against an older key set is checked again: a key withdrawn from the
    // JWKS stops its tokens at once, not at their expiry.
    const CacheEntry* e = st.cache.find(key, now);
    if (e != nullptr && e->generation == st.key_generation) return from_entry(*e);
  }
  JwtVerdict verdict = validate_jwt(token, use, key_set, rules, now);
  if (verdict.outcome == JwtVerdict::Outcome::kUnknownKid) return unknown_kid_verdict(now);
  if (hashed && verdict.cache_until > now) {
    st.cache.insert(
        key, CacheEntry{verdict.principal, verdict.cache_until, st.key_generation, verdict.detail},
        now);
  }
  return verdict.principal ? ok(std::move(verdict.principal)) : invalid(verdict.detail);
}

std::optional<AuthResult> Core::try_cached(std::string_view value, unsigned char domain,
                                           std::int64_t now) {
  ThreadState& st = thread_state();
  TokenKey key;
  if (!hasher.hash(domain, value, key)) return std::nullopt;
  const CacheEntry* e = st.cache.find(key, now);
  if (e == nullptr) return std::nullopt;
  return from_entry(*e);
}

std::optional<AuthResult> Core::try_basic(std::string_view value, std::int64_t now) {
  if (value.empty()) return invalid(kNoCredential);
  if (value.size() > kMaxBasicBytes) return invalid(kBasicMalformed);
  ThreadState& st = thread_state();
  apply_forgotten(st);
  TokenKey key;
  if (hasher.hash(kDomainBasic, value, key)) {
    if (const CacheEntry* e = st.cache.find(key, now)) return from_entry(*e);
  }
  // Decoded only on a miss: a hit proves the credential had the right shape.
  std::string username, password;
  if (!split_basic(value, username, password)) return invalid(kBasicMalformed);
  return std::nullopt;
}

Core::Resolved Core::answer(Resolved r, std::int64_t now) {
  // What the worker learnt also serves the next I/O thread that asks.
  if (r.cache) worker_cache.insert(r.key, r.entry, now);
  return r;
}

Core::Resolved Core::resolve_jwt(const std::string& token, JwtUse use, unsigned char domain,
                                 std::int64_t now) {
  Resolved r;
  auto [key_set, generation] = current_keys();
  JwtVerdict verdict = validate_jwt(token, use, *key_set, rules, now);
  if (verdict.outcome == JwtVerdict::Outcome::kUnknownKid) {
    // Tasks run one at a time on the worker, so two unknown kids never refetch together;
    // the second one finds the first refetch's time here.
    if (auto recent = unknown_kid_verdict(now)) {
      r.result = *recent;
      return r;
    }
    bool fetched = load_jwks();
    last_refetch.store(pack_refetch(now, fetched), std::memory_order_release);
    if (!fetched) {
      r.result = unavailable(kKeysUnavailable);
      return r;
    }
    std::tie(key_set, generation) = current_keys();
    verdict = validate_jwt(token, use, *key_set, rules, now);
    if (verdict.outcome == JwtVerdict::Outcome::kUnknownKid) {
      r.result = invalid(kUnknownKid);
      return r;
    }
  }
  r.result = verdict.principal ? ok(verdict.principal) : invalid(verdict.detail);
  if (verdict.cache_until > now && hasher.hash(domain, token, r.key)) {
    r.cache = true;
    r.entry =
        CacheEntry{std::move(verdict.principal), verdict.cache_until, generation, verdict.detail};
  }
  return r;
}

Core::Resolved Core::resolve_opaque(const std::string& token, std::int64_t now) {
  Resolved r;
  if (!hasher.hash(kDomainBearer, token, r.key)) {
    r.result = unavailable(kIntrospectionFailed);
    return r;
  }
  if (const CacheEntry* e = worker_cache.find(r.key, now)) {
    r.result = from_entry(*e);
    r.cache = true;
    r.entry = *e;
    return r;
  }
  std::string body = "token=" + http::percent_encode(token);
  auto response = control_plane.call("POST", "/oauth2/introspect",
                                     "application/x-www-form-urlencoded", body, true);
  if (response.status == 0) {
    r.result = unavailable(kUnreachable);
    return r;
  }
  if (response.status >= 500) {
    r.result = unavailable(kIntrospectionFailed);
    return r;
  }
  if (response.status != 200) {
    // 401: the control plane does not take this gateway's [internal_api] credential. The
    // token may be fine; the gateway is not.
    spdlog::error("gateway: token introspection answered {}: check [internal_api]",
                  response.status);
    r.result = unavailable(kIntrospectionRefused);
    return r;
  }
  json::error_code ec;
  json::value doc = json::parse(response.body, ec);
  const json::object* info = !ec && doc.is_object() ? &doc.get_object() : nullptr;
  const json::value* active = info ? info->if_contains("active") : nullptr;
  if (active == nullptr || !active->is_bool()) {
    r.result = unavailable(kIntrospectionMalformed);
    return r;
  }
  auto refuse = [&](std::string_view detail) {
    r.result = invalid(detail);
    r.cache = true;
    r.entry = CacheEntry{nullptr, saturating_add(now, kRefusalCacheSeconds), 0, detail};
    return answer(std::move(r), now);
  };
  if (!active->get_bool()) return refuse(kInactive);
  auto text = [&](std::string_view name) -> std::string {
    const json::value* v = info->if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  // The Key Manager answers active for refresh tokens too; they are not access tokens.
  std::string token_type = text("token_type");
  if (token_type == "refresh_token") return refuse(kNotAccessToken);

  auto principal = std::make_shared<Principal>();
  principal->kind = Principal::Kind::kOpaque;
  principal->jti = text("jti");
  principal->client_id = text("client_id");
  std::string keytype = text("keytype");
  for (char& c : keytype) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  principal->key_type = std::move(keytype);
  // As for JWTs: the end user only when the answer says the token carries one.
  principal->application_user = text("aut") == "APPLICATION_USER";
  if (principal->application_user) {
    principal->user = text("sub");
    if (principal->user.empty()) principal->user = text("username");
  }
  std::string scope = text("scope");
  for (std::size_t i = 0; i < scope.size();) {
    std::size_t end = scope.find(' ', i);
    if (end == std::string::npos) end = scope.size();
    if (end > i) principal->scopes.emplace_back(scope.substr(i, end - i));
    i = end + 1;
  }
  std::int64_t until = saturating_add(now, options.introspection_cache_seconds);
  if (const json::value* exp = info->if_contains("exp"); exp != nullptr && exp->is_int64()) {
    principal->expires_at = exp->get_int64();
    until = std::min(until, principal->expires_at);
  }
  r.result = ok(principal);
  r.cache = true;
  r.entry = CacheEntry{std::move(principal), until, 0, {}};
  return answer(std::move(r), now);
}

Core::Resolved Core::resolve_basic(const std::string& value, const std::string& client_ip,
                                   std::int64_t now) {
  Resolved r;
  std::string username, password;
  if (!split_basic(value, username, password)) {
    r.result = invalid(kBasicMalformed);
    return r;
  }
  if (!hasher.hash(kDomainBasic, value, r.key)) {
    r.result = unavailable(kBasicFailed);
    return r;
  }
  // Taken before the call: a user deleted while it runs must not be cached afterwards.
  std::uint64_t generation = user_generation.load(std::memory_order_acquire);
  if (const CacheEntry* e = basic_worker_cache.find(r.key, now); e && e->generation == generation) {
    r.result = from_entry(*e);
    r.cache = true;
    r.entry = *e;
    return r;
  }
  json::object request{{"username", username}, {"password", password}};
  if (!client_ip.empty()) request["clientAddress"] = client_ip;
  auto response = control_plane.call("POST", "/internal/data/v1/users/authenticate",
                                     "application/json", json::serialize(request), true);
  if (response.status == 0) {
    r.result = unavailable(kUnreachable);
    return r;
  }
  if (response.status == 401) {
    // The internal API refuses a wrong gateway credential with 401 too; its message names
    // [internal_api], and that is not the caller's fault.
    if (response.body.find("[internal_api]") != std::string::npos) {
      spdlog::error("gateway: the user check refused the [internal_api] credential");
      r.result = unavailable(kBasicRefused);
      return r;
    }
    // Locked: not remembered, so that the credential works again as soon as the lock ends.
    json::error_code ec;
    json::value refusal = json::parse(response.body, ec);
    const json::value* code =
        !ec && refusal.is_object() ? refusal.get_object().if_contains("code") : nullptr;
    if (code != nullptr &&
        ((code->is_int64() && std::to_string(code->get_int64()) == kLockedCode) ||
         (code->is_string() && code->get_string() == kLockedCode))) {
      r.result = invalid(kAccountLockedDetail);
      return r;
    }
    r.result = invalid(kBasicWrong);
    r.cache = true;
    r.entry =
        CacheEntry{nullptr, saturating_add(now, kRefusalCacheSeconds), generation, kBasicWrong};
    if (r.cache) basic_worker_cache.insert(r.key, r.entry, now);
    return r;
  }
  if (response.status != 200) {
    if (response.status < 500)
      spdlog::error("gateway: the user check answered {}", response.status);
    r.result = unavailable(kBasicFailed);
    return r;
  }
  json::error_code ec;
  json::value doc = json::parse(response.body, ec);
  const json::object* user = !ec && doc.is_object() ? &doc.get_object() : nullptr;
  const json::value* name = user ? user->if_contains("username") : nullptr;
  const json::value* roles = user ? user->if_contains("roles") : nullptr;
  if (name == nullptr || !name->is_string() || name->get_string().empty() ||
      (roles != nullptr && !roles->is_array())) {
    r.result = unavailable(kBasicMalformedAnswer);
    return r;
  }
  auto principal = std::make_shared<Principal>();
  principal->kind = Principal::Kind::kBasic;
  principal->user = std::string(name->get_string());
  if (roles != nullptr) {
    for (const auto& role : roles->get_array())
      if (role.is_string()) principal->roles.emplace_back(role.get_string());
  }
  r.result = ok(principal);
  r.cache = true;
  r.entry = CacheEntry{
      std::move(principal), saturating_add(now, options.basic_cache_seconds), generation, {}};
  if (r.cache) basic_worker_cache.insert(r.key, r.entry, now);
  return r;
}

struct Authenticator::Impl {
  explicit Impl(std::shared_ptr<Core> c) : core(std::move(c)) {}
  std::shared_ptr<Core> core;
  // Basic checks, one at a time: each waits for a password hash on the control plane.
  ControlPlaneWorker basic_worker;
};

Authenticator::Authenticator(AuthenticatorOptions options, ControlPlane& control_plane,
                             ControlPlaneWorker& worker)
    : impl_(std::make_unique<Impl>(
          std::make_shared<Core>(std::move(options), control_plane, worker))) {}

Authenticator::~Authenticator() {
  // Tasks still queued on the worker answer kUnavailable without calling the control plane.
  impl_->core->stopped.store(true, std::memory_order_release);
}

bool Authenticator::load_jwks() {
  return impl_->core->load_jwks();
}

bool Authenticator::load_jwks_document(const std::string& jwks) {
  return impl_->core->apply_jwks(jwks, "the snapshot file's");
}

std::string Authenticator::jwks_document() const {
  std::lock_guard lock(impl_->core->mutex);
  return impl_->core->jwks_text;
}

std::optional<AuthResult> Authenticator::try_now(const Credential& credential, std::int64_t now) {
  Core& core = *impl_->core;
  std::string_view value = credential.value;
  switch (credential.kind) {
    case Credential::Kind::kBearer:
      if (value.empty()) return invalid(kNoCredential);
      if (looks_like_jwt(value))
        return core.try_jwt(value, JwtUse::kAccessToken, kDomainBearer, now);
      if (value.size() > kMaxOpaqueTokenBytes) return invalid(kTokenTooLong);
      return core.try_cached(value, kDomainBearer, now);
    case Credential::Kind::kApiKey:
      if (value.empty()) return invalid(kNoCredential);
      return core.try_jwt(value, JwtUse::kApiKey, kDomainApiKey, now);
    case Credential::Kind::kBasic:
      return core.try_basic(value, now);
  }
  return invalid(kNoCredential);
}

void Authenticator::resolve(const Credential& credential, std::int64_t now,
                            boost::asio::any_io_executor executor,
                            std::function<void(AuthResult)> done) {
  std::shared_ptr<Core> core = impl_->core;
  if (credential.kind == Credential::Kind::kBasic) {
    return resolve_basic(credential, now, std::move(executor), std::move(done));
  }
  if (core->pending.fetch_add(1, std::memory_order_relaxed) >= kMaxPendingResolves) {
    core->pending.fetch_sub(1, std::memory_order_relaxed);
    boost::asio::post(executor, [done = std::move(done)] { done(unavailable(kBusy)); });
    return;
  }
  core->worker.post([core, kind = credential.kind, value = std::string(credential.value), now,
                     executor = std::move(executor), done = std::move(done)]() mutable {
    core->pending.fetch_sub(1, std::memory_order_relaxed);
    Core::Resolved r;
    if (core->stopped.load(std::memory_order_acquire)) {
      r.result = unavailable(kShuttingDown);
    } else if (value.empty()) {
      r.result = invalid(kNoCredential);
    } else if (kind == Credential::Kind::kApiKey) {
      r = core->resolve_jwt(value, JwtUse::kApiKey, kDomainApiKey, now);
    } else if (looks_like_jwt(value)) {
      r = core->resolve_jwt(value, JwtUse::kAccessToken, kDomainBearer, now);
    } else if (value.size() > kMaxOpaqueTokenBytes) {
      r.result = invalid(kTokenTooLong);
    } else {
      r = core->resolve_opaque(value, now);
    }
    boost::asio::post(executor, [core, r = std::move(r), now, done = std::move(done)]() mutable {
      // Into the cache of the thread that asked, before it hears the answer: its next request
      // with the same credential is a hit.
      bool deleted_since =
          r.entry.principal && r.entry.principal->kind == Principal::Kind::kBasic &&
          r.entry.generation != core->user_generation.load(std::memory_order_acquire);
      if (r.cache && !deleted_since) core->thread_state().cache.insert(r.key, r.entry, now);
      done(std::move(r.result));
    });
  });
}

void Authenticator::resolve_basic(const Credential& credential, std::int64_t now,
                                  boost::asio::any_io_executor executor,
                                  std::function<void(AuthResult)> done) {
  std::shared_ptr<Core> core = impl_->core;
  if (core->pending_basic.fetch_add(1, std::memory_order_relaxed) >= kMaxPendingBasic) {
    core->pending_basic.fetch_sub(1, std::memory_order_relaxed);
    boost::asio::post(executor, [done = std::move(done)] { done(unavailable(kBusy)); });
    return;
  }
  impl_->basic_worker.post([core, value = std::string(credential.value),
                            client_ip = std::string(credential.client_ip), now,
                            executor = std::move(executor), done = std::move(done)]() mutable {
    core->pending_basic.fetch_sub(1, std::memory_order_relaxed);
    Core::Resolved r;
    if (core->stopped.load(std::memory_order_acquire)) {
      r.result = unavailable(kShuttingDown);
    } else if (value.empty()) {
      r.result = invalid(kNoCredential);
    } else {
      r = core->resolve_basic(value, client_ip, now);
    }
    boost::asio::post(executor, [core, r = std::move(r), now, done = std::move(done)]() mutable {
      bool deleted_since =
          r.entry.principal &&
          r.entry.generation != core->user_generation.load(std::memory_order_acquire);
      if (r.cache && !deleted_since) core->thread_state().cache.insert(r.key, r.entry, now);
      done(std::move(r.result));
    });
  });
}

void Authenticator::forget_user(std::string_view username) {
  Core& core = *impl_->core;
  std::lock_guard lock(core.mutex);
  std::uint64_t generation = core.user_generation.load(std::memory_order_relaxed) + 1;
  core.tombstones.emplace_back(generation, std::string(username));
  if (core.tombstones.size() > kMaxTombstones) core.tombstones.pop_front();
  core.user_generation.store(generation, std::memory_order_release);
}

}  // namespace portico::gateway
