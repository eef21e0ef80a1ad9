// The handler tables: production workflows, and the test workload used by engine tests and
// benchmarks (only reachable with ENVIRONMENT=test).
#pragma once

#include "scrape/render_stats.hpp"
#include "workflows/queue_handler.hpp"

#include <functional>

namespace sky::config {
struct app_config;
}

namespace sky::process {
class thread_watchdog;
}

namespace sky::workflows {

// With a watchdog, the context that runs the work steps is watched (as the pool "work"). With
// `counters`, it is set to read the rendering tier's counters (valid while the handlers live).
handler_table production_handlers(const config::app_config& config,
                                  process::thread_watchdog* watchdog = nullptr,
                                  std::function<scrape::render_stats()>* counters = nullptr);

// page_scrape jobs become synthetic work driven by their params: {"sleep_ms": n, "fault":
// "throw" | "hang" | "fail" | "retry_once" | "wait_cancel" | "bad_result"}. Each execution appends
// "<id> <start_ns> <end_ns> <node>" to the file named by `execution_log` when it is not empty.
handler_table test_handlers(const config::app_config& config, std::string execution_log,
                            process::thread_watchdog* watchdog = nullptr,
                            std::function<scrape::render_stats()>* counters = nullptr);

} // namespace sky::workflows
