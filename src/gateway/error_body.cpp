#include "gateway/error_body.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace portico::gateway {

std::string error_body(long code, std::string_view message, std::string_view description) {
  // The error path only: serialising through Boost.JSON keeps every string escaped.
  boost::json::object body{{"code", code}, {"message", message}, {"description", description}};
  return boost::json::serialize(body);
}

}  // namespace portico::gateway
