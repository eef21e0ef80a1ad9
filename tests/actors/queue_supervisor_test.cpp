// The queue supervisor's decisions, deterministically: CAF's test coordinator runs every actor on
// this thread and its clock only moves when the test advances it. The supervisor is the real one;
// its unit is made of stand-in actors (no database), which answer pings and take faults through
// the same supervision helper as the real poller, pool and writer.
#include "actors/engine.hpp"
#include "actors/supervision.hpp"
#include "config/queue_catalog.hpp"
#include "messages/engine_protocol.hpp"
#include "support/coordinated_actors.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

using namespace sky;
using namespace sky::messages;
using namespace std::chrono_literals;

namespace {

// -- the protocol, checked by the compiler ---------------------------------------------------

// Whether a holder of `Handle` may send (Ts...): what CAF's send and request assert.
template <class Handle, class... Ts>
constexpr bool accepts =
    caf::response_type_unbox<caf::signatures_of_t<Handle>, caf::detail::type_list<Ts...>>::valid;

// Whether a full handle converts to the narrower view `View`.
template <class View, class Full>
constexpr bool is_view_of =
    caf::detail::tl_subset_of<caf::signatures_of_t<View>, caf::signatures_of_t<Full>>::value;

static_assert(accepts<poller_commit_actor, committed_atom, std::vector<std::string>>);
static_assert(!accepts<poller_commit_actor, credit_atom, std::uint32_t>,
              "the writer cannot hand out credits");
static_assert(!accepts<pool_intake_actor, result_batch>, "results go to the writer");
static_assert(!accepts<writer_intake_actor, work_batch>, "claims go to the pool");
static_assert(!accepts<queue_ticks_actor, drain_atom>, "the scheduler cannot drain a queue");
static_assert(!accepts<poller_actor, wake_atom, std::uint16_t>, "a poller has no queue index");
static_assert(accepts<pool_completion_actor, finished_atom, std::uint32_t, work_done, bool>);
static_assert(!accepts<pool_completion_actor, finished_atom, std::uint32_t, work_done>);

static_assert(is_view_of<poller_credit_actor, poller_actor> &&
              is_view_of<poller_commit_actor, poller_actor> &&
              is_view_of<poller_control_actor, poller_actor>);
static_assert(is_view_of<pool_intake_actor, pool_actor> &&
              is_view_of<pool_completion_actor, pool_actor> &&
              is_view_of<unit_member_actor, pool_actor>);
static_assert(is_view_of<writer_intake_actor, writer_actor> &&
              is_view_of<unit_member_actor, writer_actor>);
static_assert(is_view_of<scheduler_wake_actor, scheduler_actor> &&
              is_view_of<queue_ticks_actor, queue_supervisor_actor>);
static_assert(!is_view_of<poller_credit_actor, pool_actor>);
// Every engine actor can be pinged and given a fault through one handle type.
static_assert(is_view_of<supervised_actor, poller_actor> &&
              is_view_of<supervised_actor, pool_actor> &&
              is_view_of<supervised_actor, writer_actor> &&
              is_view_of<supervised_actor, scheduler_actor> &&
              is_view_of<supervised_actor, notifier_actor> &&
              is_view_of<supervised_actor, queue_supervisor_actor> &&
              is_view_of<supervised_actor, engine_supervisor_actor>);

// -- stand-in units --------------------------------------------------------------------------

// What the stand-ins of one unit received, and how many of them have stopped.
struct unit_log {
  int ticks = 0, wakes = 0, drains = 0;
  int stopped = 0;
};

poller_control_actor::behavior_type fake_poller(poller_control_actor::pointer self,
                                                std::shared_ptr<unit_log> log) {
  self->attach_functor([log] { ++log->stopped; });
  return actors::supervised(
      self, [log](tick_atom) { ++log->ticks; }, [log](wake_atom) { ++log->wakes; },
      [log](drain_atom) {
        ++log->drains;
        return true;
      });
}

unit_member_actor::behavior_type fake_member(unit_member_actor::pointer self,
                                             std::shared_ptr<unit_log> log, std::uint32_t busy) {
  self->attach_functor([log] { ++log->stopped; });
  return actors::supervised(self, [busy](busy_atom) { return busy; });
}

struct started_unit {
  bool release_held = false;
  poller_control_actor poller;
  unit_member_actor pool, writer;
  std::shared_ptr<unit_log> log;
};

class queue_supervisor : public ::testing::Test, protected test_support::coordinated_actors {
protected:
  void SetUp() override {
    ctx = std::make_shared<actors::queue_context>();
    ctx->index = 0;
    ctx->definition = &config::queue_definitions()[0];
    ctx->metrics = &metrics;
    ctx->restarts = actors::restart_limits{2, 60s, 30s};
    ctx->heartbeat = 10s;
  }

  void TearDown() override {
    if (sup) {
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
      sched->run();
    }
    for (const auto& u : units)
      EXPECT_EQ(u.log->stopped, 3) << "a unit outlived its supervisor";
    units.clear();
    sup = nullptr;
    shut_down();
  }

  void start_supervisor() {
    sup = actors::spawn_queue_supervisor(
        *sys, ctx,
        [this](caf::actor_system& system, const actors::queue_context_ptr&, bool release) {
          started_unit u;
          u.release_held = release;
          u.log = std::make_shared<unit_log>();
          u.poller = system.spawn(fake_poller, u.log);
          u.pool = system.spawn(fake_member, u.log, std::uint32_t{2});
          u.writer = system.spawn(fake_member, u.log, std::uint32_t{3});
          units.push_back(u);
          return actors::queue_unit{u.poller, u.pool, u.writer};
        });
    sched->run();
  }

  void fault(const std::string& member, const std::string& kind) {
    caf::anon_send(sup, fault_atom::value, member, kind);
    sched->run();
  }

  // Asks the supervisor from a cooperative actor (a blocking receive would stall this thread).
  std::optional<std::uint32_t> busy() {
    auto answer = std::make_shared<std::optional<std::uint32_t>>();
    // Arguments rather than captures: CAF 0.17 dereferences a null tuple for a spawn without any.
    sys->spawn(
        [](caf::event_based_actor* self, queue_supervisor_actor target,
           std::shared_ptr<std::optional<std::uint32_t>> answer) {
          self->request(target, 1s, busy_atom::value).then([answer](std::uint32_t n) {
            *answer = n;
          });
        },
        sup, answer);
    sched->run();
    return *answer;
  }

  queue_metrics metrics;
  std::shared_ptr<actors::queue_context> ctx;
  queue_supervisor_actor sup;
  std::vector<started_unit> units;
};

TEST_F(queue_supervisor, starts_a_unit_and_forwards_ticks_and_wakes_to_its_poller) {
  start_supervisor();
  ASSERT_EQ(units.size(), 1u);
  EXPECT_FALSE(units[0].release_held) << "the first unit has nothing to release";
  caf::anon_send(queue_ticks_actor{sup}, tick_atom::value);
  caf::anon_send(queue_ticks_actor{sup}, wake_atom::value);
  sched->run();
  EXPECT_EQ(units[0].log->ticks, 1);
  EXPECT_EQ(units[0].log->wakes, 1);
  EXPECT_EQ(busy(), 5u) << "what the pool and the writer still hold, summed";
}

TEST_F(queue_supervisor, a_crashed_member_takes_its_unit_down_and_a_new_one_starts_after_a_delay) {
  start_supervisor();
  fault("pool", "crash");
  EXPECT_EQ(units[0].log->stopped, 3) << "the poller and the writer go with the pool";
  EXPECT_TRUE(metrics.restarting);
  EXPECT_EQ(metrics.unit_restarts, 1u);
  // Meanwhile ticks go nowhere, and nothing is busy.
  caf::anon_send(queue_ticks_actor{sup}, tick_atom::value);
  sched->run();
  EXPECT_EQ(units[0].log->ticks, 0);
  EXPECT_EQ(busy(), 0u);

  advance(100ms);
  EXPECT_EQ(units.size(), 1u) << "restarted before the restart delay";
  advance(100ms);
  ASSERT_EQ(units.size(), 2u);
  EXPECT_TRUE(units[1].release_held) << "a restarted unit releases what the one before held";
  EXPECT_FALSE(metrics.restarting);
  EXPECT_FALSE(metrics.degraded);
  caf::anon_send(queue_ticks_actor{sup}, tick_atom::value);
  sched->run();
  EXPECT_EQ(units[1].log->ticks, 1) << "ticks go to the new poller";
}

// A queue its pool paused after failed steps was reported degraded by its poller; a unit restart
// ends that pause with the pool, so the report goes with it.
TEST_F(queue_supervisor,
       a_restarted_unit_is_no_longer_reported_degraded_by_its_predecessors_pause) {
  start_supervisor();
  metrics.degraded = true; // the poller's report of its pool's pause
  fault("writer", "crash");
  EXPECT_TRUE(metrics.degraded) << "still paused while the unit is down";
  advance(200ms);
  ASSERT_EQ(units.size(), 2u);
  EXPECT_FALSE(metrics.degraded);
}

TEST_F(queue_supervisor, each_member_is_supervised) {
  ctx->restarts.max_restarts = 10;
  start_supervisor();
  int expected = 1;
  for (const auto* member : {"poller", "pool", "writer"}) {
    fault(member, "crash");
    advance(200ms);
    ++expected;
    EXPECT_EQ(static_cast<int>(units.size()), expected) << member;
  }
  // A member stopped from elsewhere (not a crash) counts as well.
  caf::anon_send_exit(units.back().writer, caf::exit_reason::kill);
  sched->run();
  advance(200ms);
  EXPECT_EQ(static_cast<int>(units.size()), expected + 1);
  for (std::size_t i = 0; i + 1 < units.size(); ++i)
    EXPECT_EQ(units[i].log->stopped, 3) << "unit " << i;
}

TEST_F(queue_supervisor, too_many_restarts_pause_the_queue_until_the_pause_is_over) {
  start_supervisor(); // limits: 2 restarts within 60 s, then a pause of 30 s
  fault("poller", "crash");
  advance(200ms);
  fault("writer", "crash");
  advance(200ms);
  ASSERT_EQ(units.size(), 3u);
  EXPECT_FALSE(metrics.degraded);

  fault("pool", "crash"); // the third within the window
  EXPECT_TRUE(metrics.degraded);
  EXPECT_TRUE(metrics.restarting);
  advance(200ms);
  EXPECT_EQ(units.size(), 3u) << "paused, not restarted after the short delay";
  advance(29s);
  EXPECT_EQ(units.size(), 3u) << "restarted before the pause was over";
  EXPECT_EQ(busy(), 0u);
  advance(1s);
  ASSERT_EQ(units.size(), 4u);
  EXPECT_TRUE(units[3].release_held);
  EXPECT_FALSE(metrics.degraded);
  EXPECT_FALSE(metrics.restarting);

  // After the pause the count starts again: two more restarts are tolerated.
  fault("poller", "crash");
  advance(200ms);
  fault("poller", "crash");
  advance(200ms);
  EXPECT_EQ(units.size(), 6u);
  EXPECT_FALSE(metrics.degraded);
  EXPECT_EQ(metrics.unit_restarts, 5u);
}

TEST_F(queue_supervisor, restarts_spread_wider_than_the_window_never_pause) {
  start_supervisor();
  for (int i = 0; i < 5; ++i) {
    fault("writer", "crash");
    advance(200ms);
    advance(31s); // two such gaps exceed the 60 s window
  }
  EXPECT_EQ(units.size(), 6u);
  EXPECT_FALSE(metrics.degraded);
}

TEST_F(queue_supervisor, a_healthy_unit_answers_its_heartbeats_and_stays) {
  start_supervisor(); // heartbeat 10 s: pings every 5 s, each answered within 10 s
  for (int i = 0; i < 12; ++i)
    advance(5s);
  EXPECT_EQ(units.size(), 1u);
  EXPECT_EQ(metrics.unit_restarts, 0u);
  EXPECT_EQ(units[0].log->stopped, 0);
}

TEST_F(queue_supervisor, a_member_that_stops_answering_is_treated_as_hung_and_its_unit_restarted) {
  start_supervisor();
  fault("writer", "hang");
  EXPECT_EQ(units[0].log->stopped, 0) << "a hung actor is still alive";
  advance(4s);
  EXPECT_EQ(metrics.unit_restarts, 0u) << "no heartbeat yet";
  // The heartbeat at 5 s pings it; its answer is overdue 10 s later.
  advance(1s);
  advance(9s);
  EXPECT_EQ(metrics.unit_restarts, 0u) << "pinged, but not yet overdue";
  advance(1s);
  EXPECT_EQ(metrics.unit_restarts, 1u);
  EXPECT_EQ(units[0].log->stopped, 3) << "the hung writer is stopped with the rest of its unit";
  advance(200ms);
  ASSERT_EQ(units.size(), 2u);
  EXPECT_TRUE(units[1].release_held);
  EXPECT_FALSE(metrics.restarting);
  // The new unit is healthy.
  for (int i = 0; i < 6; ++i)
    advance(5s);
  EXPECT_EQ(units.size(), 2u);
}

TEST_F(queue_supervisor, a_hung_poller_is_found_as_well) {
  start_supervisor();
  fault("poller", "hang");
  caf::anon_send(queue_ticks_actor{sup}, tick_atom::value);
  sched->run();
  EXPECT_EQ(units[0].log->ticks, 0) << "a hung poller handles nothing";
  advance(5s);
  advance(10s);
  EXPECT_EQ(metrics.unit_restarts, 1u);
  advance(200ms);
  EXPECT_EQ(units.size(), 2u);
}

TEST_F(queue_supervisor, drain_reaches_the_poller_and_stopping_the_supervisor_stops_its_unit) {
  start_supervisor();
  auto drained = std::make_shared<bool>(false);
  sys->spawn(
      [](caf::event_based_actor* self, queue_supervisor_actor target,
         std::shared_ptr<bool> drained) {
        self->request(target, 1s, drain_atom::value).then([drained](bool ok) { *drained = ok; });
      },
      sup, drained);
  sched->run();
  EXPECT_TRUE(*drained);
  EXPECT_EQ(units[0].log->drains, 1);
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  sched->run();
  EXPECT_EQ(units[0].log->stopped, 3);
  EXPECT_EQ(units.size(), 1u) << "no restart after the supervisor itself stopped";
  sup = nullptr;
}

} // namespace
