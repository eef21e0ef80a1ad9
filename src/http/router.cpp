// Route matching: auth first (so unknown /api/v3 paths do not leak), then path, then method.
#include "http/router.hpp"

#include "http/jwt.hpp"
#include "scrape/url_rules.hpp"

#include <spdlog/spdlog.h>

namespace sky::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto next = path.find('/', pos);
    if (next == std::string_view::npos)
      next = path.size();
    if (next > pos)
      parts.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return parts;
}

bool match(std::string_view pattern, std::string_view path,
           std::map<std::string, std::string, std::less<>>& params) {
  auto p = split_path(pattern);
  auto s = split_path(path);
  // A last segment "{name...}" takes the rest of the path, slashes included.
  if (!p.empty() && p.back().size() > 5 && p.back().front() == '{' &&
      p.back().substr(p.back().size() - 4) == "...}") {
    if (s.size() < p.size() - 1)
      return false;
    auto prefix = p.size() - 1;
    std::string rest;
    for (std::size_t i = prefix; i < s.size(); ++i)
      rest.append(i > prefix ? "/" : "").append(s[i]);
    params[std::string(p.back().substr(1, p.back().size() - 5))] = rest;
    p.pop_back();
    s.resize(prefix);
  }
  if (p.size() != s.size())
    return false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].size() > 2 && p[i].front() == '{' && p[i].back() == '}')
      params[std::string(p[i].substr(1, p[i].size() - 2))] = std::string(s[i]);
    else if (p[i] != s[i])
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

} // namespace

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

router::router(std::vector<route> routes, std::string jwt_secret, std::string auth_prefix)
    : routes_(std::move(routes)), jwt_secret_(std::move(jwt_secret)),
      auth_prefix_(std::move(auth_prefix)) {}

api_response router::handle(const api_request& request) const {
  std::string_view target = request.target;
  auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (path.empty() || path.front() != '/')
    return json_error(400, "bad_request", "request target must be an absolute path");

  std::optional<std::string> user_id;
  if (path.rfind(auth_prefix_, 0) == 0) {
    auto verdict = verify_bearer(request.authorization, jwt_secret_);
    if (!verdict.ok()) {
      auto response = json_error(401, "unauthorized", to_string(verdict.failure));
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
      return response;
    }
    user_id = verdict.subject;
  }

  std::string allowed;
  for (const auto& r : routes_) {
    std::map<std::string, std::string, std::less<>> params;
    if (!match(r.pattern, path, params))
      continue;
    if (r.method != request.method && !(request.method == "HEAD" && r.method == "GET")) {
      if (allowed.find(r.method) == std::string::npos)
        allowed += (allowed.empty() ? "" : ", ") + r.method;
      continue;
    }
    request_context ctx{request, std::move(params), {}, user_id};
    if (question != std::string_view::npos && !parse_query(target.substr(question + 1), ctx.query))
      return json_error(400, "bad_request", "malformed query string");
    try {
      return r.handler(ctx);
    } catch (const std::exception& e) {
      spdlog::error("{} {} failed: {}", request.method, path, e.what());
      return json_error(500, "internal_error", "the request could not be completed");
    }
  }
  if (!allowed.empty()) {
    auto response = json_error(405, "method_not_allowed",
                               request.method + " is not allowed here; allowed: " + allowed);
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  return json_error(404, "not_found", "no route for " + std::string(path));
}

} // namespace sky::http
