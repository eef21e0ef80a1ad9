// The engine supervisor's decisions, deterministically, on CAF's test coordinator: the real
// supervisor and scheduler, with stand-ins for the queue supervisors and the notifier (which
// would LISTEN on a database). Time moves only when the test advances it.
#include "actors/engine.hpp"
#include "actors/supervision.hpp"
#include "messages/engine_protocol.hpp"
#include "support/coordinated_actors.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

using namespace sky;
using namespace sky::messages;
using namespace std::chrono_literals;

namespace {

struct queue_log {
  int ticks = 0, wakes = 0;
};

queue_ticks_actor::behavior_type fake_queue(queue_ticks_actor::pointer,
                                            std::shared_ptr<queue_log> log) {
  return {[log](tick_atom) { ++log->ticks; }, [log](wake_atom) { ++log->wakes; }};
}

notifier_actor::behavior_type fake_notifier(notifier_actor::pointer self,
                                            std::shared_ptr<int> stopped) {
  self->attach_functor([stopped] { ++*stopped; });
  return actors::supervised(self, [](listen_atom) {});
}

class engine_supervisor : public ::testing::Test, protected test_support::coordinated_actors {
protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      logs.push_back(std::make_shared<queue_log>());
      queues.push_back(sys->spawn(fake_queue, logs.back()));
    }
  }

  void TearDown() override {
    if (sup) {
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
      sched->run();
    }
    for (auto& q : queues)
      caf::anon_send_exit(q, caf::exit_reason::user_shutdown);
    sched->run();
    EXPECT_EQ(*notifiers_stopped, static_cast<int>(notifiers.size()))
        << "a notifier outlived its supervisor";
    sup = nullptr;
    queues.clear();
    notifiers.clear();
    shut_down();
  }

  void start(actors::restart_limits limits = {2, 60s, 30s}) {
    actors::engine_settings settings;
    settings.queues = queues;
    settings.intervals = {1s, 5s};
    settings.heartbeat = 10s;
    settings.restarts = limits;
    settings.restarting = &restarting;
    settings.start_notifier = [this](caf::actor_system& system, scheduler_wake_actor) {
      notifiers.push_back(system.spawn(fake_notifier, notifiers_stopped));
      return notifiers.back();
    };
    sup = actors::spawn_engine_supervisor(*sys, std::move(settings));
    sched->run();
  }

  void fault(const std::string& member, const std::string& kind) {
    caf::anon_send(sup, fault_atom::value, member, kind);
    sched->run();
  }

  int wakes() const { return logs[0]->wakes + logs[1]->wakes; }

  std::vector<std::shared_ptr<queue_log>> logs;
  std::vector<queue_ticks_actor> queues;
  std::vector<notifier_actor> notifiers;
  std::shared_ptr<int> notifiers_stopped = std::make_shared<int>(0);
  std::atomic<bool> restarting{false};
  engine_supervisor_actor sup;
};

TEST_F(engine_supervisor, the_scheduler_ticks_each_queue_at_its_interval) {
  start();
  ASSERT_EQ(notifiers.size(), 1u);
  EXPECT_FALSE(restarting.load());
  for (int i = 0; i < 5; ++i)
    advance(1s);
  EXPECT_EQ(logs[0]->ticks, 5);
  EXPECT_EQ(logs[1]->ticks, 1);
}

TEST_F(engine_supervisor, a_crashed_notifier_restarts_both_and_every_queue_is_woken) {
  start();
  fault("notifier", "crash");
  EXPECT_EQ(*notifiers_stopped, 1);
  EXPECT_TRUE(restarting.load()) << "/ready reports the engine as restarting meanwhile";
  advance(100ms);
  EXPECT_EQ(notifiers.size(), 1u) << "restarted before the restart delay";
  const int before = wakes();
  advance(100ms);
  ASSERT_EQ(notifiers.size(), 2u);
  EXPECT_FALSE(restarting.load());
  // A NOTIFY may have been missed while the notifier was down: every queue is polled.
  EXPECT_EQ(wakes(), before + 2);
  // The new scheduler ticks as the old one did.
  const int ticks = logs[0]->ticks;
  advance(1s);
  EXPECT_EQ(logs[0]->ticks, ticks + 1);
}

TEST_F(engine_supervisor, a_crashed_scheduler_takes_the_notifier_with_it) {
  start();
  fault("scheduler", "crash");
  EXPECT_EQ(*notifiers_stopped, 1) << "the notifier sends to the scheduler; it goes too";
  advance(200ms);
  EXPECT_EQ(notifiers.size(), 2u);
  EXPECT_FALSE(restarting.load());
}

TEST_F(engine_supervisor, a_hung_scheduler_is_restarted_when_its_heartbeat_times_out) {
  start();
  fault("scheduler", "hang");
  // Heartbeats go out every 5 s and wait 10 s for an answer.
  advance(5s);
  EXPECT_EQ(notifiers.size(), 1u) << "the ping has just gone out";
  advance(10s);
  EXPECT_TRUE(restarting.load());
  advance(200ms);
  EXPECT_EQ(notifiers.size(), 2u);
  EXPECT_FALSE(restarting.load());
}

TEST_F(engine_supervisor, too_many_restarts_pause_then_resume) {
  start({2, 60s, 30s});
  fault("notifier", "crash");
  advance(200ms);
  fault("notifier", "crash");
  advance(200ms);
  ASSERT_EQ(notifiers.size(), 3u);
  fault("notifier", "crash"); // the third within the window: past the limit of two
  advance(200ms);
  EXPECT_EQ(notifiers.size(), 3u) << "no restart during the pause";
  EXPECT_TRUE(restarting.load());
  advance(30s);
  EXPECT_EQ(notifiers.size(), 4u) << "resumed after the pause";
  EXPECT_FALSE(restarting.load());
  // The count starts over after the pause: two more crashes are tolerated.
  fault("notifier", "crash");
  advance(200ms);
  EXPECT_EQ(notifiers.size(), 5u);
}

TEST_F(engine_supervisor, without_a_notifier_the_scheduler_still_ticks) {
  actors::engine_settings settings;
  settings.queues = queues;
  settings.intervals = {1s, 1s};
  settings.restarting = &restarting;
  sup = actors::spawn_engine_supervisor(*sys, std::move(settings));
  sched->run();
  advance(1s);
  EXPECT_EQ(logs[0]->ticks + logs[1]->ticks, 2);
  EXPECT_TRUE(notifiers.empty());
}

} // namespace
