// A fresh process that does what a server does at its first pages: start the work context's
// threads and parse a first page on every one of them at the same instant. Run by
// library_init_test, many times. With --skip-init it leaves the libraries to initialise lazily,
// which is what deadlocked libxml2 2.9 (this process then never ends).
#include "config/config.hpp"
#include "process/library_init.hpp"
#include "scrape/fetcher.hpp"
#include "scrape/page_analysis.hpp"

#include <atomic>
#include <barrier>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstring>
#include <latch>
#include <string>

int main(int argc, char** argv) {
  bool skip_init = false;
  int threads = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--skip-init") == 0)
      skip_init = true;
    else
      threads = std::max(2, std::atoi(argv[i]));
  }
  if (!skip_init)
    sky::process::init_libraries();
  sky::config::fetch_config config;
  sky::scrape::fetcher fetcher(config, threads);
  std::barrier at_once(threads);
  std::latch parsed(threads);
  std::atomic<int> misses{0};
  const std::string page =
      "<!doctype html><html lang=en><head><title>Alpha Bakery</title>"
      "<meta name=description content='Fresh bread'></head><body><h1>Alpha</h1>"
      "<p>Write to <a href='mailto:hello@alpha-bakery.com'>hello@alpha-bakery.com</a> or call "
      "<a href='tel:+12025550143'>(202) 555-0143</a>.</p></body></html>";
  for (int i = 0; i < threads; ++i)
    boost::asio::post(fetcher.context(), [&] {
      at_once.arrive_and_wait();
      auto analysis = sky::scrape::analyze_page(page, "http://alpha-bakery.com/");
      if (analysis.emails.size() != 1)
        ++misses;
      parsed.count_down();
    });
  parsed.wait();
  if (misses > 0)
    std::fprintf(stderr, "%d threads did not read the page's one address\n", misses.load());
  return misses > 0 ? 1 : 0;
}
