// The CLI reports, built from the same site scans the workflows use.
#include "scrape/page_report.hpp"

#include "scrape/run_sync.hpp"
#include "scrape/site_scan.hpp"

#include <boost/json.hpp>

namespace sky::scrape {

cli_report report_page(fetcher& f, const std::string& url, int crawl_pages, browser_pool* browsers,
                       render_mode render) {
  robots_cache robots(f, "ScraperSkyBot");
  crawl_options options;
  options.max_pages = std::max(1, crawl_pages);
  options.max_depth = crawl_pages > 1 ? 2 : 0;
  options.browsers = browsers;
  options.render = render;
  auto session = std::make_shared<fetch_session>(f);
  auto report = run_sync(f, crawl_for_contacts(*session, robots, url, options));
  auto out = to_json(report);
  out["status"] = report.pages.empty() ? 0 : report.pages.front().status;
  if (browsers) {
    const auto stats = browsers->stats();
    out["renderer"] = boost::json::object{{"browser", browsers->browser_path()},
                                          {"browsers_started", stats.browsers_started},
                                          {"browsers_restarted", stats.browsers_restarted},
                                          {"pages_rendered", stats.pages_rendered},
                                          {"pages_failed", stats.pages_failed}};
  }
  return {boost::json::serialize(out), report.home.has_value()};
}

cli_report report_sitemaps(fetcher& f, const std::string& url) {
  std::optional<std::string> given;
  auto path_end = url.find_first_of("?#");
  std::string_view path(url.data(), path_end == std::string::npos ? url.size() : path_end);
  for (std::string_view ext : {".xml", ".xml.gz", ".txt", ".gz"})
    if (path.size() > ext.size() && path.substr(path.size() - ext.size()) == ext)
      given = url;
  auto session = std::make_shared<fetch_session>(f);
  auto discovery = run_sync(f, discover_sitemaps(*session, url, {}, given));
  bool any = false;
  for (const auto& s : discovery.sitemaps)
    any |= s.type != "invalid";
  auto out = to_json(discovery);
  out["url"] = url;
  return {boost::json::serialize(out), any};
}

} // namespace sky::scrape
