#pragma once
// The API fields a gateway enforces at runtime, validated for the publisher: backend throughput
// (maxTps), operation policies (addHeader / removeHeader), endpoints with the reference's
// advanced configuration, and the names of the credential headers. Each reader takes the
// request's JSON, throws ApiError 400 naming the field on anything wrong, and returns the
// normalized value to store: the reference's names, only known keys, numbers as JSON numbers.
// Internal to the publisher (its door is publisher.h).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace portico::publisher::runtime_fields {

namespace json = boost::json;

inline constexpr std::int64_t kMaxTps = 1'000'000'000;
inline constexpr std::size_t kMaxPoliciesPerFlow = 20;
inline constexpr std::size_t kMaxHeaderNameLength = 128;
inline constexpr std::size_t kMaxHeaderValueLength = 4096;

// maxTps: {production, sandbox}, each an integer 0..kMaxTps (requests per second to that
// backend; 0 or absent: no limit). null or {} clears it (returns null).
json::value max_tps(const json::value& value);

// operations[].operationPolicies: {request: [...], response: [...], fault: []}, each policy
// {policyName, policyVersion "v1", parameters}. addHeader {headerName, headerValue} and
// removeHeader {headerName}; at most kMaxPoliciesPerFlow per flow; the fault flow takes none.
// `where` names the operation in error descriptions ("GET /pets").
json::object operation_policies(const json::value& value, const std::string& where);
// The empty policies an operation carries when none were given.
json::object no_operation_policies();

// One endpoint {url, config}: an http(s) url, and the reference's advanced endpoint
// configuration (see endpoint_config). Other keys are left out.
json::object endpoint(const json::value& value, const std::string& where);
// The reference's advanced endpoint configuration: actionDuration, actionSelect,
// suspendDuration, suspendMaxDuration, factor, suspendErrorCode, retryTimeOut, retryDelay,
// retryErroCode, and Portico's connectTimeout. Numbers may come as JSON numbers or decimal
// strings ("30000", as the reference's publisher sends them); "" and null mean not set.
json::object endpoint_config(const json::object& config, const std::string& where);

// A header name an API may configure (authorizationHeader, apiKeyHeader, addHeader's
// headerName): 1..kMaxHeaderNameLength letters, digits, '-', '_' or '.'.
void check_header_name(std::string_view name, const std::string& field);

}  // namespace portico::publisher::runtime_fields
