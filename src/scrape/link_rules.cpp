// Link classification by URL shape.
#include "scrape/link_rules.hpp"

#include "scrape/domain_rules.hpp"
#include "scrape/text_rules.hpp"

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <optional>
#include <set>

namespace sky::scrape {
namespace {

struct parsed_link {
  std::string host; // lower-case
  std::string path; // lower-case, without query
};

std::optional<parsed_link> parse_link(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u || !u->has_authority())
    return std::nullopt;
  auto scheme = ascii_lower(u->scheme());
  if (scheme != "http" && scheme != "https")
    return std::nullopt;
  auto host = ascii_lower(u->encoded_host());
  if (host.empty())
    return std::nullopt;
  return parsed_link{std::move(host), ascii_lower(u->encoded_path())};
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_asset(std::string_view path) {
  static constexpr std::array k_extensions{
      ".jpg", ".jpeg", ".png", ".gif",  ".webp", ".svg",  ".ico",  ".bmp",   ".pdf", ".zip",
      ".gz",  ".rar",  ".7z",  ".mp3",  ".mp4",  ".mov",  ".avi",  ".css",   ".js",  ".xml",
      ".doc", ".docx", ".xls", ".xlsx", ".ppt",  ".pptx", ".woff", ".woff2", ".ttf", ".exe"};
  for (auto ext : k_extensions)
    if (ends_with(path, ext))
      return true;
  return false;
}

bool host_is(std::string_view host, std::string_view domain) {
  return host == domain || ends_with(host, "." + std::string(domain));
}

} // namespace

int contact_link_score(std::string_view url) {
  auto link = parse_link(url);
  if (!link)
    return 0;
  // Weighted keywords, strongest first; German and French sites say it in their language.
  static constexpr std::array<std::pair<std::string_view, int>, 14> k_keywords{{
      {"contact", 100},
      {"kontakt", 100},
      {"impressum", 95},
      {"contacto", 90},
      {"contatti", 90},
      {"imprint", 85},
      {"legal", 60},
      {"about", 70},
      {"ueber-uns", 70},
      {"uber-uns", 70},
      {"team", 60},
      {"staff", 55},
      {"mentions", 50},
      {"people", 45},
  }};
  int best = 0;
  for (const auto& [word, weight] : k_keywords)
    if (link->path.find(word) != std::string::npos)
      best = std::max(best, weight);
  // Shallow pages are more likely to be the site-wide contact page than a blog post mentioning it.
  if (best > 0)
    best -= static_cast<int>(
        std::min<std::size_t>(std::count(link->path.begin(), link->path.end(), '/') * 2, 20));
  return std::max(best, 0);
}

std::vector<std::string> contact_crawl_order(const std::vector<std::string>& links,
                                             std::string_view site_url, std::size_t limit) {
  auto site = registrable_domain(site_url);
  auto site_link = parse_link(site_url);
  std::set<std::string, std::less<>> seen;
  if (site_link)
    seen.insert(std::string(site_url));
  struct candidate {
    int score;
    std::size_t order;
    const std::string* url;
  };
  std::vector<candidate> candidates;
  for (std::size_t i = 0; i < links.size(); ++i) {
    auto link = parse_link(links[i]);
    if (!link || is_asset(link->path))
      continue;
    bool same_site =
        site ? host_is(link->host, *site) : (site_link && link->host == site_link->host);
    if (!same_site || !seen.insert(links[i]).second)
      continue;
    candidates.push_back({contact_link_score(links[i]), i, &links[i]});
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const candidate& a, const candidate& b) { return a.score > b.score; });
  std::vector<std::string> out;
  for (const auto& c : candidates) {
    if (out.size() >= limit)
      break;
    out.push_back(*c.url);
  }
  return out;
}

std::map<std::string, std::string> social_profiles(const std::vector<std::string>& links) {
  struct network {
    std::string_view name;
    std::array<std::string_view, 2> domains;
    // Path prefixes that are never a profile (sharing dialogs, tracking, generic pages).
    std::array<std::string_view, 6> not_profiles;
  };
  static constexpr std::array<network, 6> k_networks{{
      {"facebook",
       {"facebook.com", "fb.com"},
       {"/sharer", "/share", "/dialog", "/tr", "/plugins", "/login"}},
      {"instagram", {"instagram.com", ""}, {"/p/", "/explore", "/accounts", "/reel/", "", ""}},
      {"linkedin",
       {"linkedin.com", ""},
       {"/sharing", "/sharearticle", "/share", "/shareArticle", "/login", ""}},
      {"x", {"twitter.com", "x.com"}, {"/intent", "/share", "/home", "/search", "/hashtag", "/i/"}},
      {"youtube",
       {"youtube.com", "youtu.be"},
       {"/watch", "/embed", "/results", "/shorts/", "", ""}},
      {"tiktok", {"tiktok.com", ""}, {"/share", "/embed", "/discover", "/tag/", "", ""}},
  }};
  std::map<std::string, std::string> out;
  for (const auto& url : links) {
    auto link = parse_link(url);
    if (!link || link->path.empty() || link->path == "/")
      continue;
    for (const auto& net : k_networks) {
      bool on_network = false;
      for (auto d : net.domains)
        on_network |= !d.empty() && host_is(link->host, d);
      if (!on_network || out.count(std::string(net.name)))
        continue;
      bool excluded = false;
      for (auto prefix : net.not_profiles)
        excluded |= !prefix.empty() && link->path.rfind(ascii_lower(prefix), 0) == 0;
      if (!excluded)
        out.emplace(net.name, url);
    }
  }
  return out;
}

} // namespace sky::scrape
