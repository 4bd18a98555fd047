#include "keymanager/key_ring.h"

#include <stdexcept>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/log.h"
#include "keymanager/clients.h"

namespace portico::keymanager {
namespace {

constexpr std::int64_t kSecondsPerDay = 24 * 3600;

// The sealed value is bound to its kid: a row's key copied into another row does not open.
std::string sealing_context(const std::string& kid) {
  return "signing-key:" + kid;
}

store::SigningKeyRecord fresh_key(jwt::Algorithm algorithm, const KeyEncryption& encryption) {
  auto key = jwt::SigningKey::generate(algorithm, crypto::uuid_v4());
  store::SigningKeyRecord record;
  record.kid = key.kid();
  record.algorithm = std::string(jwt::algorithm_name(algorithm));
  record.private_pem = encryption.seal(key.private_pem(), sealing_context(record.kid));
  record.created_at = unix_now();
  return record;
}

}  // namespace

KeyRing::KeyRing(store::Database& db, jwt::Algorithm algorithm, int rotation_days,
                 KeyEncryption encryption, std::chrono::seconds unknown_kid_reload_interval)
    : repository_(db),
      encryption_(std::move(encryption)),
      algorithm_(algorithm),
      rotation_days_(rotation_days),
      unknown_kid_reload_interval_(unknown_kid_reload_interval) {}

void KeyRing::load() {
  auto now = unix_now();
  repository_.purge_expired(now);
  open_and_seal(repository_.list_current(now));
  auto needs_new_key = [&](const store::SigningKeyRecord* active) {
    bool too_old =
        active && rotation_days_ > 0 && now - active->created_at >= rotation_days_ * kSecondsPerDay;
    bool other_algorithm = active && active->algorithm != jwt::algorithm_name(algorithm_);
    return !active || too_old || other_algorithm;
  };
  // Decided again under the rotation lock: a node starting beside this one may have created
  // or rotated the key meanwhile, and then this one keeps it.
  bool missing = needs_new_key(nullptr);
  for (const auto& k : repository_.list_current(now))
    if (k.retired_at == 0) missing = needs_new_key(&k);
  if (missing && repository_.rotate_if(fresh_key(algorithm_, encryption_), now,
                                       kMaxAccessTokenLifetime, needs_new_key)) {
    spdlog::info("signing key created or rotated");
  }
  reload();
}

std::string KeyRing::rotate() {
  auto key = fresh_key(algorithm_, encryption_);
  repository_.rotate(key, unix_now(), kMaxAccessTokenLifetime);
  reload();
  return key.kid;
}

void KeyRing::reload() {
  auto state = std::make_shared<State>();
  std::string jwks = R"({"keys":[)";
  bool first = true;
  for (auto& record : repository_.list_current(unix_now())) {
    auto alg = jwt::parse_algorithm(record.algorithm);
    if (!alg)
      throw std::runtime_error("stored signing key " + record.kid + " has algorithm " +
                               record.algorithm);
    auto pem = encryption_.open(record.private_pem, sealing_context(record.kid),
                                "the stored signing key " + record.kid);
    auto key = jwt::SigningKey::from_private_pem(pem, *alg, record.kid);
    if (record.retired_at == 0) state->active = std::make_shared<jwt::SigningKey>(key);
    state->public_keys.push_back(
        std::make_shared<jwt::VerificationKey>(jwt::VerificationKey::from_signing_key(key)));
    if (!first) jwks += ',';
    jwks += key.public_jwk_json();
    first = false;
  }
  jwks += "]}";
  if (!state->active) throw std::runtime_error("no active signing key is stored");
  state->jwks = std::make_shared<const std::string>(std::move(jwks));
  std::lock_guard lock(mutex_);
  state_ = std::move(state);
}

void KeyRing::open_and_seal(const std::vector<store::SigningKeyRecord>& keys) {
  int sealed = 0;
  for (const auto& record : keys) {
    // Every key must open before anything is written: a wrong key-encryption key stops the
    // start without rotating or re-sealing anything.
    encryption_.open(record.private_pem, sealing_context(record.kid),
                     "the stored signing key " + record.kid);
  }
  if (!encryption_.enabled()) return;
  for (const auto& record : keys) {
    if (KeyEncryption::is_sealed(record.private_pem)) continue;
    repository_.replace_private_pem(
        record.kid, encryption_.seal(record.private_pem, sealing_context(record.kid)));
    ++sealed;
  }
  if (sealed > 0) spdlog::info("sealed {} signing key(s) stored in the clear", sealed);
}

std::shared_ptr<const KeyRing::State> KeyRing::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::shared_ptr<const jwt::SigningKey> KeyRing::active() const {
  return state()->active;
}

std::shared_ptr<const jwt::VerificationKey> KeyRing::find_loaded(const std::string& kid) const {
  for (auto& key : state()->public_keys)
    if (key->kid() == kid) return key;
  return nullptr;
}

std::shared_ptr<const jwt::VerificationKey> KeyRing::find(const std::string& kid) {
  if (auto key = find_loaded(kid)) return key;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
  auto last = last_unknown_kid_reload_.load();
  bool due = last == INT64_MIN || now - last >= unknown_kid_reload_interval_.count();
  // One caller per interval wins the exchange and reloads; the others answer at once.
  if (!due || !last_unknown_kid_reload_.compare_exchange_strong(last, now)) return nullptr;
  try {
    reload();
  } catch (const std::exception& e) {
    spdlog::warn("signing keys: reload for an unknown kid failed: {}", e.what());
    return nullptr;
  }
  return find_loaded(kid);
}

std::shared_ptr<const std::string> KeyRing::jwks_json() const {
  return state()->jwks;
}

}  // namespace portico::keymanager
