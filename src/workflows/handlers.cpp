// Handler tables. Each workflow is a work step (pure or network) plus a write step (SQL).
#include "workflows/handlers.hpp"

#include "config/config.hpp"
#include "persistence/sql_catalog.hpp"
#include "workflows/result_limit.hpp"
#include "workflows/work_step.hpp"
#include "workflows/workflow_services.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <fcntl.h>
#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace sky::workflows {

namespace json = boost::json;
namespace asio = boost::asio;
using messages::outcome;

workflow_services::workflow_services(const config::app_config& c,
                                     process::thread_watchdog* watchdog)
    : config(c), fetcher(c.fetch, config::work_threads(c)), browsers(c.render, fetcher.context()),
      robots(fetcher, scrape::robots_product_token(c.fetch.user_agent),
             scrape::robots_cache_limits::from(c.fetch)),
      // Progress reports from work steps: bounded like every other use of the database, so that
      // a silent network cannot hold a work thread past the engine's deadline.
      progress_db(c.database_url,
                  persistence::pool_options{
                      2, c.database.pool_wait,
                      c.database.transaction_pooled() ? std::chrono::milliseconds(0)
                                                      : c.database.engine_statement_timeout,
                      c.database.engine_statement_timeout + std::chrono::seconds(1),
                      c.database.transaction_pooled() ? c.database.engine_statement_timeout
                                                      : std::chrono::milliseconds(0)}) {
  if (watchdog)
    watched = watchdog->watch(
        {"work",
         [this](std::function<void()> task) { asio::post(fetcher.context(), std::move(task)); },
         [this] { return fetcher.thread_ids(); },
         {}});
}

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

scrape::render_mode render_mode_of(const workflow_services& s, std::string_view queue,
                                   const boost::json::object& params) {
  if (auto requested = string_field(params, "render"); !requested.empty())
    return scrape::render_mode_of(requested);
  const auto* q = s.config.queue(queue);
  return q ? scrape::render_mode_of(q->render_mode) : scrape::render_mode::off;
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

start_step network_step(const services_ptr& s, service_work work) {
  return coroutine_step(
      s->fetcher, s->config.fetch.job_max_bytes,
      [services = s.get(), work](job_session& job, scrape::fetch_session& web) {
        return work(*services, job, web);
      },
      s);
}

namespace {

// Results the database keeps (result_data, a domain's metadata) are cut to the cap in the work
// step, so that the write step stores exactly what result_data shows.
void limit_result_size(queue_handler& h, std::size_t max_bytes) {
  h.start = [start = std::move(h.start), max_bytes](std::shared_ptr<job_session> job,
                                                    std::function<void(handler_result)> done) {
    start(std::move(job), [done = std::move(done), max_bytes](handler_result r) {
      r.result_json = fit_result_json(std::move(r.result_json), max_bytes);
      done(std::move(r));
    });
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

struct synthetic_params {
  std::string fault;
  long long sleep_ms = 0;
};

synthetic_params synthetic_params_of(const messages::work_item& item) {
  auto params = params_of(payload_of(item));
  synthetic_params p{string_field(params, "fault"), 0};
  if (const auto* v = params.if_contains("sleep_ms"); v && v->is_int64())
    p.sleep_ms = v->as_int64();
  return p;
}

// The outcome a fault asks for once its waits are over; nullopt: complete normally.
std::optional<handler_result> synthetic_outcome(const synthetic_params& p, int attempt) {
  if (p.fault == "throw")
    throw std::runtime_error("injected handler exception");
  if (p.fault == "fail")
    return handler_result::failed("injected permanent failure");
  if (p.fault == "bad_result") // the database will refuse this result: exercises isolation
    return handler_result::completed("{not json");
  if (p.fault == "retry_once" && attempt == 1)
    return handler_result::retry("injected transient failure");
  return std::nullopt;
}

handler_result synthetic_completed(const messages::work_item& item, const std::string& node) {
  return handler_result::completed(
      json::serialize(json::object{{"node", node}, {"attempt", item.attempt}}));
}

// Faults that wait ("hang" on attempt 1, "wait_cancel", sleep_ms) await timers on the fetcher's
// context like a network step, so a hang costs no thread and a cancel or time limit ends it.
asio::awaitable<handler_result> synthetic_work(std::string execution_log, std::string node,
                                               job_session& job, scrape::fetch_session& web) {
  const auto& item = job.item();
  auto start = now_ns();
  auto p = synthetic_params_of(item);
  auto finish = [&](handler_result r) {
    append_execution(execution_log, item.id + " " + std::to_string(start) + " " +
                                        std::to_string(now_ns()) + " " + node + "\n");
    return r;
  };
  if (p.fault == "hang" && item.attempt == 1 && !co_await web.sleep(std::chrono::hours(1)))
    co_return handler_result::cancelled();
  if (p.fault == "wait_cancel" && !co_await web.sleep(std::chrono::seconds(60)))
    co_return finish(handler_result::cancelled());
  if (p.sleep_ms > 0 && !co_await web.sleep(std::chrono::milliseconds(p.sleep_ms)))
    co_return handler_result::cancelled();
  if (auto r = synthetic_outcome(p, item.attempt))
    co_return finish(std::move(*r));
  co_return finish(synthetic_completed(item, node));
}

queue_handler synthetic_job(services_ptr s, std::string execution_log, std::string node,
                            bool cooperative) {
  queue_handler h;
  if (cooperative) {
    // Benchmarks: no waits, run inline; what the engine costs per item, and nothing else.
    h.start = immediate_step([execution_log, node](job_session& job) {
      auto start = now_ns();
      auto p = synthetic_params_of(job.item());
      auto r =
          synthetic_outcome(p, job.item().attempt).value_or(synthetic_completed(job.item(), node));
      append_execution(execution_log, job.item().id + " " + std::to_string(start) + " " +
                                          std::to_string(now_ns()) + " " + node + "\n");
      return r;
    });
  } else {
    h.start = coroutine_step(
        s->fetcher, s->config.fetch.job_max_bytes,
        [execution_log, node](job_session& job, scrape::fetch_session& web) {
          return synthetic_work(execution_log, node, job, web);
        },
        s);
  }
  // Job queues need no write step: the engine stores result_data, progress and error itself.
  return h;
}

handler_table build_handlers(const services_ptr& s) {
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
  return t;
}

// A sitemap import's result is only the list its write step inserts (SITEMAP_MAX_URLS bounds
// it); every other result is stored.
void limit_results(handler_table& t, std::size_t max_bytes) {
  for (auto& [name, h] : t)
    if (name != "sitemap_import")
      limit_result_size(h, max_bytes);
}

} // namespace

// The counters read through a weak reference: /metrics may outlive the handlers at shutdown.
void expose_counters(const services_ptr& s, std::function<scrape::render_stats()>* counters) {
  if (!counters)
    return;
  *counters = [weak = std::weak_ptr<workflow_services>(s)] {
    auto services = weak.lock();
    return services ? services->browsers.stats() : scrape::render_stats{};
  };
}

handler_table production_handlers(const config::app_config& config,
                                  process::thread_watchdog* watchdog,
                                  std::function<scrape::render_stats()>* counters) {
  auto s = std::make_shared<workflow_services>(config, watchdog);
  expose_counters(s, counters);
  auto t = build_handlers(s);
  limit_results(t, config.workflows.result_max_bytes);
  return t;
}

handler_table test_handlers(const config::app_config& config, std::string execution_log,
                            process::thread_watchdog* watchdog,
                            std::function<scrape::render_stats()>* counters) {
  auto s = std::make_shared<workflow_services>(config, watchdog);
  expose_counters(s, counters);
  auto t = build_handlers(s);
  t.erase("page_scrape");
  t.emplace("page_scrape", synthetic_job(s, std::move(execution_log), config.node_id,
                                         config.test.synthetic_cooperative));
  limit_results(t, config.workflows.result_max_bytes);
  return t;
}

} // namespace sky::workflows
