// Renders per-queue SQL from templates; the catalog's identifiers are validated, not trusted.
#include "persistence/queue_sql.hpp"

#include "persistence/sql_catalog.hpp"

#include <stdexcept>

namespace sky::persistence {
namespace {

bool plain_identifier(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || c == '_'))
      return false;
  return true;
}

bool plain_value(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
      return false;
  return !s.empty();
}

void replace_all(std::string& text, std::string_view key, std::string_view value) {
  for (auto pos = text.find(key); pos != std::string::npos;
       pos = text.find(key, pos + value.size()))
    text.replace(pos, key.size(), value);
}

} // namespace

std::string render_queue_query(std::string_view query_name, const config::queue_definition& q) {
  if (!plain_identifier(q.name) || !plain_identifier(q.table) ||
      !plain_identifier(q.status_column) ||
      !(q.column_prefix.empty() || plain_identifier(q.column_prefix)) || !plain_value(q.queued) ||
      !plain_value(q.processing) || !plain_value(q.completed) || !plain_value(q.error) ||
      !(q.job_type.empty() || plain_identifier(q.job_type)) || !plain_identifier(q.status_type))
    throw std::logic_error("queue catalog entry " + std::string(q.name) + " is not plain");
  std::string sql = query(query_name);
  std::string prefix(q.column_prefix);
  replace_all(sql, "{table}", q.table);
  replace_all(sql, "{status}", q.status_column);
  replace_all(sql, "{queued}", q.queued);
  replace_all(sql, "{processing}", q.processing);
  replace_all(sql, "{completed}", q.completed);
  replace_all(sql, "{error}", q.error);
  replace_all(sql, "{status_type}", q.status_type);
  // Only jobs can be cancelled; elsewhere the column reads as a constant false.
  replace_all(sql, "{cancel_requested}", q.job_type.empty() ? "false" : "cancel_requested");
  for (std::string_view column : {"attempts", "max_attempts", "claims", "last_error", "locked_by",
                                  "lease_expires_at", "next_attempt_at"}) {
    std::string key("{");
    key.append(column).append("}");
    std::string name(prefix);
    name.append(column);
    replace_all(sql, key, name);
  }
  const bool jobs = !q.job_type.empty();
  replace_all(sql, "{on_complete}",
              jobs ? ", progress = 1, result_data = coalesce({result}, t.result_data), "
                     "error = NULL, finished_at = now()"
                   : "");
  // A completion's result: its item's (d), or, where the rows are read in one pass with no item
  // beside each, the batch's results as one object by id, built once per statement.
  replace_all(sql, "{result}",
              query_name == "queue_complete_at"
                  ? "(SELECT jsonb_object_agg(u.id, u.result::jsonb) FROM unnest($2::uuid[], "
                    "$5::text[]) AS u(id, result) WHERE u.result IS NOT NULL) -> t.id::text"
                  : "d.result::jsonb");
  replace_all(sql, "{on_retry}",
              jobs ? ", error = d.error, finished_at = CASE WHEN t.attempts >= "
                     "coalesce(t.max_attempts, $6) THEN now() END"
                   : "");
  replace_all(sql, "{on_fail}", jobs ? ", error = d.error, finished_at = now()" : "");
  replace_all(sql, "{on_requeue}",
              jobs ? ", cancel_requested = false, error = NULL, progress = 0, result_data = NULL, "
                     "finished_at = NULL"
                   : "");
  // Jobs in Error carry their error and finish time: what jobs_error_idx (012) holds.
  replace_all(sql, "{error_rows}", jobs ? "AND error IS NOT NULL AND finished_at IS NOT NULL" : "");
  replace_all(sql, "{cancelled}", jobs ? "Cancelled" : q.error);
  replace_all(sql, "{on_cancel}", jobs ? ", finished_at = now()" : "");
  replace_all(sql, "{queue}", q.name);
  replace_all(sql, "{on_rescue}",
              jobs
                  ? ", error = CASE WHEN t.attempts >= coalesce(t.max_attempts, $2) THEN "
                    "'lease expired: worker ' || coalesce(t.locked_by, '?') || ' was lost' END, "
                    "finished_at = CASE WHEN t.attempts >= coalesce(t.max_attempts, $2) THEN now() "
                    "END"
                  : "");
  // The claimed row's payload: only the columns its handler reads, as one JSON object.
  std::string payload = "json_build_object(";
  std::string_view columns = q.payload_columns;
  for (bool first = true; !columns.empty(); first = false) {
    auto comma = columns.find(',');
    auto column = columns.substr(0, comma);
    if (!plain_identifier(column))
      throw std::logic_error("queue catalog entry " + std::string(q.name) +
                             " has a payload column that is not plain");
    payload.append(first ? "'" : ", '").append(column).append("', t.").append(column);
    columns = comma == std::string_view::npos ? std::string_view() : columns.substr(comma + 1);
  }
  replace_all(sql, "{payload}", payload + ")");
  // A job queue's rows are those of its type; the active ones are also unfinished, the
  // condition of jobs_active_idx, which claims and the rescuer read.
  const std::string job_filter =
      q.job_type.empty() ? std::string() : " AND job_type = '" + std::string(q.job_type) + "'";
  replace_all(sql, "{active_filter}",
              q.job_type.empty() ? std::string() : job_filter + " AND finished_at IS NULL");
  replace_all(sql, "{job_filter}", job_filter);
  // When a row reached its final status: jobs record it; other tables changed it last then.
  replace_all(sql, "{finished_at}", jobs ? "finished_at" : "updated_at");
  return sql;
}

} // namespace sky::persistence
