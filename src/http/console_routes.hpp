// The browser console: static files embedded at build time (cmake/embed_console.cmake), served
// as public routes. The console holds no data of its own; it calls the bearer-protected API.
#pragma once

#include "http/router.hpp"

#include <string_view>
#include <vector>

namespace sky::http {

struct console_file {
  std::string_view name; // "app.js"; served at "/app.js" ("index.html" also at "/")
  std::string_view etag; // quoted, from the file's SHA-256
  std::string_view body;
};

// Generated from src/http/console/*.
const std::vector<console_file>& console_files();

// True when an If-None-Match header value names `etag` (or is "*"); weak tags compare equal.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

// One route per file: GET, public, answered from memory on the I/O thread.
std::vector<route> console_routes();

} // namespace sky::http
