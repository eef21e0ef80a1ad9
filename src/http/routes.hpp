// The route table of the HTTP API.
#pragma once

#include "http/router.hpp"

#include "messages/queue_metrics.hpp"

#include <functional>

namespace sky::config {
struct app_config;
}
namespace sky::persistence {
class connection_pool;
}

namespace sky::http {

// What handlers may use; owned by main, outlives the server.
struct app_services {
  persistence::connection_pool* db = nullptr;
  const config::app_config* config = nullptr;
  // True while the actor system runs and no queue is degraded; empty means "no actors" (api role).
  std::function<bool()> actors_ready;
  // Engine counters, in config::queue_definitions() order; null when no engine runs here.
  const messages::engine_metrics* metrics = nullptr;
};

// Prometheus text exposition of the engine counters and queue depths.
std::string render_prometheus(app_services& services);

std::vector<route> api_routes(app_services& services);

} // namespace sky::http
