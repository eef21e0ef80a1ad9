// How work steps run. A network step is a coroutine on the fetcher's context: it awaits fetches,
// waits and robots.txt without holding a thread, so a queue's concurrency costs coroutine frames,
// not threads. A step without I/O runs inline, on the thread that starts it.
#pragma once

#include "scrape/fetch_session.hpp"
#include "workflows/queue_handler.hpp"

#include <boost/asio/awaitable.hpp>

namespace sky::workflows {

using start_step = decltype(queue_handler::start);

// The coroutine gets the item's session and a fetch session of its own (the job's cookies, its
// byte budget of `max_bytes`, its deadline, its counters), which the item's cancel aborts.
// It runs on a strand of its own; its counters are added to a JSON object result as "session".
// Coroutine frames live in the fetcher's context, so `step` must not own what owns the fetcher
// (that would be a cycle): `owner` keeps it alive instead, held by the returned function.
using work_coroutine = std::function<boost::asio::awaitable<handler_result>(
    job_session& job, scrape::fetch_session& web)>;
start_step coroutine_step(scrape::fetcher& fetcher, std::size_t max_bytes, work_coroutine step,
                          std::shared_ptr<const void> owner);

start_step immediate_step(std::function<handler_result(job_session& job)> step);

// `result_json` with `"session": {...}` added when it is a non-empty JSON object.
std::string with_session_counters(std::string result_json, const scrape::session_counters& c);

} // namespace sky::workflows
