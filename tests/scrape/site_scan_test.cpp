// Site scans against the fixture web on loopback: robots.txt, the contact crawl and its caps,
// sitemap discovery, and hostile responses (traps, bombs, loops, private redirects, slow pages).
#include "scrape/page_report.hpp"
#include "scrape/run_sync.hpp"
#include "scrape/site_scan.hpp"
#include "support/canned_server.hpp"
#include "support/fetch_now.hpp"
#include "support/fixture_server.hpp"
#include "support/process.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <sstream>
#include <unistd.h>

using namespace sky;
using namespace std::chrono_literals;

namespace {

using test_support::canned_response;

// A session of its own for each scan, as the server gives each job one.
std::shared_ptr<scrape::fetch_session> new_session(scrape::fetcher& f) {
  return std::make_shared<scrape::fetch_session>(f);
}
using test_support::canned_server;

// Every host name to the server on `port`. Timeouts far beyond what a loopback answer needs on
// any machine: only the tests of timeouts set short ones, against pages that never come.
config::fetch_config loopback_fetch(int port) {
  config::fetch_config c;
  c.connect_to = {"::127.0.0.1:" + std::to_string(port)};
  c.allow_private = {"127.0.0.1/32"};
  c.per_host_delay = 0ms;
  c.total_timeout = 60s;
  c.connect_timeout = 30s;
  c.max_response_bytes = 4 << 20;
  c.retry_base = 20ms;
  return c;
}

config::fetch_config fixture_fetch(const test_support::fixture_server& web) {
  return loopback_fetch(web.port());
}

// A contact crawl of `url` on a fixture web of its own, with default options but the page cap.
scrape::crawl_report crawl_fixture_site(const std::string& url, int max_pages) {
  test_support::fixture_server web;
  scrape::fetcher f(fixture_fetch(web));
  scrape::robots_cache robots(f, "ScraperSkyBot");
  scrape::crawl_options options;
  options.max_pages = max_pages;
  return scrape::run_sync(f, scrape::crawl_for_contacts(*new_session(f), robots, url, options));
}

scrape::fetch_result response(long status, std::string body = {}) {
  scrape::fetch_result r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

scrape::fetch_result transport_error(std::string error) {
  scrape::fetch_result r;
  r.error = std::move(error);
  return r;
}

} // namespace

TEST(site_scan, the_crawl_ranks_contact_pages_and_obeys_robots) {
  test_support::fixture_server web;
  scrape::fetcher f(fixture_fetch(web));
  scrape::robots_cache robots(f, "ScraperSkyBot");
  scrape::crawl_options options;
  options.max_pages = 10;
  auto report =
      scrape::run_sync(f, scrape::crawl_for_contacts(*new_session(f), robots,
                                                     "http://bella-pizzeria.com/", options));
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

TEST(site_scan, the_crawl_follows_a_refreshing_entry_page_and_link_texts) {
  auto report = crawl_fixture_site("http://handover.test/", 3);
  ASSERT_EQ(report.pages.size(), 3u);
  EXPECT_EQ(report.pages[1].url, "http://handover.test/fr/");
  EXPECT_EQ(report.pages[1].depth, 0);
  EXPECT_EQ(report.pages[2].url, "http://handover.test/fr/p/7"); // "Nous contacter"
  ASSERT_TRUE(report.home);
  EXPECT_EQ(report.home->meta.title, "Bistro de la Lune");
  ASSERT_EQ(report.emails.size(), 1u);
  EXPECT_EQ(report.emails[0].first, "contact@bistro-lune.fr");
  ASSERT_EQ(report.phones.size(), 1u);
  EXPECT_EQ(report.phones[0].first, "+33123456789");
}

TEST(site_scan, the_sitemap_is_read_when_the_home_page_links_nowhere) {
  auto report = crawl_fixture_site("http://landing.test/", 2);
  ASSERT_EQ(report.pages.size(), 2u);
  EXPECT_EQ(report.pages[1].url, "http://landing.test/rechtliches/impressum");
  ASSERT_EQ(report.emails.size(), 1u);
  EXPECT_EQ(report.emails[0].first, "info@landing-gmbh.de");
  // German page: the number is read in Germany's plan, and the fax is not a phone.
  ASSERT_EQ(report.phones.size(), 1u);
  EXPECT_EQ(report.phones[0].first, "+493012345678");
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
  auto report = scrape::run_sync(
      f, scrape::crawl_for_contacts(*new_session(f), robots, "http://traps.test/", options));
  // Every /trap/ page links two contact-like pages one level deeper, forever: the crawl takes
  // 1 + 1 + 2 + 4 pages and stops at depth 3.
  EXPECT_EQ(report.pages.size(), 8u);
  EXPECT_EQ(progress_calls, 8);
  EXPECT_EQ(report.pages.back().depth, 3);
  options.max_pages = 5;
  EXPECT_EQ(scrape::run_sync(f, scrape::crawl_for_contacts(*new_session(f), robots,
                                                           "http://traps.test/", options))
                .pages.size(),
            5u);
}

TEST(site_scan, a_hostile_site_is_read_up_to_the_page_and_crawl_caps) {
  test_support::fixture_server web;
  auto fetch = fixture_fetch(web);
  fetch.max_response_bytes = 10 << 20; // hostile.test's pages are 6 to 9 MB
  fetch.total_timeout = 30s;
  scrape::fetcher f(fetch);
  scrape::robots_cache robots(f, "ScraperSkyBot");
  scrape::crawl_options options;
  options.max_pages = 4;
  options.page.max_emails = 20;
  options.max_emails = 50;
  auto report = scrape::run_sync(
      f, scrape::crawl_for_contacts(*new_session(f), robots, "http://hostile.test/", options));
  ASSERT_TRUE(report.home);
  EXPECT_EQ(report.home->meta.tel_links.size(), options.page.max_tel_links);
  EXPECT_EQ(report.home->meta.links.size(), options.page.max_links);
  ASSERT_EQ(report.pages.size(), 4u);
  for (std::size_t i = 1; i < report.pages.size(); ++i)
    EXPECT_EQ(report.pages[i].emails, 20u) << report.pages[i].url;
  EXPECT_EQ(report.emails.size(), 50u);
  auto limits = boost::json::serialize(scrape::to_json(report).at("limits_hit"));
  for (const char* limit :
       {"links_per_page", "tel_links_per_page", "emails_per_page", "emails_per_job"})
    EXPECT_NE(limits.find(limit), std::string::npos) << limit << " not in " << limits;
}

TEST(site_scan, cancellation_stops_between_levels) {
  test_support::fixture_server web;
  scrape::fetcher f(fixture_fetch(web));
  scrape::robots_cache robots(f, "ScraperSkyBot");
  scrape::crawl_options options;
  // The job's session is cancelled once the first page is read.
  auto session = new_session(f);
  options.on_page = [&](int, int) { session->cancel(); };
  auto report = scrape::run_sync(
      f, scrape::crawl_for_contacts(*session, robots, "http://alpha-bakery.com/", options));
  EXPECT_TRUE(report.cancelled);
  EXPECT_EQ(report.pages.size(), 1u);
}

TEST(site_scan, sitemap_discovery_follows_robots_and_indexes_within_caps) {
  test_support::fixture_server web;
  scrape::fetcher f(fixture_fetch(web));
  auto alpha = scrape::run_sync(
      f, scrape::discover_sitemaps(*new_session(f), "http://alpha-bakery.com/", {}, std::nullopt));
  ASSERT_EQ(alpha.sitemaps.size(), 3u);
  EXPECT_EQ(alpha.sitemaps[0].discovery_method, "robots_txt");
  EXPECT_EQ(alpha.sitemaps[2].url, "http://alpha-bakery.com/post-sitemap.xml.gz");
  EXPECT_EQ(alpha.sitemaps[2].url_count, 20);
  // traps.test: an index listing itself, nesting without end and a gzip bomb.
  scrape::discovery_options options;
  options.max_depth = 2;
  options.limits.max_bytes = 1 << 20;
  auto traps = scrape::run_sync(
      f, scrape::discover_sitemaps(*new_session(f), "http://traps.test/", options, std::nullopt));
  EXPECT_LE(traps.sitemaps.size(), 6u);
  EXPECT_FALSE(traps.timed_out);
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
  // Only traps.test goes to the fixture server, so the redirect to 127.0.0.2 (loopback, but not
  // the allowlisted 127.0.0.1) really reaches the guard.
  c.connect_to = {"traps.test::127.0.0.1:" + std::to_string(web.port())};
  scrape::fetcher f(c);
  auto loop = test_support::fetch_now(f, "http://traps.test/redirect-loop");
  EXPECT_FALSE(loop.ok());
  EXPECT_LE(loop.redirects, 3);
  auto to_private = test_support::fetch_now(f, "http://traps.test/redirect-private");
  EXPECT_TRUE(to_private.blocked) << to_private.error;
  EXPECT_EQ(to_private.redirects, 1);
  auto huge = test_support::fetch_now(f, "http://traps.test/huge");
  EXPECT_TRUE(huge.too_large);
  EXPECT_LE(huge.body.size(), c.max_response_bytes);
  // The slow page answers after 5 s, long after this fetcher's timeout.
  c.total_timeout = 1s;
  scrape::fetcher impatient(c);
  auto slow = test_support::fetch_now(impatient, "http://traps.test/slow");
  EXPECT_FALSE(slow.ok());
  EXPECT_NE(slow.error.find("timed out"), std::string::npos) << slow.error;
  EXPECT_EQ(slow.attempts, 1) << "timeouts are not retried inside the fetcher";
}

TEST(site_scan, cli_crawls_and_lists_sitemaps_of_the_fixture_web) {
  test_support::fixture_server web;
  std::map<std::string, std::string> env{
      {"FETCH_CONNECT_TO", "::127.0.0.1:" + std::to_string(web.port())},
      {"FETCH_PER_HOST_DELAY_MS", "0"}};
  auto [code, out] =
      test_support::run_to_end({SCRAPERSKY_BINARY, "scrape", "http://corner-dental.com/", "--crawl",
                                "5", "--allow-private", "--render", "off"},
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

// A batch (as the corpus scorers run it): one report per line, in the file's order, blank lines
// skipped; a URL that cannot be read still gets its line, and the exit code says one failed.
TEST(site_scan, cli_scrapes_a_file_of_urls_one_report_per_line) {
  test_support::fixture_server web;
  const auto list =
      std::filesystem::temp_directory_path() / ("sky-urls-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(list) << "http://corner-dental.com/\n\n  http://alpha-bakery.com/  \nnot a url\n";
  std::map<std::string, std::string> env{
      {"FETCH_CONNECT_TO", "::127.0.0.1:" + std::to_string(web.port())},
      {"FETCH_PER_HOST_DELAY_MS", "0"},
      {"LOG_LEVEL", "error"}};
  auto [code, out] = test_support::run_to_end({SCRAPERSKY_BINARY, "scrape", "--urls-from",
                                               list.string(), "--allow-private", "--render", "off"},
                                              env);
  std::filesystem::remove(list);
  EXPECT_EQ(code, 1) << out;
  std::vector<boost::json::object> reports;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    reports.push_back(boost::json::parse(line).as_object());
  ASSERT_EQ(reports.size(), 3u) << out;
  EXPECT_EQ(reports[0].at("title").as_string(), "Corner Dental");
  EXPECT_EQ(reports[1].at("url").as_string(), "http://alpha-bakery.com/");
  EXPECT_EQ(reports[1].at("status").as_int64(), 200);
  EXPECT_EQ(reports[2].at("url").as_string(), "not a url");
  EXPECT_FALSE(reports[2].at("errors").as_array().empty());
}

TEST(site_scan, a_request_may_raise_the_response_cap_for_itself) {
  test_support::fixture_server web;
  auto c = fixture_fetch(web);
  c.max_response_bytes = 512; // smaller than the post sitemap (about 2.3 KB uncompressed)
  scrape::fetcher f(c);
  auto capped = test_support::fetch_now(f, "http://alpha-bakery.com/");
  EXPECT_TRUE(capped.too_large);
  EXPECT_NE(capped.error.find("512"), std::string::npos) << capped.error;
  auto raised = test_support::fetch_now(f, "http://alpha-bakery.com/", std::size_t{1} << 20);
  EXPECT_TRUE(raised.ok()) << raised.error;
  // fetch_sitemap downloads with the sitemap cap, not the page cap.
  scrape::sitemap_limits limits;
  limits.max_bytes = 1 << 20;
  auto doc = scrape::run_sync(
      f,
      scrape::fetch_sitemap(*new_session(f), "http://alpha-bakery.com/page-sitemap.xml", limits));
  EXPECT_EQ(doc.type, scrape::sitemap_document::kind::urlset) << doc.error;
  limits.max_bytes = 256;
  auto refused = scrape::run_sync(
      f,
      scrape::fetch_sitemap(*new_session(f), "http://alpha-bakery.com/page-sitemap.xml", limits));
  EXPECT_EQ(refused.type, scrape::sitemap_document::kind::invalid);
  EXPECT_FALSE(refused.transient);
}

TEST(robots_cache, robots_responses_map_to_rules_and_say_when_they_are_transient) {
  auto ok = scrape::read_robots_response(response(200, "User-agent: *\nDisallow: /x\n"), "Bot");
  EXPECT_FALSE(ok.transient);
  EXPECT_FALSE(ok.rules.allowed("/x/1"));
  EXPECT_TRUE(ok.rules.allowed("/y"));
  auto missing = scrape::read_robots_response(response(404), "Bot");
  EXPECT_FALSE(missing.transient);
  EXPECT_TRUE(missing.rules.allowed("/anything"));
  for (const auto& failure : {response(500), response(503), response(429),
                              transport_error("Operation timed out after 30000 milliseconds"),
                              transport_error("Could not connect to server"),
                              transport_error(std::string(scrape::k_fetcher_stopped))}) {
    auto answer = scrape::read_robots_response(failure, "Bot");
    EXPECT_TRUE(answer.transient) << failure.status << " " << failure.error;
    EXPECT_FALSE(answer.rules.allowed("/")) << failure.status << " " << failure.error;
  }
  auto refused = transport_error("blocked by the SSRF guard");
  refused.blocked = true; // the page fetch reports the guard itself
  EXPECT_FALSE(scrape::read_robots_response(refused, "Bot").transient);
  EXPECT_TRUE(scrape::read_robots_response(refused, "Bot").rules.allowed("/"));
}

TEST(robots_cache, a_transient_failure_is_not_remembered_for_the_full_ttl) {
  test_support::canned_routes routes;
  routes.sequences["/robots.txt"] = {canned_response(503, "down"),
                                     canned_response(200, "User-agent: *\nDisallow: /private\n")};
  canned_server server(std::move(routes));
  auto c = loopback_fetch(server.port());
  c.max_retries = 0; // the cache is under test, not the fetcher's retries
  scrape::fetcher f(c);
  scrape::robots_cache_limits limits;
  limits.ttl = 1h;
  limits.failure_ttl = 0s; // ask again at the next page
  scrape::robots_cache robots(f, "ScraperSkyBot", limits);
  EXPECT_FALSE(scrape::run_sync(
      f, robots.async_allowed("http://site.test/page"))); // 503: disallowed for now
  EXPECT_TRUE(scrape::run_sync(
      f, robots.async_allowed("http://site.test/page"))); // asked again: now readable
  EXPECT_FALSE(scrape::run_sync(f, robots.async_allowed("http://site.test/private")));
  EXPECT_EQ(server.hits("/robots.txt"), 2); // the answer is kept for the ttl
}

TEST(robots_cache, a_transient_failure_is_kept_for_the_failure_ttl) {
  test_support::canned_routes routes;
  routes.sequences["/robots.txt"] = {canned_response(503, "down"), canned_response(404, "")};
  canned_server server(std::move(routes));
  auto c = loopback_fetch(server.port());
  c.max_retries = 0;
  scrape::fetcher f(c);
  scrape::robots_cache_limits limits;
  limits.failure_ttl = 1h;
  scrape::robots_cache robots(f, "ScraperSkyBot", limits);
  EXPECT_FALSE(scrape::run_sync(f, robots.async_allowed("http://site.test/a")));
  EXPECT_FALSE(scrape::run_sync(
      f, robots.async_allowed("http://site.test/b"))); // a crawl does not hammer a failing site
  EXPECT_EQ(server.hits("/robots.txt"), 1);
}

TEST(robots_cache, keeps_at_most_max_origins_dropping_the_least_recently_used) {
  test_support::canned_routes routes;
  routes.fixed["/robots.txt"] = canned_response(200, "User-agent: *\nAllow: /\n");
  canned_server server(std::move(routes));
  scrape::fetcher f(loopback_fetch(server.port()));
  scrape::robots_cache_limits limits;
  limits.max_origins = 2;
  scrape::robots_cache robots(f, "ScraperSkyBot", limits);
  for (const char* site : {"http://a.test/", "http://b.test/", "http://a.test/x", "http://c.test/"})
    EXPECT_TRUE(scrape::run_sync(f, robots.async_allowed(site))) << site;
  EXPECT_EQ(server.hits("/robots.txt"), 3);
  EXPECT_EQ(robots.cached_origins(), 2u);
  EXPECT_TRUE(scrape::run_sync(
      f, robots.async_allowed("http://a.test/"))); // kept: used more recently than b
  EXPECT_EQ(server.hits("/robots.txt"), 3);
  EXPECT_TRUE(
      scrape::run_sync(f, robots.async_allowed("http://b.test/"))); // dropped, so fetched again
  EXPECT_EQ(server.hits("/robots.txt"), 4);
  EXPECT_EQ(robots.cached_origins(), 2u);
}

TEST(site_scan, sitemap_discovery_stops_at_its_time_limit_and_says_so) {
  test_support::canned_routes routes;
  routes.fixed["/robots.txt"] = canned_response(200, "Sitemap: http://slow.test/hang\n");
  routes.fixed["/sitemap.xml"] =
      canned_response(200, "<urlset><url><loc>http://slow.test/a</loc></url></urlset>");
  routes.unanswered = {"/hang"};
  canned_server server(std::move(routes));
  scrape::fetcher f(loopback_fetch(server.port())); // a minute per fetch
  scrape::discovery_options options;
  options.time_limit = 1s;
  auto start = std::chrono::steady_clock::now();
  auto found = scrape::run_sync(
      f, scrape::discover_sitemaps(*new_session(f), "http://slow.test/", options, std::nullopt));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 60s) << "waited for the fetch timeout";
  EXPECT_TRUE(found.timed_out);
  EXPECT_FALSE(found.cancelled);
  EXPECT_TRUE(found.sitemaps.empty()); // the well-known files come after the hanging one
  ASSERT_EQ(found.errors.size(), 1u);
  EXPECT_NE(found.errors[0].find("time limit of 1 s"), std::string::npos) << found.errors[0];
  auto json = boost::json::serialize(scrape::to_json(found));
  EXPECT_NE(json.find("time limit"), std::string::npos) << json;
}

TEST(site_scan, sitemap_discovery_stops_when_cancelled) {
  test_support::canned_routes routes;
  routes.unanswered = {"/hang.xml"};
  canned_server server(std::move(routes));
  scrape::fetcher f(loopback_fetch(server.port()));
  scrape::discovery_options options;
  options.time_limit = 1h;
  auto session = new_session(f);
  auto discovery = std::async(std::launch::async, [&] {
    return scrape::run_sync(f, scrape::discover_sitemaps(*session, "http://site.test/", options,
                                                         "http://site.test/hang.xml"));
  });
  ASSERT_TRUE(server.wait_for_hits("/hang.xml", 1, 60s));
  session->cancel(); // from another thread, while the fetch is awaited
  ASSERT_EQ(discovery.wait_for(30s), std::future_status::ready) << "cancellation was not seen";
  auto found = discovery.get();
  EXPECT_TRUE(found.cancelled);
  EXPECT_EQ(found.errors, std::vector<std::string>{"cancelled"});
  // Cancelled before it starts: nothing is fetched.
  auto before = scrape::run_sync(
      f, scrape::discover_sitemaps(*session, "http://site.test/", options, std::nullopt));
  EXPECT_TRUE(before.cancelled);
  EXPECT_EQ(server.hits("/robots.txt"), 0);
}

TEST(site_scan, a_crawl_waiting_on_pages_returns_when_the_fetcher_stops) {
  test_support::canned_routes routes;
  routes.unanswered = {"/hang"};
  canned_server server(std::move(routes)); // robots.txt is a 404: everything allowed
  scrape::fetcher f(loopback_fetch(server.port()));
  scrape::robots_cache robots(f, "ScraperSkyBot");
  auto crawl = std::async(std::launch::async, [&] {
    return scrape::run_sync(
        f, scrape::crawl_for_contacts(*new_session(f), robots, "http://site.test/hang", {}));
  });
  ASSERT_TRUE(server.wait_for_hits("/hang", 1, 60s));
  f.stop();
  ASSERT_EQ(crawl.wait_for(30s), std::future_status::ready) << "the crawl was left hanging";
  auto report = crawl.get();
  ASSERT_EQ(report.pages.size(), 1u);
  EXPECT_EQ(report.pages[0].error, scrape::k_fetcher_stopped);
}
