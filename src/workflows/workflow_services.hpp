// What the production handlers share: configuration, one fetcher (whose context runs the work
// steps), the robots.txt cache and a small connection pool for progress reports. Built once per
// process; it outlives every work step, which therefore holds it by reference.
#pragma once

#include "config/config.hpp"
#include "persistence/connection_pool.hpp"
#include "process/thread_watchdog.hpp"
#include "scrape/fetcher.hpp"
#include "scrape/site_scan.hpp"
#include "workflows/queue_handler.hpp"
#include "workflows/work_step.hpp"

#include <boost/json/object.hpp>
#include <memory>

namespace sky::workflows {

struct workflow_services {
  // With a watchdog, the fetcher's context (every work step runs there) is watched as "work".
  workflow_services(const config::app_config& c, process::thread_watchdog* watchdog);

  config::app_config config;
  scrape::fetcher fetcher;
  // After the fetcher, whose context its DevTools connections and subresource fetches run on.
  scrape::browser_pool browsers;
  scrape::robots_cache robots;
  persistence::connection_pool progress_db;
  // After the fetcher: watching ends before its context goes.
  process::thread_watchdog::registration watched;
};
using services_ptr = std::shared_ptr<workflow_services>;

// Shared by the handler files.
boost::json::object payload_of(const messages::work_item& item);
boost::json::object params_of(const boost::json::object& row); // a job row's params
std::string string_field(const boost::json::object& o, std::string_view key);
// The render mode of a queue's pages (<PREFIX>_RENDER_MODE), or the job's own when it names one.
scrape::render_mode render_mode_of(const workflow_services& s, std::string_view queue,
                                   const boost::json::object& params = {});
// What the extractors read of one page, from PAGE_MAX_*.
scrape::page_limits page_limits_of(const config::workflow_config& c);
// Transport errors, 429 and 5xx are worth retrying; other statuses are permanent.
handler_result fetch_failure(const scrape::fetch_result& r, std::string_view what);

// A network step over the shared services: `work` gets them by reference (coroutine frames live
// in the fetcher's context, so they must never own the services that own it).
using service_work = boost::asio::awaitable<handler_result> (*)(workflow_services&, job_session&,
                                                                scrape::fetch_session&);
start_step network_step(const services_ptr& s, service_work work);

// One factory per workflow file.
queue_handler places_search_handler(services_ptr s);
queue_handler deep_scan_handler(services_ptr s);
queue_handler domain_metadata_handler(services_ptr s);
queue_handler sitemap_submission_handler();
queue_handler sitemap_discovery_handler(services_ptr s);
queue_handler sitemap_import_handler(services_ptr s);
queue_handler email_scan_handler(services_ptr s);
queue_handler page_scrape_handler(services_ptr s);
queue_handler domain_extraction_handler();

} // namespace sky::workflows
