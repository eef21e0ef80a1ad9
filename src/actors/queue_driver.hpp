// Internal to actors/: a queue's database side, kept across restarts of its unit. The driver owns
// the queue's PostgreSQL connections and transactions; the poller and the writer are ordinary
// event-based actors that ask it for claims, renewals and commits and get its answers as messages.
// Nothing of pqxx leaves it, and each of its connections lives on one lane of the node's database
// threads.
#pragma once

#include "messages/queue_messages.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sky::persistence {
class database_threads;
}

namespace sky::actors {

struct queue_context;

class queue_driver {
public:
  template <class T> using reply = std::function<void(T)>;
  virtual ~queue_driver() = default;

  // The claim lane (the poller's connection), in the order asked:
  // Returns every row this node holds to the queue without counting the attempt (a restarted
  // unit's first act: its predecessor's rows). The claims asked after it run after it.
  virtual void release_held() = 0;
  // Claims up to `limit` due rows. `known`: after a lost connection (claim_result's
  // connection_lost), the ids the poller holds; rows this node holds beyond them were claimed
  // unseen and go back first. Answers the moment the claim returns.
  virtual void claim(int limit, std::optional<std::vector<std::string>> known,
                     reply<messages::claim_result> claimed) = 0;
  // Seconds until the earliest queued row is due (<= 0: due now but locked by another claim); not
  // answered when none is queued. The poller asks after a short claim, once it has handed that
  // claim's rows on: asked by the lane right after answering, the question's round trip woke a
  // database backend on the same two cores as the hand-over to the poller's thread, whose tail
  // it lengthened.
  virtual void next_due(reply<double> due) = 0;
  // Extends the leases of `ids`; answers the ids whose cancellation was requested, and whether
  // the connection was lost.
  virtual void renew(std::vector<std::string> ids,
                     std::function<void(std::vector<std::string>, bool)> done) = 0;

  // The write lane (the writer's connection): the results' new statuses and the handler's
  // writes, in one transaction when all goes well; after a permanent error each item in its own.
  // Counts outcomes in the queue's metrics. After a transient error the batch comes back whole.
  virtual void write(messages::result_batch items, reply<messages::write_result> done) = 0;

  // A standing claim: while its queue is idle the poller leaves one claim here, for the
  // notifier's thread to run the moment a NOTIFY names the queue, without the hops to the poller
  // and back. Its limit was the poller's to give and stays valid, since only claims use slots.
  // Thread-safe.
  void stand_claim(int limit, reply<messages::claim_result> claimed);
  // Takes the standing claim back: true when it still stood, false when a NOTIFY ran it (its
  // answer comes) or none stood.
  bool withdraw_claim();
  // The notifier's: runs the standing claim on the claim lane; false when none stood.
  bool run_standing_claim();

private:
  struct standing {
    int limit = 0;
    reply<messages::claim_result> claimed;
  };
  std::mutex standing_mutex_;
  std::optional<standing> standing_;
};

// The real driver: two lanes of `threads` for the queue's claim and write connections. The
// queue holds it and it holds the queue: whoever owns the queue resets `driver` when done.
std::shared_ptr<queue_driver> make_postgres_driver(std::shared_ptr<const queue_context> queue,
                                                   persistence::database_threads& threads);

} // namespace sky::actors
