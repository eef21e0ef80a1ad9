// robots.txt parsing and matching.
#include "scrape/robots.hpp"

#include "scrape/text_rules.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sky::scrape {
namespace {

constexpr std::size_t k_max_bytes = 512 * 1024;

struct group {
  std::vector<std::string> agents; // lower-cased
  std::vector<robots_rule> rules;
  std::optional<double> crawl_delay;
};

} // namespace

bool robots_pattern_matches(std::string_view pattern, std::string_view path) {
  bool anchored = !pattern.empty() && pattern.back() == '$';
  if (anchored)
    pattern.remove_suffix(1);
  // Iterative wildcard matching with a single backtrack point: O(|pattern| * |path|) at worst,
  // both of which are bounded by the parser and the URL length limit.
  std::size_t p = 0, s = 0, star = std::string_view::npos, mark = 0;
  while (s < path.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = s;
    } else if (p < pattern.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
    } else if (p == pattern.size() && !anchored) {
      return true; // the pattern matched a prefix of the path
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

bool robots_rules::allowed(std::string_view path) const {
  if (path == "/robots.txt")
    return true;
  const robots_rule* best = nullptr;
  for (const auto& r : rules) {
    if (r.pattern.empty() || !robots_pattern_matches(r.pattern, path))
      continue;
    if (!best || r.pattern.size() > best->pattern.size() ||
        (r.pattern.size() == best->pattern.size() && r.allow && !best->allow))
      best = &r;
  }
  return !best || best->allow;
}

robots_rules parse_robots(std::string_view text, std::string_view product_token) {
  if (text.size() > k_max_bytes)
    text = text.substr(0, k_max_bytes);
  robots_rules out;
  std::vector<group> groups;
  bool in_agent_lines = false; // consecutive User-agent lines share one group
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos)
      end = text.size();
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (auto hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto field = ascii_lower(trim_space(line.substr(0, colon)));
    auto value = trim_space(line.substr(colon + 1));
    if (field == "user-agent") {
      if (!in_agent_lines || groups.empty())
        groups.emplace_back();
      groups.back().agents.push_back(ascii_lower(value));
      in_agent_lines = true;
      continue;
    }
    if (field == "sitemap") {
      if (!value.empty())
        out.sitemaps.emplace_back(value);
      continue; // Sitemap lines do not end a run of User-agent lines' group either
    }
    in_agent_lines = false;
    if (groups.empty())
      continue; // rules before any User-agent belong to nobody
    if (field == "allow" || field == "disallow") {
      groups.back().rules.push_back({field == "allow", std::string(value)});
    } else if (field == "crawl-delay") {
      char* parse_end = nullptr;
      std::string v(value);
      double d = std::strtod(v.c_str(), &parse_end);
      if (parse_end && *parse_end == '\0' && d >= 0 && d <= 86400)
        groups.back().crawl_delay = d;
    }
  }

  auto token = ascii_lower(product_token);
  auto names_us = [&](const group& g) {
    return std::any_of(g.agents.begin(), g.agents.end(), [&](const std::string& a) {
      // "ScraperSkyBot/1.0" and "scraperskybot" both name us; "*" does not.
      return !a.empty() && a != "*" && token.rfind(a.substr(0, a.find('/')), 0) == 0 &&
             a.substr(0, a.find('/')).size() == token.size();
    });
  };
  auto is_star = [](const group& g) {
    return std::find(g.agents.begin(), g.agents.end(), "*") != g.agents.end();
  };
  bool any_named = std::any_of(groups.begin(), groups.end(), names_us);
  for (const auto& g : groups) {
    if (any_named ? names_us(g) : is_star(g)) {
      out.rules.insert(out.rules.end(), g.rules.begin(), g.rules.end());
      if (g.crawl_delay)
        out.crawl_delay_s = g.crawl_delay;
    }
  }
  return out;
}

} // namespace sky::scrape
