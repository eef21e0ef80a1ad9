// Operator controls, one table of routes for every queue of the catalog: the table, status column
// and status values come from the queue's definition, never from the request.
#include "http/queue_routes.hpp"
#include "http/json_response.hpp"

#include "config/queue_catalog.hpp"
#include "http/request_body.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/queue_sql.hpp"
#include "persistence/sql_catalog.hpp"

#include <boost/json.hpp>
#include <map>
#include <pqxx/pqxx>

namespace sky::http {
namespace {

namespace json = boost::json;

// Most rows one "retry all errors" call re-queues; the answer says whether more are left.
constexpr int k_max_requeue_per_call = 10'000;
// Most ids listed in an answer; the count is always exact.
constexpr std::size_t k_max_ids_listed = 100;

// A queue's per-operation statements, rendered once from its catalog entry.
struct queue_statements {
  std::string requeue_one, requeue_errors, cancel_queued, row_status;
};

const queue_statements& statements_of(const config::queue_definition& q) {
  static const auto all = [] {
    std::map<std::string_view, queue_statements> out;
    for (const auto& def : config::queue_definitions())
      out[def.name] = {persistence::render_queue_query("queue_requeue_one", def),
                       persistence::render_queue_query("queue_requeue_errors", def),
                       persistence::render_queue_query("queue_cancel_queued", def),
                       persistence::render_queue_query("queue_row_status", def)};
    return out;
  }();
  return all.at(q.name);
}

// The queue named in the path, or the 404 to answer.
std::variant<const config::queue_definition*, api_response> queue_of(const request_context& ctx) {
  const auto& name = ctx.path_params.at("queue");
  if (const auto* def = config::find_queue_definition(name))
    return def;
  return json_error(404, "not_found", "no queue " + name);
}

api_response set_paused(app_services& s, request_context& ctx, bool paused) {
  auto q = queue_of(ctx);
  if (auto* error = std::get_if<api_response>(&q))
    return *error;
  const auto* def = std::get<const config::queue_definition*>(q);
  s.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    tx.exec_params(persistence::query("queue_set_paused"), std::string(def->name), paused,
                   ctx.user_id.value_or(""));
    tx.commit();
  });
  return json_ok(200, json::object{{"queue", def->name}, {"paused", paused}});
}

json::array ids_of(const pqxx::result& rows) {
  json::array ids;
  for (std::size_t i = 0; i < rows.size() && i < k_max_ids_listed; ++i)
    ids.push_back(json::string(rows[static_cast<int>(i)][0].c_str()));
  return ids;
}

// A hundred years: beyond it PostgreSQL's interval arithmetic overflows, and nothing is older.
constexpr long long k_max_age_seconds = 100LL * 366 * 24 * 3600;

api_response retry_errors(app_services& s, request_context& ctx) {
  auto q = queue_of(ctx);
  if (auto* error = std::get_if<api_response>(&q))
    return *error;
  const auto* def = std::get<const config::queue_definition*>(q);
  std::optional<double> older_than;
  std::optional<std::string> error_contains;
  int limit = k_max_requeue_per_call;
  if (!ctx.request.body.empty()) {
    auto body = json_body(ctx);
    if (auto* bad = std::get_if<api_response>(&body))
      return *bad;
    const auto& o = std::get<json::object>(body);
    for (const auto& [key, value] : o) {
      if (key == "older_than_seconds" && value.is_number() && value.to_number<double>() >= 0 &&
          value.to_number<double>() <= k_max_age_seconds)
        older_than = value.to_number<double>();
      else if (key == "error_contains" && value.is_string() && !value.as_string().empty() &&
               value.as_string().size() <= 500)
        error_contains = std::string(value.as_string());
      else if (key == "limit" && value.is_int64() && value.as_int64() >= 1 &&
               value.as_int64() <= k_max_requeue_per_call)
        limit = static_cast<int>(value.as_int64());
      else
        return json_error(400, "invalid_field",
                          "unknown or invalid field " + std::string(key) +
                              " (older_than_seconds: 0.." + std::to_string(k_max_age_seconds) +
                              ", error_contains: 1..500 characters, "
                              "limit: 1.." +
                              std::to_string(k_max_requeue_per_call) + ")");
    }
  }
  return s.db->run([&](pqxx::connection& c) {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows =
        tx.exec_params(statements_of(*def).requeue_errors, older_than, error_contains, limit);
    tx.commit();
    return json_ok(200, json::object{{"queue", def->name},
                                     {"requeued", rows.size()},
                                     {"ids", ids_of(rows)},
                                     {"more", static_cast<int>(rows.size()) == limit}});
  });
}

api_response item_action(app_services& s, request_context& ctx, bool retry) {
  auto q = queue_of(ctx);
  if (auto* error = std::get_if<api_response>(&q))
    return *error;
  const auto* def = std::get<const config::queue_definition*>(q);
  const auto& id = ctx.path_params.at("id");
  if (!is_uuid(id))
    return json_error(400, "invalid_id", "row id must be a UUID");
  const auto& statements = statements_of(*def);
  return s.db->run([&](pqxx::connection& c) -> api_response {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows = tx.exec_params(retry ? statements.requeue_one : statements.cancel_queued, id);
    if (rows.empty()) {
      auto exists = tx.exec_params(statements.row_status, id);
      if (exists.empty())
        return json_error(404, "not_found", "no row " + id + " in " + std::string(def->table));
      auto status = exists[0][0].is_null() ? std::string("none") : exists[0][0].as<std::string>();
      return json_error(409, "conflict",
                        retry ? "only rows in " + std::string(def->error) +
                                    " (or Cancelled) can be retried; this one is " + status
                              : "only rows still " + std::string(def->queued) +
                                    " can be cancelled here; this one is " + status);
    }
    tx.commit();
    return json_ok(
        retry ? 202 : 200,
        json::object{
            {"queue", def->name},
            {"id", id},
            {"status", retry ? def->queued : (def->job_type.empty() ? def->error : "Cancelled")}});
  });
}

} // namespace

std::set<std::string, std::less<>> paused_queues(app_services& s) {
  return s.db->run([&s](pqxx::connection& c) {
    std::set<std::string, std::less<>> out;
    pqxx::read_transaction tx(c);
    persistence::limit_statements(tx, *s.db);
    for (auto row : tx.exec(persistence::query("queue_controls_list")))
      if (row[1].as<bool>())
        out.insert(row[0].as<std::string>());
    return out;
  });
}

std::vector<route> queue_control_routes(app_services& s) {
  // Queue controls act for every subject: operators only.
  std::vector<route> routes{
      {"POST", "/api/v3/queues/{queue}/pause",
       [&s](request_context& c) { return set_paused(s, c, true); }},
      {"POST", "/api/v3/queues/{queue}/resume",
       [&s](request_context& c) { return set_paused(s, c, false); }},
      {"POST", "/api/v3/queues/{queue}/retry-errors",
       [&s](request_context& c) { return retry_errors(s, c); }},
      {"POST", "/api/v3/queues/{queue}/items/{id}/retry",
       [&s](request_context& c) { return item_action(s, c, true); }},
      {"POST", "/api/v3/queues/{queue}/items/{id}/cancel",
       [&s](request_context& c) { return item_action(s, c, false); }},
  };
  for (auto& r : routes)
    r.auth = access::operator_role;
  return routes;
}

} // namespace sky::http
