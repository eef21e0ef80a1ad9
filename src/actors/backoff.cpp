// Backoff maths, free of actors and I/O.
#include "actors/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace sky::actors {

std::chrono::milliseconds retry_delay(int attempt, double unit_random,
                                      const backoff_policy& policy) {
  attempt = std::clamp(attempt, 1, 62);
  unit_random = std::clamp(unit_random, 0.0, 1.0);
  double step = static_cast<double>(policy.base.count()) * std::pow(2.0, attempt - 1);
  step = std::min(step, static_cast<double>(policy.cap.count()));
  double delay = step / 2 + unit_random * step / 2;
  return std::chrono::milliseconds(static_cast<long long>(delay));
}

std::chrono::milliseconds retry_delay(int attempt, const backoff_policy& policy) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return retry_delay(attempt, unit(rng), policy);
}

std::chrono::milliseconds database_retry_delay(int failures) {
  return std::chrono::milliseconds(std::min(100 << std::clamp(failures, 0, 6), 5000));
}

} // namespace sky::actors
