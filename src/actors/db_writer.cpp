// The db_writer, one per queue: an event-based actor that gathers results and has its queue's
// driver commit them (queue_driver.cpp: the batch's new statuses in one statement per
// outcome, fenced on (locked_by, claims), and its results in one handler write). Under load,
// results wait up to the commit interval to share a commit (schedule_flush; at most 500 per
// commit), and one commit is in flight at a time: what arrives meanwhile shares the next. A
// batch whose commit failed comes back whole and is retried after the database retry delay, which
// nothing shortens (a full buffer included).
#include "actors/backoff.hpp"
#include "actors/engine.hpp"
#include "actors/queue_driver.hpp"
#include "actors/supervision.hpp"
#include "messages/engine_protocol.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <iterator>
#include <spdlog/spdlog.h>

namespace sky::actors {
namespace {

using namespace messages;

struct writer_state {
  static inline const char* name = "db_writer";
  queue_context_ptr q;
  poller_commit_actor poller;
  std::shared_ptr<queue_driver> driver;
  std::vector<work_done> buffer;
  std::size_t writing = 0; // items of the commit in flight (0: none)
  bool flush_scheduled = false;
  bool flush_delayed = false; // the scheduled flush waits for the commit interval
  caf::actor_clock::time_point last_flush{};
  caf::actor_clock::time_point retry_at{}; // no commit before this after a failed one
  int failures_in_row = 0;
};

using writer_self = writer_actor::stateful_pointer<writer_state>;

void flush(writer_self self) {
  auto& s = self->state;
  if (s.buffer.empty() || s.writing > 0)
    return; // an answer in flight reschedules what is left
  if (const auto now = self->clock().now(); now < s.retry_at) {
    // A failed commit's backoff is not over: whatever asked for this flush waits for it.
    if (!s.flush_scheduled) {
      s.flush_scheduled = true;
      s.flush_delayed = true;
      self->delayed_send(self, s.retry_at - now, flush_atom::value);
    }
    return;
  }
  const auto n = std::min(s.buffer.size(), static_cast<std::size_t>(k_max_commit));
  result_batch batch(std::make_move_iterator(s.buffer.begin()),
                     std::make_move_iterator(s.buffer.begin() + static_cast<std::ptrdiff_t>(n)));
  s.buffer.erase(s.buffer.begin(), s.buffer.begin() + static_cast<std::ptrdiff_t>(n));
  s.writing = n;
  writer_actor me = self;
  s.driver->write(std::move(batch),
                  [me](write_result r) { caf::anon_send(me, written_atom::value, std::move(r)); });
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

void on_written(writer_self self, write_result& r) {
  auto& s = self->state;
  s.writing = 0;
  if (r.failed) {
    // Nothing of it committed: back to the front, in order, to be written again.
    s.buffer.insert(s.buffer.begin(), std::make_move_iterator(r.unwritten.begin()),
                    std::make_move_iterator(r.unwritten.end()));
    const auto delay = database_retry_delay(s.failures_in_row);
    ++s.failures_in_row;
    s.retry_at = self->clock().now() + delay;
    spdlog::warn("{}: retrying the commit of {} results in {} ms", s.q->definition->name,
                 r.unwritten.size(), delay.count());
    // A flush already asked for finds the backoff and waits for it (flush()).
    if (!s.flush_scheduled) {
      s.flush_scheduled = true;
      s.flush_delayed = true;
      self->delayed_send(self, delay, flush_atom::value);
    }
    return;
  }
  s.failures_in_row = 0;
  s.last_flush = self->clock().now();
  self->send(s.poller, committed_atom::value, std::move(r.ids));
  if (!s.buffer.empty())
    schedule_flush(self);
}

writer_actor::behavior_type db_writer(writer_self self, queue_context_ptr q,
                                      poller_commit_actor poller,
                                      std::shared_ptr<queue_driver> driver) {
  self->state.q = std::move(q);
  self->state.poller = std::move(poller);
  self->state.driver = std::move(driver);
  return supervised(
      self,
      [=](result_batch& batch) {
        auto& s = self->state;
        if (batch.empty())
          return;
        s.buffer.insert(s.buffer.end(), std::make_move_iterator(batch.begin()),
                        std::make_move_iterator(batch.end()));
        schedule_flush(self);
      },
      [=](flush_atom) {
        auto& s = self->state;
        if (!s.flush_scheduled)
          return; // a delayed flush overtaken by an early one that took its batch
        s.flush_scheduled = false;
        s.flush_delayed = false;
        flush(self);
      },
      [=](written_atom, write_result& r) { on_written(self, r); },
      [=](busy_atom) {
        return static_cast<std::uint32_t>(self->state.buffer.size() + self->state.writing);
      });
}

} // namespace

writer_actor spawn_db_writer(caf::actor_system& system, queue_context_ptr queue,
                             poller_commit_actor poller, std::shared_ptr<queue_driver> driver) {
  return system.spawn(db_writer, std::move(queue), std::move(poller), std::move(driver));
}

} // namespace sky::actors
