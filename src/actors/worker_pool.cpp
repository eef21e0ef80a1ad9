// The worker pool: runs up to N items at once as work steps (coroutines on the fetcher's context,
// or inline for steps without I/O), each in a job session of its own; gives up on the ones past
// their time limit (cancelling them), and pauses its queue when steps keep crashing.
#include "actors/engine.hpp"
#include "actors/restart_policy.hpp"
#include "actors/supervision.hpp"
#include "logging/log_setup.hpp"
#include "messages/engine_protocol.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <deque>
#include <optional>
#include <spdlog/spdlog.h>
#include <unordered_map>

namespace sky::actors {
namespace {

using namespace messages;
using clock = std::chrono::steady_clock;

struct slot {
  std::optional<work_item> item;
  std::shared_ptr<workflows::job_session> session;
  clock::time_point deadline;
};

struct pool_state {
  static inline const char* name = "worker_pool";
  queue_context_ptr q;
  poller_credit_actor poller;
  writer_intake_actor writer;
  std::vector<slot> slots;
  std::vector<std::size_t> idle; // slots without an item
  std::deque<work_item> backlog;
  std::optional<restart_intensity> crashes; // of this queue's steps
  std::vector<work_done> outbox;            // finished items not yet handed to the writer
  bool sweep_armed = false;
  bool paused = false;

  // However the pool ends (a crash skips its exit handler), the steps it started are cancelled,
  // so none goes on beside its item's next attempt.
  ~pool_state() {
    for (auto& sl : slots)
      if (sl.session)
        sl.session->cancel();
  }
};

using pool_self = pool_actor::stateful_pointer<pool_state>;

// A finished item frees its slot. Results go to the writer and freed slots to the poller in
// bulk: the flush message queues behind the results already waiting in the mailbox, so a burst
// of completions costs the writer and the poller one message each.
void finish_item(pool_self self, work_done&& d) {
  auto& s = self->state;
  s.outbox.push_back(std::move(d));
  if (s.outbox.size() == 1)
    self->send(self, flush_atom::value);
}

// Time limits are checked by one sweep over the slots while any item runs, instead of a timer
// per item: a timer costs a trip through the actor clock's thread for every item.
std::chrono::milliseconds sweep_interval(const queue_context& q) {
  auto tenth = std::chrono::duration_cast<std::chrono::milliseconds>(q.config.timeout) / 10;
  return std::clamp(tenth, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
}

void arm_sweep(pool_self self) {
  auto& s = self->state;
  if (s.sweep_armed)
    return;
  s.sweep_armed = true;
  self->delayed_send(self, sweep_interval(*s.q), deadline_atom::value);
}

// Starts the step of each waiting item that has a free slot. The step reports back with a
// message, whatever thread it ends on; steps without I/O end before start() returns.
void dispatch(pool_self self) {
  auto& s = self->state;
  pool_completion_actor me = self;
  while (!s.backlog.empty() && !s.idle.empty()) {
    auto index = s.idle.back();
    s.idle.pop_back();
    auto& sl = s.slots[index];
    sl.item = std::move(s.backlog.front());
    s.backlog.pop_front();
    // The sweep reads the actor clock (a test's clock moves only when told); the step's own
    // deadline is the wall of the threads it runs on. In a server the two are one clock.
    sl.deadline = self->clock().now() + s.q->config.timeout;
    sl.session = std::make_shared<workflows::job_session>(
        *sl.item, std::string(s.q->definition->name), clock::now() + s.q->config.timeout);
    arm_sweep(self);
    auto slot_index = static_cast<std::uint32_t>(index);
    auto id = sl.item->id;
    auto attempt = sl.item->attempt;
    auto claim = sl.item->claim;
    auto queue = sl.item->queue;
    auto address = sl.item->row_address;
    // Called once: the captured strings move into the result.
    s.q->handler->start(sl.session, [me, slot_index, queue, id = std::move(id), attempt, claim,
                                     address =
                                         std::move(address)](workflows::handler_result r) mutable {
      caf::anon_send(me, finished_atom::value, slot_index,
                     work_done{queue, std::move(id), attempt, claim, r.result, std::move(r.error),
                               std::move(r.result_json), std::move(address)},
                     r.crash);
    });
  }
}

// A step that crashed or outlived its time limit: its item goes back as a failed attempt
// (retried with backoff until max_attempts), and the queue pauses when this keeps happening.
void give_up_on(pool_self self, std::size_t index, const std::string& why) {
  auto& s = self->state;
  auto& sl = s.slots[index];
  if (sl.session)
    sl.session->cancel();
  sl.session.reset();
  if (sl.item) {
    finish_item(self, work_done{sl.item->queue,
                                sl.item->id,
                                sl.item->attempt,
                                sl.item->claim,
                                outcome::retry,
                                why,
                                {},
                                sl.item->row_address});
    sl.item.reset();
  }
  s.q->metrics->worker_restarts++;
  s.idle.push_back(index);
  if (s.crashes->exceeded_after_failure(self->clock().now()) && !s.paused) {
    const auto& limits = s.crashes->limits();
    s.paused = true;
    // The poller reports the queue degraded once it has stopped claiming.
    spdlog::error("{}: {} failed steps within {} s; queue paused for {} s", s.q->definition->name,
                  s.crashes->recent(),
                  std::chrono::duration_cast<std::chrono::seconds>(limits.window).count(),
                  std::chrono::duration_cast<std::chrono::seconds>(limits.pause).count());
    self->send(s.poller, pause_atom::value);
    self->delayed_send(self, limits.pause, resume_atom::value);
  }
  dispatch(self);
}

pool_actor::behavior_type worker_pool(pool_self self, queue_context_ptr q,
                                      poller_credit_actor poller, writer_intake_actor writer) {
  auto& s = self->state;
  s.q = q;
  s.poller = std::move(poller);
  s.writer = std::move(writer);
  s.crashes.emplace(q->restarts);
  s.slots.resize(static_cast<std::size_t>(q->config.max_instances));
  for (std::size_t i = 0; i < s.slots.size(); ++i)
    s.idle.push_back(s.slots.size() - 1 - i);

  // Steps still running when the pool goes are cancelled: they end at their next await.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& sl : self->state.slots)
      if (sl.session)
        sl.session->cancel();
    self->quit(msg.reason);
  });

  return supervised(
      self,
      [=](work_batch& batch) {
        for (auto& item : batch)
          self->state.backlog.push_back(std::move(item));
        dispatch(self);
      },
      [=](finished_atom, std::uint32_t index, work_done& d, bool crashed) {
        auto& st = self->state;
        if (index < st.slots.size()) {
          auto& sl = st.slots[index];
          if (sl.item && sl.item->id == d.id && sl.item->claim == d.claim) {
            if (crashed) {
              {
                logging::item_scope item(st.q->definition->name, d.id, d.attempt);
                spdlog::warn("{}: {}", st.q->definition->name, d.error);
              }
              give_up_on(self, index, d.error);
              return;
            }
            sl.item.reset();
            sl.session.reset();
            st.idle.push_back(index);
            finish_item(self, std::move(d));
            dispatch(self);
            return;
          }
        }
        // A result of a step already given up on (timed out): its item was retried, so this
        // late answer is dropped.
        st.q->metrics->stale_results++;
      },
      [=](deadline_atom) {
        auto& st = self->state;
        st.sweep_armed = false;
        const auto now = self->clock().now();
        bool running = false;
        for (std::size_t index = 0; index < st.slots.size(); ++index) {
          auto& sl = st.slots[index];
          if (!sl.item)
            continue;
          if (sl.deadline > now) {
            running = true;
            continue;
          }
          auto why = "timed out after " + std::to_string(st.q->config.timeout.count()) + " s";
          {
            logging::item_scope item(st.q->definition->name, sl.item->id, sl.item->attempt);
            spdlog::warn("{}: {}", st.q->definition->name, why);
          }
          st.q->metrics->timeouts++;
          // Cancelled: the step ends at its next await, and its late answer is dropped.
          give_up_on(self, index, why);
        }
        if (running)
          arm_sweep(self);
      },
      [=](flush_atom) {
        auto& st = self->state;
        if (st.outbox.empty())
          return;
        auto freed = static_cast<std::uint32_t>(st.outbox.size());
        self->send(st.writer, result_batch(std::move(st.outbox)));
        st.outbox.clear();
        self->send(st.poller, credit_atom::value, freed);
      },
      [=](cancel_atom, const std::vector<std::string>& ids) {
        for (auto& sl : self->state.slots)
          if (sl.item && sl.session && std::find(ids.begin(), ids.end(), sl.item->id) != ids.end())
            sl.session->cancel();
      },
      [=](resume_atom) {
        self->state.paused = false;
        self->state.crashes->reset();
        spdlog::info("{}: resuming after pause", self->state.q->definition->name);
        self->send(self->state.poller, resume_atom::value);
      },
      [=](busy_atom) {
        const auto& st = self->state;
        return static_cast<std::uint32_t>(st.backlog.size() + st.slots.size() - st.idle.size() +
                                          st.outbox.size());
      });
}

} // namespace

pool_actor spawn_worker_pool(caf::actor_system& system, queue_context_ptr queue,
                             poller_credit_actor poller, writer_intake_actor writer) {
  return system.spawn(worker_pool, std::move(queue), std::move(poller), std::move(writer));
}

} // namespace sky::actors
