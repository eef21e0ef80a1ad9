// How `scrapersky serve` ends, for an orchestrator (and the tests) to tell apart.
#pragma once

namespace sky::process {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_config = 2; // bad configuration or usage
// A thread pool ran no heartbeat for WORK_STALL_ABORT_SECONDS: restart the process; the leases
// of what it held return the work to the queues.
inline constexpr int k_exit_stalled = 3;
// SIGTERM's drain did not end: threads still stuck past DRAIN_TIMEOUT_SECONDS plus a grace were
// abandoned; what they held returns to its queue when its lease expires.
inline constexpr int k_exit_drain_incomplete = 4;

} // namespace sky::process
