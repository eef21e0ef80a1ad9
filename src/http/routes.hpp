// The route table of the HTTP API.
#pragma once

#include "http/router.hpp"

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
};

std::vector<route> api_routes(app_services& services);

} // namespace sky::http
