// Internal to actors/: what the actors of one queue share, and how each kind is spawned.
#pragma once

#include "actors/restart_policy.hpp"
#include "config/config.hpp"
#include "config/queue_catalog.hpp"
#include "messages/engine_protocol.hpp"
#include "messages/maintenance_metrics.hpp"
#include "messages/queue_metrics.hpp"
#include "persistence/queue_store.hpp"
#include "workflows/queue_handler.hpp"

#include <caf/fwd.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sky::persistence {
class database_threads;
}

namespace sky::actors {

class queue_driver;

// Each served queue's current poller, for the notifier: a NOTIFY wakes the poller directly
// instead of through the scheduler and the queue's supervisor (two thread hand-overs less on the
// pickup path). Supervisors enter their unit's poller when it starts and clear it when the unit
// goes down; an empty entry sends the wake the long way.
class poller_directory {
public:
  explicit poller_directory(std::size_t queues) : pollers_(queues), drivers_(queues) {}
  // `driver`: the queue's, for its standing claim (none while the unit is down). Held weakly:
  // the driver holds the queue, which holds this directory.
  void set(std::uint16_t queue, messages::queue_ticks_actor poller,
           std::weak_ptr<queue_driver> driver = {}) {
    std::lock_guard lock(mutex_);
    pollers_[queue] = std::move(poller);
    drivers_[queue] = std::move(driver);
  }
  messages::queue_ticks_actor get(std::uint16_t queue) const {
    std::lock_guard lock(mutex_);
    return queue < pollers_.size() ? pollers_[queue] : messages::queue_ticks_actor{};
  }
  std::shared_ptr<queue_driver> driver(std::uint16_t queue) const {
    std::lock_guard lock(mutex_);
    return queue < drivers_.size() ? drivers_[queue].lock() : nullptr;
  }

private:
  mutable std::mutex mutex_;
  std::vector<messages::queue_ticks_actor> pollers_;
  std::vector<std::weak_ptr<queue_driver>> drivers_;
};

// Owned by the runtime through shared_ptr; immutable after start except `metrics`.
struct queue_context {
  std::uint16_t index = 0;
  const config::queue_definition* definition = nullptr;
  config::queue_config config;
  const workflows::queue_handler* handler = nullptr;
  std::unique_ptr<persistence::queue_store> store;
  messages::queue_metrics* metrics = nullptr;
  std::string database_url;
  std::chrono::milliseconds statement_timeout{0}; // of the poller's and writer's connections
  bool session_settings = true; // false through a transaction pooler: no session SET
  int retention_days = 0;       // job queues: finished jobs older than this go; 0 keeps them
  std::string node_id;
  std::chrono::milliseconds retry_base{2000};
  std::chrono::milliseconds retry_cap{600000};
  std::shared_ptr<std::atomic<int>> writer_failures; // test hook, shared by all writers
  restart_limits restarts;                           // of its steps and of its unit
  std::chrono::milliseconds heartbeat{60'000};       // silence past this means a hung actor
  std::shared_ptr<poller_directory> directory;       // may be empty (tests)
  // The queue's database side, created once and kept across restarts of its unit: a restarted
  // unit's first statement (the release of what its predecessor held) queues behind whatever
  // that predecessor still had in flight on the same lanes.
  std::shared_ptr<queue_driver> driver;
};

using queue_context_ptr = std::shared_ptr<const queue_context>;

// Most results one commit takes.
constexpr int k_max_commit = 500;

// Claims rows for its pool through the queue's driver and renews their leases. It claims nothing
// before its init message names its pool.
messages::poller_actor spawn_poller(caf::actor_system& system, queue_context_ptr queue,
                                    std::shared_ptr<queue_driver> driver);

// Writes results and statuses through the queue's driver, with group commit: results wait up to
// the commit interval to share a commit, and one commit is in flight at a time.
messages::writer_actor spawn_db_writer(caf::actor_system& system, queue_context_ptr queue,
                                       messages::poller_commit_actor poller,
                                       std::shared_ptr<queue_driver> driver);

// Supervisor of the queue's workers (cooperative: it never blocks).
messages::pool_actor spawn_worker_pool(caf::actor_system& system, queue_context_ptr queue,
                                       messages::poller_credit_actor poller,
                                       messages::writer_intake_actor writer);

// One queue's poller, pool and writer, as their supervisor sees them.
struct queue_unit {
  messages::poller_control_actor poller;
  messages::unit_member_actor pool;
  messages::unit_member_actor writer;
};

// Spawns a queue's unit and starts it; release_held: a restarted unit, whose predecessor's rows
// go back to the queue before anything is claimed.
using unit_starter =
    std::function<queue_unit(caf::actor_system&, const queue_context_ptr&, bool release_held)>;

// The real unit: spawn_poller, spawn_db_writer and spawn_worker_pool over the queue's driver,
// then the poller's init.
queue_unit start_queue_unit(caf::actor_system& system, const queue_context_ptr& queue,
                            bool release_held);
// The same over a given driver (tests give a fake one).
queue_unit start_queue_unit_with(caf::actor_system& system, const queue_context_ptr& queue,
                                 bool release_held, std::shared_ptr<queue_driver> driver);

// The supervisor of one queue's unit (poller, pool, writer): starts it with `start`, restarts it
// when any of them dies or stops answering heartbeats, pauses after too many restarts. Ticks and
// wake-ups for the queue go to it; it forwards them to its poller. Its timers run on the actor
// system's clock.
messages::queue_supervisor_actor spawn_queue_supervisor(caf::actor_system& system,
                                                        queue_context_ptr queue,
                                                        unit_starter start = start_queue_unit);

// LISTENs for queue notifications and wakes the queue's poller (through the directory, or the
// scheduler when the directory has none); its connection lives on a lane of `threads`.
messages::notifier_actor spawn_notifier(caf::actor_system& system, std::string database_url,
                                        messages::scheduler_wake_actor scheduler,
                                        std::shared_ptr<const poller_directory> directory,
                                        persistence::database_threads& threads);

// One queue as the maintenance actor sees it: every queue of the catalog, served here or not.
struct maintained_queue {
  const config::queue_definition* definition = nullptr;
  std::shared_ptr<const persistence::queue_store> store;
  messages::queue_metrics* metrics = nullptr;
  std::chrono::milliseconds interval{60'000}; // between its passes
};

struct maintenance_settings {
  std::vector<maintained_queue> queues;
  std::string database_url;
  std::string node_id;
  bool session_settings = true; // false through a transaction pooler
  std::chrono::milliseconds statement_timeout{0};
  int retention_days = 0;                         // 0 keeps finished jobs
  std::chrono::milliseconds leader_lease{15'000}; // renewed every third of it
  messages::maintenance_metrics* metrics = nullptr;
  persistence::database_threads* threads = nullptr; // the node's; a lane of it runs the passes
};

// The node's maintenance: while it holds the maintenance
// lease, each queue's pass (rescue of expired leases, status counts, retention) at the queue's
// interval. Nodes without the lease only try to take it.
messages::maintenance_actor spawn_maintenance(caf::actor_system& system,
                                              maintenance_settings settings);

// Gives the lease up (a stopping node), so that another node leads without waiting for it.
void resign_maintenance(pqxx::connection& conn, const std::string& node_id);

using maintenance_starter = std::function<messages::maintenance_actor(caf::actor_system&)>;

// Starts the notifier for the scheduler it is to wake (the real one: spawn_notifier).
using notifier_starter =
    std::function<messages::notifier_actor(caf::actor_system&, messages::scheduler_wake_actor)>;

struct engine_settings {
  std::vector<messages::queue_ticks_actor> queues; // supervisors by queue index (empty: not served)
  std::vector<std::chrono::milliseconds> intervals; // fallback poll interval by queue index
  notifier_starter start_notifier; // empty: no notifier (a pooled database without a direct URL)
  maintenance_starter start_maintenance; // empty: no maintenance on this node (tests)
  std::chrono::milliseconds heartbeat{60'000};
  restart_limits restarts;
  std::atomic<bool>* restarting = nullptr; // set while the scheduler and notifier are down
};

// Above the queue supervisors: the scheduler (fallback ticks, NOTIFY routing), the notifier and
// the maintenance actor, restarted together when one dies or stops answering heartbeats, paused
// after too many restarts; after a restart every queue is woken, since a NOTIFY may have been
// missed. Its timers run on the actor system's clock.
messages::engine_supervisor_actor spawn_engine_supervisor(caf::actor_system& system,
                                                          engine_settings settings);

} // namespace sky::actors
