// Site-level scraping on top of the fetcher: robots.txt per origin, the homepage of a domain,
// the email crawl and sitemap discovery. Blocking calls; the fetches inside run concurrently.
#pragma once

#include "scrape/fetcher.hpp"
#include "scrape/page_analysis.hpp"
#include "scrape/robots.hpp"
#include "scrape/sitemap.hpp"

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sky::scrape {

// robots.txt of each origin, fetched once and kept for `ttl`. Thread-safe; concurrent callers for
// one origin share a single fetch. A missing robots.txt (4xx) allows everything; a 5xx or an
// unreachable one disallows crawling for now (RFC 9309, section 2.3.1).
class robots_cache {
public:
  robots_cache(fetcher& f, std::string product_token,
               std::chrono::seconds ttl = std::chrono::hours(1));
  robots_rules rules_for(std::string_view url);
  bool allowed(std::string_view url);

private:
  struct entry {
    std::shared_future<robots_rules> rules;
    std::chrono::steady_clock::time_point fetched_at;
  };
  fetcher& fetcher_;
  std::string product_token_;
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::map<std::string, entry, std::less<>> entries_;
};

// "ScraperSkyBot/1.0 (+...)" -> "ScraperSkyBot": the name robots.txt groups are matched against.
std::string robots_product_token(std::string_view user_agent);

// The homepage of a bare domain: https first, plain http when https cannot connect at all.
fetch_result fetch_site_home(fetcher& f, std::string_view domain);

// UTF-8 text of a successful HTML response; nullopt for errors and non-2xx statuses.
std::optional<std::string> page_text(const fetch_result& r);

struct crawl_options {
  int max_pages = 10;
  int max_depth = 2;
  std::function<bool()> cancelled;                    // checked between pages
  std::function<void(int done, int planned)> on_page; // after each page
  // The start page, when the caller already fetched it (it is not fetched again).
  std::optional<fetch_result> first_page;
  std::string phone_region = "US"; // default country of phone numbers
};

struct crawled_page {
  std::string url;
  long status = 0;
  int depth = 0;
  std::size_t emails = 0;
  std::string error;
};

struct crawl_report {
  std::string start_url;
  std::optional<page_analysis> home;                       // when the first page loaded
  std::vector<crawled_page> pages;                         // in fetch order
  std::vector<std::pair<std::string, std::string>> emails; // email -> first page it was on
  std::vector<std::pair<std::string, std::string>> phones; // E.164 -> first page it was on
  std::vector<std::string> skipped_by_robots;
  bool cancelled = false;
};

// Homepage first, then the best contact candidates among same-site links, level by level, until
// max_pages or max_depth; robots.txt is obeyed for every page.
crawl_report crawl_for_contacts(fetcher& f, robots_cache& robots, std::string_view start_url,
                                const crawl_options& options);
boost::json::object to_json(const crawl_report& report);

struct discovery_options {
  int max_files = 50;
  int max_depth = 3; // index nesting
  sitemap_limits limits;
};

struct found_sitemap {
  std::string url;
  std::string type;             // urlset | sitemapindex | text | invalid
  std::string discovery_method; // robots_txt | well_known | sitemap_index | given
  long url_count = 0;           // URLs (urlset, text) or child sitemaps (index)
  std::string error;
};

struct sitemap_discovery {
  std::vector<found_sitemap> sitemaps; // each URL once, in discovery order
  std::vector<std::string> errors;
};

// robots.txt Sitemap lines, then /sitemap.xml, /sitemap_index.xml and /wp-sitemap.xml of
// `site_url`'s origin; indexes are followed to max_depth. With `given` set, starts from that
// sitemap URL alone.
sitemap_discovery discover_sitemaps(fetcher& f, std::string_view site_url,
                                    const discovery_options& options,
                                    std::optional<std::string> given = std::nullopt);
boost::json::object to_json(const sitemap_discovery& discovery);

// Fetches and parses one sitemap file; the document's error says why when it failed.
sitemap_document fetch_sitemap(fetcher& f, std::string_view url, const sitemap_limits& limits);

} // namespace sky::scrape
