// Site-level scraping on top of the fetcher: robots.txt per origin, the homepage of a domain,
// the email crawl and sitemap discovery. Each is a coroutine over a job's fetch_session, which
// work steps await; the overloads taking a fetcher block their caller (the CLI, tests) instead.
#pragma once

#include "scrape/browser_pool.hpp"
#include "scrape/fetch_session.hpp"
#include "scrape/fetcher.hpp"
#include "scrape/lru_map.hpp"
#include "scrape/page_analysis.hpp"
#include "scrape/render_rules.hpp"
#include "scrape/robots.hpp"
#include "scrape/sitemap.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sky::scrape {

// What a robots.txt response means (RFC 9309, section 2.3.1): a 2xx body is parsed; a missing
// robots.txt (4xx) allows everything; a transient failure (timeout, connection error, 429, 5xx)
// disallows everything for now, and says so, so that it is not remembered for long.
struct robots_answer {
  robots_rules rules;
  bool transient = false;
};
robots_answer read_robots_response(const fetch_result& r, std::string_view product_token);

struct robots_cache_limits {
  std::size_t max_origins = 10'000;     // least recently used origins are dropped beyond
  std::chrono::seconds ttl{3600};       // an answer is used this long
  std::chrono::seconds failure_ttl{30}; // a transient failure is used this long
  static robots_cache_limits from(const config::fetch_config& c);
};

// robots.txt of each origin, fetched once and kept for limits.ttl (a transient failure for
// limits.failure_ttl). Thread-safe; concurrent callers for one origin share a single fetch.
class robots_cache {
public:
  robots_cache(fetcher& f, std::string product_token, robots_cache_limits limits = {});
  // Awaits the rules without holding a thread (run_sync.hpp for a blocking caller).
  boost::asio::awaitable<robots_rules> async_rules_for(std::string url);
  boost::asio::awaitable<bool> async_allowed(std::string url);
  std::size_t cached_origins();

private:
  using clock = std::chrono::steady_clock;
  // Calls `then` with the origin's rules: at once when cached, else when its fetch ends (on
  // the fetcher's thread).
  void with_rules(std::string_view url, std::function<void(robots_rules)> then);
  struct slot {
    bool ready = false;
    robots_rules rules;
    std::vector<std::function<void(robots_rules)>> waiters; // until ready
  };
  struct entry {
    std::shared_ptr<slot> rules;
    clock::time_point expires_at; // time_point::max() while the fetch runs
    std::uint64_t generation = 0; // tells a refetched entry from the one a fetch was for
  };
  fetcher& fetcher_;
  std::string product_token_;
  robots_cache_limits limits_;
  std::mutex mutex_;
  lru_map<std::string, entry> entries_;
  std::uint64_t next_generation_ = 0;
};

// "ScraperSkyBot/1.0 (+...)" -> "ScraperSkyBot": the name robots.txt groups are matched against.
std::string robots_product_token(std::string_view user_agent);

// The homepage of a bare domain: https first, plain http when https cannot connect at all.
boost::asio::awaitable<fetch_result> fetch_site_home(fetch_session& s, std::string domain);

// UTF-8 text of a successful HTML response; nullopt for errors and non-2xx statuses.
std::optional<std::string> page_text(const fetch_result& r);

// What the rendering tier did for one page.
struct page_render {
  std::string reason; // why it was rendered (render_rules.hpp); "" when it was not
  std::string error;  // why the rendered page could not be read; "" when it was
  double seconds = 0;
  int requests = 0, blocked = 0, dialogs = 0;
  std::size_t emails_added = 0, phones_added = 0; // found only in the rendered page
};

// Renders the page in a browser when `mode` asks for it (render_rules.hpp), and adds what the
// browser shows to `analysis`, read by the same extractors with the same limits. Without a
// browser pool, or with mode off, nothing happens.
boost::asio::awaitable<page_render>
render_when_needed(fetch_session& s, browser_pool* browsers, render_mode mode,
                   const std::string& html, const std::string& url, page_analysis& analysis,
                   const std::string& phone_region, const page_limits& limits);
// {reason, seconds, requests, blocked, dialogs, emails_added, phones_added, error?}
boost::json::object to_json(const page_render& render);

struct crawl_options {
  int max_pages = 10;
  int max_depth = 2;
  std::function<void(int done, int planned)> on_page; // after each page
  // The start page, when the caller already fetched it (it is not fetched again).
  std::optional<fetch_result> first_page;
  std::string phone_region = "US";  // default country of phone numbers
  page_limits page;                 // what is read of each page
  std::size_t max_emails = 1000;    // distinct addresses collected by the whole crawl
  std::size_t max_phones = 1000;    // distinct numbers collected by the whole crawl
  browser_pool* browsers = nullptr; // the rendering tier; none: pages are read as served
  render_mode render = render_mode::off;
};

struct crawled_page {
  std::string url;
  long status = 0;
  int depth = 0;
  std::size_t emails = 0;
  std::string error;
  page_render render;
};

struct crawl_report {
  std::string start_url;
  std::optional<page_analysis> home;                       // when the first page loaded
  std::vector<crawled_page> pages;                         // in fetch order
  std::vector<std::pair<std::string, std::string>> emails; // email -> first page it was on
  std::vector<std::pair<std::string, std::string>> phones; // E.164 -> first page it was on
  std::vector<std::string> skipped_by_robots;
  // Limits reached, each once: a page's ("emails_per_page", ...) or the crawl's ("emails_per_job",
  // "phones_per_job"; the crawl then plans no further level).
  std::vector<std::string> limits_hit;
  bool cancelled = false;
};

// Homepage first, then the best contact candidates among same-site links, level by level, until
// max_pages or max_depth, or until max_emails is reached; robots.txt is obeyed for every page.
boost::asio::awaitable<crawl_report> crawl_for_contacts(fetch_session& s, robots_cache& robots,
                                                        std::string start_url,
                                                        crawl_options options);
boost::json::object to_json(const crawl_report& report);

struct discovery_options {
  int max_files = 50;
  int max_depth = 3; // index nesting
  sitemap_limits limits;
  // The whole discovery, waits for fetches included; what was found by then is returned.
  std::chrono::milliseconds time_limit = std::chrono::seconds(240);
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
  std::vector<std::string> errors;     // the time limit and the file cap are reported here
  bool cancelled = false;
  bool timed_out = false;
};

// robots.txt Sitemap lines, then /sitemap.xml, /sitemap_index.xml and /wp-sitemap.xml of
// `site_url`'s origin; indexes are followed to max_depth. With `given` set, starts from that
// sitemap URL alone.
boost::asio::awaitable<sitemap_discovery> discover_sitemaps(fetch_session& s, std::string site_url,
                                                            discovery_options options,
                                                            std::optional<std::string> given);
boost::json::object to_json(const sitemap_discovery& discovery);

// Fetches and parses one sitemap file; the document's error says why when it failed.
boost::asio::awaitable<sitemap_document> fetch_sitemap(fetch_session& s, std::string url,
                                                       sitemap_limits limits);
// The sitemap in a fetch result (failed fetches and non-2xx statuses become invalid documents).
sitemap_document read_sitemap_response(const fetch_result& r, const sitemap_limits& limits);

} // namespace sky::scrape
