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

namespace {

// Lower-case ASCII letters and digits only, Latin accents folded ("Über uns" -> "uberuns",
// "mentions-l%C3%A9gales" once decoded -> "mentionslegales"): page names compare however they
// are spelled or separated.
std::string squash(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += static_cast<char>(c);
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (c == 0xC3 && i + 1 < s.size()) {
      // U+00C0..U+00FF: the accented Latin letters of the European languages.
      static constexpr std::string_view k_folded = "aaaaaaaceeeeiiiidnooooo*ouuuuyts"
                                                   "aaaaaaaceeeeiiiidnooooo/ouuuuyty";
      auto index = static_cast<std::size_t>(static_cast<unsigned char>(s[i + 1])) - 0x80;
      if (index < k_folded.size() && k_folded[index] != '*' && k_folded[index] != '/') {
        if (index == 0x1F)
          out += "ss";
        else
          out += k_folded[index];
      }
      ++i;
    }
  }
  return out;
}

// Page names that hold contact details, squashed, strongest first.
constexpr std::array<std::pair<std::string_view, int>, 35> k_contact_pages{{
    {"contact", 100},      {"kontakt", 100},      {"yhteystiedot", 100}, {"getintouch", 95},
    {"contatt", 95},       {"impressum", 95},     {"imprint", 90},       {"mentionslegales", 90},
    {"avisolegal", 85},    {"notelegali", 85},    {"colofon", 80},       {"aboutus", 75},
    {"about", 70},         {"ueberuns", 70},      {"uberuns", 70},       {"quienessomos", 70},
    {"sobrenosotros", 70}, {"quisommesnous", 70}, {"apropos", 70},       {"chisiamo", 70},
    {"overons", 70},       {"omoss", 70},         {"legal", 60},         {"team", 60},
    {"staff", 55},         {"equipe", 55},        {"equipo", 55},        {"squadra", 55},
    {"medewerkers", 55},   {"mitarbeiter", 55},   {"mentions", 50},      {"people", 45},
    {"locations", 40},     {"standort", 40},      {"anfahrt", 40},
}};

int keyword_score(const std::string& squashed) {
  int best = 0;
  for (const auto& [word, weight] : k_contact_pages)
    if (weight > best && squashed.find(word) != std::string::npos)
      best = weight;
  return best;
}

} // namespace

int contact_link_score(std::string_view url, std::string_view link_text) {
  auto link = parse_link(url);
  if (!link)
    return 0;
  int best = keyword_score(squash(percent_decode(link->path)));
  // Shallow pages are more likely to be the site-wide contact page than a blog post mentioning it.
  if (best > 0)
    best -= static_cast<int>(
        std::min<std::size_t>(std::count(link->path.begin(), link->path.end(), '/') * 2, 20));
  // A link whose text names the page ("Nous contacter", "Über uns") counts as much, whatever its
  // URL; long texts are sentences, not page names.
  if (!link_text.empty() && link_text.size() <= 40)
    best = std::max(best, keyword_score(squash(link_text)) - 5);
  return std::max(best, 0);
}

std::vector<ranked_link> rank_contact_links(const std::vector<std::string>& links,
                                            std::string_view site_url, std::size_t limit,
                                            const std::vector<std::string>& link_texts) {
  auto site = registrable_domain(site_url);
  auto site_link = parse_link(site_url);
  std::set<std::string, std::less<>> seen;
  if (site_link)
    seen.insert(std::string(site_url));
  std::vector<ranked_link> candidates;
  for (std::size_t i = 0; i < links.size(); ++i) {
    auto link = parse_link(links[i]);
    if (!link || is_asset(link->path))
      continue;
    bool same_site =
        site ? host_is(link->host, *site) : (site_link && link->host == site_link->host);
    if (!same_site || !seen.insert(links[i]).second)
      continue;
    auto text = i < link_texts.size() ? std::string_view(link_texts[i]) : std::string_view();
    candidates.push_back({links[i], contact_link_score(links[i], text)});
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const ranked_link& a, const ranked_link& b) { return a.score > b.score; });
  if (candidates.size() > limit)
    candidates.resize(limit);
  return candidates;
}

std::vector<std::string> contact_crawl_order(const std::vector<std::string>& links,
                                             std::string_view site_url, std::size_t limit,
                                             const std::vector<std::string>& link_texts) {
  std::vector<std::string> out;
  for (auto& link : rank_contact_links(links, site_url, limit, link_texts))
    out.push_back(std::move(link.url));
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
