#pragma once
// The events gateways (and other listeners) receive. Payloads are JSON objects whose fields
// are listed beside each type; every payload also names what changed by id.
#include <string_view>

namespace portico::events::types {

// {api_id, revision_id, environment, vhost}
inline constexpr std::string_view kApiDeployed = "api.deployed";
// {api_id, revision_id, environment}
inline constexpr std::string_view kApiUndeployed = "api.undeployed";
// {api_id, previous_state, state}
inline constexpr std::string_view kApiLifecycleChanged = "api.lifecycle_changed";
// {api_id}
inline constexpr std::string_view kApiDeleted = "api.deleted";
// {subscription_id, api_id, application_id, throttling_policy, status}
inline constexpr std::string_view kSubscriptionCreated = "subscription.created";
inline constexpr std::string_view kSubscriptionUpdated = "subscription.updated";
inline constexpr std::string_view kSubscriptionDeleted = "subscription.deleted";
// {application_id, name, owner, throttling_policy}
inline constexpr std::string_view kApplicationCreated = "application.created";
inline constexpr std::string_view kApplicationUpdated = "application.updated";
inline constexpr std::string_view kApplicationDeleted = "application.deleted";
// {application_id, key_mapping_id, key_type, client_id}
inline constexpr std::string_view kKeyMappingCreated = "application.key_mapping.created";
inline constexpr std::string_view kKeyMappingUpdated = "application.key_mapping.updated";
inline constexpr std::string_view kKeyMappingDeleted = "application.key_mapping.deleted";
// {level, policy_id, name}
inline constexpr std::string_view kPolicyCreated = "policy.created";
inline constexpr std::string_view kPolicyUpdated = "policy.updated";
inline constexpr std::string_view kPolicyDeleted = "policy.deleted";
// {policy_id, condition_type, enabled}
inline constexpr std::string_view kDenyPolicyCreated = "deny_policy.created";
inline constexpr std::string_view kDenyPolicyUpdated = "deny_policy.updated";
inline constexpr std::string_view kDenyPolicyDeleted = "deny_policy.deleted";
// {environment_id, name}
inline constexpr std::string_view kEnvironmentCreated = "environment.created";
inline constexpr std::string_view kEnvironmentUpdated = "environment.updated";
inline constexpr std::string_view kEnvironmentDeleted = "environment.deleted";
// {jti, expires_at, client_id}
inline constexpr std::string_view kTokenRevoked = "token.revoked";
// {jti, expires_at, application_id}
inline constexpr std::string_view kApiKeyRevoked = "api_key.revoked";
// {username}: the user is gone; gateways drop what they cached for it (Basic credentials).
inline constexpr std::string_view kUserDeleted = "user.deleted";
// {username}: the user's password or roles changed; cached Basic credentials are stale.
inline constexpr std::string_view kUserUpdated = "user.updated";
// {kid}: a new signing key is active; every key manager reloads its key ring.
inline constexpr std::string_view kSigningKeyRotated = "signing_key.rotated";
// {client_id}: an OAuth client's secret, grants or flags changed, or it was removed; key
// managers drop their cached record of it.
inline constexpr std::string_view kOAuthClientUpdated = "oauth_client.updated";
// {api_id}: the scopes an API defines (or their role bindings) changed, or the API is gone;
// key managers drop their cached scope bindings.
inline constexpr std::string_view kApiScopesChanged = "api.scopes_changed";
// {id}: a gateway's own credential was revoked; the control planes end its event streams.
inline constexpr std::string_view kGatewayCredentialRevoked = "gateway_credential.revoked";

// {key, window_ms, window, until}: a cluster-wide counter is spent until `until` (unix ms);
// gateways refuse its requests without asking a traffic manager.
inline constexpr std::string_view kThrottleExhausted = "throttle.exhausted";

}  // namespace portico::events::types
