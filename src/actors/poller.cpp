// The generic poller: one per queue. Claims rows for its pool's free slots (and, while the queue
// has a backlog, for the slots that free during a claim's round trip) and renews their leases,
// through its queue's driver (which owns the database side); rescue and retention are the
// maintenance actor's (maintenance.cpp). At most one claim and one renewal are in flight at a
// time. While the queue is idle, a claim stands in the driver for the notifier to run on the next
// NOTIFY, so that a pickup does not wait for a hop to this actor and back.
#include "actors/backoff.hpp"
#include "actors/engine.hpp"
#include "actors/queue_driver.hpp"
#include "actors/supervision.hpp"
#include "messages/engine_protocol.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <cmath>
#include <unordered_set>

namespace sky::actors {
namespace {

using namespace messages;

struct poller_state {
  static inline const char* name = "poller";
  queue_context_ptr q;
  std::shared_ptr<queue_driver> driver;
  pool_intake_actor pool;
  int credits = 0;              // free slots not yet claimed for; below 0 while claimed ahead
  bool want_more = true;        // poll again as soon as credits allow
  bool backlog_seen = false;    // the last claim came back full: more rows are due
  int freed_while_claiming = 0; // slots freed during the claim in flight
  double freed_per_claim = 0;   // their running average over the last claims
  int commit_size = 0;          // the writer's recent commits: the last, or half the one before
  bool claiming = false;        // a claim is in flight
  bool standing = false;        // a claim stands in the driver for the next NOTIFY (or ran)
  bool poll_again = false; // a tick or wake came while claiming: the claim may predate its rows
  bool renewing = false;
  bool paused = false;
  bool draining = false;
  std::unordered_set<std::string> held;        // claimed and not yet committed by the writer
  caf::actor_clock::time_point wake_pending{}; // earliest self-wake already scheduled
  int db_failures = 0;
  bool lost_connection = false;  // the driver lost its connection: the next claim checks orphans
  bool claim_names_held = false; // the claim in flight names the rows held (checks orphans)
};

using poller_self = poller_actor::stateful_pointer<poller_state>;

void schedule_wake(poller_self self, std::chrono::milliseconds delay) {
  auto& s = self->state;
  const auto now = self->clock().now();
  auto at = now + delay;
  if (s.wake_pending > now && s.wake_pending <= at)
    return;
  s.wake_pending = at;
  self->delayed_send(self, delay, wake_atom::value);
}

// woken: a tick or a wake (new rows may be due), not only freed slots.
void poll(poller_self self, bool woken = false);

// Rows the poller may claim now: the free slots and, while the queue has a backlog, as many
// rows ahead of them as slots free during a claim's round trip (at most a batch), so that steps
// shorter than that round trip find rows waiting instead of idling through every claim. Steps
// much longer than a claim free no slot meanwhile and get no row ahead, and neither does a
// shallow queue: a row claimed ahead waits here while another node could run it.
int rows_ahead(const poller_state& s) {
  if (!s.backlog_seen)
    return 0;
  return std::min(static_cast<int>(std::lround(s.freed_per_claim)),
                  std::min(s.q->config.claim_batch(), s.q->config.max_instances));
}

int allowance(const poller_state& s) {
  return s.credits + rows_ahead(s);
}

// Rows the writer may hold: at least two batches, and otherwise one commit in flight and twice
// its size gathering, so that a commit can take twice the rows of the one before while the rate
// grows (a commit costs about the same whatever its size). A writer that stalls stops the claims
// at three of the commits it made before.
int writer_share(const poller_state& s) {
  return std::max(2 * s.q->config.claim_batch(), 3 * std::min(s.commit_size, k_max_commit));
}

// Under load, credits trickle back one by one; claiming each alone would cost a statement and a
// commit per row. Wait for a useful batch unless the pool is about to run dry (fewer than that
// many credits means at least as many rows are in flight, and their credits will come).
void poll_if_worthwhile(poller_self self) {
  auto& s = self->state;
  const int useful =
      std::max(1, std::min(s.q->config.claim_batch(), s.q->config.max_instances) / 2);
  if (s.want_more && (allowance(s) >= useful || s.credits >= s.q->config.max_instances))
    poll(self);
}

// Rows one claim may ask for now.
int claim_limit(const poller_state& s) {
  // Claimed rows not yet committed are bounded, so a slow writer slows claiming down: the slots,
  // the rows ahead, and the writer's share.
  const int max_held = s.q->config.max_instances + rows_ahead(s) + writer_share(s);
  // A claim takes a batch, and the rows ahead on top: with one claim in flight at a time, the
  // rows a claim brings bound what steps shorter than its round trip can run.
  return std::min({allowance(s), s.q->config.claim_batch() + rows_ahead(s),
                   max_held - static_cast<int>(s.held.size())});
}

queue_driver::reply<claim_result> replies_to(const poller_actor& me) {
  return [me](claim_result r) { caf::anon_send(me, claimed_atom::value, std::move(r)); };
}

// Takes the standing claim back before the poller claims itself (or pauses, or drains). False
// when a NOTIFY already ran it: that claim is in flight, and its answer comes as any other.
bool take_back_standing(poller_self self) {
  auto& s = self->state;
  if (!s.standing)
    return true;
  s.standing = false;
  if (s.driver->withdraw_claim())
    return true;
  s.claiming = true;
  s.claim_names_held = false;
  s.freed_while_claiming = 0;
  return false;
}

// An idle queue (its last claim came back short) leaves a claim standing for its next NOTIFY,
// and refreshes it as slots free and commits land, so that its limit stays the one poll() would
// ask now.
void stand_if_idle(poller_self self) {
  auto& s = self->state;
  if (!s.pool || s.paused || s.draining || s.claiming || s.want_more || s.lost_connection ||
      !take_back_standing(self))
    return;
  const int limit = claim_limit(s);
  if (limit <= 0)
    return;
  s.standing = true;
  s.driver->stand_claim(limit, replies_to(self));
}

void poll(poller_self self, bool woken) {
  auto& s = self->state;
  if (!s.pool || s.paused || s.draining)
    return;
  if (s.claiming || !take_back_standing(self)) {
    // Freed slots are seen when the claim answers; a wake may be about rows it missed.
    s.poll_again = s.poll_again || woken;
    return;
  }
  const int limit = claim_limit(s);
  if (limit <= 0) {
    s.want_more = true;
    return;
  }
  std::optional<std::vector<std::string>> known;
  if (s.lost_connection)
    known.emplace(s.held.begin(), s.held.end());
  s.claim_names_held = known.has_value();
  s.claiming = true;
  s.freed_while_claiming = 0;
  s.poll_again = false;
  s.driver->claim(limit, std::move(known), replies_to(self));
}

void on_claimed(poller_self self, claim_result& r) {
  auto& s = self->state;
  s.claiming = false;
  if (s.paused)
    s.q->metrics->degraded = true; // the claim in flight at the pause has answered
  s.standing = false;              // when a NOTIFY ran it unseen
  s.freed_per_claim = (s.freed_per_claim + s.freed_while_claiming) / 2;
  // A claim that failed, or did not name the rows held, leaves a lost connection's check to the
  // next one.
  s.lost_connection = r.connection_lost || (s.lost_connection && (r.failed || !s.claim_names_held));
  if (r.failed) {
    // A database outage never kills the poller: it tries again with backoff.
    const auto delay = database_retry_delay(s.db_failures);
    ++s.db_failures;
    schedule_wake(self, delay);
    return;
  }
  s.db_failures = 0;
  const auto n = static_cast<int>(r.items.size());
  for (const auto& item : r.items)
    s.held.insert(item.id);
  // Also a draining poller hands over what it claimed: the rows are this node's now.
  if (n > 0)
    self->send(s.pool, std::move(r.items));
  s.credits -= n;
  if (n == r.asked) {
    // A full batch: there may be more; continue while slots are free.
    s.want_more = true;
    s.backlog_seen = true;
    if (allowance(s) > 0)
      poll(self);
    return;
  }
  s.want_more = false;
  s.backlog_seen = false;
  // Rows in backoff get a timer instead of the fallback interval. Asked now that the rows are on
  // their way to the pool, so that the question's round trip delays no pickup.
  s.driver->next_due([me = poller_actor(self)](double seconds) {
    caf::anon_send(me, next_due_atom::value, seconds);
  });
  if (s.poll_again) {
    poll(self);
    return;
  }
  stand_if_idle(self);
}

// After a short claim: rows waiting for their backoff to elapse get a timer instead of the
// fallback interval.
void on_next_due(poller_self self, double seconds) {
  auto ms = std::chrono::milliseconds(static_cast<long long>(std::max(seconds, 0.0) * 1000) + 5);
  if (seconds <= 0)
    ms = std::chrono::milliseconds(100); // due but locked by a concurrent claim: look again soon
  if (ms < self->state.q->config.interval)
    schedule_wake(self, ms);
}

poller_actor::behavior_type poller(poller_self self, queue_context_ptr q,
                                   std::shared_ptr<queue_driver> driver) {
  self->state.q = q;
  self->state.driver = std::move(driver);
  self->state.credits = q->config.max_instances;
  // A NOTIFY after this poller is gone must not claim rows for it.
  self->attach_functor([driver = self->state.driver] { driver->withdraw_claim(); });
  auto renew_every =
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(q->config.lease) / 3,
               std::chrono::milliseconds(500));
  self->delayed_send(self, renew_every, renew_atom::value);
  return supervised(
      self,
      [=](init_atom, pool_intake_actor pool, bool release_held) {
        auto& s = self->state;
        s.pool = std::move(pool);
        // A restarted unit: what the unit before it held goes back before anything is claimed
        // (the driver's claim lane runs them in this order).
        if (release_held)
          s.driver->release_held();
        poll(self, true);
      },
      [=](tick_atom) { poll(self, true); },
      [=](wake_atom) {
        self->state.wake_pending = {};
        poll(self, true);
      },
      [=](claimed_atom, claim_result& r) { on_claimed(self, r); },
      [=](next_due_atom, double seconds) { on_next_due(self, seconds); },
      [=](credit_atom, std::uint32_t n) {
        self->state.credits += static_cast<int>(n);
        if (self->state.claiming)
          self->state.freed_while_claiming += static_cast<int>(n);
        poll_if_worthwhile(self);
        if (self->state.standing)
          stand_if_idle(self);
      },
      [=](committed_atom, const std::vector<std::string>& ids) {
        auto& s = self->state;
        s.commit_size = std::max(static_cast<int>(ids.size()), s.commit_size / 2);
        for (const auto& id : ids)
          s.held.erase(id);
        poll_if_worthwhile(self);
        if (s.standing)
          stand_if_idle(self);
      },
      [=](renew_atom) {
        auto& s = self->state;
        self->delayed_send(self, renew_every, renew_atom::value);
        if (s.held.empty() || s.renewing)
          return;
        s.renewing = true;
        poller_actor me = self;
        s.driver->renew(std::vector<std::string>(s.held.begin(), s.held.end()),
                        [me](std::vector<std::string> cancelled, bool lost) {
                          caf::anon_send(me, renewed_atom::value, std::move(cancelled), lost);
                        });
      },
      [=](renewed_atom, std::vector<std::string>& cancelled, bool lost) {
        auto& s = self->state;
        s.renewing = false;
        s.lost_connection = s.lost_connection || lost;
        if (lost)
          take_back_standing(self); // the next claim names the rows held
        if (!cancelled.empty() && s.pool)
          self->send(s.pool, cancel_atom::value, std::move(cancelled));
      },
      [=](pause_atom) {
        auto& s = self->state;
        take_back_standing(self);
        s.paused = true;
        // Reported once no claim is in flight (else when it answers): a claim that answered
        // after the report could take rows submitted after it.
        if (!s.claiming)
          s.q->metrics->degraded = true;
      },
      [=](resume_atom) {
        self->state.paused = false;
        self->state.q->metrics->degraded = false;
        poll(self, true);
      },
      [=](drain_atom) {
        take_back_standing(self);
        self->state.draining = true;
        return true;
      },
      [=](busy_atom) { return static_cast<std::uint32_t>(self->state.held.size()); });
}

} // namespace

poller_actor spawn_poller(caf::actor_system& system, queue_context_ptr queue,
                          std::shared_ptr<queue_driver> driver) {
  return system.spawn(poller, std::move(queue), std::move(driver));
}

} // namespace sky::actors
