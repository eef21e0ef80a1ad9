// The process's timer thread: one-shot and periodic timers, and what a cancel guarantees.
#include "persistence/socket_watchdog.hpp"
#include "process/timer_thread.hpp"
#include "support/engine_helpers.hpp"

#include <atomic>
#include <future>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

using sky::process::timer_thread;
using sky::test_support::eventually;
using namespace std::chrono_literals;

TEST(timer_thread, a_timer_fires_once_after_its_delay_and_a_periodic_one_keeps_firing) {
  std::atomic<int> once{0}, periodic{0};
  const auto armed = timer_thread::clock::now();
  std::atomic<timer_thread::clock::time_point> fired_at{};
  auto a = timer_thread::after(30ms, [&] {
    fired_at = timer_thread::clock::now();
    ++once;
  });
  auto b = timer_thread::every(10ms, [&] { ++periodic; });
  ASSERT_TRUE(eventually([&] { return periodic.load() >= 5 && once.load() == 1; }, 10s));
  EXPECT_GE(fired_at.load() - armed, 30ms);
  b.cancel();
  const int after_cancel = periodic.load();
  // A fired one-shot timer and a cancelled periodic one stay quiet (waiting on the one-shot's
  // successor is the condition that they had every chance to fire).
  std::atomic<bool> later{false};
  auto c = timer_thread::after(50ms, [&] { later = true; });
  ASSERT_TRUE(eventually([&] { return later.load(); }, 10s));
  EXPECT_EQ(once.load(), 1);
  EXPECT_EQ(periodic.load(), after_cancel);
}

TEST(timer_thread, a_timer_cancelled_before_its_deadline_never_fires) {
  std::atomic<bool> fired{false};
  {
    auto t = timer_thread::after(20ms, [&] { fired = true; });
  } // destroyed: cancelled
  std::atomic<bool> later{false};
  auto witness = timer_thread::after(60ms, [&] { later = true; });
  ASSERT_TRUE(eventually([&] { return later.load(); }, 10s));
  EXPECT_FALSE(fired.load());
}

TEST(timer_thread, a_cancel_waits_for_the_running_callback_and_a_callback_may_cancel_itself) {
  std::promise<void> entered, release;
  auto release_future = release.get_future().share();
  std::atomic<bool> finished{false};
  auto t = timer_thread::after(1ms, [&] {
    entered.set_value();
    release_future.wait();
    finished = true;
  });
  entered.get_future().wait();
  auto cancelling = std::async(std::launch::async, [&] {
    t.cancel();
    return finished.load();
  });
  EXPECT_EQ(cancelling.wait_for(50ms), std::future_status::timeout)
      << "the cancel returned while its callback still ran";
  release.set_value();
  EXPECT_TRUE(cancelling.get()) << "the callback had ended when the cancel returned";

  std::atomic<int> runs{0};
  timer_thread::handle self;
  std::promise<void> self_cancelled, armed;
  auto armed_future = armed.get_future().share();
  self = timer_thread::every(1ms, [&] {
    armed_future.wait(); // `self` is assigned
    if (++runs == 3) {
      self.cancel(); // from its own callback: no wait, and no fourth run
      self_cancelled.set_value();
    }
  });
  armed.set_value();
  self_cancelled.get_future().wait();
  std::atomic<bool> later{false};
  auto witness = timer_thread::after(30ms, [&] { later = true; });
  ASSERT_TRUE(eventually([&] { return later.load(); }, 10s));
  EXPECT_EQ(runs.load(), 3);
}

// A database call's deadline shuts its socket down; a ticket given back first leaves it alone.
TEST(socket_watchdog, a_socket_past_its_deadline_is_shut_down_and_one_disarmed_is_not) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  auto ticket = sky::persistence::socket_watchdog::arm(pair[0], 20ms);
  ASSERT_TRUE(eventually([&] { return ticket.fired(); }, 10s));
  char byte = 0;
  EXPECT_EQ(::recv(pair[0], &byte, 1, 0), 0) << "the shut-down socket reads end of stream";

  int other[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, other), 0);
  { auto disarmed = sky::persistence::socket_watchdog::arm(other[0], 20ms); }
  std::atomic<bool> later{false};
  auto witness = timer_thread::after(60ms, [&] { later = true; });
  ASSERT_TRUE(eventually([&] { return later.load(); }, 10s));
  ASSERT_EQ(::send(other[1], "x", 1, 0), 1);
  EXPECT_EQ(::recv(other[0], &byte, 1, 0), 1) << "a disarmed socket still works";
  for (int fd : {pair[0], pair[1], other[0], other[1]})
    ::close(fd);
}
