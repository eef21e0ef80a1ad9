// The typed interfaces of the engine's actors: what each role accepts (and answers), so that a
// message an actor does not handle is a compile error at the sender.
//
// Each role has a full interface (what its behaviour handles, including its own timers) and the
// narrow views its peers hold: a peer gets a handle to just the messages it sends. A full handle
// converts to any view whose signatures are a subset of it, which is how the cycles of a queue's
// unit are broken: the poller and the pool know each other, and the writer knows the poller,
// only through such views, and the poller learns its pool's view from an init message.
#pragma once

#include "messages/queue_messages.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sky::messages {

// -- supervision: answered by every engine actor --------------------------------------------

// ping -> true (silence means hung); (fault, "crash" | "hang") is test-only fault injection.
using supervised_actor = caf::typed_actor<caf::replies_to<ping_atom>::with<bool>,
                                          caf::reacts_to<fault_atom, std::string>>;

// -- views: what one actor sends to another ----------------------------------------------------

// Pool -> poller: freed worker slots; pause and resume claiming (step crash intensity).
using poller_credit_actor =
    caf::typed_actor<caf::reacts_to<credit_atom, std::uint32_t>, caf::reacts_to<pause_atom>,
                     caf::reacts_to<resume_atom>>;

// Writer -> poller: these rows reached their final or retry state.
using poller_commit_actor =
    caf::typed_actor<caf::reacts_to<committed_atom, std::vector<std::string>>>;

// Poller -> pool: claimed rows; cancellation requested for these rows.
using pool_intake_actor = caf::typed_actor<caf::reacts_to<work_batch>,
                                           caf::reacts_to<cancel_atom, std::vector<std::string>>>;

// Work step -> pool: (slot, result, whether the step crashed).
using pool_completion_actor =
    caf::typed_actor<caf::reacts_to<finished_atom, std::uint32_t, work_done, bool>>;

// Pool -> writer: results to write.
using writer_intake_actor = caf::typed_actor<caf::reacts_to<result_batch>>;

// Scheduler -> queue supervisor (forwarded to its poller): the interval elapsed; poll now.
// Notifier -> poller (through the poller directory): a NOTIFY for the poller's queue.
using queue_ticks_actor = caf::typed_actor<caf::reacts_to<tick_atom>, caf::reacts_to<wake_atom>>;

// Notifier -> scheduler: a NOTIFY for this queue; a reconnect (wake every queue).
using scheduler_wake_actor =
    caf::typed_actor<caf::reacts_to<wake_atom, std::uint16_t>, caf::reacts_to<wake_all_atom>>;

// Queue supervisor -> poller, besides supervision: forwarded ticks and wake-ups, and drain on
// shutdown (answers true once it claims nothing more).
using poller_control_actor = queue_ticks_actor::extend_with<supervised_actor>::extend<
    caf::replies_to<drain_atom>::with<bool>>;

// Queue supervisor -> pool and writer, besides supervision: how much is still in flight.
using unit_member_actor = supervised_actor::extend<caf::replies_to<busy_atom>::with<std::uint32_t>>;

// -- full interfaces -------------------------------------------------------------------------

// (init, pool, release_held): start claiming for this pool; release_held: a restarted unit,
// whose predecessor's rows go back first. renew is its own lease-renewal timer; claimed and
// renewed are its queue driver's answers.
using poller_actor =
    poller_control_actor::extend_with<poller_credit_actor>::extend_with<poller_commit_actor>::
        extend<caf::reacts_to<init_atom, pool_intake_actor, bool>, caf::reacts_to<renew_atom>,
               caf::reacts_to<claimed_atom, claim_result>, caf::reacts_to<next_due_atom, double>,
               caf::reacts_to<renewed_atom, std::vector<std::string>, bool>,
               caf::replies_to<busy_atom>::with<std::uint32_t>>;

// flush and deadline are the pool's own messages (results to the writer; time-limit sweep);
// resume ends a pause after too many failed steps.
using pool_actor =
    unit_member_actor::extend_with<pool_intake_actor>::extend_with<pool_completion_actor>::extend<
        caf::reacts_to<flush_atom>, caf::reacts_to<deadline_atom>, caf::reacts_to<resume_atom>>;

// flush is the writer's own message: commit what has accumulated; written is its queue
// driver's answer.
using writer_actor = unit_member_actor::extend_with<writer_intake_actor>::extend<
    caf::reacts_to<flush_atom>, caf::reacts_to<written_atom, write_result>>;

// (tick, queue) is the scheduler's own per-queue interval timer.
using scheduler_actor = scheduler_wake_actor::extend_with<supervised_actor>::extend<
    caf::reacts_to<tick_atom, std::uint16_t>>;

// listen is the notifier's own loop: wait for the next notification.
using notifier_actor = supervised_actor::extend<caf::reacts_to<listen_atom>>;

// tick is the maintenance actor's own timer: the next pass that is due, or the lease's renewal;
// (done, ms) its lane's answer when a pass is over: the next tick, that many ms from now.
using maintenance_actor =
    supervised_actor::extend<caf::reacts_to<tick_atom>, caf::reacts_to<done_atom, std::int64_t>>;

// One queue's supervisor: ticks and wake-ups for its poller; drain and busy on shutdown;
// (fault, member, kind) passes a test fault to poller | pool | writer. heartbeat and restart
// are its own timers.
using queue_supervisor_actor = queue_ticks_actor::extend_with<supervised_actor>::extend<
    caf::replies_to<drain_atom>::with<bool>, caf::replies_to<busy_atom>::with<std::uint32_t>,
    caf::reacts_to<fault_atom, std::string, std::string>, caf::reacts_to<heartbeat_atom>,
    caf::reacts_to<restart_atom, bool>>;

// Above the scheduler, the notifier and the maintenance actor: (fault, scheduler | notifier |
// maintenance, kind) passes a test fault on; heartbeat and restart are its own timers.
using engine_supervisor_actor =
    supervised_actor::extend<caf::reacts_to<fault_atom, std::string, std::string>,
                             caf::reacts_to<heartbeat_atom>, caf::reacts_to<restart_atom, bool>>;

} // namespace sky::messages
