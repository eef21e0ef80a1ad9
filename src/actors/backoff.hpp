// Retry delays: exponential with a cap and jitter, so retries of many items do not stampede.
#pragma once

#include <chrono>
#include <cstdint>

namespace sky::actors {

struct backoff_policy {
  std::chrono::milliseconds base{2000};
  std::chrono::milliseconds cap{std::chrono::minutes(10)};
};

// Delay before attempt `attempt + 1` after `attempt` failed (attempt >= 1). `unit_random` in
// [0, 1) picks a point in the upper half of the exponential step ("equal jitter").
std::chrono::milliseconds retry_delay(int attempt, double unit_random,
                                      const backoff_policy& policy = {});

// Same, with a thread-local random source.
std::chrono::milliseconds retry_delay(int attempt, const backoff_policy& policy = {});

// Wait before trying the database again after `failures` failures in a row (0 for the first):
// 100 ms doubling to 5 s. An outage costs a few statements a second at most, and a recovery is
// seen within 5 s.
std::chrono::milliseconds database_retry_delay(int failures);

} // namespace sky::actors
