// Messages between the scheduler, notifier, pollers, worker pools, db_writers and the maintenance
// actor; work steps report to their pool with finished_atom. Which actor accepts which of them
// is declared in messages/engine_protocol.hpp.
#pragma once

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sky::messages {

// Scheduler -> queue supervisor -> poller: the fallback interval elapsed; claim now. Also the
// maintenance actor's own timer (its next due pass, or the renewal of its lease).
using tick_atom = caf::atom_constant<caf::atom("tick")>;
// Notifier -> poller (through the poller directory; while the queue's unit restarts, to the
// scheduler, whose queue supervisor drops it): a NOTIFY arrived for this queue; poll now.
using wake_atom = caf::atom_constant<caf::atom("wake")>;
// Notifier -> scheduler after a reconnect, engine supervisor -> scheduler after a restart: a
// NOTIFY may have been missed, wake every queue.
using wake_all_atom = caf::atom_constant<caf::atom("wake_all")>;
// Pool -> poller: worker slots were freed.
using credit_atom = caf::atom_constant<caf::atom("credit")>;
// Pool -> poller: restart intensity exceeded; stop / resume claiming.
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
// Runtime -> queue supervisor -> poller: shutting down, claim nothing more.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
// Runtime -> queue supervisor -> pool and writer: how much work is still in flight?
using busy_atom = caf::atom_constant<caf::atom("busy")>;
// Poller self-timer: renew the leases of held rows.
using renew_atom = caf::atom_constant<caf::atom("renew")>;
// Poller -> pool: cancellation was requested for these rows.
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
// Writer -> poller: these rows reached their final or retry state.
using committed_atom = caf::atom_constant<caf::atom("committed")>;
// Queue driver -> poller: (claimed, claim_result) what a claim found.
using claimed_atom = caf::atom_constant<caf::atom("claimed")>;
// Queue driver -> poller: (next_due, seconds) the answer to the poller's question after a short
// claim, when the next queued row is due (<= 0: due now but locked by another claim).
using next_due_atom = caf::atom_constant<caf::atom("next_due")>;
// Queue driver -> poller: (renewed, cancelled ids, connection lost) a lease renewal's answer.
using renewed_atom = caf::atom_constant<caf::atom("renewed")>;
// Queue driver -> writer: (written, write_result) what a commit of results did.
using written_atom = caf::atom_constant<caf::atom("written")>;
// Maintenance lane -> maintenance actor: a pass is over; (done, next) the next tick in ms.
using done_atom = caf::atom_constant<caf::atom("done")>;
// Writer self-message: commit what has accumulated.
using flush_atom = caf::atom_constant<caf::atom("flush")>;
// Pool self-timer: look for items past their time limit.
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
// Unit starter -> poller: this is your pool.
using init_atom = caf::atom_constant<caf::atom("init")>;
// Work step -> pool: (slot, result, whether the step crashed) for the item in that slot.
using finished_atom = caf::atom_constant<caf::atom("finished")>;
// Supervisor -> any engine actor: are you alive? (answered with true; silence means hung)
using ping_atom = caf::atom_constant<caf::atom("ping")>;
// Supervisor self-timer: ping the supervised actors.
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
// Supervisor self-timer: start the queue's unit (again).
using restart_atom = caf::atom_constant<caf::atom("restart")>;
// Test only: (fault_atom, "crash" | "hang") makes the receiving actor fail so.
using fault_atom = caf::atom_constant<caf::atom("fault")>;
// Notifier self-message: wait for the next notification.
using listen_atom = caf::atom_constant<caf::atom("listen")>;

// One claimed row handed to a worker.
struct work_item {
  std::uint16_t queue = 0; // index into config::queue_definitions()
  std::string id;          // primary key of the claimed row
  std::int32_t attempt = 0;
  std::int64_t claim = 0;   // the row's claim count: fences every write of this claim's result
  std::string payload_json; // the claimed row as JSON
  std::string row_address;  // where the claimed version lies; its finish looks there first
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, work_item& x) {
  return f(caf::meta::type_name("work_item"), x.queue, x.id, x.attempt, x.claim, x.payload_json,
           x.row_address);
}

enum class outcome : std::uint8_t { completed, retry, failed, cancelled };

// What a worker reports for one item; the db_writer turns it into the row's new state.
struct work_done {
  std::uint16_t queue = 0;
  std::string id;
  std::int32_t attempt = 0;
  std::int64_t claim = 0; // as in its work_item
  outcome result = outcome::completed;
  std::string error;       // reason for retry/failed/cancelled
  std::string result_json; // handler output, may be empty
  std::string row_address; // of the claimed item
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, work_done& x) {
  return f(caf::meta::type_name("work_done"), x.queue, x.id, x.attempt, x.claim, x.result, x.error,
           x.result_json, x.row_address);
}

// Poller -> pool: one claim's rows in one message; pool -> writer: the results gathered while
// the pool's mailbox was being drained. Batches keep the per-item cost of the engine's own
// messaging well below the database's.
using work_batch = std::vector<work_item>;
using result_batch = std::vector<work_done>;

// What one claim found, as the queue driver reports it to the poller.
struct claim_result {
  work_batch items;
  std::int32_t asked = 0; // the claim's limit: as many rows as asked means there may be more
  bool failed = false;    // the claim did not run (database unavailable): retry with backoff
  // The claim connection was lost since the last report: a claim may have committed unseen, so
  // the next claim is to carry the ids the poller knows (orphans go back to the queue).
  bool connection_lost = false;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, claim_result& x) {
  return f(caf::meta::type_name("claim_result"), x.items, x.asked, x.failed, x.connection_lost);
}

// What one commit of results did, as the queue driver reports it to the writer.
struct write_result {
  std::vector<std::string> ids; // items whose result is settled (written, or fenced out as stale)
  result_batch unwritten;       // after a transient failure: the whole batch back, to retry
  bool failed = false;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, write_result& x) {
  return f(caf::meta::type_name("write_result"), x.ids, x.unwritten, x.failed);
}

} // namespace sky::messages
