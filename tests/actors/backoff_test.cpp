// Backoff maths: growth, cap and jitter bounds.
#include "actors/backoff.hpp"

#include <gtest/gtest.h>

using namespace sky::actors;
using namespace std::chrono_literals;

TEST(backoff, doubles_per_attempt_within_the_jitter_band) {
  backoff_policy p{1000ms, 600s};
  EXPECT_EQ(retry_delay(1, 0.0, p), 500ms);
  EXPECT_EQ(retry_delay(1, 1.0, p), 1000ms);
  EXPECT_EQ(retry_delay(2, 0.0, p), 1000ms);
  EXPECT_EQ(retry_delay(3, 0.5, p), 3000ms);
}

TEST(backoff, is_capped_and_never_overflows) {
  backoff_policy p{1000ms, 60s};
  EXPECT_EQ(retry_delay(30, 1.0, p), 60s);
  EXPECT_EQ(retry_delay(1000, 1.0, p), 60s);
  EXPECT_EQ(retry_delay(-5, 0.0, p), 500ms);
}

TEST(backoff, random_source_stays_in_bounds) {
  backoff_policy p{100ms, 10s};
  for (int attempt = 1; attempt < 12; ++attempt)
    for (int i = 0; i < 50; ++i) {
      auto d = retry_delay(attempt, p);
      auto step = std::min(100ms * (1 << (attempt - 1)), std::chrono::milliseconds(10s));
      EXPECT_GE(d, step / 2);
      EXPECT_LE(d, step);
    }
}

TEST(backoff, database_retries_double_from_100_ms_to_5_s) {
  EXPECT_EQ(database_retry_delay(0), 100ms);
  EXPECT_EQ(database_retry_delay(1), 200ms);
  EXPECT_EQ(database_retry_delay(5), 3200ms);
  EXPECT_EQ(database_retry_delay(6), 5000ms);
  EXPECT_EQ(database_retry_delay(1000), 5000ms);
  EXPECT_EQ(database_retry_delay(-3), 100ms);
}
