// The queue driver over PostgreSQL: the claim lane runs claims, lease renewals and releases on
// the poller's connection; the write lane commits results on the writer's. Each connection is
// opened on first use and again after a loss, and only its own lane ever touches it.
#include "actors/queue_driver.hpp"

#include "actors/backoff.hpp"
#include "actors/engine.hpp"
#include "logging/log_setup.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/database_threads.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>
#include <unordered_map>

namespace sky::actors {
namespace {

using namespace messages;

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
void write_batch(const queue_context& q, pqxx::work& tx, const result_batch& items,
                 batch_counts& c) {
  std::vector<persistence::finish_request> requests;
  requests.reserve(items.size());
  for (const auto& d : items)
    requests.push_back(request_for(q, d));
  auto applied = q.store->finish_many(tx, q.node_id, requests);
  std::unordered_map<std::string_view, std::string_view> status_of;
  for (const auto& a : applied)
    status_of.emplace(a.id, a.new_status);
  std::vector<workflows::written_item> written;
  written.reserve(applied.size());
  for (const auto& d : items) {
    auto it = status_of.find(d.id);
    if (it == status_of.end()) {
      ++c.stale; // the lease was lost and the row re-claimed: this attempt's result is void
      continue;
    }
    written.push_back({&d, std::string(it->second)});
    count(c, q, d, written.back().status);
  }
  if (q.handler && q.handler->write)
    q.handler->write(tx, written);
}

class postgres_driver final : public queue_driver,
                              public std::enable_shared_from_this<postgres_driver> {
public:
  postgres_driver(std::shared_ptr<const queue_context> q, persistence::database_threads& threads)
      : q_(std::move(q)), claim_lane_(threads.make_lane()), write_lane_(threads.make_lane()) {}

  void release_held() override {
    claim_lane_.post([self = shared_from_this()] {
      self->on_claim_connection("release", [&](pqxx::connection& c) {
        const auto n = self->q_->store->release(c, self->q_->node_id).size();
        self->q_->metrics->released += n;
        if (n > 0)
          spdlog::warn("{}: released {} items held by the unit before", self->q_->definition->name,
                       n);
      });
    });
  }

  void claim(int limit, std::optional<std::vector<std::string>> known,
             reply<claim_result> claimed) override {
    // From the notifier's thread (a standing claim) the claim runs right after the notifier's
    // task, on the same thread.
    claim_lane_.post_next(
        [self = shared_from_this(), limit, known = std::move(known),
         claimed = std::move(claimed)]() mutable { claimed(self->claim_now(limit, known)); });
  }

  void next_due(reply<double> due) override {
    claim_lane_.post([self = shared_from_this(), due = std::move(due)] {
      // A connection lost here is reported by the next claim, which the orphan check needs.
      self->on_claim_connection("next-due", [&](pqxx::connection& c) {
        if (auto seconds = self->q_->store->next_due_in(c))
          due(*seconds);
      });
    });
  }

  void renew(std::vector<std::string> ids,
             std::function<void(std::vector<std::string>, bool)> done) override {
    claim_lane_.post([self = shared_from_this(), ids = std::move(ids), done = std::move(done)] {
      std::vector<std::string> cancelled;
      self->on_claim_connection("lease renewal", [&](pqxx::connection& c) {
        cancelled = self->q_->store->renew(c, self->q_->node_id, ids);
      });
      done(std::move(cancelled), self->claim_lost_);
    });
  }

  void write(result_batch items, reply<write_result> done) override {
    write_lane_.post(
        [self = shared_from_this(), items = std::move(items), done = std::move(done)]() mutable {
          done(self->write_now(std::move(items)));
        });
  }

private:
  // -- the claim lane's own state -----------------------------------------------------------
  std::unique_ptr<pqxx::connection> claim_conn_;
  bool claim_lost_ = false; // lost since the orphans were last checked

  // -- the write lane's own state -----------------------------------------------------------
  std::unique_ptr<pqxx::connection> write_conn_;

  std::shared_ptr<const queue_context> q_;
  persistence::database_threads::lane claim_lane_, write_lane_;

  void count_failure(const char* what, const std::exception& e) {
    q_->metrics->db_errors++;
    spdlog::warn("{}: {} failed ({})", q_->definition->name, what, e.what());
  }

  // Runs `f` on the claim connection, opened first if need be; a broken connection is dropped
  // and remembered as lost. False: it failed (counted and logged).
  template <class F> bool on_claim_connection(const char* what, F&& f) {
    try {
      // Claims, lease renewals and releases need not wait for the WAL flush: if the server
      // crashes before it, the row simply is still Queued (or its old lease stands), and any
      // result of that attempt is fenced out. Results and final statuses stay durable.
      if (!claim_conn_)
        claim_conn_ = persistence::open_engine_connection(q_->database_url, q_->statement_timeout,
                                                          q_->session_settings, false);
      f(*claim_conn_);
      return true;
    } catch (const std::exception& e) {
      count_failure(what, e);
      if (persistence::is_connection_error(e) || !claim_conn_ || !claim_conn_->is_open()) {
        claim_conn_.reset();
        claim_lost_ = true;
      }
      return false;
    }
  }

  claim_result claim_now(int limit, const std::optional<std::vector<std::string>>& known) {
    claim_result r;
    r.asked = limit;
    std::vector<persistence::claimed_row> rows;
    const bool ok = on_claim_connection("claim", [&](pqxx::connection& c) {
      if (claim_lost_ && known) {
        // A claim in flight when the link dropped may have committed unseen; its rows are ours
        // but unknown to the poller, so they go back now rather than when their lease expires.
        auto orphans = q_->store->release_orphans(c, q_->node_id, *known);
        q_->metrics->released += orphans.size();
        if (!orphans.empty())
          spdlog::warn("{}: returned {} rows claimed before the connection was lost",
                       q_->definition->name, orphans.size());
        claim_lost_ = false;
      }
      rows = q_->store->claim(c, q_->node_id, limit);
    });
    r.connection_lost = claim_lost_;
    if (!ok) {
      r.failed = true;
      return r;
    }
    // Claims are the hot path: at debug, so that a busy queue does not write a line per claim.
    if (!rows.empty()) {
      spdlog::debug("{}: claimed {} rows", q_->definition->name, rows.size());
      q_->metrics->claim_batches++;
    }
    r.items.reserve(rows.size());
    for (auto& row : rows) {
      q_->metrics->claimed++;
      q_->metrics->observe_pickup(row.pickup_latency_s);
      r.items.push_back({.queue = q_->index,
                         .id = std::move(row.id),
                         .attempt = row.attempt,
                         .claim = row.claim,
                         .payload_json = std::move(row.payload_json),
                         .row_address = std::move(row.row_address)});
    }
    return r;
  }

  // -- the write lane ---------------------------------------------------------------------------

  pqxx::connection& write_connection() {
    if (!write_conn_)
      write_conn_ = persistence::open_engine_connection(q_->database_url, q_->statement_timeout,
                                                        q_->session_settings, true);
    return *write_conn_;
  }

  void commit_or_throw(pqxx::work& tx) {
    if (q_->writer_failures && q_->writer_failures->fetch_sub(1) > 0)
      throw pqxx::broken_connection("injected: connection lost before commit");
    tx.commit();
  }

  // Slow path, after the fast path hit a permanent error: each item in a transaction of its own,
  // committed before the next, so a faulty item is rolled back alone and retried (or ends in
  // Error) with the reason recorded.
  void write_item(const work_done& d, batch_counts& c) {
    const auto& q = *q_;
    std::string status;
    try {
      pqxx::work tx(write_connection());
      bool ours = q.store->finish(tx, q.node_id, request_for(q, d), &status);
      if (ours && q.handler && q.handler->write)
        q.handler->write(tx, {{&d, status}});
      commit_or_throw(tx);
      if (!ours) {
        ++c.stale;
        return;
      }
      count(c, q, d, status);
    } catch (const std::exception& e) {
      if (is_transient(e))
        throw;
      spdlog::error("{}: writing the result of {} failed: {}", q.definition->name, d.id, e.what());
      pqxx::work tx(write_connection());
      persistence::finish_request retry{.id = d.id,
                                        .claim = d.claim,
                                        .kind = persistence::finish_kind::retry,
                                        .error = std::string("result write failed: ") + e.what(),
                                        .retry_delay_s = retry_seconds(q, d.attempt),
                                        .result_json = {},
                                        .row_address = {}};
      if (q.store->finish(tx, q.node_id, retry, &status))
        count(c, q, d, status);
      commit_or_throw(tx);
    }
  }

  write_result write_now(result_batch items) {
    write_result r;
    try {
      batch_counts c;
      bool fast = true;
      try {
        pqxx::work tx(write_connection());
        write_batch(*q_, tx, items, c);
        commit_or_throw(tx);
      } catch (const std::exception& e) {
        if (is_transient(e))
          throw;
        spdlog::warn("{}: batch write failed ({}); isolating items", q_->definition->name,
                     e.what());
        fast = false;
      }
      if (!fast) {
        c = {};
        for (const auto& d : items)
          write_item(d, c);
      }
      log_outcomes(*q_, c);
      auto& m = *q_->metrics;
      m.completed += c.completed;
      m.failed += c.failed;
      m.retried += c.retried;
      m.cancelled += c.cancelled;
      m.stale_results += c.stale;
      m.commits++;
      r.ids.reserve(items.size());
      for (auto& d : items)
        r.ids.push_back(std::move(d.id));
    } catch (const std::exception& e) {
      // The batch (or, on the slow path, the rest of it) did not commit: it all comes back to be
      // written again. Writes are fenced on (locked_by, claims): replaying what landed changes
      // nothing.
      q_->metrics->db_errors++;
      if (persistence::is_connection_error(e) || !write_conn_ || !write_conn_->is_open())
        write_conn_.reset();
      spdlog::warn("{}: commit of {} results failed ({})", q_->definition->name, items.size(),
                   e.what());
      r.failed = true;
      r.unwritten = std::move(items);
    }
    return r;
  }
};

} // namespace

void queue_driver::stand_claim(int limit, reply<claim_result> claimed) {
  std::lock_guard lock(standing_mutex_);
  standing_ = standing{limit, std::move(claimed)};
}

bool queue_driver::withdraw_claim() {
  std::lock_guard lock(standing_mutex_);
  return std::exchange(standing_, std::nullopt).has_value();
}

bool queue_driver::run_standing_claim() {
  std::optional<standing> run;
  {
    std::lock_guard lock(standing_mutex_);
    run = std::exchange(standing_, std::nullopt);
  }
  if (!run)
    return false;
  claim(run->limit, std::nullopt, std::move(run->claimed));
  return true;
}

std::shared_ptr<queue_driver> make_postgres_driver(std::shared_ptr<const queue_context> queue,
                                                   persistence::database_threads& threads) {
  return std::make_shared<postgres_driver>(std::move(queue), threads);
}

} // namespace sky::actors
