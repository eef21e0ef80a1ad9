// An actor system on CAF's test coordinator, for deterministic tests of actor logic: every actor
// runs on the test's own thread, and the clock moves only when the test advances it.
#pragma once

#include "messages/registry.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <chrono>
#include <memory>

namespace sky::test_support {

struct coordinated_actors {
  coordinated_actors() {
    messages::register_message_types(cfg);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    // As CAF's own fixture does: the clock does not start at its epoch.
    sched->clock().current_time += std::chrono::hours(1);
  }

  // Runs every actor until no message is left.
  void run() { sched->run(); }

  // Moves the clock (firing the timers due by then), then runs.
  void advance(caf::timespan d) {
    sched->advance_time(d);
    sched->run();
  }

  // Stops the system; timers still pending hold their receivers, and nothing is left to wait for.
  void shut_down() {
    sys->await_actors_before_shutdown(false);
    sys.reset();
  }

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
};

} // namespace sky::test_support
