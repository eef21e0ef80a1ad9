// The notifier: one connection LISTENing on the queue channel; reconnects with backoff and then
// wakes every queue, because a NOTIFY sent while it was away is lost. The actor only starts and
// restarts the listening; the connection lives on a lane of the node's database threads, which
// waits for its socket without a thread of its own.
#include "actors/backoff.hpp"
#include "actors/engine.hpp"
#include "actors/queue_driver.hpp"
#include "actors/supervision.hpp"
#include "config/queue_catalog.hpp"
#include "messages/engine_protocol.hpp"
#include "persistence/database_threads.hpp"

#include <atomic>
#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace sky::actors {
namespace {

using namespace messages;
constexpr const char* k_channel = "sky_queue";

class payload_collector : public pqxx::notification_receiver {
public:
  payload_collector(pqxx::connection_base& c, std::vector<std::string>& sink)
      : pqxx::notification_receiver(c, k_channel), sink_(sink) {}
  void operator()(const std::string& payload, int) override { sink_.push_back(payload); }

private:
  std::vector<std::string>& sink_;
};

// The listening connection and what it wakes; touched only on its lane, but `retired`.
struct listen_session {
  std::string url;
  scheduler_wake_actor scheduler;
  std::shared_ptr<const poller_directory> directory;
  notifier_actor notifier; // reconnects are timed by the actor
  persistence::database_threads::lane lane;
  std::vector<std::string> payloads;
  // Declared after the connection, so destroyed before it (a receiver unregisters itself).
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<payload_collector> receiver;
  std::shared_ptr<persistence::database_threads::readable_watch> watch;
  int failures = 0;
  int backend_pid = 0;
  bool connected_once = false;
  std::atomic<bool> retired{false}; // its actor is gone
};

using session_ptr = std::shared_ptr<listen_session>;

void drop_connection(listen_session& s) {
  if (s.watch) {
    s.watch->cancel(); // lets the socket go before the connection closes it
    s.watch.reset();
  }
  s.backend_pid = 0;
  s.receiver.reset();
  s.conn.reset();
}

void arm(const session_ptr& s);

void on_failure(const session_ptr& s, const std::exception& e) {
  drop_connection(*s);
  const auto delay = database_retry_delay(s->failures);
  ++s->failures;
  spdlog::warn("notifier: {}; reconnecting in {} ms", e.what(), delay.count());
  caf::delayed_anon_send(s->notifier, delay, listen_atom::value);
}

// On the lane: what arrived runs its queues' standing claims, or else wakes their pollers; then
// the socket is watched again.
void on_readable(const session_ptr& s, bool ready) {
  if (s->retired || !s->conn)
    return;
  try {
    if (!ready)
      throw std::runtime_error("the listening socket failed");
    s->conn->get_notifs();
    // libpqxx may reconnect by itself; a new backend means NOTIFYs may have been missed.
    if (int pid = s->conn->backendpid(); pid != s->backend_pid) {
      if (s->backend_pid != 0)
        caf::anon_send(s->scheduler, wake_all_atom::value);
      s->backend_pid = pid;
    }
    for (const auto& p : s->payloads)
      if (const auto* def = config::find_queue_definition(p)) {
        const auto queue = static_cast<std::uint16_t>(def - config::queue_definitions().data());
        const auto driver = s->directory ? s->directory->driver(queue) : nullptr;
        if (driver && driver->run_standing_claim())
          continue; // the poller's standing claim runs now; its answer reaches the poller
        if (auto poller = s->directory ? s->directory->get(queue) : queue_ticks_actor{})
          caf::anon_send(poller, wake_atom::value);
        else
          caf::anon_send(s->scheduler, wake_atom::value, queue);
      }
    s->payloads.clear();
    arm(s);
  } catch (const std::exception& e) {
    on_failure(s, e);
  }
}

void arm(const session_ptr& s) {
  s->watch->wait([s](bool ready) { on_readable(s, ready); });
}

// On the lane: connects, LISTENs, wakes every queue (a NOTIFY may have been missed) and
// watches the socket.
void listen(const session_ptr& s) {
  if (s->retired || s->conn)
    return;
  try {
    s->conn = std::make_unique<pqxx::connection>(s->url);
    // Named, so operators (and tests) can find the LISTEN session in pg_stat_activity.
    pqxx::nontransaction(*s->conn).exec("SET application_name = 'scrapersky-notifier'");
    s->receiver = std::make_unique<payload_collector>(*s->conn, s->payloads);
    s->conn->get_notifs(); // registers the LISTEN now
    s->backend_pid = s->conn->backendpid();
    if (s->connected_once)
      spdlog::info("notifier reconnected; waking every queue");
    s->connected_once = true;
    s->failures = 0;
    caf::anon_send(s->scheduler, wake_all_atom::value);
    s->watch = s->lane.watch(s->conn->sock());
    arm(s);
  } catch (const std::exception& e) {
    on_failure(s, e);
  }
}

struct notifier_state {
  static inline const char* name = "notifier";
  session_ptr session;
};

using notifier_self = notifier_actor::stateful_pointer<notifier_state>;

notifier_actor::behavior_type notifier(notifier_self self, std::string url,
                                       scheduler_wake_actor scheduler,
                                       std::shared_ptr<const poller_directory> directory,
                                       persistence::database_threads* threads) {
  auto s = std::make_shared<listen_session>();
  s->url = std::move(url);
  s->scheduler = std::move(scheduler);
  s->directory = std::move(directory);
  s->notifier = self;
  s->lane = threads->make_lane();
  self->state.session = s;
  self->attach_functor([s] {
    s->retired = true;
    s->lane.post([s] { drop_connection(*s); });
  });
  self->send(self, listen_atom::value);
  return supervised(self, [=](listen_atom) {
    auto session = self->state.session;
    session->lane.post([session] { listen(session); });
  });
}

} // namespace

notifier_actor spawn_notifier(caf::actor_system& system, std::string database_url,
                              scheduler_wake_actor scheduler,
                              std::shared_ptr<const poller_directory> directory,
                              persistence::database_threads& threads) {
  return system.spawn(notifier, std::move(database_url), std::move(scheduler), std::move(directory),
                      &threads);
}

} // namespace sky::actors
