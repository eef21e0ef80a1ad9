// URL rules shared by input validation and the fetcher: what counts as a fetchable web URL.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct web_url {
  std::string scheme; // "http" or "https"
  std::string host;   // lower-case, no trailing dot
  std::string normalized;
};

// Accepts absolute http(s) URLs with a host, at most `max_length` bytes; nullopt otherwise.
std::optional<web_url> parse_web_url(std::string_view text, std::size_t max_length = 2048);

// Accepts a bare domain name ("Example.COM." -> "example.com"); nullopt for anything else.
std::optional<std::string> normalize_domain(std::string_view text);

// curl walks the CONNECT_TO list entry by entry for every connection, formatting each; with one
// entry per site (a web of many host names on loopback) that walk cost 3 % of the server's CPU.
// The list for connections to `host`: its own entries first, then the whole list in its order,
// so the first entry matching `host` comes at once and a redirect to another host still finds
// its own. Empty when the order must stay as written (an entry for any host, which may match
// before or after an entry of `host`), or when `host` has no entry of its own.
std::vector<std::string> connect_to_for_host(const std::vector<std::string>& entries,
                                             std::string_view host);

// The hosts connect_to_for_host has a list for (lower-case, each once); none when an entry is for
// any host.
std::vector<std::string> connect_to_hosts(const std::vector<std::string>& entries);

// 0-15 for a hexadecimal digit, -1 otherwise (percent-decoding, entities, hex payloads).
int hex_digit_value(char c);

} // namespace sky::scrape
