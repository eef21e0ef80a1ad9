// The worker pool: a supervisor that monitors N workers, replaces the ones that die or hang, and
// pauses its queue when they keep dying.
#include "actors/engine.hpp"
#include "messages/queue_messages.hpp"

#include <caf/all.hpp>
#include <deque>
#include <optional>
#include <spdlog/spdlog.h>

namespace sky::actors {
namespace {

using namespace messages;
using clock = std::chrono::steady_clock;

constexpr int k_max_restarts = 10;
constexpr auto k_restart_window = std::chrono::seconds(60);
constexpr auto k_pause_for = std::chrono::seconds(60);

// A worker runs one item at a time. It is detached because handlers may block; an exception in
// a handler ends the worker and its supervisor sees the down message.
caf::behavior worker(caf::event_based_actor* self, queue_context_ptr q, caf::actor pool) {
  return {
      [=](const assignment& a) {
        workflows::handler_context ctx{a.item, *a.cancel};
        auto r = q->handler->work(ctx);
        self->send(pool, work_done{a.item.queue, a.item.id, a.item.attempt, r.result,
                                   std::move(r.error), std::move(r.result_json)});
      },
  };
}

struct slot {
  caf::actor worker;
  std::optional<work_item> item;
  std::shared_ptr<std::atomic<bool>> cancel;
  std::uint64_t seq = 0; // identifies the assignment, so a late deadline finds nothing
};

struct pool_state {
  static inline const char* name = "worker_pool";
  queue_context_ptr q;
  caf::actor poller, writer;
  std::vector<slot> slots;
  std::deque<work_item> backlog;
  std::deque<clock::time_point> restarts;
  std::uint64_t next_seq = 1;
  std::uint32_t pending_credits = 0;
  bool paused = false;
};

using pool_actor = caf::stateful_actor<pool_state>;

caf::actor spawn_worker(pool_actor* self) {
  auto me = caf::actor_cast<caf::actor>(self);
  if (self->state.q->handler->blocking)
    return self->spawn<caf::detached + caf::monitored>(worker, self->state.q, me);
  return self->spawn<caf::monitored>(worker, self->state.q, me);
}

// Freed slots are reported to the poller in bulk: the flush message queues behind the results
// already waiting in the mailbox, so a burst of completions costs the poller one wake-up.
void return_credit(pool_actor* self) {
  auto& s = self->state;
  if (s.pending_credits++ == 0)
    self->send(self, credit_atom::value, std::uint32_t{0});
}

void assign(pool_actor* self, slot& sl, work_item item) {
  auto& s = self->state;
  sl.seq = s.next_seq++;
  sl.cancel = std::make_shared<std::atomic<bool>>(false);
  sl.item = item;
  self->send(sl.worker, assignment{std::move(item), sl.cancel});
  self->delayed_send(self, s.q->config.timeout, deadline_atom::value,
                     static_cast<std::uint64_t>(sl.seq));
}

void dispatch(pool_actor* self) {
  auto& s = self->state;
  for (auto& sl : s.slots) {
    if (s.backlog.empty())
      return;
    if (!sl.item && sl.worker) {
      auto item = std::move(s.backlog.front());
      s.backlog.pop_front();
      assign(self, sl, std::move(item));
    }
  }
}

// The item of a lost worker goes back as a failed attempt (retried with backoff until
// max_attempts); its slot gets a fresh worker.
void replace_worker(pool_actor* self, slot& sl, const std::string& why) {
  auto& s = self->state;
  if (sl.item) {
    self->send(s.writer,
               work_done{sl.item->queue, sl.item->id, sl.item->attempt, outcome::retry, why, {}});
    sl.item.reset();
    return_credit(self);
  }
  s.q->metrics->worker_restarts++;
  auto now = clock::now();
  s.restarts.push_back(now);
  while (!s.restarts.empty() && now - s.restarts.front() > k_restart_window)
    s.restarts.pop_front();
  sl.worker = spawn_worker(self);
  if (static_cast<int>(s.restarts.size()) > k_max_restarts && !s.paused) {
    s.paused = true;
    s.q->metrics->degraded = true;
    spdlog::error("{}: {} worker restarts within {} s; queue paused for {} s",
                  s.q->definition->name, s.restarts.size(), k_restart_window.count(),
                  k_pause_for.count());
    self->send(s.poller, pause_atom::value);
    self->delayed_send(self, k_pause_for, resume_atom::value);
  }
  dispatch(self);
}

caf::behavior worker_pool(pool_actor* self, queue_context_ptr q, caf::actor poller,
                          caf::actor writer) {
  auto& s = self->state;
  s.q = q;
  s.poller = std::move(poller);
  s.writer = std::move(writer);
  s.slots.resize(static_cast<std::size_t>(q->config.max_instances));
  for (auto& sl : s.slots)
    sl.worker = spawn_worker(self);

  self->set_down_handler([=](caf::down_msg& msg) {
    for (auto& sl : self->state.slots) {
      if (sl.worker && sl.worker.address() == msg.source) {
        auto why = "worker died: " + self->system().render(msg.reason);
        spdlog::warn("{}: {}", self->state.q->definition->name, why);
        replace_worker(self, sl, why);
        return;
      }
    }
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& sl : self->state.slots)
      if (sl.worker)
        self->send_exit(sl.worker, msg.reason);
    self->quit(msg.reason);
  });

  return {
      [=](work_item& item) {
        self->state.backlog.push_back(std::move(item));
        dispatch(self);
      },
      [=](work_done& d) {
        auto& st = self->state;
        auto sender = self->current_sender();
        for (auto& sl : st.slots) {
          if (sl.worker && sl.worker.address() == sender && sl.item && sl.item->id == d.id) {
            sl.item.reset();
            self->send(st.writer, std::move(d));
            return_credit(self);
            dispatch(self);
            return;
          }
        }
        // A result from a worker that was already given up on (timed out): its item was
        // retried, so this late answer is dropped.
        st.q->metrics->stale_results++;
      },
      [=](deadline_atom, std::uint64_t seq) {
        for (auto& sl : self->state.slots) {
          if (sl.item && sl.seq == seq) {
            auto why =
                "timed out after " + std::to_string(self->state.q->config.timeout.count()) + " s";
            spdlog::warn("{}: {} {}", self->state.q->definition->name, sl.item->id, why);
            self->state.q->metrics->timeouts++;
            // The hung thread cannot be interrupted; it is abandoned and its slot re-staffed.
            self->demonitor(sl.worker);
            self->send_exit(sl.worker, caf::exit_reason::kill);
            replace_worker(self, sl, why);
            return;
          }
        }
      },
      [=](credit_atom, std::uint32_t) {
        auto& st = self->state;
        self->send(st.poller, credit_atom::value, st.pending_credits);
        st.pending_credits = 0;
      },
      [=](cancel_atom, const std::vector<std::string>& ids) {
        for (auto& sl : self->state.slots)
          if (sl.item && std::find(ids.begin(), ids.end(), sl.item->id) != ids.end())
            sl.cancel->store(true);
      },
      [=](resume_atom) {
        self->state.paused = false;
        self->state.restarts.clear();
        self->state.q->metrics->degraded = false;
        spdlog::info("{}: resuming after pause", self->state.q->definition->name);
        self->send(self->state.poller, resume_atom::value);
      },
      [=](busy_atom) {
        std::uint32_t n = static_cast<std::uint32_t>(self->state.backlog.size());
        for (auto& sl : self->state.slots)
          n += sl.item ? 1 : 0;
        return n;
      },
  };
}

} // namespace

caf::actor spawn_worker_pool(caf::actor_system& system, queue_context_ptr queue, caf::actor poller,
                             caf::actor writer) {
  return system.spawn(worker_pool, std::move(queue), std::move(poller), std::move(writer));
}

} // namespace sky::actors
