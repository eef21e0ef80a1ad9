// Route matching on a normalized path, then authorization as the matched route declares it.
#include "http/router.hpp"

#include "scrape/text_rules.hpp"
#include "scrape/url_rules.hpp"

#include <spdlog/spdlog.h>

namespace sky::http {
namespace {

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Characters a path segment may carry as they are (RFC 3986 pchar, minus percent-encoding).
bool is_plain_path_char(char c) {
  static constexpr std::string_view k_sub_delims = "!$&'()*+,;=:@";
  return is_unreserved(c) || k_sub_delims.find(c) != std::string_view::npos;
}

// "/{name...}": the whole path, as sent, for servers that stand in for arbitrary web sites.
bool is_catch_all(std::string_view pattern) {
  return pattern.size() > 6 && pattern.substr(0, 2) == "/{" &&
         pattern.substr(pattern.size() - 4) == "...}" && pattern.find('/', 1) == std::string::npos;
}

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

std::vector<std::string_view> split_pattern(std::string_view pattern) {
  std::vector<std::string_view> parts;
  std::size_t pos = 1;
  while (pos <= pattern.size()) {
    auto next = pattern.find('/', pos);
    if (next == std::string_view::npos)
      next = pattern.size();
    if (next > pos)
      parts.push_back(pattern.substr(pos, next - pos));
    pos = next + 1;
  }
  return parts;
}

bool match(std::string_view pattern, const std::vector<std::string>& segments,
           std::map<std::string, std::string, std::less<>>& params) {
  auto parts = split_pattern(pattern);
  if (parts.size() != segments.size())
    return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (is_parameter(parts[i]))
      params[std::string(parts[i].substr(1, parts[i].size() - 2))] = segments[i];
    else if (parts[i] != segments[i])
      return false;
  }
  return true;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size())
        return false;
      int hi = scrape::hex_digit_value(in[i + 1]), lo = scrape::hex_digit_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return true;
}

api_response unauthorized(jwt_failure failure) {
  auto response = json_error(401, "unauthorized", to_string(failure));
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

} // namespace

std::vector<route> open_routes(std::vector<route> routes) {
  for (auto& r : routes)
    r.auth = access::open;
  return routes;
}

std::string_view api_request::header(std::string_view name) const {
  for (const auto& [field, value] : headers)
    if (scrape::ascii_lower(field) == scrape::ascii_lower(name))
      return value;
  return {};
}

std::variant<std::vector<std::string>, std::string> normalize_path(std::string_view path) {
  if (path.empty() || path.front() != '/')
    return std::string("request target must be an absolute path");
  std::vector<std::string> segments;
  if (path == "/")
    return segments;
  std::size_t pos = 1;
  for (;;) {
    auto next = path.find('/', pos);
    auto raw =
        path.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    if (raw.empty())
      return std::string("empty path segment");
    std::string segment;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '%') {
        int hi = i + 2 < raw.size() ? scrape::hex_digit_value(raw[i + 1]) : -1;
        int lo = i + 2 < raw.size() ? scrape::hex_digit_value(raw[i + 2]) : -1;
        if (hi < 0 || lo < 0)
          return std::string("malformed percent-encoding in path");
        char decoded = static_cast<char>(hi * 16 + lo);
        // Only characters that mean the same encoded or not may be encoded.
        if (!is_unreserved(decoded))
          return std::string("encoded separator or control character in path");
        segment += decoded;
        i += 2;
      } else if (is_plain_path_char(c)) {
        segment += c;
      } else {
        return std::string("character not allowed in path");
      }
    }
    if (segment == "." || segment == "..")
      return std::string("dot segment in path");
    segments.push_back(std::move(segment));
    if (next == std::string_view::npos)
      break;
    pos = next + 1;
  }
  return segments;
}

bool parse_query(std::string_view query, std::map<std::string, std::string, std::less<>>& out) {
  std::size_t pos = 0;
  while (pos < query.size()) {
    auto amp = query.find('&', pos);
    if (amp == std::string_view::npos)
      amp = query.size();
    auto pair = query.substr(pos, amp - pos);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string key, value;
      if (!percent_decode(pair.substr(0, eq), key))
        return false;
      if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value))
        return false;
      out[key] = value;
    }
    pos = amp + 1;
  }
  return true;
}

router::router(std::vector<route> routes, jwt_policy policy)
    : routes_(std::move(routes)), policy_(std::move(policy)) {
  for (const auto& r : routes_)
    if (!is_catch_all(r.pattern) && (r.pattern.empty() || r.pattern.front() != '/' ||
                                     r.pattern.find("//") != std::string::npos ||
                                     (r.pattern.size() > 1 && r.pattern.back() == '/')))
      throw std::invalid_argument("route pattern is not a canonical path: " + r.pattern);
}

router::router(std::vector<route> routes, std::string jwt_secret)
    : router(std::move(routes), jwt_policy{std::move(jwt_secret)}) {}

dispatch router::resolve(const api_request& request) const {
  dispatch d{std::nullopt, nullptr, request_context{request, {}, {}, std::nullopt}};
  std::string_view target = request.target;
  auto question = target.find('?');
  auto raw_path = target.substr(0, question);
  auto normalized = normalize_path(raw_path);
  const auto* refusal = std::get_if<std::string>(&normalized);
  if (refusal && (raw_path.empty() || raw_path.front() != '/')) {
    d.answer = json_error(400, "bad_request", *refusal);
    return d;
  }
  static const std::vector<std::string> k_no_segments;
  const auto& segments = refusal ? k_no_segments : std::get<std::vector<std::string>>(normalized);

  // The route is decided before anyone is trusted; then that route's declaration decides. A path
  // that is not canonical can only reach a catch-all route.
  bool any_path_needs_token = false;
  std::string allowed;
  for (const auto& r : routes_) {
    std::map<std::string, std::string, std::less<>> params;
    if (is_catch_all(r.pattern))
      params[r.pattern.substr(2, r.pattern.size() - 6)] = std::string(raw_path.substr(1));
    else if (refusal || !match(r.pattern, segments, params))
      continue;
    if (r.method == request.method || (request.method == "HEAD" && r.method == "GET")) {
      d.target = &r;
      d.context.path_params = std::move(params);
      break;
    }
    any_path_needs_token |= r.auth != access::open;
    if (allowed.find(r.method) == std::string::npos)
      allowed += (allowed.empty() ? "" : ", ") + r.method;
  }

  // Without a route, the API's paths still answer nothing to a caller without a token, whatever
  // the case they are spelt in, so that the API's shape does not leak.
  bool needs_token = d.target ? d.target->auth != access::open
                              : any_path_needs_token || (!segments.empty() &&
                                                         scrape::ascii_lower(segments[0]) == "api");
  if (needs_token) {
    auto verdict = verify_bearer(request.authorization, policy_);
    if (!verdict.ok()) {
      d.target = nullptr;
      d.answer = unauthorized(verdict.failure);
      return d;
    }
    d.context.user_id = verdict.subject;
    d.context.is_operator = verdict.has_role(k_operator_role);
    if (d.target && d.target->auth == access::operator_role && !d.context.is_operator) {
      d.target = nullptr;
      d.answer =
          json_error(403, "forbidden", "this route needs a token with the role \"operator\"");
      return d;
    }
  }

  if (!d.target) {
    if (refusal) {
      d.answer = json_error(400, "bad_request", *refusal);
    } else if (!allowed.empty()) {
      d.answer = json_error(405, "method_not_allowed",
                            request.method + " is not allowed here; allowed: " + allowed);
      d.answer->headers.emplace_back("Allow", allowed);
    } else {
      d.answer =
          json_error(404, "not_found", "no route for " + std::string(target.substr(0, question)));
    }
    return d;
  }
  if (question != std::string_view::npos &&
      !parse_query(target.substr(question + 1), d.context.query)) {
    d.target = nullptr;
    d.answer = json_error(400, "bad_request", "malformed query string");
  }
  return d;
}

api_response router::run(dispatch& d) const {
  if (d.answer)
    return *d.answer;
  const auto& request = d.context.request;
  try {
    return d.target->handler(d.context);
  } catch (const std::exception& e) {
    spdlog::error("{} {} failed: {}", request.method, d.target->pattern, e.what());
    return json_error(500, "internal_error", "the request could not be completed");
  }
}

api_response router::handle(const api_request& request) const {
  auto d = resolve(request);
  return run(d);
}

} // namespace sky::http
