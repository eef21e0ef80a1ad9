// Restart intensity as pure logic: fed with timestamps, no actors and no sleeping.
#include "actors/restart_policy.hpp"

#include <gtest/gtest.h>

using namespace sky::actors;
using namespace std::chrono_literals;

TEST(restart_intensity, tolerates_the_limit_within_the_window_and_pauses_past_it) {
  restart_intensity r(restart_limits{3, 60s, 30s});
  auto t0 = restart_intensity::clock::time_point{} + 1h;
  EXPECT_FALSE(r.exceeded_after_failure(t0));
  EXPECT_FALSE(r.exceeded_after_failure(t0 + 1s));
  EXPECT_FALSE(r.exceeded_after_failure(t0 + 2s));
  EXPECT_TRUE(r.exceeded_after_failure(t0 + 3s)) << "a fourth failure within a minute";
  EXPECT_EQ(r.limits().pause, 30s);
  // After the pause the count starts again.
  r.reset();
  EXPECT_EQ(r.recent(), 0);
  EXPECT_FALSE(r.exceeded_after_failure(t0 + 40s));
}

TEST(restart_intensity, failures_older_than_the_window_are_forgotten) {
  restart_intensity r(restart_limits{2, 10s, 5s});
  auto t0 = restart_intensity::clock::time_point{} + 1h;
  EXPECT_FALSE(r.exceeded_after_failure(t0));
  EXPECT_FALSE(r.exceeded_after_failure(t0 + 5s));
  // 11 s after the first: it left the window, so two remain.
  EXPECT_FALSE(r.exceeded_after_failure(t0 + 11s));
  EXPECT_EQ(r.recent(), 2);
  EXPECT_TRUE(r.exceeded_after_failure(t0 + 12s));
}

TEST(restart_intensity, a_limit_of_zero_pauses_at_the_first_failure) {
  restart_intensity r(restart_limits{0, 60s, 1s});
  EXPECT_TRUE(r.exceeded_after_failure(restart_intensity::clock::now()));
}
