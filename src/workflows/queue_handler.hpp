// What a queue's handler is: a work step (a coroutine that awaits the network, or an inline step
// without I/O; its one database access is the email scan's progress report) and a write step that
// runs in the queue driver's write transaction.
#pragma once

#include "messages/queue_messages.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <pqxx/transaction_base>

namespace sky::workflows {

// One claimed item's session: what its work step may know and what can stop it. The work step
// adds its fetch session (cookies, byte budget, counters) through on_cancel. Thread-safe.
class job_session {
public:
  job_session(messages::work_item item, std::string queue,
              std::chrono::steady_clock::time_point deadline)
      : item_(std::move(item)), queue_(std::move(queue)), deadline_(deadline) {}

  const messages::work_item& item() const { return item_; }
  const std::string& queue() const { return queue_; }
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // From the pool (a cancel request, the time limit, a drain): reaches the work step at its next
  // await, and aborts the fetches and waits it has in flight.
  void cancel() {
    cancelled_.store(true, std::memory_order_release);
    std::function<void()> hook;
    {
      std::lock_guard lock(mutex_);
      hook = on_cancel_;
    }
    if (hook)
      hook();
  }
  // What cancel() must also stop; called at once when the session is already cancelled.
  void on_cancel(std::function<void()> hook) {
    {
      std::lock_guard lock(mutex_);
      on_cancel_ = hook;
    }
    if (cancelled())
      hook();
  }

  // A log line about this item from wherever its step runs (any thread, between awaits). It
  // carries queue, item id and attempt, as the engine's own lines about the item do: thread-local
  // context cannot follow a coroutine across the threads it resumes on.
  enum class log_level { debug, info, warn };
  bool logs(log_level level) const;
  void log(log_level level, std::string_view message) const;

private:
  const messages::work_item item_;
  const std::string queue_;
  const std::chrono::steady_clock::time_point deadline_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::function<void()> on_cancel_;
};

struct handler_result {
  messages::outcome result = messages::outcome::completed;
  std::string error;
  std::string result_json;

  static handler_result completed(std::string json = {}) {
    return {messages::outcome::completed, {}, std::move(json)};
  }
  static handler_result retry(std::string why) {
    return {messages::outcome::retry, std::move(why), {}};
  }
  static handler_result failed(std::string why) {
    return {messages::outcome::failed, std::move(why), {}};
  }
  static handler_result cancelled() {
    return {messages::outcome::cancelled, "cancelled by request", {}};
  }
  // The step threw: the attempt failed and counts against the queue's restart intensity.
  static handler_result crashed(std::string why) {
    handler_result r{messages::outcome::retry, "worker died: " + std::move(why), {}};
    r.crash = true;
    return r;
  }

  bool crash = false;
};

// An item whose new status was written (it was still ours), with that status.
struct written_item {
  const messages::work_done* done;
  std::string status;
};

struct queue_handler {
  // Starts the item's work step, which must not block a thread: network steps are coroutines
  // on the fetcher's context (workflows/work_step.hpp). The one exception is the email scan's
  // progress report, a short blocking write on a small pool of its own, bounded by its wait and
  // the engine statement timeout. `done` is called exactly once, on any thread, unless the
  // process stops first.
  std::function<void(std::shared_ptr<job_session>, std::function<void(handler_result)> done)> start;
  // Writes the results of items whose status was just changed, in the transaction of the queue
  // driver's write lane. Called for a whole batch first; if it throws, the driver repeats the
  // batch one item per transaction, so that only the faulty item is rolled back (and retried, or
  // ends in Error).
  std::function<void(pqxx::transaction_base&, const std::vector<written_item>&)> write;
};

// By queue name; a queue without an entry is not polled by this process.
using handler_table = std::map<std::string, queue_handler, std::less<>>;

} // namespace sky::workflows
