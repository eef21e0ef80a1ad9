// The actor system: the scheduler owns one fallback timer per queue.
#include "actors/runtime.hpp"

#include "config/config.hpp"
#include "config/queue_catalog.hpp"
#include "messages/queue_messages.hpp"
#include "messages/registry.hpp"

#include <caf/all.hpp>
#include <condition_variable>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

namespace sky::actors {
namespace {

using messages::tick_atom;
using messages::wake_atom;

struct scheduler_state {
  static inline const char* name = "scheduler";
  std::vector<caf::actor> pollers; // by queue index; empty handle: queue not served here
};

caf::behavior scheduler(caf::stateful_actor<scheduler_state>* self,
                        std::vector<std::chrono::milliseconds> intervals) {
  for (std::uint16_t q = 0; q < intervals.size(); ++q)
    self->delayed_send(self, intervals[q], tick_atom::value, q);
  return {
      [=](tick_atom, std::uint16_t q) {
        if (q < self->state.pollers.size() && self->state.pollers[q])
          self->send(self->state.pollers[q], tick_atom::value);
        self->delayed_send(self, intervals[q], tick_atom::value, q);
      },
      [=](wake_atom, std::uint16_t q) {
        if (q < self->state.pollers.size() && self->state.pollers[q])
          self->send(self->state.pollers[q], wake_atom::value);
      },
  };
}

} // namespace

struct runtime::impl {
  explicit impl(const config::app_config& c) : config(c) {
    messages::register_message_types(caf_config);
    caf_config.set("logger.verbosity", caf::atom("quiet"));
    system = std::make_unique<caf::actor_system>(caf_config);
  }
  const config::app_config& config;
  caf::actor_system_config caf_config;
  std::unique_ptr<caf::actor_system> system;
  caf::actor scheduler_actor;
};

runtime::runtime(const config::app_config& config) : impl_(std::make_unique<impl>(config)) {}

runtime::~runtime() {
  if (impl_->scheduler_actor)
    shutdown(std::chrono::seconds(5));
}

void runtime::start() {
  std::vector<std::chrono::milliseconds> intervals;
  for (const auto& q : impl_->config.queues)
    intervals.push_back(q.interval);
  impl_->scheduler_actor = impl_->system->spawn(scheduler, intervals);
  spdlog::info("actor system started with {} queues", intervals.size());
}

bool runtime::ready() const {
  return static_cast<bool>(impl_->scheduler_actor);
}

bool runtime::shutdown(std::chrono::milliseconds drain) {
  if (!impl_->scheduler_actor)
    return true;
  caf::anon_send_exit(impl_->scheduler_actor, caf::exit_reason::user_shutdown);
  impl_->scheduler_actor = nullptr;
  // CAF offers no timed wait for "all actors done"; wait on a helper thread instead. The shared
  // state outlives this call when the wait times out and the helper is left behind.
  struct wait_state {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
  };
  auto state = std::make_shared<wait_state>();
  std::thread waiter([state, system = impl_->system.get()] {
    system->await_all_actors_done();
    std::lock_guard lock(state->m);
    state->done = true;
    state->cv.notify_all();
  });
  std::unique_lock lock(state->m);
  bool in_time = state->cv.wait_for(lock, drain, [&] { return state->done; });
  lock.unlock();
  if (in_time)
    waiter.join();
  else
    waiter.detach();
  return in_time;
}

} // namespace sky::actors
