// Internal to actors/: what every supervised engine actor answers besides its own protocol
// (messages::supervised_actor, part of each interface in messages/engine_protocol.hpp).
#pragma once

#include "messages/engine_protocol.hpp"

#include <caf/all.hpp>
#include <stdexcept>
#include <string>

namespace sky::actors {

// The actor's typed behaviour: its own handlers `own` plus a heartbeat answer and the test-only
// faults: "crash" throws (the actor dies as a bug would kill it), "hang" makes it answer nothing
// more (as a deadlock would), without blocking a thread. `Self` is a typed actor whose interface
// includes messages::supervised_actor; the handlers together must cover it exactly.
template <class Self, class... Fs> typename Self::behavior_type supervised(Self* self, Fs... own) {
  using behavior_type = typename Self::behavior_type;
  return {
      std::move(own)...,
      [](messages::ping_atom) { return true; },
      [self](messages::fault_atom, const std::string& kind) {
        if (kind == "crash")
          throw std::runtime_error("injected crash");
        if (kind == "hang") {
          // Skipped, not dropped: caf::drop answers every message with an error, which would
          // tell its sender (and kill it, for an async message) instead of leaving it waiting
          // as a deadlocked actor does. Skipped messages stay in the mailbox unanswered.
          self->set_default_handler(caf::skip);
          // Deliberately not the actor's interface: from now on it handles nothing at all.
          self->become(
              behavior_type{typename behavior_type::unsafe_init{},
                            caf::behavior{[](messages::fault_atom, const std::string&) {}}});
        }
      },
  };
}

} // namespace sky::actors
