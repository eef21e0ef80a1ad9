#include "workflows/work_step.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <cstdio>

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

} // namespace

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
