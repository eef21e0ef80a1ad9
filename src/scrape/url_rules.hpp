// URL rules shared by input validation and the fetcher: what counts as a fetchable web URL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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

// 0-15 for a hexadecimal digit, -1 otherwise (percent-decoding, entities, hex payloads).
int hex_digit_value(char c);

} // namespace sky::scrape
