// Counters of the node's maintenance actor (rescue, retention, status counts), read by /metrics.
#pragma once

#include <atomic>
#include <cstdint>

namespace sky::messages {

struct maintenance_metrics {
  std::atomic<bool> leader{false};            // this node holds the maintenance lease
  std::atomic<std::uint64_t> passes{0};       // queue passes run (rescue, counts, retention)
  std::atomic<std::uint64_t> rescued{0};      // rows whose lease had expired, requeued or failed
  std::atomic<std::uint64_t> deleted{0};      // finished jobs deleted past the retention
  std::atomic<std::uint64_t> db_errors{0};    // failed statements (each retried with backoff)
  std::atomic<std::uint64_t> last_pass_us{0}; // how long the last round over the queues took
};

} // namespace sky::messages
