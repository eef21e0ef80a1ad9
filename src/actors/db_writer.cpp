// The db_writer, one per queue (detached: it blocks on libpq). Under load, results wait up to the
// commit interval to share a commit (schedule_flush; at most 500 per transaction): the
// batch's new statuses in one statement per outcome, fenced on (locked_by, claims), and its
// results in one handler write. After a permanent error, each item is written in a transaction
// of its own; after a transient one, the whole batch is kept and retried with backoff. Rows
// claimed by lock are finished in their claim session's own transaction (finish_locked).
#include "actors/backoff.hpp"
#include "actors/claim_sessions.hpp"
#include "actors/engine.hpp"
#include "actors/supervision.hpp"
#include "logging/log_setup.hpp"
#include "messages/engine_protocol.hpp"
#include "persistence/connection_pool.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <iterator>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>
#include <unordered_map>
#include <unordered_set>

namespace sky::actors {
namespace {

using namespace messages;
constexpr std::size_t k_max_batch = 500;

// A claim held by row lock in a claim session, as the writer sees it.
struct locked_claim {
  bool open = false;
  std::uint32_t generation = 0; // tells this claim's hold timer from an earlier claim's
  struct row {
    std::string address;
    std::int64_t claim = 0;
  };
  std::unordered_map<std::string, row> pending; // by id: no result yet
  std::vector<work_done> done;
};

struct writer_state {
  static inline const char* name = "db_writer";
  queue_context_ptr q;
  poller_commit_actor poller;
  std::shared_ptr<claim_sessions> sessions;
  std::vector<locked_claim> locked; // by session
  std::size_t locked_rows = 0;      // pending in all sessions
  std::unique_ptr<pqxx::connection> conn;
  std::vector<work_done> buffer;
  bool flush_scheduled = false;
  bool flush_delayed = false; // the scheduled flush waits for the commit interval
  caf::actor_clock::time_point last_flush{};
  int failures_in_row = 0;
};

using writer_self = writer_actor::stateful_pointer<writer_state>;

persistence::finish_kind kind_of(outcome o) {
  switch (o) {
  case outcome::completed:
    return persistence::finish_kind::completed;
  case outcome::retry:
    return persistence::finish_kind::retry;
  case outcome::failed:
    return persistence::finish_kind::failed;
  case outcome::cancelled:
    return persistence::finish_kind::cancelled;
  }
  return persistence::finish_kind::failed;
}

struct batch_counts {
  std::uint64_t completed = 0, failed = 0, retried = 0, cancelled = 0, stale = 0;
  // Items that did not complete, with their new status: logged once their batch committed.
  std::vector<std::pair<const work_done*, std::string>> not_completed;
};

// One line per retried, failed or cancelled item. The reason is the message and the item is the
// line's context, so a burst of items failing for one reason folds into one line and a count.
void log_outcomes(const queue_context& q, const batch_counts& c) {
  for (const auto& [d, status] : c.not_completed) {
    logging::item_scope item(q.definition->name, d->id, d->attempt);
    if (status == q.definition->queued)
      spdlog::warn("{}: attempt failed, retrying with backoff: {}", q.definition->name, d->error);
    else if (status == q.definition->error)
      spdlog::warn("{}: failed, no attempts left: {}", q.definition->name, d->error);
    else
      spdlog::info("{}: {}: {}", q.definition->name, status, d->error);
  }
}

void count(batch_counts& c, const queue_context& q, const work_done& d, const std::string& status) {
  if (status != q.definition->completed)
    c.not_completed.emplace_back(&d, status);
  if (status == q.definition->completed)
    ++c.completed;
  else if (status == q.definition->error)
    ++c.failed;
  else if (status == q.definition->queued)
    ++c.retried;
  else if (status == "Cancelled")
    ++c.cancelled;
}

bool is_transient(const std::exception& e) {
  return persistence::is_connection_error(e) ||
         dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr ||
         dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
}

double retry_seconds(const queue_context& q, int attempt) {
  return static_cast<double>(retry_delay(attempt, {q.retry_base, q.retry_cap}).count()) / 1000;
}

persistence::finish_request request_for(const queue_context& q, const work_done& d) {
  return {.id = d.id,
          .claim = d.claim,
          .kind = kind_of(d.result),
          .error = d.error,
          .retry_delay_s = d.result == outcome::retry ? retry_seconds(q, d.attempt) : 0.0,
          .result_json = d.result_json,
          .row_address = d.row_address};
}

// Fast path: one statement per outcome kind and one handler write for the whole batch.
void write_batch(const queue_context& q, pqxx::work& tx, const std::vector<work_done>& items,
                 std::size_t n, batch_counts& c) {
  std::vector<persistence::finish_request> requests;
  requests.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    requests.push_back(request_for(q, items[i]));
  auto applied = q.store->finish_many(tx, q.node_id, requests);
  std::unordered_map<std::string_view, std::string_view> status_of;
  for (const auto& a : applied)
    status_of.emplace(a.id, a.new_status);
  std::vector<workflows::written_item> written;
  written.reserve(applied.size());
  for (std::size_t i = 0; i < n; ++i) {
    auto it = status_of.find(items[i].id);
    if (it == status_of.end()) {
      ++c.stale; // the lease was lost and the row re-claimed: this attempt's result is void
      continue;
    }
    written.push_back({&items[i], std::string(it->second)});
    count(c, q, items[i], written.back().status);
  }
  if (q.handler && q.handler->write)
    q.handler->write(tx, written);
}

// The writer's own connection, opened on first use and after a loss.
void connect(writer_state& s) {
  if (s.conn)
    return;
  s.conn = persistence::open_connection(s.q->database_url, s.q->statement_timeout);
  if (s.q->session_settings)
    persistence::configure_engine_session(*s.conn);
}

void commit_or_throw(writer_state& s, pqxx::work& tx) {
  if (s.q->writer_failures && s.q->writer_failures->fetch_sub(1) > 0)
    throw pqxx::broken_connection("injected: connection lost before commit");
  tx.commit();
}

// Slow path, after the fast path hit a permanent error: each item in a transaction of its own,
// committed before the next, so a faulty item is rolled back alone and retried (or ends in Error)
// with the reason recorded. There are no per-item savepoints; the writer's one savepoint is
// finish_locked's, around the completions of a claim held by lock.
void write_item(writer_state& s, const work_done& d, batch_counts& c) {
  const auto& q = *s.q;
  std::string status;
  try {
    pqxx::work tx(*s.conn);
    bool ours = q.store->finish(tx, q.node_id, request_for(q, d), &status);
    if (ours && q.handler && q.handler->write)
      q.handler->write(tx, {{&d, status}});
    commit_or_throw(s, tx);
    if (!ours) {
      ++c.stale;
      return;
    }
    count(c, q, d, status);
  } catch (const std::exception& e) {
    if (is_transient(e))
      throw;
    spdlog::error("{}: writing the result of {} failed: {}", q.definition->name, d.id, e.what());
    pqxx::work tx(*s.conn);
    persistence::finish_request retry{.id = d.id,
                                      .claim = d.claim,
                                      .kind = persistence::finish_kind::retry,
                                      .error = std::string("result write failed: ") + e.what(),
                                      .retry_delay_s = retry_seconds(q, d.attempt),
                                      .result_json = {},
                                      .row_address = {}};
    if (q.store->finish(tx, q.node_id, retry, &status))
      count(c, q, d, status);
    commit_or_throw(s, tx);
  }
}

void flush(writer_self self) {
  auto& s = self->state;
  if (s.buffer.empty())
    return;
  const auto n = std::min(s.buffer.size(), k_max_batch);
  try {
    connect(s);
    batch_counts c;
    bool fast = true;
    try {
      pqxx::work tx(*s.conn);
      write_batch(*s.q, tx, s.buffer, n, c);
      commit_or_throw(s, tx);
    } catch (const std::exception& e) {
      if (is_transient(e))
        throw;
      spdlog::warn("{}: batch write failed ({}); isolating items", s.q->definition->name, e.what());
      fast = false;
    }
    if (!fast) {
      c = {};
      for (std::size_t i = 0; i < n; ++i)
        write_item(s, s.buffer[i], c);
    }
    log_outcomes(*s.q, c);
    std::vector<std::string> ids;
    ids.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      ids.push_back(std::move(s.buffer[i].id));
    s.buffer.erase(s.buffer.begin(), s.buffer.begin() + static_cast<std::ptrdiff_t>(n));
    auto& m = *s.q->metrics;
    m.completed += c.completed;
    m.failed += c.failed;
    m.retried += c.retried;
    m.cancelled += c.cancelled;
    m.stale_results += c.stale;
    m.commits++;
    s.failures_in_row = 0;
    self->send(s.poller, committed_atom::value, std::move(ids));
    if (!s.buffer.empty() && !s.flush_scheduled) {
      s.flush_scheduled = true;
      self->send(self, flush_atom::value);
    }
    s.last_flush = self->clock().now();
  } catch (const std::exception& e) {
    // The batch (or, on the slow path, the rest of it) did not commit: keep it all and try again.
    // Writes are fenced on (locked_by, claims), so replaying what did land changes nothing.
    s.q->metrics->db_errors++;
    if (persistence::is_connection_error(e) || !s.conn || !s.conn->is_open())
      s.conn.reset();
    auto delay = std::chrono::milliseconds(std::min(50 << std::min(s.failures_in_row, 7), 5000));
    ++s.failures_in_row;
    spdlog::warn("{}: commit of {} results failed ({}); retrying in {} ms", s.q->definition->name,
                 n, e.what(), delay.count());
    if (!s.flush_scheduled) {
      s.flush_scheduled = true;
      self->delayed_send(self, delay, flush_atom::value);
    }
  }
}

void schedule_flush(writer_self self);

// Ends a claim held by lock: completed items are written in the claim's own transaction, and
// everything else (items still running when the hold time is up, retries, failures) gets the
// lease an ordinary claim writes, in the same commit; from then on they take the general path.
// If that transaction fails, the rows are back in the queue as they were; those still unchanged
// are claimed again by lease, and every result takes the general path, whose fences void the
// ones that lost their row.
void finish_locked(writer_self self, std::uint32_t index) {
  auto& s = self->state;
  auto& q = *s.q;
  auto& claim = s.locked[index];
  auto& session = s.sessions->at(index);
  std::vector<persistence::finish_request> completions, leases;
  std::vector<work_done*> completed_items;
  for (auto& d : claim.done) {
    if (d.result == outcome::completed) {
      completions.push_back(request_for(q, d));
      completed_items.push_back(&d);
    } else {
      leases.push_back({d.id, d.claim, persistence::finish_kind::retry, {}, 0, {}, d.row_address});
    }
  }
  for (const auto& [id, row] : claim.pending)
    leases.push_back({id, row.claim, persistence::finish_kind::retry, {}, 0, {}, row.address});
  const auto outlived = claim.pending.size();
  batch_counts c;
  std::vector<std::string> committed;
  std::vector<workflows::written_item> written;
  bool ok = false;
  try {
    auto& tx = *session.tx;
    // A result the database refuses (or a handler write that fails) rolls back to here: the
    // rows stay locked, and every item then takes the general path, which isolates the culprit.
    tx.exec("SAVEPOINT finish");
    try {
      auto applied = q.store->complete_locked(tx, completions);
      std::unordered_set<std::string_view> applied_ids;
      for (const auto& a : applied)
        applied_ids.insert(a.id);
      for (auto* d : completed_items)
        if (applied_ids.contains(d->id))
          written.push_back({d, std::string(q.definition->completed)});
      if (q.handler && q.handler->write)
        q.handler->write(tx, written);
    } catch (const std::exception& e) {
      if (is_transient(e))
        throw;
      spdlog::warn("{}: batch write failed ({}); isolating items", q.definition->name, e.what());
      tx.exec("ROLLBACK TO SAVEPOINT finish");
      written.clear();
      for (auto* d : completed_items)
        leases.push_back(
            {d->id, d->claim, persistence::finish_kind::retry, {}, 0, {}, d->row_address});
      completed_items.clear();
    }
    q.store->promote(tx, q.node_id, leases);
    if (q.writer_failures && q.writer_failures->fetch_sub(1) > 0) {
      session.tx.reset(); // as if the link dropped: PostgreSQL releases the rows
      session.conn.reset();
      throw pqxx::broken_connection("injected: connection lost before commit");
    }
    tx.commit();
    ok = true;
    q.metrics->lock_leases += outlived;
    for (const auto& w : written) {
      count(c, q, *w.done, w.status);
      committed.push_back(w.done->id);
    }
  } catch (const std::exception& e) {
    q.metrics->db_errors++;
    spdlog::warn("{}: finishing {} items claimed by lock failed ({}); they take the lease path",
                 q.definition->name, claim.done.size() + claim.pending.size(), e.what());
  }
  session.tx.reset(); // after a failure: rolled back, and the rows are as they were claimed
  if (!ok) {
    // The locks are gone: rows still unchanged are claimed by lease so that their results
    // count; one that another claim took meanwhile runs again there (at least once), and this
    // attempt's result is fenced out.
    if (!session.conn || !session.conn->is_open())
      session.conn.reset();
    for (auto* d : completed_items)
      leases.push_back(
          {d->id, d->claim, persistence::finish_kind::retry, {}, 0, {}, d->row_address});
    try {
      connect(s);
      pqxx::work tx(*s.conn);
      q.store->promote(tx, q.node_id, leases);
      tx.commit();
    } catch (const std::exception& e) {
      if (persistence::is_connection_error(e) || !s.conn || !s.conn->is_open())
        s.conn.reset();
      spdlog::warn("{}: claiming {} rows by lease after a failed finish failed ({})",
                   q.definition->name, leases.size(), e.what());
    }
  }
  q.metrics->commits += ok ? 1 : 0;
  q.metrics->completed += c.completed;
  s.locked_rows -= claim.pending.size();
  claim.pending.clear();
  claim.open = false;
  // What was not completed here (all of it after a failure) continues as a lease claim.
  std::unordered_set<std::string_view> done_here(committed.begin(), committed.end());
  for (auto& d : claim.done)
    if (!done_here.contains(d.id)) {
      d.session = 0;
      s.buffer.push_back(std::move(d));
    }
  claim.done.clear();
  s.sessions->give_back(index);
  // Also when empty: the poller may be waiting for a free session.
  self->send(s.poller, committed_atom::value, std::move(committed));
  if (!s.buffer.empty())
    schedule_flush(self);
}

// A commit costs PostgreSQL a WAL flush and two statements' set-up whatever the batch, so under
// load results wait up to the commit interval to share one. An idle writer (nothing committed
// within the interval) and a full batch commit at once: the interval adds latency only where
// results arrive faster than it.
void schedule_flush(writer_self self) {
  auto& s = self->state;
  const auto interval = s.q->config.commit_interval;
  const bool full = s.buffer.size() >= static_cast<std::size_t>(s.q->config.claim_batch());
  if (s.flush_scheduled) {
    if (s.flush_delayed && full) {
      s.flush_delayed = false; // the delayed message will find a smaller batch, or none
      self->send(self, flush_atom::value);
    }
    return;
  }
  s.flush_scheduled = true;
  const auto since = self->clock().now() - s.last_flush;
  if (full || since >= interval) {
    // The flush message queues behind whatever already waits in the mailbox, so everything
    // that arrived meanwhile shares one commit.
    self->send(self, flush_atom::value);
    return;
  }
  s.flush_delayed = true;
  self->delayed_send(self, std::chrono::duration_cast<caf::timespan>(interval - since),
                     flush_atom::value);
}

writer_actor::behavior_type db_writer(writer_self self, queue_context_ptr q,
                                      poller_commit_actor poller,
                                      std::shared_ptr<claim_sessions> sessions) {
  self->state.q = std::move(q);
  self->state.poller = std::move(poller);
  self->state.locked.resize(sessions->size());
  self->state.sessions = std::move(sessions);
  return supervised(
      self,
      [=](result_batch& batch) {
        auto& s = self->state;
        const auto before = s.buffer.size();
        for (auto& d : batch) {
          if (d.session > 0 && d.session <= s.locked.size()) {
            const auto index = d.session - 1;
            auto& claim = s.locked[index];
            auto it = claim.open ? claim.pending.find(d.id) : claim.pending.end();
            if (it != claim.pending.end() && it->second.claim == d.claim) {
              claim.pending.erase(it);
              --s.locked_rows;
              claim.done.push_back(std::move(d));
              if (claim.pending.empty())
                finish_locked(self, index);
              continue;
            }
            d.session = 0; // promoted to a lease meanwhile: the general path
          }
          s.buffer.push_back(std::move(d));
        }
        if (s.buffer.size() > before)
          schedule_flush(self);
      },
      [=](locked_atom, std::uint32_t index, std::vector<std::string>& ids,
          std::vector<std::string>& addresses, std::vector<std::int64_t>& claims) {
        auto& s = self->state;
        auto& claim = s.locked[index];
        claim.open = true;
        ++claim.generation;
        claim.pending.reserve(ids.size());
        for (std::size_t i = 0; i < ids.size(); ++i)
          claim.pending.emplace(std::move(ids[i]),
                                locked_claim::row{std::move(addresses[i]), claims[i]});
        s.locked_rows += claim.pending.size();
        self->delayed_send(self, s.q->config.lock_hold, promote_atom::value, index,
                           claim.generation);
      },
      [=](promote_atom, std::uint32_t index, std::uint32_t generation) {
        auto& s = self->state;
        if (s.locked[index].open && s.locked[index].generation == generation)
          finish_locked(self, index);
      },
      [=](flush_atom) {
        auto& s = self->state;
        if (!s.flush_scheduled)
          return; // a delayed flush overtaken by an early one that took its batch
        s.flush_scheduled = false;
        s.flush_delayed = false;
        flush(self);
      },
      [=](busy_atom) {
        return static_cast<std::uint32_t>(self->state.buffer.size() + self->state.locked_rows);
      });
}

} // namespace

writer_actor spawn_db_writer(caf::actor_system& system, queue_context_ptr queue,
                             poller_commit_actor poller, std::shared_ptr<claim_sessions> sessions) {
  return system.spawn<caf::detached>(db_writer, std::move(queue), std::move(poller),
                                     std::move(sessions));
}

} // namespace sky::actors
