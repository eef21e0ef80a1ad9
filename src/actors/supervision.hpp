// Internal to actors/: what every supervised engine actor answers besides its own protocol.
#pragma once

#include "messages/queue_messages.hpp"

#include <caf/all.hpp>
#include <stdexcept>
#include <string>

namespace sky::actors {

// `own` plus a heartbeat answer and the test-only faults: "crash" throws (the actor dies as a
// bug would kill it), "hang" makes it answer nothing more (as a deadlock would), without
// blocking a thread.
template <class Self> caf::behavior supervised(Self* self, caf::message_handler own) {
  return own.or_else(caf::message_handler{
      [](messages::ping_atom) { return true; },
      [self](messages::fault_atom, const std::string& kind) {
        if (kind == "crash")
          throw std::runtime_error("injected crash");
        if (kind == "hang") {
          self->set_default_handler(caf::drop);
          self->become(caf::behavior{[](messages::fault_atom, const std::string&) {}});
        }
      },
  });
}

} // namespace sky::actors
