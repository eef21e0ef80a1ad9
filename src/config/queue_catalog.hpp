// The queues, described once as data: which table and status column each one polls and how.
#pragma once

#include <span>
#include <string_view>

namespace sky::config {

struct queue_definition {
  std::string_view name;       // stable identifier used in routes, metrics and NOTIFY payloads
  std::string_view env_prefix; // `<env_prefix>_INTERVAL_MINUTES` etc.
  std::string_view table;      // polled table
  std::string_view status_column;
  std::string_view status_type; // PostgreSQL enum type of status_column
  std::string_view queued;      // status values of the lifecycle
  std::string_view processing;
  std::string_view completed;
  std::string_view error;
  std::string_view job_type;      // jobs.job_type this queue serves; empty for entity tables
  std::string_view column_prefix; // prefix of attempts/lease columns when a table has two queues
  int default_max_instances;
  // Columns a handler reads, sent with each claimed row as a JSON object (comma-separated). Only
  // these: serialising whole rows was a large share of the database's work per claim.
  std::string_view payload_columns;
};

// Every queue of the pipeline, in pipeline order.
std::span<const queue_definition> queue_definitions();

const queue_definition* find_queue_definition(std::string_view name);

} // namespace sky::config
