// Registers every message type of the actor system with CAF.
#pragma once

namespace caf {
class actor_system_config;
}

namespace sky::messages {

void register_message_types(caf::actor_system_config& config);

} // namespace sky::messages
