// The worker pool: a supervisor that monitors N workers, replaces the ones that die or hang, and
// pauses its queue when they keep dying.
#include "actors/engine.hpp"
#include "logging/log_setup.hpp"
#include "messages/queue_messages.hpp"

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
  clock::time_point deadline;
};

struct pool_state {
  static inline const char* name = "worker_pool";
  queue_context_ptr q;
  caf::actor poller, writer;
  std::vector<slot> slots;
  std::vector<std::size_t> idle;                          // slots without an item
  std::unordered_map<caf::actor_id, std::size_t> slot_of; // worker -> its slot
  std::deque<work_item> backlog;
  std::deque<clock::time_point> restarts;
  std::vector<work_done> outbox; // finished items not yet handed to the writer
  bool sweep_armed = false;
  bool paused = false;
};

using pool_actor = caf::stateful_actor<pool_state>;

void staff(pool_actor* self, std::size_t index) {
  auto& s = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  auto& sl = s.slots[index];
  if (s.q->handler->blocking)
    sl.worker = self->spawn<caf::detached + caf::monitored>(worker, s.q, me);
  else
    sl.worker = self->spawn<caf::monitored>(worker, s.q, me);
  s.slot_of[sl.worker.id()] = index;
}

// A finished item frees its slot. Results go to the writer and freed slots to the poller in
// bulk: the flush message queues behind the results already waiting in the mailbox, so a burst
// of completions costs the writer and the poller one message each.
void finish_item(pool_actor* self, work_done&& d) {
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

void arm_sweep(pool_actor* self) {
  auto& s = self->state;
  if (s.sweep_armed)
    return;
  s.sweep_armed = true;
  self->delayed_send(self, sweep_interval(*s.q), deadline_atom::value);
}

void dispatch(pool_actor* self) {
  auto& s = self->state;
  while (!s.backlog.empty() && !s.idle.empty()) {
    auto index = s.idle.back();
    s.idle.pop_back();
    auto& sl = s.slots[index];
    sl.cancel = std::make_shared<std::atomic<bool>>(false);
    sl.item = std::move(s.backlog.front());
    sl.deadline = clock::now() + s.q->config.timeout;
    s.backlog.pop_front();
    self->send(sl.worker, assignment{*sl.item, sl.cancel});
    arm_sweep(self);
  }
}

// The item of a lost worker goes back as a failed attempt (retried with backoff until
// max_attempts); its slot gets a fresh worker.
void replace_worker(pool_actor* self, std::size_t index, const std::string& why) {
  auto& s = self->state;
  auto& sl = s.slots[index];
  s.slot_of.erase(sl.worker.id());
  if (sl.item) {
    finish_item(self,
                work_done{sl.item->queue, sl.item->id, sl.item->attempt, outcome::retry, why, {}});
    sl.item.reset();
  }
  s.q->metrics->worker_restarts++;
  auto now = clock::now();
  s.restarts.push_back(now);
  while (!s.restarts.empty() && now - s.restarts.front() > k_restart_window)
    s.restarts.pop_front();
  staff(self, index);
  s.idle.push_back(index);
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
  for (std::size_t i = 0; i < s.slots.size(); ++i) {
    staff(self, i);
    s.idle.push_back(s.slots.size() - 1 - i);
  }

  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    auto it = st.slot_of.find(msg.source.id());
    if (it == st.slot_of.end())
      return;
    auto why = "worker died: " + self->system().render(msg.reason);
    spdlog::warn("{}: {}", st.q->definition->name, why);
    auto index = it->second;
    // A slot that held nothing was idle: take it off the idle list before re-staffing it.
    if (!st.slots[index].item)
      st.idle.erase(std::remove(st.idle.begin(), st.idle.end(), index), st.idle.end());
    replace_worker(self, index, why);
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& sl : self->state.slots)
      if (sl.worker)
        self->send_exit(sl.worker, msg.reason);
    self->quit(msg.reason);
  });

  return {
      [=](work_batch& batch) {
        for (auto& item : batch)
          self->state.backlog.push_back(std::move(item));
        dispatch(self);
      },
      [=](work_done& d) {
        auto& st = self->state;
        const auto& sender = self->current_sender();
        auto it = sender ? st.slot_of.find(sender->id()) : st.slot_of.end();
        if (it != st.slot_of.end()) {
          auto& sl = st.slots[it->second];
          if (sl.item && sl.item->id == d.id) {
            sl.item.reset();
            st.idle.push_back(it->second);
            finish_item(self, std::move(d));
            dispatch(self);
            return;
          }
        }
        // A result from a worker that was already given up on (timed out): its item was
        // retried, so this late answer is dropped.
        st.q->metrics->stale_results++;
      },
      [=](deadline_atom) {
        auto& st = self->state;
        st.sweep_armed = false;
        const auto now = clock::now();
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
          // The hung thread cannot be interrupted; it is abandoned and its slot re-staffed.
          self->demonitor(sl.worker);
          self->send_exit(sl.worker, caf::exit_reason::kill);
          replace_worker(self, index, why);
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
        const auto& st = self->state;
        return static_cast<std::uint32_t>(st.backlog.size() + st.slots.size() - st.idle.size() +
                                          st.outbox.size());
      },
  };
}

} // namespace

caf::actor spawn_worker_pool(caf::actor_system& system, queue_context_ptr queue, caf::actor poller,
                             caf::actor writer) {
  return system.spawn(worker_pool, std::move(queue), std::move(poller), std::move(writer));
}

} // namespace sky::actors
