// The node's maintenance actor: rescues rows whose lease expired, deletes jobs past the
// retention (and forgets hosts whose booked slots are long past), folds the status deltas into
// the finished counts. Apart from the pollers, so that claiming never waits behind it, and run by
// one node at a time: the holder of the maintenance lease. The actor only keeps time; each pass
// runs on a lane of the node's database threads, which owns the maintenance connection.
#include "actors/backoff.hpp"
#include "actors/engine.hpp"
#include "actors/supervision.hpp"
#include "logging/log_setup.hpp"
#include "messages/engine_protocol.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/database_threads.hpp"
#include "persistence/sql_catalog.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace sky::actors {
namespace {

using namespace messages;
using clock = std::chrono::steady_clock;

// Past a lease's end before a pass looks for it: the clocks of PostgreSQL and of this node need
// not tick together, and a pass that comes too early waits for the next one.
constexpr auto k_lease_margin = std::chrono::milliseconds(100);
// The shortest gap between two passes of a queue: a lease that has ended on a row another
// transaction still locks (a late finish) must not bring a pass every few milliseconds, each
// walking the queue's unfinished rows.
constexpr auto k_min_pass_gap = std::chrono::seconds(1);

// What the passes use, touched only on the maintenance lane (one task at a time).
struct maintenance_work {
  maintenance_settings settings;
  std::unique_ptr<pqxx::connection> conn;
  std::vector<clock::time_point> due; // by entry of settings.queues: its next pass
  int db_failures = 0;
  std::atomic<bool> retired{false}; // its actor is gone: a pass still running leads no more
};

pqxx::connection& connection(maintenance_work& s) {
  // A rescue lost in a crash before the WAL flush is simply done again by the next pass.
  if (!s.conn)
    s.conn = persistence::open_engine_connection(
        s.settings.database_url, s.settings.statement_timeout, s.settings.session_settings, false);
  return *s.conn;
}

bool take_lead(maintenance_work& s) {
  pqxx::nontransaction tx(connection(s));
  const auto lease_ms = static_cast<int>(s.settings.leader_lease.count());
  const bool leads =
      !tx.exec_params(persistence::query("maintenance_lead"), s.settings.node_id, lease_ms)
           .empty() &&
      !s.retired;
  if (leads != s.settings.metrics->leader.load())
    spdlog::info("maintenance: this node {} the leader", leads ? "is now" : "is no longer");
  s.settings.metrics->leader = leads;
  return leads;
}

// One queue's pass. Returns whether retention left a backlog (more to delete than one pass's
// time budget allows), so that the next pass comes after a second rather than an interval.
bool maintain(maintenance_work& s, const maintained_queue& q) {
  auto& c = connection(s);
  const auto name = q.definition->name;
  for (;;) {
    auto rows = q.store->rescue(c, 500);
    q.metrics->rescued += rows.size();
    s.settings.metrics->rescued += rows.size();
    for (const auto& r : rows) {
      logging::item_scope item(name, r.id, 0);
      spdlog::warn("{}: lease expired (its node was lost); now {}", name, r.new_status);
    }
    if (rows.size() < 500)
      break;
  }
  q.store->fold_status_counts(c);
  q.store->forget_past_hosts(c, 1000);
  if (q.definition->job_type.empty() || s.settings.retention_days <= 0)
    return false;
  // In small batches (no lock is held long) within a time budget.
  constexpr int k_batch = 1000;
  constexpr auto k_pass_budget = std::chrono::milliseconds(250);
  const auto started = clock::now();
  std::size_t deleted = 0;
  bool backlog = false;
  for (;;) {
    auto n = q.store->delete_finished(c, s.settings.retention_days, k_batch);
    deleted += n;
    if (n < static_cast<std::size_t>(k_batch))
      break;
    if (clock::now() - started >= k_pass_budget) {
      backlog = true;
      break;
    }
  }
  s.settings.metrics->deleted += deleted;
  if (deleted > 0)
    spdlog::info("{}: deleted {} jobs finished more than {} days ago{}", name, deleted,
                 s.settings.retention_days, backlog ? " (more to go)" : "");
  return backlog;
}

// The passes that are due, on the lane; returns when the next tick is to come.
clock::time_point run_due_passes(maintenance_work& s) {
  const auto renew_every = s.settings.leader_lease / 3;
  try {
    if (take_lead(s)) {
      const auto round_started = clock::now();
      bool any = false;
      for (std::size_t i = 0; i < s.settings.queues.size(); ++i) {
        if (clock::now() < s.due[i])
          continue;
        any = true;
        const auto& q = s.settings.queues[i];
        const bool backlog = maintain(s, q);
        s.settings.metrics->passes++;
        s.due[i] = clock::now() + (backlog ? std::chrono::milliseconds(1000) : q.interval);
        // A lost node's rows come back just after their lease ends, not an interval later.
        if (auto lease_end = q.store->next_lease_end_in(connection(s))) {
          const auto at =
              clock::now() +
              std::chrono::milliseconds(static_cast<long long>(std::max(*lease_end, 0.0) * 1000)) +
              k_lease_margin;
          s.due[i] = std::min(s.due[i], std::max(at, clock::now() + k_min_pass_gap));
        }
      }
      if (any)
        s.settings.metrics->last_pass_us = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - round_started)
                .count());
    }
    s.db_failures = 0;
  } catch (const std::exception& e) {
    s.settings.metrics->db_errors++;
    s.settings.metrics->leader = false;
    if (persistence::is_connection_error(e) || !s.conn || !s.conn->is_open())
      s.conn.reset();
    const auto delay = database_retry_delay(s.db_failures);
    ++s.db_failures;
    spdlog::warn("maintenance: a pass failed ({}); retrying in {} ms", e.what(), delay.count());
    return clock::now() + delay;
  }
  auto next = clock::now() + renew_every;
  if (s.settings.metrics->leader)
    for (auto at : s.due)
      next = std::min(next, at);
  return next;
}

struct maintenance_state {
  static inline const char* name = "maintenance";
  std::shared_ptr<maintenance_work> work;
  persistence::database_threads::lane lane;
  bool running = false; // a pass is on the lane
};

using maintenance_self = maintenance_actor::stateful_pointer<maintenance_state>;

maintenance_actor::behavior_type maintenance(maintenance_self self, maintenance_settings settings) {
  auto& s = self->state;
  s.lane = settings.threads->make_lane();
  s.work = std::make_shared<maintenance_work>();
  s.work->settings = std::move(settings);
  s.work->due.assign(s.work->settings.queues.size(), clock::now());
  self->attach_functor([work = s.work] {
    work->retired = true;
    work->settings.metrics->leader = false;
  });
  self->send(self, tick_atom::value);
  return supervised(
      self,
      [=](tick_atom) {
        auto& st = self->state;
        if (st.running)
          return;
        st.running = true;
        maintenance_actor me = self;
        st.lane.post([work = st.work, me] {
          const auto next = run_due_passes(*work);
          const auto ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(next - clock::now());
          caf::anon_send(me, done_atom::value,
                         static_cast<std::int64_t>(std::max<long long>(ms.count(), 0)));
        });
      },
      [=](done_atom, std::int64_t next_ms) {
        self->state.running = false;
        self->delayed_send(self, std::chrono::milliseconds(next_ms), tick_atom::value);
      });
}

} // namespace

maintenance_actor spawn_maintenance(caf::actor_system& system, maintenance_settings settings) {
  return system.spawn(maintenance, std::move(settings));
}

void resign_maintenance(pqxx::connection& conn, const std::string& node_id) {
  pqxx::nontransaction(conn).exec_params(persistence::query("maintenance_resign"), node_id);
}

} // namespace sky::actors
