// Transport-free HTTP: request/response values and a table-driven dispatcher. Each route declares
// who may call it; the router decides the route first and authorizes that decision.
#pragma once

#include "http/jwt.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sky::http {

struct api_request {
  std::string method; // "GET", "POST", ...
  std::string target; // path and query as received
  std::string authorization;
  std::string content_type;
  std::string body;
  std::string host;          // Host header, as sent
  std::string if_none_match; // for static files' ETags
  // Every header field, as sent.
  std::vector<std::pair<std::string, std::string>> headers = {};

  // The value of the first header field named `name` (any case); empty when there is none.
  std::string_view header(std::string_view name) const;
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
  bool is_operator = false;           // the token names the operator role
};

using route_handler = std::function<api_response(request_context&)>;

// Who may call a route. Bearer is the default, so a route is public only by saying so; operator
// routes (queue controls) need a token with the role claim "operator".
enum class access { bearer, open, operator_role };

// Where a handler runs: `blocking` ones (database, network) on the handler pool; `inline` ones
// never block (memory only) and answer from the I/O thread, so they stay fast whatever the
// database does.
enum class execution { blocking, nonblocking };

struct route {
  std::string method;
  std::string pattern; // "/api/v3/jobs/{id}"; literal segments and whole-segment parameters
  route_handler handler;
  access auth = access::bearer;
  execution runs = execution::blocking;
};

// Every route of `routes` marked public (fixture webs and other servers without callers to check).
std::vector<route> open_routes(std::vector<route> routes);

// JSON error body `{"error": code, "detail": detail}`.
api_response json_error(int status, std::string_view code, std::string_view detail);

// The canonical segments of a request path, or why it is refused. Percent-encoded unreserved
// characters are decoded; encoded separators or controls (%2F, %5C, %00, ...), raw controls,
// backslashes, non-ASCII bytes, empty segments (`//`, a trailing `/`) and dot segments are
// refused rather than guessed at, so that the route matched is the only reading of the path.
std::variant<std::vector<std::string>, std::string> normalize_path(std::string_view path);

// A request resolved to a route (or to the answer it gets without one).
struct dispatch {
  std::optional<api_response> answer; // set when no handler runs: 400, 401, 404, 405
  const route* target = nullptr;
  request_context context;
};

class router {
public:
  router(std::vector<route> routes, jwt_policy policy);
  router(std::vector<route> routes, std::string jwt_secret);

  // Normalizes the path, matches a route, then checks the token the route (or, for an unmatched
  // /api path, the API as a whole) requires.
  dispatch resolve(const api_request& request) const;

  // Runs a resolved route's handler. A std::exception becomes a 500 without detail (handlers
  // that know better, such as 503 for an unavailable database, answer so themselves).
  api_response run(dispatch& d) const;

  // resolve + run.
  api_response handle(const api_request& request) const;

private:
  std::vector<route> routes_;
  jwt_policy policy_;
};

// Splits "a=1&b=x%20y" into decoded pairs; false on malformed percent-encoding.
bool parse_query(std::string_view query, std::map<std::string, std::string, std::less<>>& out);

} // namespace sky::http
