// Whether the database answers, known without asking it on the caller's time.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include <pqxx/connection>
#include <string>
#include <vector>

namespace sky::persistence {

// Pings the database on a connection of its own, each ping bounded by `timeout` (the socket is
// cut past it). The owner calls ping_once() every `interval`: the server's main thread does,
// between signals, so the probe costs no thread. Readers get the last verdict at once: health
// routes stay fast whatever the database does, and unauthenticated callers cannot make it do
// more work. A ping stuck past half its timeout is a failed one, so a stuck caller shows too.
class database_probe {
public:
  // Pings once before returning: the first verdict is known before anyone can ask for it.
  database_probe(std::string url, std::chrono::milliseconds interval,
                 std::chrono::milliseconds timeout);
  database_probe(const database_probe&) = delete;
  database_probe& operator=(const database_probe&) = delete;

  // True when a ping succeeded within the last interval + timeout and none is overdue now.
  bool reachable() const;
  // Queues paused cluster-wide, as of the last successful ping.
  std::vector<std::string> paused_queues() const;
  // One ping; from one thread at a time.
  void ping_once();
  std::chrono::milliseconds interval() const { return interval_; }

private:
  std::string url_;
  std::unique_ptr<pqxx::connection> conn_; // the pinging thread's alone
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  std::atomic<long long> last_ok_ns_{0};      // steady clock, 0 = never
  std::atomic<long long> ping_started_ns_{0}; // 0 = no ping in flight
  mutable std::mutex mutex_;
  std::vector<std::string> paused_; // under mutex_
};

} // namespace sky::persistence
