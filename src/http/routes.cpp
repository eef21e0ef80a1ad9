// Handlers of the HTTP API, declared as one table. Handlers run on the blocking pool.
#include "http/routes.hpp"
#include "http/json_response.hpp"

#include "config/config.hpp"
#include "config/queue_catalog.hpp"
#include "http/queue_routes.hpp"
#include "http/request_body.hpp"
#include "http/workflow_routes.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/database_probe.hpp"
#include "persistence/queue_sql.hpp"
#include "persistence/sql_catalog.hpp"
#include "scrape/text_rules.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <mutex>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace sky::http {
namespace {

namespace json = boost::json;

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
  bool db = s.probe && s.probe->reachable();
  bool actors = !s.actors_ready || s.actors_ready();
  json::array degraded, restarting;
  if (s.metrics)
    for (std::size_t i = 0; i < s.metrics->size(); ++i) {
      if ((*s.metrics)[i]->degraded)
        degraded.push_back(json::string(config::queue_definitions()[i].name));
      if ((*s.metrics)[i]->restarting)
        restarting.push_back(json::string(config::queue_definitions()[i].name));
    }
  json::array paused;
  if (s.probe)
    for (const auto& name : s.probe->paused_queues())
      paused.push_back(json::string(name));
  // A pool whose heartbeat does not run may be deadlocked: this node does nothing while its
  // actors look fine.
  json::array stalled;
  if (s.thread_pools)
    for (const auto& pool : s.thread_pools())
      if (pool.stalled)
        stalled.push_back(json::string(pool.name));
  const bool draining = s.draining && s.draining->load();
  const bool ok = db && actors && stalled.empty() && !draining;
  // A paused queue is the operator's choice, not a fault: listed, but still ready.
  json::object body{{"status", draining ? "draining"
                               : ok     ? "ready"
                                        : "not_ready"},
                    {"database", db ? "ok" : "unreachable"},
                    {"actors", actors ? "ok" : "degraded"},
                    {"degraded_queues", degraded},
                    {"restarting_queues", restarting},
                    {"paused_queues", paused},
                    {"stalled_pools", stalled}};
  return json_ok(ok ? 200 : 503, body);
}

api_response get_job(app_services& s, request_context& ctx) {
  const auto& id = ctx.path_params.at("id");
  if (!is_uuid(id))
    return json_error(400, "invalid_id", "job id must be a UUID");
  return s.db->run([&](pqxx::connection& c) -> api_response {
    pqxx::read_transaction tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows = tx.exec_params(persistence::query("jobs_get"), id,
                               static_cast<long long>(s.config->workflows.result_max_bytes));
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
                     {"finished_at", nullable_text(r[13])},
                     {"batch_id", nullable_text(r[14])}};
    return json_ok(200, job);
  });
}

struct queue_depth {
  std::vector<std::pair<std::string, long long>> counts;
  std::optional<double> oldest_queued_s;
};

// Queued and processing counts and the oldest due row are read fresh (index scans), and so are
// the finished counts of job queues (kept by 010_job_status_counts.sql). The other tables'
// breakdown by status scans them whole, so it is refreshed at most every 30 seconds.
std::vector<queue_depth> read_queue_depths(app_services& s) {
  constexpr auto k_breakdown_ttl = std::chrono::seconds(30);
  static const auto statements = [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& q : config::queue_definitions())
      out.emplace_back(q.job_type.empty()
                           ? persistence::render_queue_query("queue_status_counts", q)
                           : std::string(),
                       persistence::render_queue_query("queue_active_counts", q));
    return out;
  }();
  static std::mutex cache_mutex;
  static std::vector<std::vector<std::pair<std::string, long long>>> breakdown;
  static std::chrono::steady_clock::time_point breakdown_at{};

  return s.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::limit_statements(tx, *s.db);
    const auto defs = config::queue_definitions();
    std::vector<queue_depth> out(defs.size());
    {
      std::lock_guard lock(cache_mutex);
      if (breakdown.empty() || std::chrono::steady_clock::now() - breakdown_at > k_breakdown_ttl) {
        std::vector<std::vector<std::pair<std::string, long long>>> fresh;
        for (const auto& [full, active] : statements) {
          auto& counts = fresh.emplace_back();
          if (!full.empty())
            for (auto row : tx.exec(full))
              counts.emplace_back(row[0].c_str(), row[1].as<long long>());
        }
        breakdown = std::move(fresh);
        breakdown_at = std::chrono::steady_clock::now();
      }
      for (std::size_t i = 0; i < defs.size(); ++i)
        out[i].counts = breakdown[i];
    }
    for (std::size_t i = 0; i < defs.size(); ++i)
      if (!defs[i].job_type.empty())
        for (auto row : tx.exec_params(persistence::query("jobs_finished_counts"),
                                       std::string(defs[i].job_type)))
          out[i].counts.emplace_back(row[0].c_str(), row[1].as<long long>());
    for (std::size_t i = 0; i < defs.size(); ++i) {
      auto row = tx.exec(statements[i].second)[0];
      auto set = [&](std::string_view status, long long n) {
        for (auto& [name, value] : out[i].counts)
          if (name == status) {
            value = n;
            return;
          }
        if (n > 0)
          out[i].counts.emplace_back(std::string(status), n);
      };
      set(defs[i].queued, row[0].as<long long>());
      set(defs[i].processing, row[1].as<long long>());
      if (!row[2].is_null())
        out[i].oldest_queued_s = row[2].as<double>();
    }
    return out;
  });
}

json::object engine_counters(const messages::queue_metrics& m) {
  json::object out;
  for (const auto& [name, member] : messages::queue_metrics::k_counters)
    out[name] = (m.*member).load();
  return out;
}

// Pickup latency since this process started: how many claims, their mean, and the upper bound
// of the histogram bucket that holds the 95th percentile (null beyond the last bound).
json::object pickup_latency(const messages::queue_metrics& m) {
  std::uint64_t total = 0;
  for (const auto& b : m.latency_buckets)
    total += b.load();
  json::object out{{"count", total}, {"mean", nullptr}, {"p95_at_most", nullptr}};
  if (total == 0)
    return out;
  out["mean"] = static_cast<double>(m.latency_sum_us.load()) / 1e6 / static_cast<double>(total);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < messages::queue_metrics::k_latency_bounds.size(); ++b) {
    seen += m.latency_buckets[b].load();
    if (seen * 100 >= total * 95) {
      out["p95_at_most"] = messages::queue_metrics::k_latency_bounds[b];
      break;
    }
  }
  return out;
}

// Completed and failed rows per minute over the last hour, per queue, from the finish times in
// the database (job queues: the counts per minute kept beside jobs), so every node's work
// counts, whichever node answers. Computed at most every few seconds and shared, so that open
// consoles do not multiply the database's work.
api_response queue_history(app_services& s) {
  constexpr int k_minutes = 60;
  constexpr auto k_max_age = std::chrono::seconds(5);
  static const auto statements = [] {
    std::vector<std::string> out;
    for (const auto& q : config::queue_definitions())
      out.push_back(persistence::render_queue_query(
          q.job_type.empty() ? "queue_finished_per_minute" : "jobs_finished_per_minute", q));
    return out;
  }();
  static std::mutex mutex;
  static std::string text;
  static std::chrono::steady_clock::time_point computed_at{};
  std::lock_guard lock(mutex);
  if (!text.empty() && std::chrono::steady_clock::now() - computed_at < k_max_age)
    return {200, text, "application/json", {}};
  text = s.db->run([&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    persistence::limit_statements(tx, *s.db);
    auto now_minute =
        tx.exec("SELECT extract(epoch FROM date_trunc('minute', now()))::bigint")[0][0]
            .as<long long>();
    const long long start = now_minute - (k_minutes - 1) * 60;
    json::array queues;
    const auto defs = config::queue_definitions();
    for (std::size_t i = 0; i < defs.size(); ++i) {
      std::vector<long long> completed(k_minutes, 0), failed(k_minutes, 0);
      for (auto row : tx.exec_params(statements[i], start)) {
        auto slot = (row[0].as<long long>() - start) / 60;
        if (slot < 0 || slot >= k_minutes) // a clock step between the two statements
          continue;
        completed[static_cast<std::size_t>(slot)] = row[1].as<long long>();
        failed[static_cast<std::size_t>(slot)] = row[2].as<long long>();
      }
      queues.push_back(json::object{{"name", defs[i].name},
                                    {"completed", json::value_from(completed)},
                                    {"failed", json::value_from(failed)}});
    }
    return json::serialize(json::object{
        {"start", start}, {"minute_seconds", 60}, {"minutes", k_minutes}, {"queues", queues}});
  });
  computed_at = std::chrono::steady_clock::now();
  return {200, text, "application/json", {}};
}

api_response list_queues(app_services& s) {
  auto depths = read_queue_depths(s);
  auto paused = paused_queues(s);
  {
    json::array queues;
    const auto defs = config::queue_definitions();
    for (std::size_t i = 0; i < defs.size(); ++i) {
      const auto& def = defs[i];
      json::object counts;
      for (const auto& [status, n] : depths[i].counts)
        counts[status] = n;
      json::value oldest = nullptr;
      if (depths[i].oldest_queued_s)
        oldest = *depths[i].oldest_queued_s;
      json::object q{{"name", def.name},
                     {"table", def.table},
                     {"status_column", def.status_column},
                     {"counts", counts},
                     {"oldest_queued_age_seconds", oldest}};
      if (const auto* cfg = s.config->queue(def.name)) {
        q["concurrency"] = cfg->max_instances;
        q["batch_size"] = cfg->claim_batch();
        q["max_attempts"] = cfg->max_attempts;
      }
      const bool is_paused = paused.count(def.name) != 0;
      q["paused"] = is_paused;
      if (s.metrics) {
        const auto& m = *(*s.metrics)[i];
        q["served"] = m.served.load();
        q["state"] = is_paused      ? "paused"
                     : !m.served    ? "not_served"
                     : m.restarting ? "restarting"
                     : m.degraded   ? "degraded"
                                    : "running";
        q["totals"] = engine_counters(m);
        q["pickup_latency_seconds"] = pickup_latency(m);
      } else {
        q["served"] = false;
        q["state"] = is_paused ? "paused" : "not_served";
      }
      queues.push_back(q);
    }
    return json_ok(200, json::object{{"queues", queues}});
  }
}

// Runs `transition(tx, id, status)` with the job's row locked; 400/404 for bad or unknown ids.
template <class F>
api_response with_locked_job(app_services& s, request_context& ctx, F&& transition) {
  const auto& id = ctx.path_params.at("id");
  if (!is_uuid(id))
    return json_error(400, "invalid_id", "job id must be a UUID");
  return s.db->run([&](pqxx::connection& c) -> api_response {
    pqxx::work tx(c);
    persistence::limit_statements(tx, *s.db);
    auto rows = tx.exec_params(persistence::query("jobs_lock_status"), id);
    if (rows.empty())
      return json_error(404, "not_found", "no job " + id);
    // A subject controls its own jobs; another subject's job, or one of no subject (made by the
    // pipeline, or under a token whose subject is not a UUID), needs the operator role. Owners
    // are compared as PostgreSQL writes UUIDs: lower case.
    const auto subject = scrape::ascii_lower(ctx.user_id.value_or(""));
    if (!ctx.is_operator && (rows[0][1].is_null() || subject != rows[0][1].c_str()))
      return json_error(403, "forbidden",
                        "this job is not this token's subject's; controlling it needs a token "
                        "with the role \"operator\"");
    return transition(tx, id, std::string(rows[0][0].c_str()));
  });
}

api_response cancel_job(app_services& s, request_context& ctx) {
  return with_locked_job(
      s, ctx, [](pqxx::work& tx, const std::string& id, const std::string& status) -> api_response {
        if (status == "Queued" || status == "Paused") {
          tx.exec_params(persistence::query("jobs_cancel_queued"), id);
          tx.commit();
          return json_ok(200, json::object{{"job_id", id}, {"status", "Cancelled"}});
        }
        if (status == "InProgress") {
          tx.exec_params(persistence::query("jobs_request_cancel"), id);
          tx.commit();
          return json_ok(
              202,
              json::object{{"job_id", id}, {"status", "InProgress"}, {"cancel_requested", true}});
        }
        return json_error(409, "conflict", "job is already " + status);
      });
}

api_response retry_job(app_services& s, request_context& ctx) {
  return with_locked_job(
      s, ctx, [](pqxx::work& tx, const std::string& id, const std::string& status) -> api_response {
        if (status != "Error" && status != "Cancelled")
          return json_error(409, "conflict",
                            "only jobs in Error or Cancelled can be retried; this one is " +
                                status);
        tx.exec_params(persistence::query("jobs_requeue"), id);
        tx.commit();
        return json_ok(202, json::object{{"job_id", id}, {"status", "Queued"}});
      });
}

api_response run_queue_now(app_services& s, request_context& ctx) {
  if (!s.config->is_development())
    return json_error(403, "forbidden",
                      "manual queue runs are only allowed when ENVIRONMENT=development");
  const auto& name = ctx.path_params.at("queue");
  if (!config::find_queue_definition(name))
    return json_error(404, "not_found", "no queue " + name);
  s.db->run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params(persistence::query("queue_wake"), name);
  });
  return json_ok(202, json::object{{"queue", name}, {"status", "woken"}});
}

void prometheus_line(std::string& out, std::string_view name, std::string_view labels,
                     double value) {
  out.append(name);
  if (!labels.empty())
    out.append("{").append(labels).append("}");
  out.append(" ");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  out.append(buf).append("\n");
}

} // namespace

std::string render_prometheus(app_services& s) {
  std::string out;
  if (s.thread_pools) {
    const auto pools = s.thread_pools();
    out += "# HELP scrapersky_thread_pool_stalled 1 while the pool has run no heartbeat for "
           "WORK_STALL_SECONDS.\n# TYPE scrapersky_thread_pool_stalled gauge\n";
    for (const auto& p : pools)
      prometheus_line(out, "scrapersky_thread_pool_stalled", "pool=\"" + p.name + "\"",
                      p.stalled ? 1 : 0);
    out += "# HELP scrapersky_thread_pool_silent_seconds How long the pool's pending heartbeat "
           "has waited.\n# TYPE scrapersky_thread_pool_silent_seconds gauge\n";
    for (const auto& p : pools)
      prometheus_line(out, "scrapersky_thread_pool_silent_seconds", "pool=\"" + p.name + "\"",
                      static_cast<double>(p.silent_for.count()) / 1000.0);
  }
  if (s.renderer) {
    const auto r = s.renderer();
    out += "# HELP scrapersky_render_pages_total Pages rendered in a browser, by outcome.\n"
           "# TYPE scrapersky_render_pages_total counter\n";
    prometheus_line(out, "scrapersky_render_pages_total", "outcome=\"rendered\"",
                    static_cast<double>(r.pages_rendered));
    prometheus_line(out, "scrapersky_render_pages_total", "outcome=\"failed\"",
                    static_cast<double>(r.pages_failed));
    out +=
        "# HELP scrapersky_render_browser_starts_total Browser processes started; restarts "
        "follow a crash, a hang or the memory cap.\n# TYPE scrapersky_render_browser_starts_total "
        "counter\n";
    prometheus_line(out, "scrapersky_render_browser_starts_total", "kind=\"start\"",
                    static_cast<double>(r.browsers_started - r.browsers_restarted));
    prometheus_line(out, "scrapersky_render_browser_starts_total", "kind=\"restart\"",
                    static_cast<double>(r.browsers_restarted));
    out += "# HELP scrapersky_render_memory_bytes Memory of the browser pool (proportional set "
           "size, checked each second).\n# TYPE scrapersky_render_memory_bytes gauge\n";
    prometheus_line(out, "scrapersky_render_memory_bytes", "", static_cast<double>(r.memory_bytes));
  }
  if (s.maintenance) {
    const auto& m = *s.maintenance;
    out += "# HELP scrapersky_maintenance_leader 1 while this node runs maintenance (rescue, "
           "retention, status counts).\n# TYPE scrapersky_maintenance_leader gauge\n";
    prometheus_line(out, "scrapersky_maintenance_leader", "", m.leader ? 1 : 0);
    out += "# HELP scrapersky_maintenance_total Maintenance work done by this node.\n"
           "# TYPE scrapersky_maintenance_total counter\n";
    prometheus_line(out, "scrapersky_maintenance_total", "kind=\"queue_passes\"",
                    static_cast<double>(m.passes));
    prometheus_line(out, "scrapersky_maintenance_total", "kind=\"rescued\"",
                    static_cast<double>(m.rescued));
    prometheus_line(out, "scrapersky_maintenance_total", "kind=\"deleted\"",
                    static_cast<double>(m.deleted));
    prometheus_line(out, "scrapersky_maintenance_total", "kind=\"db_errors\"",
                    static_cast<double>(m.db_errors));
    out += "# HELP scrapersky_maintenance_last_round_seconds How long the last round of due "
           "queue passes took.\n# TYPE scrapersky_maintenance_last_round_seconds gauge\n";
    prometheus_line(out, "scrapersky_maintenance_last_round_seconds", "",
                    static_cast<double>(m.last_pass_us) / 1e6);
  }
  const auto defs = config::queue_definitions();
  auto depths = read_queue_depths(s);
  out += "# HELP scrapersky_queue_rows Rows of each queue by status.\n# TYPE scrapersky_queue_rows "
         "gauge\n";
  for (std::size_t i = 0; i < defs.size(); ++i)
    for (const auto& [status, n] : depths[i].counts)
      prometheus_line(out, "scrapersky_queue_rows",
                      "queue=\"" + std::string(defs[i].name) + "\",status=\"" + status + "\"",
                      static_cast<double>(n));
  out += "# HELP scrapersky_queue_oldest_queued_seconds Age of the oldest due queued row.\n"
         "# TYPE scrapersky_queue_oldest_queued_seconds gauge\n";
  for (std::size_t i = 0; i < defs.size(); ++i)
    prometheus_line(out, "scrapersky_queue_oldest_queued_seconds",
                    "queue=\"" + std::string(defs[i].name) + "\"",
                    depths[i].oldest_queued_s.value_or(0));
  const auto paused = paused_queues(s);
  out += "# HELP scrapersky_queue_paused 1 while an operator has paused the queue.\n"
         "# TYPE scrapersky_queue_paused gauge\n";
  for (const auto& def : defs)
    prometheus_line(out, "scrapersky_queue_paused", "queue=\"" + std::string(def.name) + "\"",
                    paused.count(def.name) ? 1 : 0);
  if (!s.metrics)
    return out;
  for (const auto& [name, member] : messages::queue_metrics::k_counters) {
    std::string metric = std::string("scrapersky_items_") + name + "_total";
    out += "# TYPE " + metric + " counter\n";
    for (std::size_t i = 0; i < defs.size(); ++i)
      prometheus_line(out, metric, "queue=\"" + std::string(defs[i].name) + "\"",
                      static_cast<double>(((*(*s.metrics)[i]).*member).load()));
  }
  out += "# TYPE scrapersky_queue_degraded gauge\n";
  for (std::size_t i = 0; i < defs.size(); ++i)
    prometheus_line(out, "scrapersky_queue_degraded", "queue=\"" + std::string(defs[i].name) + "\"",
                    (*s.metrics)[i]->degraded ? 1 : 0);
  out += "# TYPE scrapersky_queue_restarting gauge\n";
  for (std::size_t i = 0; i < defs.size(); ++i)
    prometheus_line(out, "scrapersky_queue_restarting",
                    "queue=\"" + std::string(defs[i].name) + "\"",
                    (*s.metrics)[i]->restarting ? 1 : 0);
  out += "# HELP scrapersky_pickup_latency_seconds From a row becoming due to its claim.\n"
         "# TYPE scrapersky_pickup_latency_seconds histogram\n";
  for (std::size_t i = 0; i < defs.size(); ++i) {
    const auto& m = *(*s.metrics)[i];
    std::string q = "queue=\"" + std::string(defs[i].name) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < m.latency_buckets.size(); ++b) {
      cumulative += m.latency_buckets[b].load();
      char le[32];
      if (b < messages::queue_metrics::k_latency_bounds.size())
        std::snprintf(le, sizeof le, "%g", messages::queue_metrics::k_latency_bounds[b]);
      else
        std::snprintf(le, sizeof le, "+Inf");
      prometheus_line(out, "scrapersky_pickup_latency_seconds_bucket", q + ",le=\"" + le + "\"",
                      static_cast<double>(cumulative));
    }
    prometheus_line(out, "scrapersky_pickup_latency_seconds_sum", q,
                    static_cast<double>(m.latency_sum_us.load()) / 1e6);
    prometheus_line(out, "scrapersky_pickup_latency_seconds_count", q,
                    static_cast<double>(cumulative));
  }
  return out;
}

std::string cached_prometheus(app_services& s, std::chrono::milliseconds max_age) {
  // One renderer at a time. Callers that arrive while it runs take the previous text rather than
  // queue behind it, so a slow database cannot pile them up on the handler threads.
  static std::mutex render_mutex, text_mutex;
  static std::string text;
  static std::chrono::steady_clock::time_point rendered_at{};
  auto fresh_text = [&]() -> std::optional<std::string> {
    std::lock_guard lock(text_mutex);
    if (!text.empty() && std::chrono::steady_clock::now() - rendered_at < max_age)
      return text;
    return std::nullopt;
  };
  if (auto t = fresh_text())
    return *t;
  std::unique_lock render(render_mutex, std::try_to_lock);
  if (!render.owns_lock()) {
    {
      std::lock_guard lock(text_mutex);
      if (!text.empty())
        return text;
    }
    render.lock();
    if (auto t = fresh_text())
      return *t;
  }
  auto rendered = render_prometheus(s);
  std::lock_guard lock(text_mutex);
  text = rendered;
  rendered_at = std::chrono::steady_clock::now();
  return rendered;
}

std::vector<route> api_routes(app_services& s) {
  std::vector<route> routes{
      {"GET", "/health", health, access::open, execution::nonblocking},
      {"GET", "/ready", [&s](request_context&) { return ready(s); }, access::open,
       execution::nonblocking},
      {"GET", "/api/v3/jobs/{id}", [&s](request_context& ctx) { return get_job(s, ctx); }},
      {"GET", "/metrics",
       [&s](request_context&) {
         return api_response{200, cached_prometheus(s), "text/plain; version=0.0.4", {}};
       },
       access::open},
      {"GET", "/api/v3/queues", [&s](request_context&) { return list_queues(s); }},
      {"GET", "/api/v3/queues/history", [&s](request_context&) { return queue_history(s); }},
      {"POST", "/api/v3/jobs/{id}/cancel",
       [&s](request_context& ctx) { return cancel_job(s, ctx); }},
      {"POST", "/api/v3/jobs/{id}/retry", [&s](request_context& ctx) { return retry_job(s, ctx); }},
      {"POST", "/api/v3/dev/queues/{queue}/run",
       [&s](request_context& ctx) { return run_queue_now(s, ctx); }},
  };
  // Fault injection exists only in test environments (and only where an engine runs).
  if (s.config->environment == "test" && s.inject_fault)
    routes.push_back({"POST", "/api/v3/test/actors/{queue}/{actor}/{fault}",
                      [&s](request_context& ctx) {
                        bool done =
                            s.inject_fault(ctx.path_params.at("queue"), ctx.path_params.at("actor"),
                                           ctx.path_params.at("fault"));
                        return done ? json_ok(202, json::object{{"injected", true}})
                                    : json_error(404, "not_found", "no such actor or fault");
                      },
                      access::bearer, execution::nonblocking});
  if (s.config->environment == "test" && s.block_thread_pool)
    routes.push_back({"POST", "/api/v3/test/threads/{pool}/block",
                      [&s](request_context& ctx) {
                        return s.block_thread_pool(ctx.path_params.at("pool"))
                                   ? json_ok(202, json::object{{"blocked", true}})
                                   : json_error(404, "not_found", "no such thread pool");
                      },
                      access::bearer, execution::nonblocking});
  for (auto& r : workflow_routes(s))
    routes.push_back(std::move(r));
  for (auto& r : queue_control_routes(s))
    routes.push_back(std::move(r));
  // A database that cannot serve now is the caller's cue to retry, not a server error.
  for (auto& r : routes)
    r.handler = [handler = std::move(r.handler), pattern = r.pattern](request_context& ctx) {
      try {
        return handler(ctx);
      } catch (const std::exception& e) {
        if (!persistence::is_unavailable_error(e))
          throw;
        spdlog::warn("{} {}: database unavailable: {}", ctx.request.method, pattern, e.what());
        auto response = json_error(503, "database_unavailable",
                                   "the database did not answer in time; retry shortly");
        response.headers.emplace_back("Retry-After", "1");
        return response;
      }
    };
  return routes;
}

std::vector<route> ops_routes(app_services& services) {
  std::vector<route> out;
  for (auto& r : api_routes(services))
    if (r.pattern == "/health" || r.pattern == "/ready" || r.pattern == "/metrics")
      out.push_back(std::move(r));
  return out;
}

} // namespace sky::http
