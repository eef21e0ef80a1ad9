// Handlers of the HTTP API, declared as one table. Handlers run on the blocking pool.
#include "http/routes.hpp"

#include "config/config.hpp"
#include "config/queue_catalog.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/queue_sql.hpp"
#include "persistence/sql_catalog.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace sky::http {
namespace {

namespace json = boost::json;

api_response json_ok(int status, const json::value& body) {
  return {status, json::serialize(body), "application/json", {}};
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-')
        return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

json::value nullable_text(const pqxx::field& f) {
  return f.is_null() ? json::value(nullptr) : json::value(f.c_str());
}

json::value nullable_json(const pqxx::field& f) {
  if (f.is_null())
    return nullptr;
  boost::system::error_code ec;
  auto v = json::parse(f.c_str(), ec);
  return ec ? json::value(nullptr) : v;
}

api_response health(request_context&) {
  return json_ok(200, json::object{{"status", "ok"}});
}

api_response ready(app_services& s) {
  bool db = s.db && s.db->ping();
  bool actors = !s.actors_ready || s.actors_ready();
  json::object body{{"status", db && actors ? "ready" : "not_ready"},
                    {"database", db ? "ok" : "unreachable"},
                    {"actors", actors ? "ok" : "degraded"}};
  return json_ok(db && actors ? 200 : 503, body);
}

api_response get_job(app_services& s, request_context& ctx) {
  const auto& id = ctx.path_params.at("id");
  if (!is_uuid(id))
    return json_error(400, "invalid_id", "job id must be a UUID");
  return s.db->run([&](pqxx::connection& c) -> api_response {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params(persistence::query("jobs_get"), id);
    if (rows.empty())
      return json_error(404, "not_found", "no job " + id);
    auto r = rows[0];
    json::object job{{"id", r[0].c_str()},
                     {"job_type", r[1].c_str()},
                     {"status", r[2].c_str()},
                     {"user_id", nullable_text(r[3])},
                     {"domain_id", nullable_text(r[4])},
                     {"params", nullable_json(r[5])},
                     {"progress", r[6].as<double>()},
                     {"result_data", nullable_json(r[7])},
                     {"error", nullable_text(r[8])},
                     {"attempts", r[9].as<int>()},
                     {"last_error", nullable_text(r[10])},
                     {"created_at", r[11].c_str()},
                     {"updated_at", r[12].c_str()},
                     {"finished_at", nullable_text(r[13])}};
    return json_ok(200, job);
  });
}

api_response list_queues(app_services& s) {
  static const auto statements = [] {
    std::vector<std::string> out;
    for (const auto& q : config::queue_definitions())
      out.push_back(persistence::render_queue_query("queue_status_counts", q));
    return out;
  }();
  return s.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    json::array queues;
    const auto defs = config::queue_definitions();
    for (std::size_t i = 0; i < defs.size(); ++i) {
      const auto& def = defs[i];
      json::object counts;
      json::value oldest = nullptr;
      for (auto row : tx.exec(statements[i])) {
        counts[row[0].c_str()] = row[1].as<long long>();
        if (!row[2].is_null())
          oldest = row[2].as<double>();
      }
      json::object q{{"name", def.name},
                     {"table", def.table},
                     {"status_column", def.status_column},
                     {"counts", counts},
                     {"oldest_queued_age_seconds", oldest}};
      if (const auto* cfg = s.config->queue(def.name)) {
        q["concurrency"] = cfg->max_instances;
        q["batch_size"] = cfg->batch_size;
        q["max_attempts"] = cfg->max_attempts;
      }
      queues.push_back(q);
    }
    return json_ok(200, json::object{{"queues", queues}});
  });
}

} // namespace

std::vector<route> api_routes(app_services& s) {
  return {
      {"GET", "/health", health},
      {"GET", "/ready", [&s](request_context&) { return ready(s); }},
      {"GET", "/api/v3/jobs/{id}", [&s](request_context& ctx) { return get_job(s, ctx); }},
      {"GET", "/api/v3/queues", [&s](request_context&) { return list_queues(s); }},
  };
}

} // namespace sky::http
