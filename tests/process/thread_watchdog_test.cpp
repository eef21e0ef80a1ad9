// The watchdog of the thread pools that are not actors: the verdict from heartbeats (pure, on a
// made-up clock), then the watchdog over a real pool that a test blocks for good.
#include "process/thread_watchdog.hpp"
#include "process/timer_thread.hpp"
#include "support/engine_helpers.hpp"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <csignal>
#include <future>
#include <gtest/gtest.h>
#include <mutex>
#include <pthread.h>
#include <thread>

using namespace sky::process;
using sky::test_support::eventually;
using namespace std::chrono_literals;

namespace {

const watchdog_clock::time_point t0{};

} // namespace

TEST(heartbeat_monitor, a_pool_that_runs_its_heartbeats_is_never_stalled) {
  heartbeat_monitor m(10s);
  for (int second = 0; second < 100; ++second) {
    auto now = t0 + std::chrono::seconds(second);
    auto sequence = m.post(now);
    ASSERT_TRUE(sequence) << "one heartbeat at a time, and the last one ran";
    m.ran(*sequence);
    EXPECT_FALSE(m.stalled(now + 900ms));
  }
}

TEST(heartbeat_monitor, a_heartbeat_that_waits_the_stall_time_makes_the_pool_stalled) {
  heartbeat_monitor m(10s);
  auto first = m.post(t0);
  ASSERT_TRUE(first);
  EXPECT_FALSE(m.post(t0 + 1s)) << "no second heartbeat while one waits";
  EXPECT_EQ(m.silent_for(t0 + 9s), 9s);
  EXPECT_FALSE(m.stalled(t0 + 9999ms));
  EXPECT_TRUE(m.stalled(t0 + 10s));
  m.ran(*first + 7); // a stale or unknown heartbeat changes nothing
  EXPECT_TRUE(m.stalled(t0 + 11s));
  m.ran(*first);
  EXPECT_FALSE(m.stalled(t0 + 11s));
  EXPECT_EQ(m.silent_for(t0 + 11s), 0ms);
}

TEST(heartbeat_monitor, a_pool_that_finishes_tasks_is_slow_not_stalled) {
  heartbeat_monitor m(10s);
  m.progress(5, t0);
  ASSERT_TRUE(m.post(t0));
  // The heartbeat waits behind a long queue, but tasks keep finishing.
  for (int second = 1; second <= 30; ++second) {
    m.progress(5 + static_cast<std::uint64_t>(second), t0 + std::chrono::seconds(second));
    EXPECT_FALSE(m.stalled(t0 + std::chrono::seconds(second)));
  }
  // Then nothing finishes any more.
  EXPECT_FALSE(m.stalled(t0 + 39s));
  EXPECT_TRUE(m.stalled(t0 + 40s));
}

namespace {

// A pool of one thread that the watchdog watches. One the test blocks for good is leaked instead
// of destroyed: its thread never returns.
struct single_thread_pool {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{
      boost::asio::make_work_guard(io)};
  std::atomic<int> tid{0};
  std::thread thread{[this] {
    tid = current_thread_id();
    io.run();
  }};
  ~single_thread_pool() {
    guard.reset();
    io.stop();
    // Joined before the context goes: a thread still inside run() would use it once freed.
    thread.join();
  }
  watched_pool watched(std::string name) {
    return {std::move(name),
            [this](std::function<void()> task) { boost::asio::post(io, std::move(task)); },
            [this] { return std::vector<int>{tid.load()}; },
            {}};
  }
};

bool is_stalled(const thread_watchdog& w, const std::string& name) {
  for (const auto& s : w.status())
    if (s.name == name)
      return s.stalled;
  return false;
}

} // namespace

TEST(thread_watchdog, a_blocked_pool_is_named_stalled_and_the_abort_comes_after_its_time) {
  std::mutex aborted_mutex;
  std::vector<std::string> aborted;
  thread_watchdog watchdog({20ms, 300ms, 1500ms, [&](const std::string& pool) {
                              std::lock_guard lock(aborted_mutex);
                              aborted.push_back(pool);
                            }});
  // Leaked on purpose: its thread stays blocked until the process ends.
  auto* blocked = new single_thread_pool();
  single_thread_pool healthy;
  auto r1 = watchdog.watch(blocked->watched("blocked"));
  auto r2 = watchdog.watch(healthy.watched("healthy"));
  ASSERT_TRUE(eventually([&] { return blocked->tid.load() != 0; }, 5s));
  // Both run heartbeats before the block.
  ASSERT_TRUE(eventually([&] { return watchdog.status().size() == 2; }, 5s));
  EXPECT_TRUE(watchdog.stalled().empty());

  ASSERT_TRUE(watchdog.block_for_test("blocked"));
  EXPECT_FALSE(watchdog.block_for_test("no such pool"));
  ASSERT_TRUE(eventually([&] { return is_stalled(watchdog, "blocked"); }, 10s));
  EXPECT_EQ(watchdog.stalled(), std::vector<std::string>{"blocked"});
  EXPECT_FALSE(is_stalled(watchdog, "healthy"));
  auto described = watchdog.describe_stalled();
  EXPECT_NE(described.find("pool 'blocked'"), std::string::npos) << described;
  EXPECT_NE(described.find("thread " + std::to_string(blocked->tid.load())), std::string::npos)
      << described;
  {
    std::lock_guard lock(aborted_mutex);
    EXPECT_TRUE(aborted.empty()) << "the abort waits for its own time";
  }
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(aborted_mutex);
        return !aborted.empty();
      },
      10s));
  std::lock_guard lock(aborted_mutex);
  EXPECT_EQ(aborted.front(), "blocked");
}

TEST(thread_watchdog, a_pool_no_longer_watched_is_not_posted_to) {
  thread_watchdog watchdog({10ms, 200ms, 0ms, {}});
  std::atomic<int> posts{0};
  {
    auto r = watchdog.watch({"counted",
                             [&](std::function<void()> task) {
                               ++posts;
                               task();
                             },
                             {},
                             {}});
    ASSERT_TRUE(eventually([&] { return posts.load() >= 3; }, 5s));
  }
  const int after = posts.load();
  // Several intervals later nothing more was posted (the registration is gone).
  auto until = std::chrono::steady_clock::now() + 100ms;
  ASSERT_TRUE(eventually([&] { return std::chrono::steady_clock::now() >= until; }, 1s));
  EXPECT_EQ(posts.load(), after);
  EXPECT_TRUE(watchdog.status().empty());
}

TEST(thread_watchdog, describe_threads_names_the_thread_and_how_it_waits) {
  std::mutex held;
  held.lock();
  std::atomic<int> tid{0};
  std::thread waiter([&] {
    tid = current_thread_id();
    std::lock_guard lock(held); // waits here until the test unlocks
  });
  ASSERT_TRUE(eventually([&] { return tid.load() != 0; }, 5s));
  std::string text;
  ASSERT_TRUE(eventually(
      [&] {
        text = describe_threads({tid.load()});
        return text.find("state S") != std::string::npos;
      },
      5s))
      << text;
  EXPECT_NE(text.find("thread " + std::to_string(tid.load())), std::string::npos);
  // The backtrace was taken by the thread itself: its frames are listed under it.
  EXPECT_NE(text.find("\n    "), std::string::npos) << text;
  held.unlock();
  waiter.join();
}

// The report of a stall takes each stalled thread's backtrace, waiting up to 0.5 s for a thread
// that does not answer. It is written apart from the timer thread, whose other timers (the
// database sockets' deadlines) keep their time meanwhile. Here four threads never answer (they
// block the backtrace's signal): a report written on the timer thread would hold it for 2 s.
TEST(thread_watchdog, a_stalls_report_does_not_hold_up_the_timer_thread) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::mutex tids_mutex;
  std::vector<int> tids;
  std::vector<std::thread> deaf;
  for (int i = 0; i < 4; ++i)
    deaf.emplace_back([&, released] {
      sigset_t trace;
      sigemptyset(&trace);
      sigaddset(&trace, SIGRTMIN + 3);
      pthread_sigmask(SIG_BLOCK, &trace, nullptr);
      {
        std::lock_guard lock(tids_mutex);
        tids.push_back(current_thread_id());
      }
      released.wait();
    });
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(tids_mutex);
        return tids.size() == 4;
      },
      5s));

  // Timer firings, 5 ms apart when nothing holds the timer thread up.
  std::mutex gaps_mutex;
  auto last = std::chrono::steady_clock::now();
  auto longest_gap = std::chrono::steady_clock::duration::zero();
  auto ticker = timer_thread::every(5ms, [&] {
    std::lock_guard lock(gaps_mutex);
    const auto now = std::chrono::steady_clock::now();
    longest_gap = std::max(longest_gap, now - last);
    last = now;
  });
  {
    thread_watchdog watchdog({20ms, 200ms, 0ms, {}});
    // Its heartbeats are never run: the pool is stalled once the stall time has passed.
    auto r = watchdog.watch({"deaf",
                             [](std::function<void()>) {},
                             [&] {
                               std::lock_guard lock(tids_mutex);
                               return tids;
                             },
                             {}});
    ASSERT_TRUE(eventually([&] { return is_stalled(watchdog, "deaf"); }, 10s));
    // Long enough for the four backtraces to time out.
    const auto until = std::chrono::steady_clock::now() + 2500ms;
    ASSERT_TRUE(eventually([&] { return std::chrono::steady_clock::now() >= until; }, 10s));
  } // the watchdog waits for its report
  ticker.cancel();
  release.set_value();
  for (auto& t : deaf)
    t.join();
  std::lock_guard lock(gaps_mutex);
  EXPECT_LT(longest_gap, 1s)
      << "the timer thread was held up for "
      << std::chrono::duration_cast<std::chrono::milliseconds>(longest_gap).count() << " ms";
}
