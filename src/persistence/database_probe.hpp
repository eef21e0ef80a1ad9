// Whether the database answers, known without asking it on the caller's time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>

#include <pqxx/connection>
#include <string>
#include <thread>
#include <vector>

namespace sky::persistence {

// Pings the database once per `interval` on a connection of its own, each ping bounded by
// `timeout` (the socket is cut past it). Readers get the last verdict at once: health routes stay
// fast whatever the database does, and unauthenticated callers cannot make it do more work.
class database_probe {
public:
  database_probe(std::string url, std::chrono::milliseconds interval,
                 std::chrono::milliseconds timeout);
  ~database_probe();
  database_probe(const database_probe&) = delete;
  database_probe& operator=(const database_probe&) = delete;

  // True when a ping succeeded within the last interval + timeout and none is overdue now.
  bool reachable() const;
  // Queues paused cluster-wide, as of the last successful ping.
  std::vector<std::string> paused_queues() const;
  // Runs `task` on the probe's thread between two pings (the watchdog's heartbeat).
  void post(std::function<void()> task);
  // The probe thread's kernel id.
  int thread_id() const { return thread_id_.load(); }

private:
  void ping_once();
  void loop();

  std::string url_;
  std::unique_ptr<pqxx::connection> conn_; // the probe thread's alone once it runs
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  std::atomic<long long> last_ok_ns_{0};      // steady clock, 0 = never
  std::atomic<long long> ping_started_ns_{0}; // 0 = no ping in flight
  mutable std::mutex mutex_;
  std::vector<std::string> paused_;           // under mutex_
  std::vector<std::function<void()>> posted_; // under mutex_
  std::atomic<int> thread_id_{0};
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace sky::persistence
