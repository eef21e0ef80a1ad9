#include "workflows/work_step.hpp"

#include "logging/log_setup.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <cstdio>
#include <spdlog/spdlog.h>

namespace sky::workflows {

namespace asio = boost::asio;

namespace {

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Every fetch at debug; failures and retried fetches at info, so that an operator sees why an
// item failed or took long without turning on debug.
void log_fetch(const job_session& job, const std::string& url, const scrape::fetch_result& r) {
  using level = job_session::log_level;
  const auto lvl = !r.ok() || r.attempts > 1 ? level::info : level::debug;
  if (!job.logs(lvl))
    return;
  std::string line = "GET " + url;
  if (r.ok())
    line += " -> " + std::to_string(r.status) + ", " + std::to_string(r.body.size()) + " bytes";
  else
    line += " failed: " + r.error;
  char timing[64];
  std::snprintf(timing, sizeof timing, " in %.0f ms", r.seconds * 1000);
  line += timing;
  if (r.attempts > 1)
    line += " after " + std::to_string(r.attempts - 1) + " retries";
  job.log(lvl, line);
}

} // namespace

namespace {

spdlog::level::level_enum spdlog_level(job_session::log_level level) {
  switch (level) {
  case job_session::log_level::debug:
    return spdlog::level::debug;
  case job_session::log_level::info:
    return spdlog::level::info;
  case job_session::log_level::warn:
    break;
  }
  return spdlog::level::warn;
}

} // namespace

bool job_session::logs(log_level level) const {
  return spdlog::should_log(spdlog_level(level));
}

void job_session::log(log_level level, std::string_view message) const {
  logging::item_scope scope(queue_, item_.id, item_.attempt);
  spdlog::log(spdlog_level(level), "{}: {}", queue_, message);
}

std::string with_session_counters(std::string result_json, const scrape::session_counters& c) {
  // Spliced rather than parsed and serialized again: results can be large.
  if (result_json.size() < 2 || result_json.front() != '{' || result_json.back() != '}')
    return result_json;
  char counters[256];
  std::snprintf(counters, sizeof counters,
                "\"session\":{\"fetches\":%d,\"failures\":%d,\"retries\":%d,\"bytes\":%llu,"
                "\"fetch_seconds\":%.3f}",
                c.fetches, c.failures, c.retries, static_cast<unsigned long long>(c.bytes),
                c.fetch_seconds);
  result_json.pop_back();
  if (result_json.size() > 1)
    result_json += ',';
  result_json += counters;
  result_json += '}';
  return result_json;
}

start_step coroutine_step(scrape::fetcher& fetcher, std::size_t max_bytes, work_coroutine step,
                          std::shared_ptr<const void> owner) {
  return [&fetcher, max_bytes, step = std::move(step), owner = std::move(owner)](
             std::shared_ptr<job_session> job, std::function<void(handler_result)> done) {
    auto web = std::make_shared<scrape::fetch_session>(
        fetcher, scrape::session_budget{job->deadline(), max_bytes});
    // Weak: the job's cancel hook holds the session, so a strong reference back would leak both.
    web->observe([job = std::weak_ptr<job_session>(job)](const std::string& url,
                                                         const scrape::fetch_result& r) {
      if (auto j = job.lock())
        log_fetch(*j, url, r);
    });
    job->on_cancel([web] { web->cancel(); });
    asio::co_spawn(
        asio::make_strand(fetcher.context()),
        [step, job, web]() -> asio::awaitable<handler_result> {
          co_return co_await step(*job, *web);
        },
        [done = std::move(done), web](std::exception_ptr e, handler_result r) {
          if (e)
            r = handler_result::crashed(what_of(e));
          else if (r.result == messages::outcome::completed)
            r.result_json = with_session_counters(std::move(r.result_json), web->counters());
          done(std::move(r));
        });
  };
}

start_step immediate_step(std::function<handler_result(job_session& job)> step) {
  return [step = std::move(step)](std::shared_ptr<job_session> job,
                                  std::function<void(handler_result)> done) {
    handler_result r;
    try {
      r = step(*job);
    } catch (...) {
      r = handler_result::crashed(what_of(std::current_exception()));
    }
    done(std::move(r));
  };
}

} // namespace sky::workflows
