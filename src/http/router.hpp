// Transport-free HTTP: request/response values and a table-driven dispatcher with JWT at the edge.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sky::http {

struct api_request {
  std::string method; // "GET", "POST", ...
  std::string target; // path and query as received
  std::string authorization;
  std::string content_type;
  std::string body;
  std::string host; // Host header, as sent
};

struct api_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// What a handler sees: the request, path parameters, query parameters and the caller.
struct request_context {
  const api_request& request;
  std::map<std::string, std::string, std::less<>> path_params;
  std::map<std::string, std::string, std::less<>> query;
  std::optional<std::string> user_id; // JWT `sub` on authenticated routes
};

using route_handler = std::function<api_response(request_context&)>;

struct route {
  std::string method;
  std::string pattern; // "/api/v3/jobs/{id}"; a last segment "{rest...}" takes the remainder
  route_handler handler;
};

// JSON error body `{"error": code, "detail": detail}`.
api_response json_error(int status, std::string_view code, std::string_view detail);

class router {
public:
  // Paths starting with `auth_prefix` require a valid HS256 bearer token signed with `secret`.
  router(std::vector<route> routes, std::string jwt_secret, std::string auth_prefix = "/api/v3/");

  // Never throws: handler exceptions become a 500 JSON body.
  api_response handle(const api_request& request) const;

private:
  std::vector<route> routes_;
  std::string jwt_secret_;
  std::string auth_prefix_;
};

// Splits "a=1&b=x%20y" into decoded pairs; false on malformed percent-encoding.
bool parse_query(std::string_view query, std::map<std::string, std::string, std::less<>>& out);

} // namespace sky::http
