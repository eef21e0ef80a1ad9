// The actor system: scheduler and notifier, and per served queue a poller, a pool and a writer.
#include "actors/runtime.hpp"

#include "actors/engine.hpp"
#include "actors/queue_driver.hpp"
#include "actors/supervision.hpp"
#include "config/config.hpp"
#include "config/queue_catalog.hpp"
#include "messages/engine_protocol.hpp"
#include "messages/registry.hpp"
#include "persistence/database_threads.hpp"

#include <array>
#include <caf/all.hpp>
#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>
#include <thread>

namespace sky::actors {
namespace {

using namespace messages;

struct scheduler_state {
  static inline const char* name = "scheduler";
  // By queue index, the queue's supervisor (which forwards to its current poller); an empty
  // handle: the queue is not served here.
  std::vector<queue_ticks_actor> pollers;
};

// Owns one fallback timer per queue and routes NOTIFY wake-ups to the right poller.
scheduler_actor::behavior_type scheduler(scheduler_actor::stateful_pointer<scheduler_state> self,
                                         std::vector<queue_ticks_actor> pollers,
                                         std::vector<std::chrono::milliseconds> intervals) {
  self->state.pollers = std::move(pollers);
  for (std::uint16_t q = 0; q < intervals.size(); ++q)
    if (self->state.pollers[q])
      self->delayed_send(self, intervals[q], tick_atom::value, q);
  return supervised(
      self,
      [=](tick_atom, std::uint16_t q) {
        self->send(self->state.pollers[q], tick_atom::value);
        self->delayed_send(self, intervals[q], tick_atom::value, q);
      },
      [=](wake_atom, std::uint16_t q) {
        if (q < self->state.pollers.size() && self->state.pollers[q])
          self->send(self->state.pollers[q], wake_atom::value);
      },
      [=](wake_all_atom) {
        for (auto& p : self->state.pollers)
          if (p)
            self->send(p, wake_atom::value);
      });
}

struct served_queue {
  std::shared_ptr<queue_context> context;
  queue_supervisor_actor supervisor;
};

// Above the queue supervisors: the scheduler and the notifier, restarted when they die or stop
// answering heartbeats. The notifier is restarted with the scheduler, since it sends to it.
struct engine_supervisor_state {
  static inline const char* name = "engine_supervisor";
  engine_settings settings;
  scheduler_actor scheduler;
  notifier_actor notifier;
  maintenance_actor maintenance;
  std::uint64_t generation = 0;
  std::optional<restart_intensity> intensity;
};

using engine_supervisor_self = engine_supervisor_actor::stateful_pointer<engine_supervisor_state>;

std::array<supervised_actor, 3> engine_members(const engine_supervisor_state& s) {
  return {s.scheduler, s.notifier, s.maintenance};
}

void start_engine_actors(engine_supervisor_self self) {
  auto& s = self->state;
  s.scheduler = self->spawn<caf::monitored>(scheduler, s.settings.queues, s.settings.intervals);
  if (s.settings.start_notifier) {
    s.notifier = s.settings.start_notifier(self->system(), s.scheduler);
    self->monitor(s.notifier);
  }
  if (s.settings.start_maintenance) {
    s.maintenance = s.settings.start_maintenance(self->system());
    self->monitor(s.maintenance);
  }
  ++s.generation;
  s.settings.restarting->store(false);
}

void restart_engine_actors(engine_supervisor_self self, const std::string& why) {
  auto& s = self->state;
  spdlog::error("engine: {}; restarting the scheduler, the notifier and maintenance", why);
  s.settings.restarting->store(true);
  for (const auto& a : engine_members(s))
    if (a) {
      self->demonitor(a.address());
      self->send_exit(a, caf::exit_reason::user_shutdown);
    }
  s.scheduler = nullptr;
  s.notifier = nullptr;
  s.maintenance = nullptr;
  const bool pause = s.intensity->exceeded_after_failure(self->clock().now());
  self->delayed_send(self, pause ? s.intensity->limits().pause : std::chrono::milliseconds(200),
                     restart_atom::value, pause);
}

engine_supervisor_actor::behavior_type engine_supervisor(engine_supervisor_self self,
                                                         engine_settings settings) {
  auto& s = self->state;
  s.settings = std::move(settings);
  s.intensity.emplace(s.settings.restarts);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    const char* member = msg.source == st.scheduler.address()     ? "scheduler"
                         : msg.source == st.notifier.address()    ? "notifier"
                         : msg.source == st.maintenance.address() ? "maintenance"
                                                                  : nullptr;
    if (member)
      restart_engine_actors(self,
                            std::string(member) + " stopped: " + self->system().render(msg.reason));
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (const auto& a : engine_members(self->state))
      if (a)
        self->send_exit(a, msg.reason);
    self->quit(msg.reason);
  });
  start_engine_actors(self);
  self->delayed_send(self, s.settings.heartbeat / 2, heartbeat_atom::value);
  return supervised(
      self,
      [=](restart_atom, bool after_pause) {
        if (after_pause)
          self->state.intensity->reset();
        start_engine_actors(self);
        // A NOTIFY may have been missed meanwhile.
        self->send(self->state.scheduler, wake_all_atom::value);
      },
      [=](heartbeat_atom) {
        auto& st = self->state;
        self->delayed_send(self, st.settings.heartbeat / 2, heartbeat_atom::value);
        for (const auto& a : engine_members(st))
          if (a)
            self->request(a, st.settings.heartbeat, ping_atom::value)
                .then([](bool) {},
                      [=, generation = st.generation](caf::error&) {
                        if (self->state.generation == generation &&
                            !self->state.settings.restarting->load())
                          restart_engine_actors(self, "an engine actor answered no heartbeat");
                      });
      },
      [=](fault_atom, const std::string& member, const std::string& kind) {
        auto& st = self->state;
        auto target = member == "scheduler"     ? supervised_actor{st.scheduler}
                      : member == "maintenance" ? supervised_actor{st.maintenance}
                                                : supervised_actor{st.notifier};
        if (target)
          self->send(target, fault_atom::value, kind);
      });
}

} // namespace

engine_supervisor_actor spawn_engine_supervisor(caf::actor_system& system,
                                                engine_settings settings) {
  return system.spawn(engine_supervisor, std::move(settings));
}

namespace {

// Runs `f` on a thread of its own and waits up to `limit` for it; past that the thread is left
// behind (detached) and the answer is false.
bool run_bounded(std::function<void()> f, std::chrono::milliseconds limit) {
  struct wait_state {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
  };
  auto state = std::make_shared<wait_state>();
  std::thread runner([state, f = std::move(f)] {
    f();
    std::lock_guard lock(state->m);
    state->done = true;
    state->cv.notify_all();
  });
  std::unique_lock lock(state->m);
  const bool in_time = state->cv.wait_for(lock, limit, [&] { return state->done; });
  lock.unlock();
  if (in_time)
    runner.join();
  else
    runner.detach();
  return in_time;
}

} // namespace

struct runtime::impl {
  impl(const config::app_config& c, workflows::handler_table h) : config(c) {
    handlers = std::move(h);
    messages::register_message_types(caf_config);
    caf_config.set("logger.verbosity", caf::atom("quiet"));
    // Work sharing parks idle threads on a condition variable; CAF's default work stealing polls
    // with short sleeps, which burns a core of system time on a two-core machine.
    caf_config.set("scheduler.policy", caf::atom("sharing"));
    caf_config.set("scheduler.max-threads", static_cast<size_t>(config::engine_actor_threads(c)));
    system = std::make_unique<caf::actor_system>(caf_config);
    for (std::size_t i = 0; i < config::queue_definitions().size(); ++i)
      metrics.push_back(std::make_unique<queue_metrics>());
  }
  ~impl() {
    // No database task after this: then a queue and its driver, which hold each other, can go.
    database_threads.reset();
    for (auto& q : queues)
      q.context->driver.reset();
  }
  const config::app_config& config;
  engine_metrics metrics;
  messages::maintenance_metrics maintenance;
  caf::actor_system_config caf_config;
  std::unique_ptr<caf::actor_system> system;
  // After the actor system, so destroyed before it: stopping the fetcher ends the work steps
  // still awaiting it, whose last act may be a message to their (already stopped) pool.
  workflows::handler_table handlers;
  std::vector<served_queue> queues;
  engine_supervisor_actor engine_actor;
  // Stopped by shutdown and destroyed before the actor system (~impl): its tasks answer actors
  // by message. Let go of (left running) only when a drain found a thread stuck in a statement.
  std::unique_ptr<persistence::database_threads> database_threads;
  bool started = false;

  std::atomic<bool> engine_restarting{false};

  std::vector<supervised_actor> all_actors() const {
    std::vector<supervised_actor> out{engine_actor};
    for (const auto& q : queues)
      out.push_back(q.supervisor);
    return out;
  }
};

runtime::runtime(const config::app_config& config, workflows::handler_table handlers)
    : impl_(std::make_unique<impl>(config, std::move(handlers))) {}

runtime::~runtime() {
  if (impl_->started)
    shutdown(std::chrono::seconds(5));
}

void runtime::start() {
  auto& s = *impl_;
  auto writer_failures = std::make_shared<std::atomic<int>>(s.config.test.writer_failures);
  const auto defs = config::queue_definitions();
  std::vector<queue_ticks_actor> supervisors(defs.size());
  std::vector<std::chrono::milliseconds> intervals(defs.size());
  const auto& db = s.config.database;
  // Through a transaction pooler LISTEN cannot work (the session is not ours); without a direct
  // connection to listen on, queues are polled at a short interval instead.
  const bool listens = !db.transaction_pooled() || !db.direct_url.empty();
  auto directory = std::make_shared<poller_directory>(defs.size());
  s.database_threads = std::make_unique<persistence::database_threads>(
      static_cast<std::size_t>(config::engine_database_threads(s.config)));
  for (std::size_t i = 0; i < defs.size(); ++i) {
    const auto* qc = s.config.queue(defs[i].name);
    intervals[i] = listens ? qc->interval : std::min(qc->interval, db.pooled_poll_interval);
    auto handler = s.handlers.find(defs[i].name);
    if (handler == s.handlers.end())
      continue;
    auto ctx = std::make_shared<queue_context>();
    ctx->directory = directory;
    ctx->index = static_cast<std::uint16_t>(i);
    ctx->definition = &defs[i];
    ctx->config = *qc;
    ctx->handler = &handler->second;
    ctx->store = std::make_unique<persistence::queue_store>(defs[i], *qc, !db.transaction_pooled());
    ctx->metrics = s.metrics[i].get();
    ctx->database_url = s.config.database_url;
    // A session statement_timeout would leak to other clients of a pooled server connection.
    ctx->session_settings = !db.transaction_pooled();
    ctx->statement_timeout =
        ctx->session_settings ? db.engine_statement_timeout : std::chrono::milliseconds(0);
    ctx->node_id = s.config.node_id;
    ctx->retention_days = s.config.jobs_retention_days;
    ctx->writer_failures = writer_failures;
    ctx->retry_base = s.config.retry_base;
    ctx->retry_cap = s.config.retry_cap;
    ctx->restarts = restart_limits{qc->max_restarts, qc->restart_window, qc->restart_pause};
    ctx->heartbeat = s.config.heartbeat;
    ctx->driver = make_postgres_driver(ctx, *s.database_threads);
    served_queue q;
    q.context = ctx;
    q.supervisor = spawn_queue_supervisor(*s.system, ctx);
    supervisors[i] = q.supervisor;
    ctx->metrics->served = true;
    s.queues.push_back(std::move(q));
  }
  // Maintenance covers every queue of the catalog: the node that leads it may serve only some.
  maintenance_settings upkeep;
  for (std::size_t i = 0; i < defs.size(); ++i) {
    const auto* qc = s.config.queue(defs[i].name);
    upkeep.queues.push_back(
        {&defs[i],
         std::make_shared<const persistence::queue_store>(defs[i], *qc, !db.transaction_pooled()),
         s.metrics[i].get(), intervals[i]});
  }
  upkeep.database_url = s.config.database_url;
  upkeep.node_id = s.config.node_id;
  upkeep.session_settings = !db.transaction_pooled();
  upkeep.statement_timeout =
      upkeep.session_settings ? db.engine_statement_timeout : std::chrono::milliseconds(0);
  upkeep.retention_days = s.config.jobs_retention_days;
  upkeep.leader_lease = s.config.maintenance_lease;
  upkeep.metrics = &s.maintenance;
  upkeep.threads = s.database_threads.get();
  engine_settings engine;
  engine.start_maintenance = [upkeep = std::move(upkeep)](caf::actor_system& system) {
    return spawn_maintenance(system, upkeep);
  };
  engine.queues = supervisors;
  engine.intervals = intervals;
  if (listens)
    engine.start_notifier = [url = db.direct_url.empty() ? s.config.database_url : db.direct_url,
                             directory, threads = s.database_threads.get()](
                                caf::actor_system& system, scheduler_wake_actor scheduler) {
      return spawn_notifier(system, url, std::move(scheduler), directory, *threads);
    };
  engine.heartbeat = s.config.heartbeat;
  engine.restarting = &s.engine_restarting;
  s.engine_actor = spawn_engine_supervisor(*s.system, std::move(engine));
  if (!listens)
    spdlog::warn("DATABASE_URL goes through a transaction pooler and DATABASE_DIRECT_URL is not "
                 "set: no NOTIFY, every queue is polled every {} ms",
                 db.pooled_poll_interval.count());
  s.started = true;
  std::string names;
  for (const auto& q : s.queues)
    names += (names.empty() ? "" : ", ") + std::string(q.context->definition->name);
  spdlog::info("engine started on node {}; queues served: {}", s.config.node_id,
               names.empty() ? "none" : names);
}

bool runtime::ready() const {
  if (!impl_->started)
    return false;
  if (impl_->engine_restarting)
    return false;
  for (const auto& m : impl_->metrics)
    if (m->degraded || m->restarting)
      return false;
  return true;
}

bool runtime::inject_fault(std::string_view queue, std::string_view actor, std::string_view kind) {
  auto& s = *impl_;
  if (!s.started || (kind != "crash" && kind != "hang"))
    return false;
  if (queue == "engine") {
    if (actor != "scheduler" && actor != "notifier" && actor != "maintenance")
      return false;
    caf::anon_send(s.engine_actor, fault_atom::value, std::string(actor), std::string(kind));
    return true;
  }
  if (actor != "poller" && actor != "pool" && actor != "writer")
    return false;
  for (const auto& q : s.queues)
    if (q.context->definition->name == queue) {
      caf::anon_send(q.supervisor, fault_atom::value, std::string(actor), std::string(kind));
      return true;
    }
  return false;
}

const engine_metrics& runtime::metrics() const {
  return impl_->metrics;
}

const messages::maintenance_metrics& runtime::maintenance_metrics() const {
  return impl_->maintenance;
}

bool runtime::shutdown(std::chrono::milliseconds drain) {
  auto& s = *impl_;
  if (!s.started)
    return true;
  s.started = false;
  const auto deadline = std::chrono::steady_clock::now() + drain;
  {
    // 1. Claim nothing more. 2. Wait for in-flight items and pending writes, up to the deadline.
    caf::scoped_actor self{*s.system};
    for (auto& q : s.queues)
      self->request(q.supervisor, std::chrono::seconds(2), drain_atom::value)
          .receive([](bool) {}, [](caf::error&) {});
    while (std::chrono::steady_clock::now() < deadline) {
      std::uint32_t busy = 0;
      for (auto& q : s.queues)
        self->request(q.supervisor, std::chrono::seconds(2), busy_atom::value)
            .receive([&](std::uint32_t n) { busy += n; }, [&](caf::error&) { ++busy; });
      if (busy == 0)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  for (auto& a : s.all_actors())
    if (a)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  // 3. No database task after this one: those running end (each bounded by its statement or
  // connect timeout), those queued are dropped, so no claim lands after the release below. One
  // stuck past a few seconds is left behind, as a step is, and the process exits regardless.
  // Stopped, not destroyed: an actor still ending may ask it for a lane, which then runs nothing.
  auto* threads = s.database_threads.get();
  const bool database_stopped =
      run_bounded([threads] { threads->stop(); }, std::chrono::seconds(5));
  if (!database_stopped)
    (void)s.database_threads.release(); // left behind with its stuck thread, as a step is
  // 4. Whatever this node still holds goes back to its queue without counting the attempt.
  if (!s.queues.empty()) {
    try {
      pqxx::connection conn(s.config.database_url);
      for (auto& q : s.queues) {
        auto released = q.context->store->release(conn, s.config.node_id);
        q.context->metrics->released += released.size();
        if (!released.empty())
          spdlog::warn("{}: released {} unfinished items back to the queue",
                       q.context->definition->name, released.size());
      }
    } catch (const std::exception& e) {
      spdlog::error("could not release held items ({}); their leases will expire", e.what());
    }
  }
  // 5. Wait for the actors; a worker stuck in a handler cannot be interrupted, so the wait is
  // bounded and the caller exits regardless.
  const auto left = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 deadline - std::chrono::steady_clock::now()),
                             std::chrono::milliseconds(1000));
  const bool in_time =
      run_bounded([system = s.system.get()] { system->await_all_actors_done(); }, left);
  // 6. Another node may lead maintenance at once (after the actors, so that no renewal follows).
  try {
    pqxx::connection conn(s.config.database_url);
    resign_maintenance(conn, s.config.node_id);
  } catch (const std::exception& e) {
    spdlog::warn("could not give the maintenance lease up ({}); it ends by itself", e.what());
  }
  return in_time && database_stopped;
}

} // namespace sky::actors
