// Owns the actor system of `scrapersky serve`: starts the engine, reports health, drains on stop.
#pragma once

#include "messages/maintenance_metrics.hpp"
#include "messages/queue_metrics.hpp"
#include "workflows/queue_handler.hpp"

#include <chrono>
#include <memory>
#include <string_view>

namespace sky::config {
struct app_config;
}

namespace sky::actors {

class runtime {
public:
  // Queues with an entry in `handlers` are polled by this process; the others are left alone.
  runtime(const config::app_config& config, workflows::handler_table handlers);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  void start();
  // True once started and while no queue is paused as degraded.
  bool ready() const;
  // Test only (reached through a route that exists with ENVIRONMENT=test): makes one engine
  // actor crash or hang. `queue` is a queue name with actor poller | pool | writer, or "engine"
  // with scheduler | notifier | maintenance; kind is crash | hang. False when nothing matches.
  bool inject_fault(std::string_view queue, std::string_view actor, std::string_view kind);
  // Per queue, in config::queue_definitions() order.
  const messages::engine_metrics& metrics() const;
  // The node's maintenance actor's counters.
  const messages::maintenance_metrics& maintenance_metrics() const;
  // Stops claiming, lets in-flight items finish within `drain`, returns the rest to their queue
  // without counting the attempt, stops every actor. False when some actor outlived `drain`.
  bool shutdown(std::chrono::milliseconds drain);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sky::actors
