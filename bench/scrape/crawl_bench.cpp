// ScraperSky's side of the crawl benchmark: the production fetcher and extractors crawling each
// site through robots.txt and its sitemaps, with email extraction on every page.
//   sky_crawl_bench CONNECT_PORT CONCURRENCY PER_HOST host:port[,host:port...]
// Prints {"pages", "emails", "seconds"}; CPU time and peak RSS are measured by the caller.
#include "process/library_init.hpp"
#include "scrape/charset.hpp"
#include "scrape/email_extract.hpp"
#include "scrape/fetcher.hpp"
#include "scrape/robots.hpp"
#include "scrape/sitemap.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

using namespace sky;

namespace {

struct crawl {
  scrape::fetcher& fetcher;
  boost::asio::thread_pool& extractors;
  std::size_t concurrency;

  std::mutex mutex;
  std::condition_variable finished;
  std::deque<std::string> pending;
  std::size_t in_flight = 0;
  std::size_t sites_left = 0;
  std::size_t pages = 0;
  std::set<std::string> emails;

  void add_pages(std::vector<std::string> urls) {
    std::lock_guard lock(mutex);
    for (auto& u : urls)
      pending.push_back(std::move(u));
  }

  // Starts fetches up to the concurrency; called with the mutex held.
  void pump() {
    while (in_flight < concurrency && !pending.empty()) {
      auto url = std::move(pending.front());
      pending.pop_front();
      ++in_flight;
      fetcher.fetch(std::move(url), [this](scrape::fetch_result r) { page_done(std::move(r)); });
    }
    if (in_flight == 0 && pending.empty() && sites_left == 0)
      finished.notify_all();
  }

  void page_done(scrape::fetch_result r) {
    // Decoding and extraction run off the fetcher's thread, on the extractor pool.
    boost::asio::post(extractors, [this, r = std::move(r)] {
      std::vector<std::string> found;
      if (r.ok() && r.status == 200)
        found = scrape::extract_emails(scrape::decode_to_utf8(r.body, r.content_type)).addresses;
      std::lock_guard lock(mutex);
      --in_flight;
      if (r.ok() && r.status == 200)
        ++pages;
      emails.insert(found.begin(), found.end());
      pump();
    });
  }

  void site(const std::string& origin) {
    fetcher.fetch(origin + "/robots.txt", [this, origin](scrape::fetch_result robots) {
      auto rules = std::make_shared<scrape::robots_rules>(
          scrape::parse_robots(robots.ok() ? robots.body : "", "ScraperSkyBot"));
      if (rules->sitemaps.empty())
        return site_done({});
      for (const auto& sitemap : rules->sitemaps) {
        fetcher.fetch(sitemap, [this, rules](scrape::fetch_result r) {
          auto doc = scrape::parse_sitemap(r.ok() ? r.body : "");
          std::vector<std::string> urls;
          for (auto& u : doc.urls) {
            auto path = u.loc.substr(std::min(u.loc.size(), u.loc.find('/', 8)));
            if (rules->allowed(path))
              urls.push_back(std::move(u.loc));
          }
          site_done(std::move(urls)); // one sitemap per benchmark site
        });
        break;
      }
    });
  }

  void site_done(std::vector<std::string> urls) {
    add_pages(std::move(urls));
    std::lock_guard lock(mutex);
    --sites_left;
    pump();
  }
};

} // namespace

int main(int argc, char** argv) {
  process::init_libraries(); // before the fetcher's and the extractors' threads
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s CONNECT_PORT CONCURRENCY PER_HOST host:port[,...]\n", argv[0]);
    return 2;
  }
  config::fetch_config fc;
  fc.connect_to = {std::string("::127.0.0.1:") + argv[1]};
  fc.allow_private = {"127.0.0.1/32"};
  fc.per_host_connections = std::stoi(argv[3]);
  fc.per_host_delay = std::chrono::milliseconds(0);
  std::vector<std::string> sites;
  std::stringstream list(argv[4]);
  for (std::string s; std::getline(list, s, ',');)
    sites.push_back("http://" + s);

  auto start = std::chrono::steady_clock::now();
  scrape::fetcher fetcher(fc);
  boost::asio::thread_pool extractors(2);
  crawl c{fetcher, extractors,   static_cast<std::size_t>(std::stoi(argv[2])),
          {},      {},           {},
          0,       sites.size(), 0,
          {}};
  for (const auto& s : sites)
    c.site(s);
  {
    std::unique_lock lock(c.mutex);
    c.finished.wait(lock,
                    [&] { return c.in_flight == 0 && c.pending.empty() && c.sites_left == 0; });
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  extractors.join();
  std::cout << "{\"pages\": " << c.pages << ", \"emails\": " << c.emails.size()
            << ", \"seconds\": " << seconds << "}" << std::endl;
  return 0;
}
