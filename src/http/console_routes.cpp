// Static files of the browser console, with revalidation (ETag, 304) and a strict policy: the
// pages may load only their own scripts and styles, never inline ones, and may not be framed.
#include "http/console_routes.hpp"

#include <stdexcept>
#include <string>

namespace sky::http {
namespace {

constexpr std::string_view k_content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

std::string_view content_type_of(std::string_view name) {
  struct type {
    std::string_view extension, content_type;
  };
  static constexpr type k_types[] = {{".html", "text/html; charset=utf-8"},
                                     {".js", "text/javascript; charset=utf-8"},
                                     {".css", "text/css; charset=utf-8"},
                                     {".svg", "image/svg+xml"}};
  for (const auto& t : k_types)
    if (name.size() > t.extension.size() &&
        name.substr(name.size() - t.extension.size()) == t.extension)
      return t.content_type;
  // Refused at start-up rather than served with a guessed type.
  throw std::logic_error("console file of unknown type: " + std::string(name));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

api_response serve(const console_file& file, std::string_view content_type,
                   const request_context& ctx) {
  api_response r{200,
                 std::string(),
                 std::string(content_type),
                 {{"ETag", std::string(file.etag)},
                  // Always revalidated (a 304 costs one small round trip), so a new binary's
                  // files are used at once and the index never refers to stale scripts.
                  {"Cache-Control", "no-cache"},
                  {"Content-Security-Policy", std::string(k_content_security_policy)},
                  {"X-Content-Type-Options", "nosniff"},
                  {"Referrer-Policy", "no-referrer"},
                  {"X-Frame-Options", "DENY"}}};
  if (etag_matches(ctx.request.if_none_match, file.etag))
    r.status = 304;
  else
    r.body = file.body;
  return r;
}

} // namespace

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    auto tag = trim(if_none_match.substr(0, comma));
    if (tag == "*")
      return true;
    if (tag.substr(0, 2) == "W/")
      tag.remove_prefix(2);
    if (!tag.empty() && tag == etag)
      return true;
    if (comma == std::string_view::npos)
      break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

std::vector<route> console_routes() {
  std::vector<route> routes;
  for (const auto& file : console_files()) {
    auto type = content_type_of(file.name);
    auto handler = [&file, type](request_context& ctx) { return serve(file, type, ctx); };
    routes.push_back(
        {"GET", "/" + std::string(file.name), handler, access::open, execution::nonblocking});
    if (file.name == "index.html")
      routes.push_back({"GET", "/", handler, access::open, execution::nonblocking});
  }
  return routes;
}

} // namespace sky::http
