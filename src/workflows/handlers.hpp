// The handler tables: production workflows, and the test workload used by engine tests and
// benchmarks (only reachable with ENVIRONMENT=test).
#pragma once

#include "workflows/queue_handler.hpp"

namespace sky::config {
struct app_config;
}

namespace sky::workflows {

handler_table production_handlers(const config::app_config& config);

// page_scrape jobs become synthetic work driven by their params: {"sleep_ms": n, "fault":
// "throw" | "hang" | "fail" | "retry_once" | "wait_cancel"}. Each execution appends
// "<id> <start_ns> <end_ns> <node>" to the file named by `execution_log` when it is not empty.
handler_table test_handlers(const config::app_config& config, std::string execution_log);

// Shared by job queues: result_data, progress, error and finished_at follow the new status.
void write_job_outcomes(pqxx::transaction_base& tx, const std::vector<written_item>& items);

} // namespace sky::workflows
