#include "trafficmanager/redis_script.h"

#include <hiredis/hiredis.h>

#include <string_view>

namespace portico::trafficmanager {

std::string RedisScript::load(events::RedisConnection& redis) {
  auto reply = redis.command({"SCRIPT", "LOAD", source_});
  if (!reply || reply->type != REDIS_REPLY_STRING) return {};
  std::string sha(reply->str, reply->len);
  std::lock_guard lock(mutex_);
  sha_ = sha;
  return sha;
}

events::Reply RedisScript::run(events::RedisConnection& redis, const std::vector<std::string>& keys,
                               const std::vector<std::string>& args) {
  if (!redis.ensure_connected()) return nullptr;
  std::string sha;
  {
    std::lock_guard lock(mutex_);
    sha = sha_;
  }
  if (sha.empty() && (sha = load(redis)).empty()) return nullptr;
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.push_back("EVALSHA");
  command.push_back(sha);
  command.push_back(std::to_string(keys.size()));
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  auto reply = redis.command(command);
  constexpr std::string_view kNoScript = "NOSCRIPT";
  if (reply && reply->type == REDIS_REPLY_ERROR &&
      std::string_view(reply->str, reply->len).substr(0, kNoScript.size()) == kNoScript) {
    if ((command[1] = load(redis)).empty()) return nullptr;
    reply = redis.command(command);
  }
  return reply;
}

}  // namespace portico::trafficmanager
