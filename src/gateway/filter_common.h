#pragma once
// Internal to the gateway's filters: the reference's error texts in one place, and the small
// request lookups every filter needs. The texts are static: a LocalReply points at them and
// analytics records them as they are.
#include <optional>
#include <string_view>

#include "gateway/context.h"

namespace portico::gateway {

// analytics errorType: the reference's fault categories.
namespace error_type {
inline constexpr std::string_view kAuth = "AUTH";
inline constexpr std::string_view kThrottled = "THROTTLED";
inline constexpr std::string_view kTargetConnectivity = "TARGET_CONNECTIVITY";
inline constexpr std::string_view kOther = "OTHER";
}  // namespace error_type

// The reference's gateway error codes, messages and descriptions (APISecurityConstants and the
// error-handling documentation). Where the reference builds a description around the request
// (the API's context, the resource path), the static part is kept.
namespace errors {
inline constexpr long kNotFound = 404;
inline constexpr std::string_view kNotFoundMessage = "Not Found";
inline constexpr std::string_view kNoApiDescription = "No API is deployed for the requested path";

inline constexpr long kApiBlocked = 700700;
inline constexpr std::string_view kApiBlockedMessage = "API blocked";
inline constexpr std::string_view kApiBlockedDescription =
    "This API has been blocked temporarily. Please try again later or contact the system "
    "administrators.";

inline constexpr long kNoResource = 900906;
inline constexpr std::string_view kNoResourceMessage =
    "No matching resource found in the API for the given request";
inline constexpr std::string_view kNoResourceDescription =
    "Check the API documentation and add a proper REST resource path to the invocation URL";

inline constexpr long kAuthGeneral = 900900;
inline constexpr std::string_view kAuthGeneralMessage = "Unclassified Authentication Failure";
inline constexpr std::string_view kAuthUnavailableDescription =
    "The credentials could not be checked now. Please try again later";
inline constexpr std::string_view kBackendJwtFailedDescription =
    "The backend JWT could not be generated";

inline constexpr long kInvalidCredentials = 900901;
inline constexpr std::string_view kInvalidCredentialsMessage = "Invalid Credentials";
inline constexpr std::string_view kInvalidCredentialsDescription =
    "Invalid Credentials. Make sure you have provided the correct security credentials";
// A Basic credential of an account (or from an address) locked after too many failed logins.
inline constexpr std::string_view kAccountLockedDescription =
    "Invalid Credentials. The account is locked after too many failed sign-in attempts; try "
    "again later";

inline constexpr long kMissingCredentials = 900902;
inline constexpr std::string_view kMissingCredentialsMessage = "Missing Credentials";
// Followed by the credentials the API accepts: 'Authorization : Bearer ACCESS_TOKEN' or ...
inline constexpr std::string_view kMissingCredentialsPrefix =
    "Invalid Credentials. Make sure your API invocation call has a header: ";

inline constexpr long kIncorrectTokenType = 900905;
inline constexpr std::string_view kIncorrectTokenTypeMessage =
    "Incorrect Access Token Type is provided";
inline constexpr std::string_view kIncorrectTokenTypeDescription =
    "The access token type used is not supported when invoking the API. The supported access "
    "token types are application and user access tokens";

inline constexpr long kSubscriptionBlocked = 900907;
inline constexpr std::string_view kSubscriptionBlockedMessage =
    "The requested API is temporarily blocked";

inline constexpr long kForbidden = 900908;
inline constexpr std::string_view kForbiddenMessage = "Resource forbidden";
inline constexpr std::string_view kSubscriptionFailedDescription =
    "User is NOT authorized to access the Resource. API Subscription validation failed.";
inline constexpr std::string_view kApplicationNotApprovedDescription =
    "User is NOT authorized to access the Resource. The application is not approved.";
inline constexpr std::string_view kRestrictedDescription = "Access forbidden for the invocations";

inline constexpr long kSubscriptionInactive = 900909;
inline constexpr std::string_view kSubscriptionInactiveMessage =
    "The subscription to the API is inactive";

inline constexpr long kInvalidScope = 900910;
inline constexpr std::string_view kInvalidScopeMessage =
    "The access token does not allow you to access the requested resource";
inline constexpr std::string_view kInvalidScopeDescription =
    "User is NOT authorized to access the Resource. Scope validation failed.";
}  // namespace errors

// ASCII case-insensitive equality (header names, auth schemes, origins).
bool iequals(std::string_view a, std::string_view b);

// Without leading and trailing spaces and tabs.
std::string_view trim(std::string_view text);

// The first value of a request header (names compare case-insensitively); nullopt when absent.
std::optional<std::string_view> request_header(const RequestContext& ctx, std::string_view name);

// The raw (still percent-encoded) value of the first `name` parameter of a query string
// ("a=1&b=2", no '?'); "" for a parameter without '='; nullopt when absent. Names compare
// exactly, as the session does when it drops an API key from the query.
std::optional<std::string_view> query_parameter(std::string_view query, std::string_view name);

// Calls f(item) for each trimmed, non-empty item of a comma-separated list; stops when f
// returns true and returns true then.
template <class F>
bool any_of_list(std::string_view list, F&& f) {
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (!item.empty() && f(item)) return true;
  }
  return false;
}

// Whole-text match of a pattern whose '*' stands for any run of characters other than
// `not_in_star` (pass '\0' to allow any). Other characters compare exactly, or ASCII
// case-insensitively when `ignore_case`. False for texts longer than 2048 characters.
bool glob_match(std::string_view pattern, std::string_view text, char not_in_star,
                bool ignore_case);

// Sets a header on the upstream request or the client response: the session drops fields
// named by a remove edit and appends the add edits, so a remove and an add replace.
void set_header(std::vector<HeaderEdit>& edits, std::string_view name, std::string_view value);

}  // namespace portico::gateway
