// Bounded per-host and per-origin state: the LRU map and the politeness schedule built on it.
#include "scrape/host_schedule.hpp"
#include "scrape/lru_map.hpp"

#include <gtest/gtest.h>

using namespace sky::scrape;
using namespace std::chrono_literals;

TEST(lru_map, forgets_the_least_recently_used_beyond_its_capacity) {
  lru_map<std::string, int> m(2);
  m.put("a", 1);
  m.put("b", 2);
  ASSERT_NE(m.find("a"), nullptr); // "a" is now the most recently used
  m.put("c", 3);                   // so "b" goes
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.find("b"), nullptr);
  EXPECT_EQ(*m.find("a"), 1);
  EXPECT_EQ(*m.find("c"), 3);
  m.put("a", 10); // replacing counts as a use and does not grow the map
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(*m.find("a"), 10);
  m.erase("a");
  EXPECT_EQ(m.find("a"), nullptr);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ((lru_map<int, int>(0).capacity()), 1u); // a cap of 0 still holds one entry
}

TEST(lru_map, drops_stale_entries_from_the_old_end_only) {
  lru_map<int, int> m(10);
  for (int i = 0; i < 5; ++i)
    m.put(i, i); // from oldest to newest: 0 1 2 3 4
  m.find(1);     // now 0 2 3 4 1
  m.drop_oldest_while([](int v) { return v < 3; });
  EXPECT_EQ(m.size(), 3u); // 0 and 2 went; the walk stopped at 3
  EXPECT_EQ(m.find(0), nullptr);
  EXPECT_EQ(m.find(2), nullptr);
  EXPECT_NE(m.find(1), nullptr); // stale, but recently used
  m.drop_oldest_while([](int) { return true; });
  EXPECT_EQ(m.size(), 0u);
}

TEST(host_schedule, spaces_requests_per_host_and_stays_within_its_cap) {
  using clock = std::chrono::steady_clock;
  host_schedule schedule(100ms, 3);
  auto t0 = clock::time_point{} + 1h;
  EXPECT_EQ(schedule.reserve("a", t0), t0);
  EXPECT_EQ(schedule.reserve("a", t0), t0 + 100ms);
  EXPECT_EQ(schedule.reserve("a", t0 + 10ms), t0 + 200ms);
  EXPECT_EQ(schedule.reserve("b", t0), t0);
  EXPECT_EQ(schedule.reserve("c", t0), t0);
  EXPECT_EQ(schedule.tracked_hosts(), 3u);
  EXPECT_EQ(schedule.reserve("d", t0), t0); // the cap drops the least recently scheduled ("a")
  EXPECT_EQ(schedule.tracked_hosts(), 3u);
  EXPECT_EQ(schedule.reserve("a", t0), t0);
  // Once every slot has passed, the hosts are forgotten on the next reservation.
  EXPECT_EQ(schedule.reserve("e", t0 + 1s), t0 + 1s);
  EXPECT_EQ(schedule.tracked_hosts(), 1u);
  for (int i = 0; i < 1000; ++i)
    schedule.reserve("host-" + std::to_string(i), t0 + 2s);
  EXPECT_EQ(schedule.tracked_hosts(), 3u);
}
