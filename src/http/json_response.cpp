// JSON error bodies shared by the router, the server and handlers.
#include "http/json_response.hpp"
#include "http/router.hpp"

#include <boost/json.hpp>

namespace sky::http {

api_response json_error(int status, std::string_view code, std::string_view detail) {
  boost::json::object body{{"error", code}, {"detail", detail}};
  return {status, boost::json::serialize(body), "application/json", {}};
}

api_response json_ok(int status, const boost::json::value& body) {
  return {status, boost::json::serialize(body), "application/json", {}};
}

} // namespace sky::http
