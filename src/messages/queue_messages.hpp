// Protocol between the scheduler, pollers, worker pools and the db_writer.
#pragma once

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace sky::messages {

// Periodic fallback poll of one queue.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
// A NOTIFY arrived (or a reconnect happened): poll now.
using wake_atom = caf::atom_constant<caf::atom("wake")>;
// Pool to poller: this many worker slots are free.
using credit_atom = caf::atom_constant<caf::atom("credit")>;
// Anyone to runtime: report liveness.
using status_atom = caf::atom_constant<caf::atom("status")>;

// One claimed row handed to a worker.
struct work_item {
  std::uint16_t queue = 0; // index into config::queue_definitions()
  std::string id;          // primary key of the claimed row
  std::int32_t attempt = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, work_item& x) {
  return f(caf::meta::type_name("work_item"), x.queue, x.id, x.attempt);
}

enum class outcome : std::uint8_t { completed, retry, failed, cancelled, released };

// What a worker reports for one item; the db_writer turns it into the row's final state.
struct work_done {
  std::uint16_t queue = 0;
  std::string id;
  std::int32_t attempt = 0;
  outcome result = outcome::completed;
  std::string error;       // reason for retry/failed
  std::string result_json; // handler output, may be empty
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, work_done& x) {
  return f(caf::meta::type_name("work_done"), x.queue, x.id, x.attempt, x.result, x.error,
           x.result_json);
}

} // namespace sky::messages
