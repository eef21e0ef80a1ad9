// The generic poller: one per queue. Claims no more rows than its pool has free slots and renews
// their leases; rescue and retention are the maintenance actor's (maintenance.cpp).
#include "actors/backoff.hpp"
#include "actors/claim_sessions.hpp"
#include "actors/engine.hpp"
#include "actors/supervision.hpp"
#include "messages/engine_protocol.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/pg_array.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>
#include <unordered_set>

namespace sky::actors {
namespace {

using namespace messages;
using clock = std::chrono::steady_clock;

struct poller_state {
  static inline const char* name = "poller";
  queue_context_ptr q;
  std::unique_ptr<pqxx::connection> conn;
  pool_intake_actor pool;
  writer_lock_actor writer;
  std::shared_ptr<claim_sessions> sessions;
  int credits = 0;
  bool want_more = true; // poll again as soon as credits allow
  // The last claim that found rows took all it asked for: there is a backlog, and claims by lock
  // (which pay off for full batches) are used; otherwise a claim is one statement, the shortest
  // pickup.
  bool backlog = true;
  bool paused = false;
  bool draining = false;
  std::unordered_set<std::string> held; // claimed and not yet committed by the writer
  clock::time_point wake_pending{};     // earliest self-wake already scheduled
  int db_failures = 0;
  bool lost_connection = false; // check for orphaned claims after reconnecting
};

using poller_self = poller_actor::stateful_pointer<poller_state>;

// After a failed statement: counts it and schedules a retry wake with backoff, so a database
// outage never kills the poller. Returns whether the connection is to be dropped.
bool on_db_failure(poller_self self, const char* what, const std::exception& e,
                   const pqxx::connection* conn) {
  auto& s = self->state;
  s.q->metrics->db_errors++;
  const bool broken = persistence::is_connection_error(e) || !conn || !conn->is_open();
  auto delay = database_retry_delay(s.db_failures);
  ++s.db_failures;
  spdlog::warn("{}: {} failed ({}); retrying in {} ms", s.q->definition->name, what, e.what(),
               delay.count());
  self->delayed_send(self, delay, wake_atom::value);
  return broken;
}

// Runs `f` on the poller's connection; on failure drops a broken connection and schedules a
// retry wake with backoff, so a database outage never kills the poller.
template <class F> bool with_db(poller_self self, const char* what, F&& f) {
  auto& s = self->state;
  try {
    if (!s.conn) {
      s.conn = persistence::open_connection(s.q->database_url, s.q->statement_timeout);
      // Claims, lease renewals and rescues need not wait for the WAL flush: if the server
      // crashes before it, the row simply is still Queued (or its old lease stands), and any
      // result of that attempt is fenced out. Results and final statuses stay durable.
      if (s.q->session_settings) {
        pqxx::nontransaction(*s.conn).exec("SET synchronous_commit = off");
        persistence::configure_engine_session(*s.conn);
      }
      if (s.lost_connection) {
        // A claim in flight when the link dropped may have committed unseen; its rows are ours
        // but unknown to us, so they go back now rather than when their lease expires.
        std::vector<std::string> known(s.held.begin(), s.held.end());
        auto orphans = s.q->store->release_orphans(*s.conn, s.q->node_id, known);
        s.q->metrics->released += orphans.size();
        if (!orphans.empty())
          spdlog::warn("{}: returned {} rows claimed before the connection was lost",
                       s.q->definition->name, orphans.size());
        s.lost_connection = false;
      }
    }
    f(*s.conn);
    s.db_failures = 0;
    return true;
  } catch (const std::exception& e) {
    if (on_db_failure(self, what, e, s.conn.get())) {
      s.conn.reset();
      s.lost_connection = true;
    }
    return false;
  }
}

// A claim that writes nothing: the rows are locked by the open transaction of a free claim
// session, which goes to the writer with them (`session` is then its 1-based number; 0 when
// nothing was claimed and the session is free again). False: the claim failed (retry wake
// scheduled). A session that dies releases its rows in PostgreSQL; nothing is left to undo.
bool claim_locked(poller_self self, std::uint32_t index, int limit,
                  std::vector<persistence::claimed_row>& rows, std::uint32_t& session) {
  auto& s = self->state;
  auto& cs = s.sessions->at(index);
  session = 0;
  try {
    if (!cs.conn) {
      cs.conn = persistence::open_connection(s.q->database_url, s.q->statement_timeout);
      if (s.q->session_settings) {
        persistence::configure_engine_session(*cs.conn);
        // A node that stops finishing (hung, not dead) must not hold rows for ever: past a
        // lease, PostgreSQL ends the session and its rows go back, as a rescue would.
        pqxx::nontransaction(*cs.conn).exec(
            "SET idle_in_transaction_session_timeout = " +
            std::to_string(std::chrono::milliseconds(s.q->config.lease).count()));
      }
    }
    cs.tx = std::make_unique<pqxx::work>(*cs.conn);
    persistence::text_array_builder held;
    for (const auto& id : s.held)
      held.add(id);
    rows = s.q->store->claim_locked(*cs.tx, limit, held.finish());
    s.db_failures = 0;
  } catch (const std::exception& e) {
    cs.tx.reset();
    if (on_db_failure(self, "claim", e, cs.conn.get()))
      cs.conn.reset();
    s.sessions->give_back(index);
    return false;
  }
  if (rows.empty()) {
    cs.tx.reset(); // nothing held: the transaction just ends
    s.sessions->give_back(index);
    return true;
  }
  std::vector<std::string> ids, addresses;
  std::vector<std::int64_t> claims;
  ids.reserve(rows.size());
  addresses.reserve(rows.size());
  claims.reserve(rows.size());
  for (const auto& row : rows) {
    ids.push_back(row.id);
    addresses.push_back(row.row_address);
    claims.push_back(row.claim);
  }
  // Sent before the rows go to the pool, so the writer knows of the session before any result.
  self->send(s.writer, locked_atom::value, index, std::move(ids), std::move(addresses),
             std::move(claims));
  session = index + 1;
  s.q->metrics->claimed_by_lock += rows.size();
  return true;
}

void schedule_wake(poller_self self, std::chrono::milliseconds delay) {
  auto& s = self->state;
  auto at = clock::now() + delay;
  if (s.wake_pending > clock::now() && s.wake_pending <= at)
    return;
  s.wake_pending = at;
  self->delayed_send(self, delay, wake_atom::value);
}

void poll(poller_self self);

// Under load, credits trickle back one by one; claiming each alone would cost a statement and a
// commit per row. Wait for a useful batch unless the pool is about to run dry (fewer than that
// many credits means at least as many rows are in flight, and their credits will come).
void poll_if_worthwhile(poller_self self) {
  auto& s = self->state;
  const int useful =
      std::max(1, std::min(s.q->config.claim_batch(), s.q->config.max_instances) / 2);
  if (s.want_more && (s.credits >= useful || s.credits >= s.q->config.max_instances))
    poll(self);
}

void poll(poller_self self) {
  auto& s = self->state;
  if (!s.pool || s.paused || s.draining)
    return;
  // Claimed rows not yet committed are bounded, so a slow writer slows claiming down.
  const int max_held = s.q->config.max_instances + 2 * s.q->config.claim_batch();
  const int limit =
      std::min({s.credits, s.q->config.claim_batch(), max_held - static_cast<int>(s.held.size())});
  if (limit <= 0) {
    s.want_more = true;
    return;
  }
  std::vector<persistence::claimed_row> rows;
  std::uint32_t session = 0;
  std::optional<std::uint32_t> free_session;
  if (s.q->config.lock_hold.count() > 0 && s.writer && s.backlog) {
    // Under a backlog, claims by lock only: a lease claim meanwhile would make a crash strand its
    // rows until the lease expires. A session comes free at the latest when its hold time is up.
    free_session = s.sessions->take();
    if (!free_session) {
      s.want_more = true;
      return;
    }
  }
  if (free_session) {
    if (!claim_locked(self, *free_session, limit, rows, session))
      return;
  } else if (!with_db(self, "claim", [&](pqxx::connection& c) {
               rows = s.q->store->claim(c, s.q->node_id, limit);
             }))
    return;
  // Claims are the hot path: at debug, so that a busy queue does not write a line per claim.
  if (!rows.empty()) {
    spdlog::debug("{}: claimed {} rows", s.q->definition->name, rows.size());
    s.q->metrics->claim_batches++;
  }
  work_batch batch;
  batch.reserve(rows.size());
  for (auto& row : rows) {
    s.held.insert(row.id);
    s.q->metrics->claimed++;
    s.q->metrics->observe_pickup(row.pickup_latency_s);
    batch.push_back({.queue = s.q->index,
                     .id = std::move(row.id),
                     .attempt = row.attempt,
                     .claim = row.claim,
                     .payload_json = std::move(row.payload_json),
                     .row_address = std::move(row.row_address),
                     .session = session});
  }
  if (!batch.empty())
    self->send(s.pool, std::move(batch));
  s.credits -= static_cast<int>(rows.size());
  if (!rows.empty()) // an empty claim (a wake with nothing due) tells nothing of batch sizes
    s.backlog = static_cast<int>(rows.size()) == limit;
  if (static_cast<int>(rows.size()) == limit) {
    // A full batch: there may be more; continue while slots are free.
    s.want_more = true;
    if (s.credits > 0)
      self->send(self, wake_atom::value);
    return;
  }
  s.want_more = false;
  // Rows waiting for their backoff to elapse get a timer instead of the fallback interval.
  std::optional<double> due;
  with_db(self, "next-due", [&](pqxx::connection& c) { due = s.q->store->next_due_in(c); });
  if (due) {
    auto ms = std::chrono::milliseconds(static_cast<long long>(std::max(*due, 0.0) * 1000) + 5);
    if (*due <= 0)
      ms = std::chrono::milliseconds(100); // due but locked by a concurrent claim: look again soon
    if (ms < s.q->config.interval)
      schedule_wake(self, ms);
  }
}

poller_actor::behavior_type poller(poller_self self, queue_context_ptr q,
                                   std::shared_ptr<claim_sessions> sessions) {
  self->state.q = q;
  self->state.sessions = std::move(sessions);
  self->state.credits = q->config.max_instances;
  auto renew_every =
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(q->config.lease) / 3,
               std::chrono::milliseconds(500));
  self->delayed_send(self, renew_every, renew_atom::value);
  return supervised(
      self,
      [=](init_atom, pool_intake_actor pool, writer_lock_actor writer, bool release_held) {
        auto& s = self->state;
        s.pool = std::move(pool);
        s.writer = std::move(writer);
        // A restarted unit: what the unit before it held goes back before anything is claimed.
        if (release_held)
          with_db(self, "release", [&](pqxx::connection& c) {
            auto released = s.q->store->release(c, s.q->node_id);
            s.q->metrics->released += released.size();
            if (!released.empty())
              spdlog::warn("{}: released {} items held by the unit before", s.q->definition->name,
                           released.size());
          });
        poll(self);
      },
      [=](tick_atom) { poll(self); },
      [=](wake_atom) {
        self->state.wake_pending = {};
        poll(self);
      },
      [=](credit_atom, std::uint32_t n) {
        self->state.credits += static_cast<int>(n);
        poll_if_worthwhile(self);
      },
      [=](committed_atom, const std::vector<std::string>& ids) {
        auto& s = self->state;
        for (const auto& id : ids)
          s.held.erase(id);
        poll_if_worthwhile(self);
      },
      [=](renew_atom) {
        auto& s = self->state;
        if (!s.held.empty()) {
          std::vector<std::string> ids(s.held.begin(), s.held.end());
          std::vector<std::string> cancelled;
          with_db(self, "lease renewal", [&](pqxx::connection& c) {
            cancelled = s.q->store->renew(c, s.q->node_id, ids);
          });
          if (!cancelled.empty() && s.pool)
            self->send(s.pool, cancel_atom::value, std::move(cancelled));
        }
        self->delayed_send(self, renew_every, renew_atom::value);
      },
      [=](pause_atom) { self->state.paused = true; },
      [=](resume_atom) {
        self->state.paused = false;
        poll(self);
      },
      [=](drain_atom) {
        self->state.draining = true;
        return true;
      },
      [=](busy_atom) { return static_cast<std::uint32_t>(self->state.held.size()); });
}

} // namespace

poller_actor spawn_poller(caf::actor_system& system, queue_context_ptr queue,
                          std::shared_ptr<claim_sessions> sessions) {
  return system.spawn<caf::detached>(poller, std::move(queue), std::move(sessions));
}

} // namespace sky::actors
