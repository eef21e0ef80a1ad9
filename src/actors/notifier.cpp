// The notifier: one connection LISTENing on the queue channel; reconnects with backoff and then
// wakes every queue, because a NOTIFY sent while it was away is lost.
#include "actors/backoff.hpp"
#include "actors/engine.hpp"
#include "actors/supervision.hpp"
#include "config/queue_catalog.hpp"
#include "messages/engine_protocol.hpp"

#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace sky::actors {
namespace {

using namespace messages;
constexpr const char* k_channel = "sky_queue";
// How long one wait blocks; bounds how late the actor sees its exit message.
constexpr long k_wait_us = 200'000;

class payload_collector : public pqxx::notification_receiver {
public:
  payload_collector(pqxx::connection_base& c, std::vector<std::string>& sink)
      : pqxx::notification_receiver(c, k_channel), sink_(sink) {}
  void operator()(const std::string& payload, int) override { sink_.push_back(payload); }

private:
  std::vector<std::string>& sink_;
};

struct notifier_state {
  static inline const char* name = "notifier";
  std::string url;
  scheduler_wake_actor scheduler;
  std::shared_ptr<const poller_directory> directory;
  std::vector<std::string> payloads;
  // Declared after the connection, so destroyed before it (a receiver unregisters itself).
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<payload_collector> receiver;
  int failures = 0;
  int backend_pid = 0;
  bool connected_once = false;
};

using notifier_self = notifier_actor::stateful_pointer<notifier_state>;

void drop_connection(notifier_state& s) {
  s.backend_pid = 0;
  s.receiver.reset();
  s.conn.reset();
}

notifier_actor::behavior_type notifier(notifier_self self, std::string url,
                                       scheduler_wake_actor scheduler,
                                       std::shared_ptr<const poller_directory> directory) {
  self->state.url = std::move(url);
  self->state.scheduler = std::move(scheduler);
  self->state.directory = std::move(directory);
  self->send(self, listen_atom::value);
  return supervised(self, [=](listen_atom) {
    auto& s = self->state;
    try {
      if (!s.conn) {
        s.conn = std::make_unique<pqxx::connection>(s.url);
        // Named, so operators (and tests) can find the LISTEN session in pg_stat_activity.
        pqxx::nontransaction(*s.conn).exec("SET application_name = 'scrapersky-notifier'");
        s.receiver = std::make_unique<payload_collector>(*s.conn, s.payloads);
        s.conn->get_notifs(); // registers the LISTEN now
        if (s.connected_once)
          spdlog::info("notifier reconnected; waking every queue");
        s.connected_once = true;
        s.failures = 0;
        self->send(s.scheduler, wake_all_atom::value);
      }
      s.conn->await_notification(0, k_wait_us);
      // libpqxx may reconnect by itself; a new backend means NOTIFYs may have been missed.
      if (int pid = s.conn->backendpid(); pid != s.backend_pid) {
        if (s.backend_pid != 0)
          self->send(s.scheduler, wake_all_atom::value);
        s.backend_pid = pid;
      }
      for (const auto& p : s.payloads)
        if (const auto* def = config::find_queue_definition(p)) {
          const auto queue = static_cast<std::uint16_t>(def - config::queue_definitions().data());
          if (auto poller = s.directory ? s.directory->get(queue) : queue_ticks_actor{})
            self->send(poller, wake_atom::value);
          else
            self->send(s.scheduler, wake_atom::value, queue);
        }
      s.payloads.clear();
      self->send(self, listen_atom::value);
    } catch (const std::exception& e) {
      drop_connection(s);
      auto delay = database_retry_delay(s.failures);
      ++s.failures;
      spdlog::warn("notifier: {}; reconnecting in {} ms", e.what(), delay.count());
      self->delayed_send(self, delay, listen_atom::value);
    }
  });
}

} // namespace

notifier_actor spawn_notifier(caf::actor_system& system, std::string database_url,
                              scheduler_wake_actor scheduler,
                              std::shared_ptr<const poller_directory> directory) {
  return system.spawn<caf::detached>(notifier, std::move(database_url), std::move(scheduler),
                                     std::move(directory));
}

} // namespace sky::actors
