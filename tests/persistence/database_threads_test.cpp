// The engine's shared database threads: lanes keep their tasks in order and apart, many lanes
// share few threads, a socket is watched without a thread, and nothing outlives the pool badly.
#include "persistence/database_threads.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace sky;
using namespace std::chrono_literals;

namespace {

// Counts down to zero; waits for it with a bound.
class latch_of {
public:
  explicit latch_of(int n) : left_(n) {}
  void count_down() {
    std::lock_guard lock(m_);
    if (--left_ == 0)
      cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, limit, [&] { return left_ <= 0; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  int left_;
};

} // namespace

TEST(database_threads, a_lane_runs_its_tasks_in_order_and_one_at_a_time) {
  persistence::database_threads threads(4);
  auto lane = threads.make_lane();
  std::vector<int> order;
  std::atomic<int> running{0}, most{0};
  latch_of done(1000);
  for (int i = 0; i < 1000; ++i)
    lane.post([&, i] {
      const int now = ++running;
      most = std::max(most.load(), now);
      order.push_back(i); // unguarded: a second task at once would be a data race
      --running;
      done.count_down();
    });
  ASSERT_TRUE(done.wait(10s));
  EXPECT_EQ(most.load(), 1);
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST(database_threads, many_lanes_share_the_threads_and_a_blocked_lane_holds_only_its_own) {
  persistence::database_threads threads(2);
  std::vector<persistence::database_threads::lane> lanes;
  for (int i = 0; i < 20; ++i)
    lanes.push_back(threads.make_lane());
  // One lane blocks a thread until released; the other nineteen still get through on the other.
  std::mutex gate;
  std::unique_lock closed(gate);
  lanes[0].post([&] { std::lock_guard wait_for_it(gate); });
  std::mutex ids_mutex;
  std::set<std::thread::id> ids;
  latch_of done(19 * 50);
  for (std::size_t l = 1; l < lanes.size(); ++l)
    for (int i = 0; i < 50; ++i)
      lanes[l].post([&] {
        {
          std::lock_guard lock(ids_mutex);
          ids.insert(std::this_thread::get_id());
        }
        done.count_down();
      });
  EXPECT_TRUE(done.wait(10s)) << "one blocked lane held up the others";
  closed.unlock();
  EXPECT_LE(ids.size(), 2u);
}

// A task that hands over to another lane as its last act (post_next) has that lane's turn run
// on its own thread, right after it, instead of waking another thread; posted from outside the
// pool, post_next is post.
TEST(database_threads, a_hand_over_with_post_next_runs_on_the_same_thread) {
  persistence::database_threads threads(2);
  for (int round = 0; round < 20; ++round) {
    // Lanes of their own each round: a lane whose drain of the round before is still finishing
    // takes the new task into that drain, on whichever thread runs it.
    auto first = threads.make_lane();
    auto second = threads.make_lane();
    std::thread::id handed_from, ran_on;
    latch_of done(1);
    first.post([&] {
      handed_from = std::this_thread::get_id();
      second.post_next([&] {
        ran_on = std::this_thread::get_id();
        done.count_down();
      });
      // The handing thread stays busy a moment: a plain post would go to the idle thread.
      std::this_thread::sleep_for(2ms);
    });
    ASSERT_TRUE(done.wait(10s));
    EXPECT_EQ(ran_on, handed_from) << "round " << round;
  }
  latch_of outside(1);
  threads.make_lane().post_next([&] { outside.count_down(); });
  EXPECT_TRUE(outside.wait(10s));
}

TEST(database_threads, a_watch_answers_when_its_socket_has_data_and_false_once_cancelled) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  {
    persistence::database_threads threads(1);
    auto lane = threads.make_lane();
    auto watch = lane.watch(fds[0]);
    std::atomic<int> answers{0}, readable{0};
    latch_of first(1);
    lane.post([&] {
      watch->wait([&](bool ok) {
        ++answers;
        readable += ok ? 1 : 0;
        first.count_down();
      });
    });
    std::this_thread::sleep_for(50ms); // nothing to read yet: no answer may come
    EXPECT_EQ(answers.load(), 0);
    ASSERT_EQ(::write(fds[1], "x", 1), 1);
    ASSERT_TRUE(first.wait(5s));
    EXPECT_EQ(readable.load(), 1);
    // Read it, wait again, and cancel: the answer is false.
    char c = 0;
    ASSERT_EQ(::read(fds[0], &c, 1), 1);
    latch_of second(1);
    std::atomic<bool> second_ok{true};
    lane.post([&] {
      watch->wait([&](bool ok) {
        second_ok = ok;
        second.count_down();
      });
    });
    // Cancelled before or after the wait starts: either way the answer is false.
    watch->cancel();
    ASSERT_TRUE(second.wait(5s));
    EXPECT_FALSE(second_ok.load());
    // A watch left waiting when the pool stops is closed by it, and may go after the pool.
    auto late = lane.watch(fds[0]);
    lane.post([late] { late->wait([](bool) {}); });
    threads.stop();
  }
  // The socket stayed ours: both ends still open.
  EXPECT_EQ(::write(fds[1], "y", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(fds[0], &c, 1), 1);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(database_threads, a_lane_that_outlives_its_pool_drops_its_tasks) {
  persistence::database_threads::lane lane;
  std::atomic<int> ran{0};
  {
    persistence::database_threads threads(1);
    lane = threads.make_lane();
    latch_of done(1);
    lane.post([&] {
      ++ran;
      done.count_down();
    });
    ASSERT_TRUE(done.wait(5s));
    threads.stop();
    lane.post([&] { ++ran; }); // the pool stopped: never runs, and is freed with the pool
  }
  lane.post([&] { ++ran; }); // the pool is gone
  EXPECT_EQ(ran.load(), 1);
}
