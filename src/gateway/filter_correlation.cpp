#include "gateway/filter_correlation.h"

#include <random>

#include "common/crypto.h"
#include "gateway/filter_common.h"

namespace portico::gateway {
namespace {

// A version-4 UUID from a per-thread generator seeded once from the system's randomness:
// correlation ids must be unique, not secret, and the cryptographic generator costs a
// system call (getpid) per id.
std::string fast_uuid_v4() {
  thread_local std::mt19937_64 generator = [] {
    std::string seed = crypto::random_bytes(16);
    std::seed_seq sequence(seed.begin(), seed.end());
    return std::mt19937_64(sequence);
  }();
  std::uint64_t high = generator();
  std::uint64_t low = generator();
  high = (high & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  low = (low & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;    // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  char out[36];
  std::size_t at = 0;
  auto put = [&](std::uint64_t value, int from_nibble, int to_nibble) {
    for (int n = from_nibble; n > to_nibble; --n) out[at++] = kHex[(value >> (4 * (n - 1))) & 0xF];
  };
  put(high, 16, 8);
  out[at++] = '-';
  put(high, 8, 4);
  out[at++] = '-';
  put(high, 4, 0);
  out[at++] = '-';
  put(low, 16, 12);
  out[at++] = '-';
  put(low, 12, 0);
  return std::string(out, sizeof out);
}

void ensure_id(RequestContext& ctx) {
  if (!ctx.correlation_id.empty()) return;
  auto offered = request_header(ctx, CorrelationFilter::kHeader);
  if (offered && CorrelationFilter::is_sane(*offered)) {
    ctx.correlation_id.assign(*offered);
  } else {
    ctx.correlation_id = fast_uuid_v4();
  }
}

}  // namespace

bool CorrelationFilter::is_sane(std::string_view id) {
  if (id.empty() || id.size() > kMaxLength) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

FilterStatus CorrelationFilter::on_request(RequestContext& ctx, const std::function<void()>&) {
  ensure_id(ctx);
  // Replaces what the client sent: an insane id must not reach the backend either.
  set_header(ctx.upstream_edits, kHeader, ctx.correlation_id);
  return FilterStatus::kContinue;
}

void CorrelationFilter::on_response(RequestContext& ctx) {
  // Also for replies given before this filter ran (a path the session refused): the client
  // and the analytics event still get an id.
  ensure_id(ctx);
  set_header(ctx.response_edits, kHeader, ctx.correlation_id);
}

}  // namespace portico::gateway
