// The queue supervisor: one per served queue, above its poller, worker pool and db_writer.
#include "actors/engine.hpp"
#include "actors/queue_driver.hpp"
#include "actors/supervision.hpp"
#include "logging/log_setup.hpp"
#include "messages/engine_protocol.hpp"

#include <array>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace sky::actors {
namespace {

using namespace messages;

// A failed unit is started again after this short pause, so a unit that dies at once does not
// spin; the restart intensity decides when it pauses for longer.
constexpr auto k_restart_delay = std::chrono::milliseconds(200);

struct unit_state {
  static inline const char* name = "queue_supervisor";
  queue_context_ptr q;
  unit_starter start;
  poller_control_actor poller;
  unit_member_actor pool, writer;
  int alive = 0; // members of the current unit not yet down
  bool restarting = false;
  std::uint64_t generation = 0; // of the current unit: stale heartbeat answers are ignored
  std::optional<restart_intensity> intensity;
};

using supervisor_self = queue_supervisor_actor::stateful_pointer<unit_state>;

// The current unit's members, as far as supervision goes (empty handles while restarting).
std::array<supervised_actor, 3> members(const unit_state& s) {
  return {s.poller, s.pool, s.writer};
}

const char* member_name(const unit_state& s, const caf::actor_addr& who) {
  if (who == s.poller.address())
    return "poller";
  if (who == s.pool.address())
    return "worker pool";
  if (who == s.writer.address())
    return "db_writer";
  return nullptr;
}

void start_unit(supervisor_self self, bool release_held) {
  auto& s = self->state;
  auto unit = s.start(self->system(), s.q, release_held);
  s.poller = std::move(unit.poller);
  s.pool = std::move(unit.pool);
  s.writer = std::move(unit.writer);
  for (const auto& a : members(s))
    self->monitor(a);
  s.alive = 3;
  ++s.generation;
  s.restarting = false;
  s.q->metrics->restarting = false;
  // A new unit starts unpaused: whatever paused the one before (its pool after failed steps, or
  // this supervisor after too many restarts) is over.
  s.q->metrics->degraded = false;
  if (s.q->directory)
    s.q->directory->set(s.q->index, s.poller, s.q->driver);
}

// One member is gone (died or hung): the others go too, and when all are down the unit starts
// again, after a pause when restarts come too often.
void fail_unit(supervisor_self self, const std::string& why) {
  auto& s = self->state;
  if (s.restarting)
    return;
  s.restarting = true;
  s.q->metrics->restarting = true;
  s.q->metrics->unit_restarts++;
  if (s.q->directory)
    s.q->directory->set(s.q->index, {});
  spdlog::error("{}: {}; restarting the queue's poller, pool and writer", s.q->definition->name,
                why);
  // Not a kill: the pool's exit handler cancels the steps it runs, so none of them goes on
  // beside the item's next attempt.
  for (const auto& a : members(s))
    self->send_exit(a, caf::exit_reason::user_shutdown);
}

void on_unit_down(supervisor_self self) {
  auto& s = self->state;
  if (--s.alive > 0 || !s.restarting)
    return;
  s.poller = nullptr;
  s.pool = nullptr;
  s.writer = nullptr;
  if (s.intensity->exceeded_after_failure(self->clock().now())) {
    const auto pause = s.intensity->limits().pause;
    s.q->metrics->degraded = true;
    spdlog::error(
        "{}: {} restarts within {} s; the queue pauses for {} s", s.q->definition->name,
        s.intensity->recent(),
        std::chrono::duration_cast<std::chrono::seconds>(s.intensity->limits().window).count(),
        std::chrono::duration_cast<std::chrono::seconds>(pause).count());
    self->delayed_send(self, pause, restart_atom::value, true);
  } else {
    self->delayed_send(self, k_restart_delay, restart_atom::value, false);
  }
}

void arm_heartbeat(supervisor_self self) {
  self->delayed_send(self, self->state.q->heartbeat / 2, heartbeat_atom::value);
}

queue_supervisor_actor::behavior_type queue_supervisor(supervisor_self self, queue_context_ptr q,
                                                       unit_starter start) {
  auto& s = self->state;
  s.q = std::move(q);
  s.start = std::move(start);
  s.intensity.emplace(s.q->restarts);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    const char* who = member_name(st, msg.source);
    if (!who)
      return; // a member of a unit already replaced
    fail_unit(self, std::string(who) + " stopped: " + self->system().render(msg.reason));
    on_unit_down(self);
  });
  // Stopping: the unit goes with its supervisor.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (const auto& a : members(self->state))
      if (a)
        self->send_exit(a, msg.reason);
    self->quit(msg.reason);
  });
  start_unit(self, false);
  arm_heartbeat(self);
  return supervised(
      self,
      [=](restart_atom, bool after_pause) {
        if (after_pause)
          self->state.intensity->reset();
        start_unit(self, true);
      },
      [=](tick_atom) {
        if (!self->state.restarting)
          self->send(self->state.poller, tick_atom::value);
      },
      [=](wake_atom) {
        if (!self->state.restarting)
          self->send(self->state.poller, wake_atom::value);
      },
      [=](heartbeat_atom) {
        auto& st = self->state;
        arm_heartbeat(self);
        if (st.restarting)
          return;
        for (const auto& a : members(st))
          self->request(a, st.q->heartbeat, ping_atom::value)
              .then([](bool) {},
                    [=, generation = st.generation, who = a.address()](caf::error&) {
                      auto& now = self->state;
                      if (now.generation != generation || now.restarting)
                        return;
                      const char* name = member_name(now, who);
                      fail_unit(self, std::string(name ? name : "member") +
                                          " answered no heartbeat within " +
                                          std::to_string(now.q->heartbeat.count()) + " ms");
                    });
      },
      // Shutdown: stop claiming (answered by the poller), then how much is still in flight.
      [=](drain_atom) {
        // Anonymous: the poller's answer has nowhere to go; the runtime then asks busy_atom.
        if (!self->state.restarting)
          caf::anon_send(self->state.poller, drain_atom::value);
        return true;
      },
      [=](busy_atom) -> caf::result<std::uint32_t> {
        auto& st = self->state;
        if (st.restarting)
          return std::uint32_t{0};
        auto rp = self->make_response_promise<std::uint32_t>();
        auto total = std::make_shared<std::uint32_t>(0);
        auto left = std::make_shared<int>(2);
        for (const auto& a : {st.pool, st.writer})
          self->request(a, std::chrono::seconds(1), busy_atom::value)
              .then(
                  [=](std::uint32_t n) mutable {
                    *total += n;
                    if (--*left == 0)
                      rp.deliver(*total);
                  },
                  [=](caf::error&) mutable {
                    *total += 1;
                    if (--*left == 0)
                      rp.deliver(*total);
                  });
        return rp;
      },
      // Test only (the route exists with ENVIRONMENT=test): a fault for one member.
      [=](fault_atom, const std::string& member, const std::string& kind) {
        auto& st = self->state;
        auto target = member == "poller"   ? supervised_actor{st.poller}
                      : member == "pool"   ? supervised_actor{st.pool}
                      : member == "writer" ? supervised_actor{st.writer}
                                           : supervised_actor{};
        if (target)
          self->send(target, fault_atom::value, kind);
      });
}

} // namespace

queue_unit start_queue_unit(caf::actor_system& system, const queue_context_ptr& queue,
                            bool release_held) {
  return start_queue_unit_with(system, queue, release_held, queue->driver);
}

queue_unit start_queue_unit_with(caf::actor_system& system, const queue_context_ptr& queue,
                                 bool release_held, std::shared_ptr<queue_driver> driver) {
  auto poller = spawn_poller(system, queue, driver);
  auto writer = spawn_db_writer(system, queue, poller, driver);
  auto pool = spawn_worker_pool(system, queue, poller, writer);
  caf::anon_send(poller, init_atom::value, pool_intake_actor{pool}, release_held);
  return {poller, pool, writer};
}

queue_supervisor_actor spawn_queue_supervisor(caf::actor_system& system, queue_context_ptr queue,
                                              unit_starter start) {
  return system.spawn(queue_supervisor, std::move(queue), std::move(start));
}

} // namespace sky::actors
