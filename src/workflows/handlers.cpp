// Handler tables. Each workflow is a work step (pure or network) plus a write step (SQL).
#include "workflows/handlers.hpp"

#include "config/config.hpp"
#include "persistence/sql_catalog.hpp"
#include "workflows/result_limit.hpp"
#include "workflows/workflow_services.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <fcntl.h>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace sky::workflows {

namespace json = boost::json;
using messages::outcome;

workflow_services::workflow_services(const config::app_config& c)
    : config(c), fetcher(c.fetch), robots(fetcher, scrape::robots_product_token(c.fetch.user_agent),
                                          scrape::robots_cache_limits::from(c.fetch)),
      progress_db(c.database_url, 2) {}

json::object payload_of(const messages::work_item& item) {
  boost::system::error_code ec;
  auto v = json::parse(item.payload_json, ec);
  if (ec || !v.is_object())
    throw std::runtime_error("claimed row is not a JSON object");
  return v.as_object();
}

json::object params_of(const json::object& row) {
  const auto* p = row.if_contains("params");
  return p && p->is_object() ? p->as_object() : json::object{};
}

std::string string_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

scrape::page_limits page_limits_of(const config::workflow_config& c) {
  scrape::page_limits limits;
  limits.max_emails = static_cast<std::size_t>(c.page_max_emails);
  limits.max_phones = static_cast<std::size_t>(c.page_max_phones);
  limits.max_links = static_cast<std::size_t>(c.page_max_links);
  limits.max_tel_links = static_cast<std::size_t>(c.page_max_tel_links);
  return limits;
}

handler_result fetch_failure(const scrape::fetch_result& r, std::string_view what) {
  if (!r.ok()) {
    auto why = std::string(what) + ": " + r.error;
    // The SSRF guard and the size cap will refuse the same URL next time too.
    return r.blocked || r.too_large ? handler_result::failed(why) : handler_result::retry(why);
  }
  auto why = std::string(what) + ": HTTP status " + std::to_string(r.status);
  return r.status >= 500 || r.status == 429 ? handler_result::retry(why)
                                            : handler_result::failed(why);
}

namespace {

// Results the database keeps (result_data, a domain's metadata) are cut to the cap in the work
// step, so that the write step stores exactly what result_data shows.
void limit_result_size(queue_handler& h, std::size_t max_bytes) {
  h.work = [work = std::move(h.work), max_bytes](handler_context& ctx) {
    auto r = work(ctx);
    r.result_json = fit_result_json(std::move(r.result_json), max_bytes);
    return r;
  };
}

void append_execution(const std::string& path, const std::string& line) {
  if (path.empty())
    return;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  // One write() of a short line with O_APPEND is atomic across processes.
  auto n = ::write(fd, line.data(), line.size());
  (void)n;
  ::close(fd);
}

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

queue_handler synthetic_job(std::string execution_log, std::string node, bool cooperative) {
  queue_handler h;
  h.blocking = !cooperative;
  h.work = [execution_log, node](handler_context& ctx) {
    auto start = now_ns();
    auto row = payload_of(ctx.item);
    json::object params;
    if (const auto* p = row.if_contains("params"); p && p->is_object())
      params = p->as_object();
    auto fault = string_field(params, "fault");
    long long sleep_ms = 0;
    if (const auto* s = params.if_contains("sleep_ms"); s && s->is_int64())
      sleep_ms = s->as_int64();
    auto finish = [&](handler_result r) {
      append_execution(execution_log, ctx.item.id + " " + std::to_string(start) + " " +
                                          std::to_string(now_ns()) + " " + node + "\n");
      return r;
    };
    if (fault == "throw")
      throw std::runtime_error("injected handler exception");
    if (fault == "hang" && ctx.item.attempt == 1)
      std::this_thread::sleep_for(std::chrono::hours(1));
    if (fault == "wait_cancel") {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!ctx.cancelled() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (ctx.cancelled())
        return finish({outcome::cancelled, "cancelled by request", {}});
    }
    if (sleep_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    if (fault == "fail")
      return finish(handler_result::failed("injected permanent failure"));
    if (fault == "bad_result") // the database will refuse this result: exercises isolation
      return finish(handler_result::completed("{not json"));
    if (fault == "retry_once" && ctx.item.attempt == 1)
      return finish(handler_result::retry("injected transient failure"));
    return finish(handler_result::completed(
        json::serialize(json::object{{"node", node}, {"attempt", ctx.item.attempt}})));
  };
  // Job queues need no write step: the engine stores result_data, progress and error itself.
  return h;
}

} // namespace

handler_table production_handlers(const config::app_config& config) {
  auto s = std::make_shared<workflow_services>(config);
  handler_table t;
  t.emplace("places_search", places_search_handler(s));
  t.emplace("deep_scan", deep_scan_handler(s));
  t.emplace("domain_extraction", domain_extraction_handler());
  t.emplace("domain_metadata", domain_metadata_handler(s));
  t.emplace("sitemap_submission", sitemap_submission_handler());
  t.emplace("sitemap_jobs", sitemap_discovery_handler(s));
  t.emplace("sitemap_import", sitemap_import_handler(s));
  t.emplace("email_scan", email_scan_handler(s));
  t.emplace("page_scrape", page_scrape_handler(s));
  // A sitemap import's result is only the list its write step inserts (SITEMAP_MAX_URLS bounds
  // it); every other result is stored.
  for (auto& [name, h] : t)
    if (name != "sitemap_import")
      limit_result_size(h, config.workflows.result_max_bytes);
  return t;
}

handler_table test_handlers(const config::app_config& config, std::string execution_log) {
  auto t = production_handlers(config);
  t.erase("page_scrape");
  t.emplace("page_scrape", synthetic_job(std::move(execution_log), config.node_id,
                                         config.test.synthetic_cooperative));
  return t;
}

} // namespace sky::workflows
