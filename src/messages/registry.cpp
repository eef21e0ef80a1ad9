// One place that adds every typed message to CAF's type system.
#include "messages/registry.hpp"

#include "messages/queue_messages.hpp"

#include <caf/actor_system_config.hpp>

namespace sky::messages {

void register_message_types(caf::actor_system_config& config) {
  config.add_message_type<work_item>("sky::work_item");
  config.add_message_type<work_done>("sky::work_done");
  config.add_message_type<work_batch>("sky::work_batch");
  config.add_message_type<result_batch>("sky::result_batch");
  config.add_message_type<claim_result>("sky::claim_result");
  config.add_message_type<write_result>("sky::write_result");
  config.add_message_type<std::vector<std::string>>("std::vector<std::string>");
}

} // namespace sky::messages
