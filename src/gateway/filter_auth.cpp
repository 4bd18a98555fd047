#include "gateway/filter_auth.h"

#include <charconv>
#include <memory>
#include <string>
#include <vector>

#include "gateway/filter_common.h"
#include "gateway/filter_lookup.h"
#include "traffic/traffic.h"

namespace portico::gateway {
namespace {

// Where the request's credential is, if it has one the API accepts.
struct Found {
  bool present = false;
  Credential::Kind kind = Credential::Kind::kBearer;
  std::string_view value;
  bool in_query = false;
};

Found find_credential(const RequestContext& ctx, const Api& api) {
  // One header carries OAuth2 and Basic, as in the reference; the first credential present
  // decides (a bad bearer token is not retried as an API key).
  if (api.oauth2 || api.basic_auth) {
    if (auto header = request_header(ctx, api.authorization_header)) {
      std::string_view v = trim(*header);
      auto space = v.find(' ');
      std::string_view scheme = v.substr(0, space);
      std::string_view rest =
          space == std::string_view::npos ? std::string_view{} : trim(v.substr(space + 1));
      if (!rest.empty()) {
        if (api.oauth2 && iequals(scheme, "Bearer"))
          return Found{true, Credential::Kind::kBearer, rest, false};
        if (api.basic_auth && iequals(scheme, "Basic"))
          return Found{true, Credential::Kind::kBasic, rest, false};
      }
    }
  }
  if (api.api_key) {
    if (auto header = request_header(ctx, api.api_key_header); header && !trim(*header).empty())
      return Found{true, Credential::Kind::kApiKey, trim(*header), false};
    if (api.api_key_in_query) {
      auto param = query_parameter(ctx.query, api.api_key_header);
      if (param && !param->empty()) return Found{true, Credential::Kind::kApiKey, *param, true};
    }
  }
  return Found{};
}

// The reference names the headers the API accepts in its 900902 description ("... a header:
// 'Authorization : Bearer ACCESS_TOKEN' or ..."). The text depends on the API's header names,
// so each distinct one is built once per thread and kept for the thread's life: a LocalReply
// points at it until analytics has recorded it.
std::string_view missing_description(const Api& api) {
  struct Entry {
    unsigned flags;
    std::string authorization_header;
    std::string api_key_header;
    std::string text;
  };
  static constexpr std::size_t kMaxEntries = 256;
  static constexpr std::string_view kGeneric =
      "Invalid Credentials. Make sure your API invocation call has a header: 'Authorization : "
      "Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN' or 'apikey : API_KEY'";
  thread_local std::vector<std::unique_ptr<Entry>> entries;
  unsigned flags = (api.oauth2 ? 1u : 0u) | (api.basic_auth ? 2u : 0u) | (api.api_key ? 4u : 0u);
  for (const auto& e : entries) {
    if (e->flags == flags && e->authorization_header == api.authorization_header &&
        e->api_key_header == api.api_key_header)
      return e->text;
  }
  if (entries.size() >= kMaxEntries) return kGeneric;
  auto e = std::make_unique<Entry>(Entry{flags, api.authorization_header, api.api_key_header,
                                         std::string(errors::kMissingCredentialsPrefix)});
  bool first = true;
  auto add = [&](std::string_view header, std::string_view what) {
    if (!first) e->text += " or ";
    first = false;
    e->text += '\'';
    e->text += header;
    e->text += " : ";
    e->text += what;
    e->text += '\'';
  };
  if (api.oauth2) add(api.authorization_header, "Bearer ACCESS_TOKEN");
  if (api.basic_auth) add(api.authorization_header, "Basic ACCESS_TOKEN");
  if (api.api_key) add(api.api_key_header, "API_KEY");
  entries.push_back(std::move(e));
  return entries.back()->text;
}

FilterStatus missing(RequestContext& ctx, const Api& api) {
  reply_error(ctx, 401, errors::kMissingCredentials, errors::kMissingCredentialsMessage,
              missing_description(api), error_type::kAuth);
  // One field per scheme: comma-joined challenges with parameters are hard to split.
  if (api.oauth2) ctx.reply.headers.emplace_back("WWW-Authenticate", challenge::kBearer);
  if (api.basic_auth) ctx.reply.headers.emplace_back("WWW-Authenticate", challenge::kBasic);
  if (api.api_key) ctx.reply.headers.emplace_back("WWW-Authenticate", challenge::kApiKey);
  if (ctx.reply.headers.empty())
    ctx.reply.headers.emplace_back("WWW-Authenticate", challenge::kBearer);
  return FilterStatus::kReply;
}

std::string_view challenge_for_kind(Credential::Kind kind, bool invalid) {
  switch (kind) {
    case Credential::Kind::kBearer:
      return invalid ? challenge::kBearerInvalid : challenge::kBearer;
    case Credential::Kind::kBasic:
      return challenge::kBasic;
    case Credential::Kind::kApiKey:
      return challenge::kApiKey;
  }
  return challenge::kBearer;
}

FilterStatus invalid(RequestContext& ctx, Credential::Kind kind) {
  reply_error(ctx, 401, errors::kInvalidCredentials, errors::kInvalidCredentialsMessage,
              errors::kInvalidCredentialsDescription, error_type::kAuth);
  ctx.reply.headers.emplace_back("WWW-Authenticate", challenge_for_kind(kind, true));
  return FilterStatus::kReply;
}

FilterStatus forbidden(RequestContext& ctx, std::string_view description) {
  return reply_error(ctx, 403, errors::kForbidden, errors::kForbiddenMessage, description,
                     error_type::kAuth);
}

bool kind_matches(Credential::Kind credential, Principal::Kind principal) {
  switch (credential) {
    case Credential::Kind::kBearer:
      return principal == Principal::Kind::kJwt || principal == Principal::Kind::kOpaque;
    case Credential::Kind::kApiKey:
      return principal == Principal::Kind::kApiKey;
    case Credential::Kind::kBasic:
      return principal == Principal::Kind::kBasic;
  }
  return false;
}

// Whether `ip` is in the block `network`/`bits` (bits counted on the 128-bit form).
bool in_block(const traffic::IpAddress& ip, const traffic::IpAddress& network, int bits) {
  if (bits <= 0) return true;
  if (bits >= 128) return ip == network;
  if (bits <= 64) {
    std::uint64_t mask = bits == 64 ? ~std::uint64_t{0} : ~(~std::uint64_t{0} >> bits);
    return (ip.high & mask) == (network.high & mask);
  }
  if (ip.high != network.high) return false;
  std::uint64_t mask = ~(~std::uint64_t{0} >> (bits - 64));
  return (ip.low & mask) == (network.low & mask);
}

// Pauses the call until the control plane said whether it knows what the snapshot lacks;
// the filter concludes again with the same result and ctx.learned.
FilterStatus wait_for_lookup(RequestContext& ctx, const AuthResult& result) {
  ctx.resolved_auth = result;
  return FilterStatus::kPause;
}

FilterStatus conclude(RequestContext& ctx, const Api& api, const Resource& resource,
                      const Found& found, const AuthResult& result, bool strip_authorization,
                      MissLookup* lookup, const std::function<void()>& resume) {
  switch (result.status) {
    case AuthResult::Status::kUnavailable:
      return reply_error(ctx, 503, errors::kAuthGeneral, errors::kAuthGeneralMessage,
                         errors::kAuthUnavailableDescription, error_type::kAuth);
    case AuthResult::Status::kInvalid:
      if (result.detail == kAccountLockedDetail) {
        reply_error(ctx, 401, errors::kInvalidCredentials, errors::kInvalidCredentialsMessage,
                    errors::kAccountLockedDescription, error_type::kAuth);
        ctx.reply.headers.emplace_back("WWW-Authenticate", challenge_for_kind(found.kind, true));
        return FilterStatus::kReply;
      }
      return invalid(ctx, found.kind);
    case AuthResult::Status::kOk:
      break;
  }
  const auto& principal = result.principal;
  if (!principal || !kind_matches(found.kind, principal->kind)) return invalid(ctx, found.kind);
  // Revocations reach the gateway as events, after the token was cached as valid.
  if (!principal->jti.empty() && ctx.revoked && ctx.revoked->contains(principal->jti))
    return invalid(ctx, found.kind);

  std::string_view application_id;
  std::string_view key_type;
  switch (principal->kind) {
    case Principal::Kind::kJwt:
    case Principal::Kind::kOpaque: {
      const KeyMapping* client = find_client(ctx, principal->client_id);
      if (client == nullptr) {
        // Keys generated a moment ago: the control plane knows them before this snapshot.
        if (ask_for_client(ctx, lookup, principal->client_id, resume))
          return wait_for_lookup(ctx, result);
        return forbidden(ctx, errors::kSubscriptionFailedDescription);
      }
      application_id = client->application_id;
      // The key mapping decides: it is what the portal generated the keys as.
      key_type = client->key_type.empty() ? std::string_view(principal->key_type)
                                          : std::string_view(client->key_type);
      bool wrong_type =
          (resource.auth == AuthType::kApplication && principal->application_user) ||
          (resource.auth == AuthType::kApplicationUser && !principal->application_user);
      if (wrong_type) {
        reply_error(ctx, 401, errors::kIncorrectTokenType, errors::kIncorrectTokenTypeMessage,
                    errors::kIncorrectTokenTypeDescription, error_type::kAuth);
        ctx.reply.headers.emplace_back("WWW-Authenticate", challenge::kBearerInvalid);
        return FilterStatus::kReply;
      }
      break;
    }
    case Principal::Kind::kApiKey:
      application_id = principal->application_id;
      key_type = principal->key_type;
      if (!principal->permitted_ip.empty() && !ip_permitted(principal->permitted_ip, ctx.client_ip))
        return forbidden(ctx, errors::kRestrictedDescription);
      if (!principal->permitted_referer.empty() &&
          !referer_permitted(principal->permitted_referer, request_header(ctx, "Referer")))
        return forbidden(ctx, errors::kRestrictedDescription);
      break;
    case Principal::Kind::kBasic:
      break;
  }

  const Application* application = nullptr;
  if (principal->kind != Principal::Kind::kBasic) {
    application = find_application(ctx, application_id);
    if (application == nullptr) {
      if (ask_for_application(ctx, lookup, application_id, "", resume))
        return wait_for_lookup(ctx, result);
      return forbidden(ctx, errors::kSubscriptionFailedDescription);
    }
  }

  ctx.principal = principal;
  ctx.application = application;
  ctx.key_type =
      key_type == "SANDBOX" ? std::string_view("SANDBOX") : std::string_view("PRODUCTION");
  // An application token has no end user; the reference records the application's owner
  // (the token's subject) as the user then.
  if (!principal->user.empty()) {
    ctx.user = principal->user;
  } else if (application != nullptr) {
    ctx.user = application->owner;
  }

  if (found.kind == Credential::Kind::kApiKey) {
    // The reference always takes the API key out of what the backend sees.
    ctx.credential_header = api.api_key_header;
    ctx.credential_in_query = found.in_query;
    ctx.strip_authorization = !found.in_query;
  } else {
    ctx.credential_header = api.authorization_header;
    ctx.strip_authorization = strip_authorization;
  }
  return FilterStatus::kContinue;
}

}  // namespace

std::string_view challenge_for(const Principal& principal) {
  switch (principal.kind) {
    case Principal::Kind::kJwt:
    case Principal::Kind::kOpaque:
      return challenge::kBearer;
    case Principal::Kind::kApiKey:
      return challenge::kApiKey;
    case Principal::Kind::kBasic:
      return challenge::kBasic;
  }
  return challenge::kBearer;
}

bool ip_permitted(std::string_view list, std::string_view client_ip) {
  auto ip = traffic::parse_ip(client_ip);
  if (!ip) return false;
  return any_of_list(list, [&](std::string_view item) {
    auto slash = item.find('/');
    std::string_view address = trim(item.substr(0, slash));
    auto network = traffic::parse_ip(address);
    if (!network) return false;
    if (slash == std::string_view::npos) return *network == *ip;
    std::string_view prefix = trim(item.substr(slash + 1));
    int bits = -1;
    auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
    if (ec != std::errc{} || end != prefix.data() + prefix.size() || bits < 0) return false;
    // IPv4 is held IPv4-mapped: its prefix counts after the 96 bits of the mapping.
    bool v4 = address.find(':') == std::string_view::npos;
    if (bits > (v4 ? 32 : 128)) return false;
    return in_block(*ip, *network, v4 ? bits + 96 : bits);
  });
}

bool referer_permitted(std::string_view list, std::optional<std::string_view> referer) {
  if (!referer || referer->empty()) return false;
  return any_of_list(list, [&](std::string_view pattern) {
    // The reference turns '*' into the regular expression [^ ]* and matches the whole value.
    return glob_match(pattern, *referer, ' ', false);
  });
}

FilterStatus AuthFilter::on_request(RequestContext& ctx, const std::function<void()>& resume) {
  const Api* api = ctx.route.api;
  const Resource* resource = ctx.route.resource;
  if (api == nullptr || resource == nullptr) {
    return reply_error(ctx, 403, errors::kNoResource, errors::kNoResourceMessage,
                       errors::kNoResourceDescription, error_type::kOther);
  }
  if (ctx.resolved_auth) {
    // Asked again after resolve(): the credential is found again (same request, same answer)
    // and the answer consumed.
    AuthResult result = std::move(*ctx.resolved_auth);
    ctx.resolved_auth.reset();
    Found found = find_credential(ctx, *api);
    return conclude(ctx, *api, *resource, found, result, strip_authorization_, miss_lookup_,
                    resume);
  }
  if (resource->auth == AuthType::kNone ||
      (api->prototype_without_auth && api->lifecycle == "PROTOTYPED"))
    return FilterStatus::kContinue;

  Found found = find_credential(ctx, *api);
  if (!found.present) return missing(ctx, *api);
  Credential credential{found.kind, found.value, ctx.client_ip};
  std::int64_t now = ctx.now_ms / 1000;
  if (auto result = authenticator_.try_now(credential, now))
    return conclude(ctx, *api, *resource, found, *result, strip_authorization_, miss_lookup_,
                    resume);
  if (!ctx.executor) {
    // Nowhere to hear the answer on: this is the gateway's fault, not the caller's.
    return reply_error(ctx, 503, errors::kAuthGeneral, errors::kAuthGeneralMessage,
                       errors::kAuthUnavailableDescription, error_type::kAuth);
  }
  // The session keeps the context alive while the filter is paused; `resume` holds it.
  authenticator_.resolve(credential, now, ctx.executor, [&ctx, resume](AuthResult result) {
    ctx.resolved_auth = std::move(result);
    resume();
  });
  return FilterStatus::kPause;
}

}  // namespace portico::gateway
