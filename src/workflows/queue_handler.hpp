// What a queue's handler is: a work step (may block on the network, never touches the database)
// and a write step that runs inside the item's savepoint in the db_writer.
#pragma once

#include "messages/queue_messages.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include <pqxx/transaction_base>

namespace sky::workflows {

struct handler_context {
  const messages::work_item& item;
  const std::atomic<bool>& cancel_requested;
  bool cancelled() const { return cancel_requested.load(std::memory_order_relaxed); }
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
};

// An item whose new status was written (it was still ours), with that status.
struct written_item {
  const messages::work_done* done;
  std::string status;
};

struct queue_handler {
  std::function<handler_result(handler_context&)> work;
  // A blocking work step gets a thread per worker; a non-blocking one runs its workers on the
  // actor system's shared threads, which costs no thread switch per item.
  bool blocking = true;
  // Writes the results of items whose status was just changed, in the writer's transaction.
  // Called for a whole batch first; if it throws, the writer repeats the batch one item per
  // savepoint so that only the faulty item is rolled back.
  std::function<void(pqxx::transaction_base&, const std::vector<written_item>&)> write;
};

// By queue name; a queue without an entry is not polled by this process.
using handler_table = std::map<std::string, queue_handler, std::less<>>;

} // namespace sky::workflows
