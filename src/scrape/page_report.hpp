// What `scrapersky scrape` and `scrapersky sitemap` print: one JSON object per run.
#pragma once

#include "scrape/browser_pool.hpp"
#include "scrape/fetcher.hpp"
#include "scrape/render_rules.hpp"

#include <string>

namespace sky::scrape {

struct cli_report {
  std::string json;
  bool ok = false; // the first page (or at least one sitemap) was read
};

// A page and up to `crawl_pages - 1` more of its site, contact pages first, robots.txt obeyed:
// {url, status, title, description, language, canonical, open_graph, emails, social, tech,
//  pages, pages_fetched, pages_rendered, skipped_by_robots, errors}. Pages are rendered in
// `browsers` as `render` says (none: read as served).
cli_report report_page(fetcher& f, const std::string& url, int crawl_pages = 1,
                       browser_pool* browsers = nullptr, render_mode render = render_mode::off);

// The sitemaps of the site of `url` (or `url` itself when it names a sitemap file).
cli_report report_sitemaps(fetcher& f, const std::string& url);

} // namespace sky::scrape
