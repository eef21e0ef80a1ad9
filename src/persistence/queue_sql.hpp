// SQL for one queue, rendered from a query template and the queue's catalog entry.
#pragma once

#include "config/queue_catalog.hpp"

#include <string>
#include <string_view>

namespace sky::persistence {

// Fills {table}, {status}, {queued}, {processing}, {completed}, {error}, {attempts},
// {max_attempts}, {last_error}, {locked_by}, {lease_expires_at}, {next_attempt_at},
// {job_filter} (" AND job_type = '...'" or ""), {active_filter} (the same plus " AND finished_at
// IS NULL" for job queues) in the named query. Identifiers come from the
// static catalog, which a unit test checks to be plain [a-z_] names.
std::string render_queue_query(std::string_view query_name, const config::queue_definition& q);

} // namespace sky::persistence
