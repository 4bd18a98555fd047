#include "trafficmanager/lease_script.h"

#include <hiredis/hiredis.h>

#include <stdexcept>

namespace portico::trafficmanager {
namespace {

// KEYS[1]: the members ZSET, KEYS[2]: the throttled ZSET, KEYS[2 + i]: counter-window i.
// ARGV[1]: now (unix ms), ARGV[2]: the caller's membership expiry, ARGV[3]: the caller,
// ARGV[4]: the length of the counter keys' common prefix (what follows names the
// counter-window in the throttled set), then 7 values per counter: limit, overdraft, return,
// want, window end (unix ms), seed (-1: none), ended (1: read only).
// Counter-windows that have ended leave the throttled set on the way.
// Replies {members, then granted, reserved, exhausted-by-this-call per counter}.
constexpr const char* kSource = R"lua(
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local members = math.max(1, redis.call('ZCARD', KEYS[1]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local now = tonumber(ARGV[1])
local prefix_length = tonumber(ARGV[4])
local reply = {members}
for i = 1, #KEYS - 2 do
  local key = KEYS[2 + i]
  local a = 4 + (i - 1) * 7
  local limit = tonumber(ARGV[a + 1])
  local overdraft = tonumber(ARGV[a + 2])
  local give_back = tonumber(ARGV[a + 3])
  local want = tonumber(ARGV[a + 4])
  local window_end = tonumber(ARGV[a + 5])
  local seed = tonumber(ARGV[a + 6])
  local ended = ARGV[a + 7] == '1'
  local stored = redis.call('GET', key)
  local reserved = tonumber(stored) or 0
  local granted = 0
  local exhausted = 0
  if not ended then
    if not stored and seed >= 0 then
      reserved = seed
      redis.call('SET', key, ARGV[a + 6], 'PX', window_end + 60000 - now)
    end
    local before = reserved
    reserved = math.max(0, reserved + overdraft - give_back)
    local remaining = limit - reserved
    local share = 0
    if remaining > 0 then share = math.max(1, math.ceil(remaining / (2 * members))) end
    granted = math.max(0, math.min(want, remaining, share))
    reserved = reserved + granted
    redis.call('SET', key, string.format('%.0f', reserved), 'PX', window_end + 60000 - now)
    local member = string.sub(key, prefix_length + 1)
    if reserved >= limit then
      redis.call('ZADD', KEYS[2], ARGV[a + 5], member)
      if before < limit then exhausted = 1 end
    else
      redis.call('ZREM', KEYS[2], member)
    end
  end
  reply[#reply + 1] = granted
  reply[#reply + 1] = reserved
  reply[#reply + 1] = exhausted
end
return reply
)lua";

std::int64_t integer_at(const redisReply* reply, std::size_t i) {
  if (i >= reply->elements || reply->element[i]->type != REDIS_REPLY_INTEGER)
    throw std::runtime_error("the lease script's reply is not what it returns");
  return reply->element[i]->integer;
}

}  // namespace

LeaseScript::LeaseScript() : script_(kSource) {}

std::optional<ScriptResult> LeaseScript::run(events::RedisConnection& redis, const RedisKeys& keys,
                                             const std::string& gateway, std::int64_t now_ms,
                                             std::int64_t membership_ttl_ms,
                                             const std::vector<ScriptCounter>& counters) {
  std::vector<std::string> key_args{keys.members, keys.throttled};
  std::vector<std::string> args{std::to_string(now_ms), std::to_string(now_ms + membership_ttl_ms),
                                gateway, std::to_string(keys.quota.size())};
  key_args.reserve(2 + counters.size());
  args.reserve(4 + 7 * counters.size());
  for (const ScriptCounter& c : counters) {
    key_args.push_back(keys.counter(*c.ask));
    for (std::int64_t v : {c.ask->limit, c.ask->overdraft, c.ask->give_back, c.ask->want,
                           c.ask->window_end_ms(), c.seed})
      args.push_back(std::to_string(v));
    args.push_back(c.ended ? "1" : "0");
  }
  auto reply = script_.run(redis, key_args, args);
  if (!reply) return std::nullopt;
  if (reply->type == REDIS_REPLY_ERROR)
    throw std::runtime_error("the lease script failed: " + std::string(reply->str, reply->len));
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 + 3 * counters.size())
    throw std::runtime_error("the lease script's reply is not what it returns");
  ScriptResult result;
  result.members = integer_at(reply.get(), 0);
  result.grants.reserve(counters.size());
  for (std::size_t i = 0; i < counters.size(); ++i) {
    CounterGrant g;
    g.granted = integer_at(reply.get(), 1 + 3 * i);
    g.reserved = integer_at(reply.get(), 2 + 3 * i);
    g.exhausted_now = integer_at(reply.get(), 3 + 3 * i) == 1;
    if (!counters[i].ended && g.reserved >= counters[i].ask->limit)
      g.until = counters[i].ask->window_end_ms();
    result.grants.push_back(g);
  }
  return result;
}

}  // namespace portico::trafficmanager
