// Site scans against the fixture web on loopback: robots.txt, the contact crawl and its caps,
// sitemap discovery, and hostile responses (traps, bombs, loops, private redirects, slow pages).
#include "scrape/page_report.hpp"
#include "scrape/site_scan.hpp"
#include "support/fixture_server.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

using namespace sky;
using namespace std::chrono_literals;

namespace {

config::fetch_config fixture_fetch(const test_support::fixture_server& web) {
  config::fetch_config c;
  c.connect_to = {"::127.0.0.1:" + std::to_string(web.port())};
  c.allow_private = {"127.0.0.1/32"};
  c.per_host_delay = 0ms;
  c.total_timeout = 2s;
  c.max_response_bytes = 4 << 20;
  c.retry_base = 20ms;
  return c;
}

} // namespace

TEST(site_scan, the_crawl_ranks_contact_pages_and_obeys_robots) {
  test_support::fixture_server web;
  scrape::fetcher f(fixture_fetch(web));
  scrape::robots_cache robots(f, "ScraperSkyBot");
  scrape::crawl_options options;
  options.max_pages = 10;
  auto report = scrape::crawl_for_contacts(f, robots, "http://bella-pizzeria.com/", options);
  ASSERT_TRUE(report.home);
  ASSERT_GE(report.pages.size(), 2u);
  EXPECT_EQ(report.pages[1].url, "http://bella-pizzeria.com/pages/kontakt"); // contact first
  EXPECT_EQ(report.skipped_by_robots,
            (std::vector<std::string>{"http://bella-pizzeria.com/pages/team"}));
  std::vector<std::string> emails;
  for (const auto& [email, source] : report.emails)
    emails.push_back(email);
  EXPECT_EQ(emails,
            (std::vector<std::string>{"orders@bella-pizzeria.com", "ciao@bella-pizzeria.com"}));
}

TEST(site_scan, crawler_traps_end_at_the_depth_and_page_caps) {
  test_support::fixture_server web;
  scrape::fetcher f(fixture_fetch(web));
  scrape::robots_cache robots(f, "ScraperSkyBot");
  scrape::crawl_options options;
  options.max_pages = 50;
  options.max_depth = 3;
  int progress_calls = 0;
  options.on_page = [&](int done, int planned) {
    ++progress_calls;
    EXPECT_LE(done, planned);
  };
  auto start = std::chrono::steady_clock::now();
  auto report = scrape::crawl_for_contacts(f, robots, "http://traps.test/", options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  // Every /trap/ page links two contact-like pages one level deeper, forever: the crawl takes
  // 1 + 1 + 2 + 4 pages and stops at depth 3.
  EXPECT_EQ(report.pages.size(), 8u);
  EXPECT_EQ(progress_calls, 8);
  EXPECT_EQ(report.pages.back().depth, 3);
  options.max_pages = 5;
  EXPECT_EQ(scrape::crawl_for_contacts(f, robots, "http://traps.test/", options).pages.size(), 5u);
}

TEST(site_scan, cancellation_stops_between_levels) {
  test_support::fixture_server web;
  scrape::fetcher f(fixture_fetch(web));
  scrape::robots_cache robots(f, "ScraperSkyBot");
  scrape::crawl_options options;
  int pages = 0;
  options.on_page = [&](int, int) { ++pages; };
  options.cancelled = [&] { return pages >= 1; };
  auto report = scrape::crawl_for_contacts(f, robots, "http://alpha-bakery.com/", options);
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(report.pages.size(), 1u);
}

TEST(site_scan, sitemap_discovery_follows_robots_and_indexes_within_caps) {
  test_support::fixture_server web;
  scrape::fetcher f(fixture_fetch(web));
  auto alpha = scrape::discover_sitemaps(f, "http://alpha-bakery.com/", {});
  ASSERT_EQ(alpha.sitemaps.size(), 3u);
  EXPECT_EQ(alpha.sitemaps[0].discovery_method, "robots_txt");
  EXPECT_EQ(alpha.sitemaps[2].url, "http://alpha-bakery.com/post-sitemap.xml.gz");
  EXPECT_EQ(alpha.sitemaps[2].url_count, 20);
  // traps.test: an index listing itself, nesting without end and a gzip bomb.
  scrape::discovery_options options;
  options.max_depth = 2;
  options.limits.max_bytes = 1 << 20;
  auto start = std::chrono::steady_clock::now();
  auto traps = scrape::discover_sitemaps(f, "http://traps.test/", options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_LE(traps.sitemaps.size(), 6u);
  bool bomb_refused = false;
  for (const auto& s : traps.sitemaps)
    bomb_refused |=
        s.url.ends_with("gzip-bomb.xml.gz") && s.error.find("exceeds") != std::string::npos;
  EXPECT_TRUE(bomb_refused);
}

TEST(site_scan, hostile_responses_fail_cleanly) {
  test_support::fixture_server web;
  auto c = fixture_fetch(web);
  c.max_redirects = 3;
  // Only traps.test goes to the fixture server, so a redirect to 10.255.255.1 is really tried.
  c.connect_to = {"traps.test::127.0.0.1:" + std::to_string(web.port())};
  scrape::fetcher f(c);
  auto loop = f.fetch_blocking("http://traps.test/redirect-loop");
  EXPECT_FALSE(loop.ok());
  EXPECT_LE(loop.redirects, 3);
  auto to_private = f.fetch_blocking("http://traps.test/redirect-private");
  EXPECT_TRUE(to_private.blocked) << to_private.error;
  auto huge = f.fetch_blocking("http://traps.test/huge");
  EXPECT_TRUE(huge.too_large);
  EXPECT_LE(huge.body.size(), c.max_response_bytes);
  auto slow = f.fetch_blocking("http://traps.test/slow");
  EXPECT_FALSE(slow.ok());
  EXPECT_EQ(slow.attempts, 1) << "timeouts are not retried inside the fetcher";
}

TEST(site_scan, cli_crawls_and_lists_sitemaps_of_the_fixture_web) {
  test_support::fixture_server web;
  std::map<std::string, std::string> env{
      {"FETCH_CONNECT_TO", "::127.0.0.1:" + std::to_string(web.port())},
      {"FETCH_PER_HOST_DELAY_MS", "0"}};
  auto [code, out] = test_support::run_to_end(
      {SCRAPERSKY_BINARY, "scrape", "http://corner-dental.com/", "--crawl", "5", "--allow-private"},
      env);
  ASSERT_EQ(code, 0) << out;
  auto report = boost::json::parse(out).as_object();
  EXPECT_EQ(report.at("title").as_string(), "Corner Dental");
  EXPECT_EQ(report.at("pages_fetched").as_int64(), 2);
  EXPECT_EQ(boost::json::serialize(report.at("emails")),
            R"(["front-desk@corner-dental.com","appointments@corner-dental.com"])");
  EXPECT_EQ(boost::json::serialize(report.at("phones")), R"(["+12177890100","+12177890199"])");
  EXPECT_EQ(boost::json::serialize(report.at("tech")), R"(["Wix"])");
  EXPECT_EQ(report.at("social").at("linkedin").as_string(),
            "https://www.linkedin.com/company/corner-dental");
  auto [sitemap_code, sitemaps] = test_support::run_to_end(
      {SCRAPERSKY_BINARY, "sitemap", "http://alpha-bakery.com/", "--allow-private"}, env);
  ASSERT_EQ(sitemap_code, 0) << sitemaps;
  auto listed = boost::json::parse(sitemaps).at("sitemaps").as_array();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[1].at("url_count").as_int64(), 5);
}

TEST(site_scan, a_request_may_raise_the_response_cap_for_itself) {
  test_support::fixture_server web;
  auto c = fixture_fetch(web);
  c.max_response_bytes = 512; // smaller than the post sitemap (about 2.3 KB uncompressed)
  scrape::fetcher f(c);
  auto capped = f.fetch_blocking("http://alpha-bakery.com/");
  EXPECT_TRUE(capped.too_large);
  EXPECT_NE(capped.error.find("512"), std::string::npos) << capped.error;
  auto raised = f.fetch_blocking("http://alpha-bakery.com/", std::size_t{1} << 20);
  EXPECT_TRUE(raised.ok()) << raised.error;
  // fetch_sitemap downloads with the sitemap cap, not the page cap.
  scrape::sitemap_limits limits;
  limits.max_bytes = 1 << 20;
  auto doc = scrape::fetch_sitemap(f, "http://alpha-bakery.com/page-sitemap.xml", limits);
  EXPECT_EQ(doc.type, scrape::sitemap_document::kind::urlset) << doc.error;
  limits.max_bytes = 256;
  auto refused = scrape::fetch_sitemap(f, "http://alpha-bakery.com/page-sitemap.xml", limits);
  EXPECT_EQ(refused.type, scrape::sitemap_document::kind::invalid);
  EXPECT_FALSE(refused.transient);
}
