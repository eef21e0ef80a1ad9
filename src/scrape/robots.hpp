// robots.txt (RFC 9309): the rules that apply to our user agent, crawl-delay and Sitemap lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

struct robots_rule {
  bool allow = false;
  std::string pattern; // may contain '*' and a trailing '$'
};

struct robots_rules {
  std::vector<robots_rule> rules; // of the group(s) that apply to us
  std::optional<double> crawl_delay_s;
  std::vector<std::string> sitemaps; // every Sitemap: line, whatever its group

  // Longest matching pattern wins; on a tie, Allow wins; no match means allowed.
  // `path` is the URL's path and query ("/a/b?c=d"). /robots.txt itself is always allowed.
  bool allowed(std::string_view path) const;
};

// Parses at most the first 512 KiB. `product_token` is our crawler's name (e.g. "ScraperSkyBot"),
// matched case-insensitively against User-agent lines; groups for "*" apply when none names us.
robots_rules parse_robots(std::string_view text, std::string_view product_token);

// Wildcard match of a robots pattern against a path prefix ('*' any run, '$' end of path).
bool robots_pattern_matches(std::string_view pattern, std::string_view path);

} // namespace sky::scrape
