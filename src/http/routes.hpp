// The route table of the HTTP API.
#pragma once

#include "http/router.hpp"

#include "messages/maintenance_metrics.hpp"
#include "messages/queue_metrics.hpp"
#include "process/thread_watchdog.hpp"
#include "scrape/render_stats.hpp"

#include <atomic>
#include <chrono>
#include <functional>

namespace sky::config {
struct app_config;
}
namespace sky::persistence {
class connection_pool;
class database_probe;
} // namespace sky::persistence

namespace sky::http {

// What handlers may use; owned by main, outlives the server.
struct app_services {
  persistence::connection_pool* db = nullptr;
  // Last known reachability of the database, for /ready (which must not wait on it).
  const persistence::database_probe* probe = nullptr;
  const config::app_config* config = nullptr;
  // True while the actor system runs and no queue is degraded; empty means "no actors" (api role).
  std::function<bool()> actors_ready;
  // Engine counters, in config::queue_definitions() order; null when no engine runs here.
  const messages::engine_metrics* metrics = nullptr;
  // The maintenance actor's counters; null when no engine runs here.
  const messages::maintenance_metrics* maintenance = nullptr;
  // Test environments only: runtime::inject_fault.
  std::function<bool(std::string_view queue, std::string_view actor, std::string_view fault)>
      inject_fault;
  // The watched thread pools (work steps, HTTP, database probe); empty when none are watched.
  std::function<std::vector<process::pool_status>()> thread_pools;
  // Test environments only: thread_watchdog::block_for_test.
  std::function<bool(std::string_view pool)> block_thread_pool;
  // The rendering tier's counters; empty where no work steps run (api role).
  std::function<scrape::render_stats()> renderer;
  // Set once the process drains (SIGTERM): /ready answers 503, so that a balancer or an
  // orchestrator stops counting on this node while it finishes what it holds.
  const std::atomic<bool>* draining = nullptr;
};

// /health, /ready and /metrics alone (open, as in api_routes): what every node serves on its
// ops port.
std::vector<route> ops_routes(app_services& services);

// Prometheus text exposition of the engine counters and queue depths.
std::string render_prometheus(app_services& services);

// The same, rendered at most once per `max_age` however many callers ask (they share the text),
// so that an unauthenticated scraper cannot drive database load.
std::string cached_prometheus(app_services& services,
                              std::chrono::milliseconds max_age = std::chrono::seconds(1));

std::vector<route> api_routes(app_services& services);

} // namespace sky::http
