// The notifier against a real PostgreSQL: a NOTIFY runs the claim standing in the queue's driver,
// else wakes the queue's poller named in the directory directly, and the scheduler when the
// directory has no poller for the queue (its unit is restarting).
#include "actors/engine.hpp"
#include "actors/queue_driver.hpp"
#include "config/queue_catalog.hpp"
#include "messages/engine_protocol.hpp"
#include "messages/registry.hpp"
#include "persistence/database_threads.hpp"
#include "persistence/migrator.hpp"
#include "support/engine_helpers.hpp"
#include "support/test_database.hpp"

#include <algorithm>
#include <atomic>
#include <caf/all.hpp>
#include <gtest/gtest.h>
#include <mutex>
#include <pqxx/pqxx>
#include <vector>

using namespace sky;
using namespace sky::messages;
using namespace sky::test_support;
using namespace std::chrono_literals;

namespace {

struct wakes {
  std::atomic<int> poller{0}, wake_all{0};
  std::mutex mutex;
  std::vector<std::uint16_t> scheduler; // queues woken through the scheduler
  std::size_t scheduled(std::uint16_t queue) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count(scheduler.begin(), scheduler.end(), queue));
  }
};

// Stand-ins with an argument: CAF 0.17 binds an empty argument tuple through a null pointer.
queue_ticks_actor::behavior_type fake_poller(queue_ticks_actor::pointer,
                                             std::shared_ptr<wakes> seen) {
  return {[](tick_atom) {}, [seen](wake_atom) { ++seen->poller; }};
}

scheduler_wake_actor::behavior_type fake_scheduler(scheduler_wake_actor::pointer,
                                                   std::shared_ptr<wakes> seen) {
  return {[seen](wake_atom, std::uint16_t queue) {
            std::lock_guard lock(seen->mutex);
            seen->scheduler.push_back(queue);
          },
          [seen](wake_all_atom) { ++seen->wake_all; }};
}

// Counts the claims a NOTIFY runs; nothing else is asked of it here.
class claim_counting_driver : public actors::queue_driver {
public:
  void release_held() override {}
  void claim(int limit, std::optional<std::vector<std::string>>, reply<claim_result>) override {
    std::lock_guard lock(mutex);
    limits.push_back(limit);
  }
  void renew(std::vector<std::string>,
             std::function<void(std::vector<std::string>, bool)>) override {}
  void next_due(reply<double>) override {}
  void write(result_batch, reply<write_result>) override {}
  std::vector<int> claimed() {
    std::lock_guard lock(mutex);
    return limits;
  }

private:
  std::mutex mutex;
  std::vector<int> limits;
};

} // namespace

TEST(notifier, wakes_the_poller_in_the_directory_and_else_the_scheduler) {
  scoped_database db;
  {
    pqxx::connection c(db.url());
    persistence::migrate(c);
  }
  caf::actor_system_config cfg;
  messages::register_message_types(cfg);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system system(cfg);
  auto seen = std::make_shared<wakes>();
  queue_ticks_actor poller = system.spawn(fake_poller, seen);
  scheduler_wake_actor scheduler = system.spawn(fake_scheduler, seen);
  const auto& defs = config::queue_definitions();
  const auto page_scrape =
      static_cast<std::uint16_t>(config::find_queue_definition("page_scrape") - defs.data());
  auto directory = std::make_shared<actors::poller_directory>(defs.size());
  auto driver = std::make_shared<claim_counting_driver>();
  directory->set(page_scrape, poller, driver);
  persistence::database_threads threads(1);
  auto notifier = actors::spawn_notifier(system, db.url(), scheduler, directory, threads);
  // Listening: the first connection wakes every queue, as after any reconnect.
  ASSERT_TRUE(eventually([&] { return seen->wake_all.load() >= 1; }, 30s));

  insert_jobs(db.url(), 1);
  ASSERT_TRUE(eventually([&] { return seen->poller.load() >= 1; }, 30s));
  EXPECT_EQ(seen->scheduled(page_scrape), 0u) << "the wake took the long way";

  // A claim stands in the driver: the NOTIFY runs it, and the poller hears of it by its answer.
  driver->stand_claim(7, [](claim_result) {});
  const int woken = seen->poller.load();
  insert_jobs(db.url(), 1);
  ASSERT_TRUE(eventually([&] { return driver->claimed().size() == 1; }, 30s));
  EXPECT_EQ(driver->claimed().front(), 7);
  EXPECT_FALSE(driver->withdraw_claim()) << "the standing claim ran";
  insert_jobs(db.url(), 1); // none stands now: the poller is woken
  ASSERT_TRUE(eventually([&] { return seen->poller.load() > woken; }, 30s));
  EXPECT_EQ(driver->claimed().size(), 1u);

  // The unit is down (its supervisor cleared the entry): the scheduler gets the wake.
  directory->set(page_scrape, {});
  const int direct = seen->poller.load();
  insert_jobs(db.url(), 1);
  ASSERT_TRUE(eventually([&] { return seen->scheduled(page_scrape) >= 1; }, 30s));
  EXPECT_EQ(seen->poller.load(), direct);

  caf::anon_send_exit(notifier, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(poller, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(scheduler, caf::exit_reason::user_shutdown);
}
