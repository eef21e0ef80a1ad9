// Counters each queue's actors update and the HTTP layer reads (lock-free, no CAF).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace sky::messages {

struct queue_metrics {
  // Upper bounds (seconds) of the pickup latency histogram; the last bucket is +Inf.
  static constexpr std::array<double, 14> k_latency_bounds{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60};

  std::atomic<bool> served{false};     // a poller runs for this queue in this process
  std::atomic<bool> degraded{false};   // paused after too many failed steps or unit restarts
  std::atomic<bool> restarting{false}; // its poller, pool or writer died; the unit is restarting
  std::atomic<std::uint64_t> claimed{0}, completed{0}, failed{0}, retried{0}, cancelled{0},
      rescued{0}, released{0}, worker_restarts{0}, timeouts{0}, db_errors{0}, stale_results{0},
      unit_restarts{0}, claim_batches{0}, commits{0};
  std::array<std::atomic<std::uint64_t>, k_latency_bounds.size() + 1> latency_buckets{};
  std::atomic<std::uint64_t> latency_sum_us{0};

  using counter = std::atomic<std::uint64_t> queue_metrics::*;
  struct named_counter {
    const char* name;
    counter member;
  };
  // Every counter once, for each place that reports them (JSON totals, Prometheus).
  static constexpr named_counter k_counters[] = {
      {"claimed", &queue_metrics::claimed},
      {"completed", &queue_metrics::completed},
      {"failed", &queue_metrics::failed},
      {"retried", &queue_metrics::retried},
      {"cancelled", &queue_metrics::cancelled},
      {"rescued", &queue_metrics::rescued},
      {"released", &queue_metrics::released},
      {"worker_restarts", &queue_metrics::worker_restarts},
      {"timeouts", &queue_metrics::timeouts},
      {"db_errors", &queue_metrics::db_errors},
      {"stale_results", &queue_metrics::stale_results},
      {"unit_restarts", &queue_metrics::unit_restarts},
      // Statements that claimed rows and transactions that wrote results: rows per round trip.
      {"claim_batches", &queue_metrics::claim_batches},
      {"commits", &queue_metrics::commits},
  };

  void observe_pickup(double seconds) {
    if (seconds < 0)
      seconds = 0;
    std::size_t i = 0;
    while (i < k_latency_bounds.size() && seconds > k_latency_bounds[i])
      ++i;
    latency_buckets[i].fetch_add(1, std::memory_order_relaxed);
    latency_sum_us.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }
};

// One entry per config::queue_definitions() row, in the same order.
using engine_metrics = std::vector<std::unique_ptr<queue_metrics>>;

} // namespace sky::messages
