// Internal to actors/: the connections whose open transactions hold claims by row lock.
//
// A claim session belongs to one actor at a time: the poller takes a free one, opens a
// transaction and claims in it, then hands it to the writer with its locked message; the writer
// finishes the rows in that transaction, commits and gives the session back. The mutex guards
// only that hand-over (and publishes what the previous holder wrote).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction>

namespace sky::actors {

struct claim_session {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<pqxx::work> tx; // open while the session holds a claim
};

class claim_sessions {
public:
  explicit claim_sessions(std::size_t count) : sessions_(count), free_(count, true) {}

  // A free session, now taken; nullopt when every one holds a claim.
  std::optional<std::uint32_t> take() {
    std::lock_guard lock(mutex_);
    for (std::uint32_t i = 0; i < free_.size(); ++i)
      if (free_[i]) {
        free_[i] = false;
        return i;
      }
    return std::nullopt;
  }

  void give_back(std::uint32_t index) {
    std::lock_guard lock(mutex_);
    free_[index] = true;
  }

  // Only by the session's current holder.
  claim_session& at(std::uint32_t index) { return sessions_[index]; }
  std::size_t size() const { return sessions_.size(); }

private:
  std::mutex mutex_;
  std::vector<claim_session> sessions_;
  std::vector<bool> free_;
};

// Enough sessions for the batches the queue's concurrency can have in flight (the poller claims
// once half a batch of slots is free), and more to claim into while they finish; at least
// three, at most eight connections.
inline std::size_t claim_session_count(int max_instances, int batch_size) {
  const int useful = std::max(1, std::min(batch_size, max_instances) / 2);
  return std::clamp<std::size_t>(static_cast<std::size_t>(max_instances / useful) + 2, 3, 8);
}

} // namespace sky::actors
