// A queue's unit (the real poller, worker pool and writer) in process, deterministically: CAF's
// test coordinator runs the actors on this thread, its clock moves only when the test advances
// it, and the unit's database side is a fake driver whose calls the test answers one by one.
// The driver over PostgreSQL and the process around the unit are tested in engine_test.
#include "actors/engine.hpp"
#include "actors/queue_driver.hpp"
#include "config/queue_catalog.hpp"
#include "messages/engine_protocol.hpp"
#include "support/coordinated_actors.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace sky;
using namespace sky::messages;
using namespace std::chrono_literals;

namespace {

// The unit's database side as calls waiting for the test's answer.
class fake_driver : public actors::queue_driver {
public:
  struct claim_call {
    int limit = 0;
    std::optional<std::vector<std::string>> known;
    reply<claim_result> claimed;
  };
  struct write_call {
    result_batch items;
    reply<write_result> done;
  };
  struct renew_call {
    std::vector<std::string> ids;
    std::function<void(std::vector<std::string>, bool)> done;
  };

  void release_held() override { ++releases; }
  void claim(int limit, std::optional<std::vector<std::string>> known,
             reply<claim_result> claimed) override {
    claims.push_back({limit, std::move(known), std::move(claimed)});
  }
  void next_due(reply<double> due) override { dues.push_back(std::move(due)); }
  void renew(std::vector<std::string> ids,
             std::function<void(std::vector<std::string>, bool)> done) override {
    renews.push_back({std::move(ids), std::move(done)});
  }
  void write(result_batch items, reply<write_result> done) override {
    writes.push_back({std::move(items), std::move(done)});
  }

  int releases = 0;
  std::deque<claim_call> claims;
  std::deque<reply<double>> dues;
  std::deque<write_call> writes;
  std::deque<renew_call> renews;
};

// A started work step, held until the test ends it.
struct step {
  std::shared_ptr<workflows::job_session> session;
  std::function<void(workflows::handler_result)> done;
};

class queue_unit : public ::testing::Test, protected test_support::coordinated_actors {
protected:
  void SetUp() override {
    handler.start = [this](std::shared_ptr<workflows::job_session> session,
                           std::function<void(workflows::handler_result)> done) {
      steps.push_back({std::move(session), std::move(done)});
    };
    ctx = std::make_shared<actors::queue_context>();
    ctx->index = 0;
    ctx->definition = &config::queue_definitions()[0];
    ctx->config.max_instances = 4;
    ctx->config.batch_size = 4;
    ctx->config.lease = 30s;
    ctx->config.timeout = 300s;
    ctx->config.commit_interval = 10ms;
    ctx->config.interval = 60s;
    ctx->handler = &handler;
    ctx->metrics = &metrics;
    ctx->restarts = actors::restart_limits{2, 60s, 30s};
  }

  void TearDown() override {
    for (const auto& a :
         {caf::actor_cast<caf::actor>(unit.poller), caf::actor_cast<caf::actor>(unit.pool),
          caf::actor_cast<caf::actor>(unit.writer)})
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched->run();
    unit = {};
    shut_down();
  }

  void start(bool release_held = false) {
    unit = actors::start_queue_unit_with(*sys, ctx, release_held, driver);
    run();
  }

  // Answers the oldest claim with `n` new rows (ids job-1, job-2, ... across the test).
  std::vector<std::string> answer_claim(int n, bool connection_lost = false) {
    EXPECT_FALSE(driver->claims.empty()) << "no claim to answer";
    if (driver->claims.empty())
      return {};
    auto call = std::move(driver->claims.front());
    driver->claims.pop_front();
    claim_result r;
    r.asked = call.limit;
    r.connection_lost = connection_lost;
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back("job-" + std::to_string(++rows_made));
      r.items.push_back({.queue = 0,
                         .id = ids.back(),
                         .attempt = 1,
                         .claim = 1,
                         .payload_json = "{}",
                         .row_address = "(0,1)"});
    }
    call.claimed(std::move(r));
    run();
    return ids;
  }

  void claim_fails(bool connection_lost) {
    ASSERT_FALSE(driver->claims.empty());
    auto call = std::move(driver->claims.front());
    driver->claims.pop_front();
    claim_result r;
    r.asked = call.limit;
    r.failed = true;
    r.connection_lost = connection_lost;
    call.claimed(std::move(r));
    run();
  }

  // Ends the step of the item `id` with `result`.
  void end_step(const std::string& id, workflows::handler_result result) {
    for (auto& s : steps)
      if (s.session && s.session->item().id == id) {
        auto done = std::move(s.done);
        s.session.reset();
        done(std::move(result));
        run();
        return;
      }
    ADD_FAILURE() << "no running step for " << id;
  }

  // Commits the oldest write as the database would: every item settled.
  result_batch answer_write(bool fail = false) {
    EXPECT_FALSE(driver->writes.empty()) << "no write to answer";
    if (driver->writes.empty())
      return {};
    auto call = std::move(driver->writes.front());
    driver->writes.pop_front();
    write_result r;
    auto items = call.items;
    if (fail) {
      r.failed = true;
      r.unwritten = std::move(call.items);
    } else {
      for (const auto& d : call.items)
        r.ids.push_back(d.id);
    }
    call.done(std::move(r));
    run();
    return items;
  }

  std::uint32_t busy(const unit_member_actor& member) {
    auto answer = std::make_shared<std::uint32_t>(0);
    sys->spawn(
        [](caf::event_based_actor* self, unit_member_actor target,
           std::shared_ptr<std::uint32_t> answer) {
          self->request(target, 1s, busy_atom::value).then([answer](std::uint32_t n) {
            *answer = n;
          });
        },
        member, answer);
    run();
    return *answer;
  }

  void wake() {
    caf::anon_send(unit.poller, wake_atom::value);
    run();
  }

  workflows::queue_handler handler;
  std::vector<step> steps;
  queue_metrics metrics;
  std::shared_ptr<actors::queue_context> ctx;
  std::shared_ptr<fake_driver> driver = std::make_shared<fake_driver>();
  actors::queue_unit unit;
  int rows_made = 0;
};

// Credits: a claim asks for no more rows than the pool has free slots plus, while the queue has a
// backlog (the last claim came back full), the slots that freed during recent claims' round
// trips; one claim is in flight at a time, and freed slots are claimed for once a useful batch of
// them (half a claim) is free.
TEST_F(queue_unit, claims_for_free_slots_and_ahead_by_what_frees_during_a_claim) {
  start();
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_EQ(driver->claims.front().limit, 4);
  wake();
  EXPECT_EQ(driver->claims.size(), 1u) << "a second claim while one is in flight";
  auto first = answer_claim(4);
  EXPECT_EQ(steps.size(), 4u);
  EXPECT_TRUE(driver->claims.empty()) << "no slot freed during a claim yet: nothing ahead";
  end_step(first[0], workflows::handler_result::completed());
  EXPECT_TRUE(driver->claims.empty()) << "one free slot is not worth a claim";
  end_step(first[1], workflows::handler_result::completed());
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_EQ(driver->claims.front().limit, 2);
  // Two more slots free while that claim is in flight: steps as short as a claim's round trip.
  end_step(first[2], workflows::handler_result::completed());
  end_step(first[3], workflows::handler_result::completed());
  EXPECT_EQ(driver->claims.size(), 1u);
  answer_claim(2);
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_EQ(driver->claims.front().limit, 3) << "two free slots and one row ahead";
  answer_claim(3);
  EXPECT_EQ(steps.size(), 8u) << "a row claimed ahead waits for a slot";
  EXPECT_TRUE(driver->claims.empty()) << "no more ahead than the slots that freed";
  end_step("job-5", workflows::handler_result::completed());
  EXPECT_EQ(steps.size(), 9u) << "a freed slot takes the row that waited";
  EXPECT_TRUE(driver->claims.empty()) << "no slot is free for a claim";
  end_step("job-6", workflows::handler_result::completed());
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_EQ(driver->claims.front().limit, 2) << "one free slot and one row ahead";
  end_step("job-7", workflows::handler_result::completed());
  // A short answer: the queue ran dry, so nothing more is claimed ahead.
  answer_claim(1);
  EXPECT_TRUE(driver->claims.empty()) << "after a short claim only a tick or a wake claims";
  wake();
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_EQ(driver->claims.front().limit, 1) << "after a short claim only the free slot";
}

// A wake that came while a claim was in flight claims again when the claim answers short: the
// claim may have read the queue before the wake's row was committed.
TEST_F(queue_unit, a_wake_during_a_short_claim_claims_again) {
  start();
  wake();
  answer_claim(1);
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_EQ(driver->claims.front().limit, 3);
  answer_claim(0);
  EXPECT_TRUE(driver->claims.empty()) << "an empty claim without a wake asks again";
}

// An idle queue leaves a claim standing in its driver, for the notifier to run the moment a
// NOTIFY comes (no hop to the poller and back); its limit follows the free slots. A wake takes it
// back and claims as before; a paused or exited poller leaves none.
TEST_F(queue_unit, an_idle_queue_leaves_a_claim_standing_for_its_next_notify) {
  start();
  EXPECT_FALSE(driver->run_standing_claim()) << "none stands while a claim is in flight";
  auto first = answer_claim(1); // short: the queue is idle
  ASSERT_TRUE(driver->claims.empty());
  ASSERT_TRUE(driver->run_standing_claim());
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_EQ(driver->claims.front().limit, 3) << "the free slots";
  EXPECT_FALSE(driver->run_standing_claim()) << "a standing claim runs once";
  wake(); // a second NOTIFY, which found none standing
  EXPECT_EQ(driver->claims.size(), 1u) << "a second claim while the standing one is in flight";
  auto second = answer_claim(1);
  EXPECT_EQ(steps.size(), 2u) << "the standing claim's row reached the pool";
  ASSERT_EQ(driver->claims.size(), 1u) << "the wake came during that claim: claim again";
  EXPECT_EQ(driver->claims.front().limit, 2);
  answer_claim(0);

  end_step(first[0], workflows::handler_result::completed());
  end_step(second[0], workflows::handler_result::completed());
  ASSERT_TRUE(driver->run_standing_claim());
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_EQ(driver->claims.front().limit, 4) << "slots freed after it stood raised its limit";
  answer_claim(0);

  wake();
  EXPECT_EQ(driver->claims.size(), 1u) << "a wake claims as before";
  EXPECT_FALSE(driver->run_standing_claim()) << "and took the standing claim back";
  answer_claim(0);
  const auto as_pool = caf::actor_cast<poller_credit_actor>(unit.poller);
  caf::anon_send(as_pool, pause_atom::value);
  run();
  EXPECT_FALSE(driver->run_standing_claim()) << "a paused poller leaves none";
  caf::anon_send(as_pool, resume_atom::value);
  run();
  answer_claim(0);
  caf::anon_send_exit(unit.poller, caf::exit_reason::user_shutdown);
  run();
  EXPECT_FALSE(driver->run_standing_claim()) << "a poller gone leaves none";
  EXPECT_TRUE(driver->claims.empty());
}

// Claims ahead of the writer are bounded: rows claimed and not yet committed are at most the
// workers, the rows claimed ahead (at most a batch) and two batches for the writer, so a writer
// that stalls stops the claims; its commits resume them.
TEST_F(queue_unit, claims_ahead_of_the_writer_are_bounded) {
  start();
  std::size_t claimed = 0;
  for (int round = 0; round < 20 && !driver->claims.empty(); ++round) {
    // Every claim is answered in full and every step ends; the writer's commits stay unanswered.
    for (const auto& id : answer_claim(driver->claims.front().limit)) {
      ++claimed;
      end_step(id, workflows::handler_result::completed());
    }
  }
  EXPECT_GE(claimed, 12u) << "4 workers + 2 claims of 4";
  EXPECT_LE(claimed, 16u) << "and at most a batch ahead";
  EXPECT_TRUE(driver->claims.empty());
  EXPECT_EQ(busy(unit.writer), claimed);
  for (int i = 0; i < 100 && driver->claims.empty(); ++i) {
    if (driver->writes.empty())
      advance(10ms);
    else
      answer_write();
  }
  EXPECT_EQ(driver->claims.size(), 1u) << "commits free claims again";
}

// The writer's share of the rows held follows its commits: once its commits took many rows, the
// claims may run further ahead of a commit that has not answered, up to three of those commits.
TEST_F(queue_unit, the_writers_share_of_the_rows_held_grows_with_its_commits) {
  start();
  auto claim_and_finish_until_stopped = [&] {
    std::size_t claimed = 0;
    for (int round = 0; round < 100 && !driver->claims.empty(); ++round)
      for (const auto& id : answer_claim(driver->claims.front().limit)) {
        ++claimed;
        end_step(id, workflows::handler_result::completed());
      }
    return claimed;
  };
  const auto first = claim_and_finish_until_stopped();
  EXPECT_LE(first, 16u) << "4 workers, at most 4 ahead, two batches of 4 for the writer";
  std::size_t largest_commit = 0;
  for (int i = 0; i < 100 && busy(unit.writer) > 0; ++i) {
    if (driver->writes.empty())
      advance(10ms);
    else
      largest_commit = std::max(largest_commit, answer_write().size());
  }
  ASSERT_EQ(busy(unit.writer), 0u);
  EXPECT_GT(largest_commit, 4u) << "results gathered while the first commit was unanswered";
  const auto second = claim_and_finish_until_stopped();
  EXPECT_GT(second, 16u) << "the writer's share grew with its commits (first " << first
                         << ", largest commit " << largest_commit << ")";
  EXPECT_LE(second, 4 + 4 + 3 * largest_commit);
  EXPECT_TRUE(driver->claims.empty()) << "and it is still bounded";
}

// Group commit: results that arrive while a commit is in flight share the next one, and at most
// one commit is in flight.
TEST_F(queue_unit, results_share_a_commit_and_one_commit_is_in_flight) {
  start();
  auto ids = answer_claim(4);
  end_step(ids[0], workflows::handler_result::completed());
  ASSERT_EQ(driver->writes.size(), 1u) << "an idle writer commits at once";
  end_step(ids[1], workflows::handler_result::completed());
  end_step(ids[2], workflows::handler_result::failed("bad page"));
  advance(50ms);
  EXPECT_EQ(driver->writes.size(), 1u) << "a second commit while one is in flight";
  auto first = answer_write();
  ASSERT_EQ(first.size(), 1u);
  advance(10ms);
  ASSERT_EQ(driver->writes.size(), 1u);
  auto second = answer_write();
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[1].result, outcome::failed);
  EXPECT_EQ(second[1].error, "bad page");
}

// A commit that fails comes back whole and is retried with backoff; nothing is committed twice
// or lost, and the poller forgets the rows only once they committed.
TEST_F(queue_unit, a_failed_commit_is_retried_whole_with_backoff) {
  start();
  auto ids = answer_claim(2);
  end_step(ids[0], workflows::handler_result::completed());
  end_step(ids[1], workflows::handler_result::completed());
  while (driver->writes.empty())
    advance(10ms);
  std::size_t written = 0;
  for (const auto& w : driver->writes)
    written += w.items.size();
  answer_write(/*fail=*/true);
  EXPECT_TRUE(driver->writes.empty()) << "retried at once";
  // More results arrive meanwhile and fill a batch, which would commit at once: not during the
  // backoff (the database retry delay, 100 ms after a first failure).
  wake();
  for (const auto& id : answer_claim(2))
    end_step(id, workflows::handler_result::completed());
  advance(90ms);
  EXPECT_TRUE(driver->writes.empty()) << "retried before its backoff";
  advance(20ms);
  ASSERT_EQ(driver->writes.size(), 1u);
  std::size_t again = 0;
  for (const auto& w : driver->writes)
    again += w.items.size();
  while (!driver->writes.empty() || busy(unit.writer) > 0) {
    if (driver->writes.empty())
      advance(10ms);
    else
      answer_write();
  }
  EXPECT_GE(again, written + 2);
  EXPECT_EQ(busy(unit.writer), 0u);
}

// The deadline sweep: a step past its time limit is cancelled and its item goes to the writer
// as a failed attempt (retried with backoff by the database); its late answer is dropped.
TEST_F(queue_unit, a_step_past_its_time_limit_is_cancelled_and_retried) {
  ctx->config.timeout = 10s;
  start();
  auto ids = answer_claim(1);
  ASSERT_EQ(steps.size(), 1u);
  auto session = steps[0].session;
  advance(9s);
  EXPECT_FALSE(session->cancelled());
  advance(2s);
  EXPECT_TRUE(session->cancelled());
  EXPECT_EQ(metrics.timeouts.load(), 1u);
  while (driver->writes.empty())
    advance(10ms);
  auto items = answer_write();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].id, ids[0]);
  EXPECT_EQ(items[0].result, outcome::retry);
  EXPECT_NE(items[0].error.find("timed out"), std::string::npos) << items[0].error;
  // The step's own answer, late, is dropped.
  auto done = std::move(steps[0].done);
  done(workflows::handler_result::completed());
  run();
  EXPECT_EQ(metrics.stale_results.load(), 1u);
  advance(20ms);
  EXPECT_TRUE(driver->writes.empty());
}

// Crash intensity: steps that keep crashing pause the queue's claims (degraded) until the pause
// is over.
TEST_F(queue_unit, steps_that_keep_crashing_pause_the_claims) {
  start();
  auto ids = answer_claim(3);
  for (const auto& id : ids)
    end_step(id, workflows::handler_result::crashed("boom"));
  EXPECT_TRUE(metrics.degraded.load());
  // Its freed slots bring a claim only after the pause.
  wake();
  const auto claims_while_paused = driver->claims.size();
  advance(29s);
  EXPECT_EQ(driver->claims.size(), claims_while_paused) << "claimed while paused";
  EXPECT_TRUE(metrics.degraded.load());
  advance(2s);
  EXPECT_FALSE(metrics.degraded.load());
  EXPECT_GT(driver->claims.size(), claims_while_paused) << "no claim after the pause";
}

// The queue is reported degraded once its poller has stopped claiming: a claim in flight at the
// pause answers first, because it could take rows submitted after a report made before it.
TEST_F(queue_unit, a_pause_is_reported_once_the_claim_in_flight_has_answered) {
  start();
  auto ids = answer_claim(4);
  end_step(ids[0], workflows::handler_result::crashed("boom"));
  end_step(ids[1], workflows::handler_result::crashed("boom"));
  ASSERT_EQ(driver->claims.size(), 1u) << "two freed slots bring a claim";
  end_step(ids[2], workflows::handler_result::crashed("boom")); // past the limits: a pause
  EXPECT_FALSE(metrics.degraded.load()) << "reported while a claim was in flight";
  answer_claim(0);
  EXPECT_TRUE(metrics.degraded.load());
  wake();
  EXPECT_TRUE(driver->claims.empty()) << "claimed while paused";
}

// After a short claim, once its rows are on their way, the poller asks when the next queued row
// is due, and claims again then (a timer), not at the fallback interval (a minute here); a row
// due but locked by another claim is looked at again soon. A full claim asks nothing.
TEST_F(queue_unit, the_next_due_answer_of_a_short_claim_sets_a_timer) {
  start();
  auto first = answer_claim(4); // full
  EXPECT_TRUE(driver->dues.empty()) << "asked after a full claim";
  end_step(first[0], workflows::handler_result::completed());
  end_step(first[1], workflows::handler_result::completed());
  ASSERT_EQ(driver->claims.size(), 1u);
  answer_claim(1); // short
  EXPECT_EQ(steps.size(), 5u) << "the row did not run";
  ASSERT_EQ(driver->dues.size(), 1u) << "not asked after a short claim";
  auto due = [&](double seconds) {
    auto reply = std::move(driver->dues.front());
    driver->dues.pop_front();
    reply(seconds);
    run();
  };
  due(2.0);
  advance(1s);
  EXPECT_TRUE(driver->claims.empty()) << "claimed before the row was due";
  advance(1s + 10ms);
  ASSERT_EQ(driver->claims.size(), 1u) << "no claim once the row was due";

  answer_claim(0);
  ASSERT_EQ(driver->dues.size(), 1u);
  due(0.0);
  advance(100ms);
  ASSERT_EQ(driver->claims.size(), 1u) << "a row due but locked is not looked at again soon";

  answer_claim(0);
  ASSERT_EQ(driver->dues.size(), 1u);
  due(120.0); // past the fallback interval: the scheduler's tick comes first
  advance(121s);
  EXPECT_TRUE(driver->claims.empty());
}

// Cancellation: a lease renewal that finds a cancel request reaches the item's running step.
TEST_F(queue_unit, a_cancel_found_by_a_lease_renewal_reaches_the_running_step) {
  start();
  auto ids = answer_claim(2);
  advance(10s); // a third of the lease
  ASSERT_EQ(driver->renews.size(), 1u);
  auto call = std::move(driver->renews.front());
  driver->renews.pop_front();
  EXPECT_EQ(call.ids.size(), 2u);
  call.done({ids[1]}, false);
  run();
  EXPECT_FALSE(steps[0].session->cancelled());
  EXPECT_TRUE(steps[1].session->cancelled());
}

// A lost connection: a claim may have committed unseen, so the next claim names the rows the
// poller holds (the driver returns the others), and a failed claim is retried with backoff.
TEST_F(queue_unit, after_a_lost_connection_the_next_claim_names_the_rows_held) {
  start();
  auto ids = answer_claim(2, /*connection_lost=*/true);
  EXPECT_TRUE(driver->claims.empty()) << "a short claim asks no more until woken";
  end_step(ids[0], workflows::handler_result::completed());
  wake();
  ASSERT_EQ(driver->claims.size(), 1u);
  ASSERT_TRUE(driver->claims.front().known.has_value());
  EXPECT_EQ(driver->claims.front().known->size(), 2u) << "both rows are held until committed";
  claim_fails(/*connection_lost=*/true);
  EXPECT_TRUE(driver->claims.empty()) << "a failed claim is retried at once";
  advance(100ms); // the first database retry delay
  ASSERT_EQ(driver->claims.size(), 1u) << "a failed claim is tried again";
  EXPECT_TRUE(driver->claims.front().known.has_value());
  answer_claim(0);
  wake();
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_FALSE(driver->claims.front().known.has_value()) << "the orphans were checked";
}

// A lost connection that a lease renewal finds takes the standing claim back, so that the next
// claim names the rows held (rows claimed unseen go back first); a standing claim that ran
// unseen meanwhile named nothing, so the check waits for the claim after it.
TEST_F(queue_unit, a_lost_connection_found_by_a_renewal_takes_the_standing_claim_back) {
  start();
  answer_claim(2); // short: a claim stands
  auto renewal_finds_the_connection_lost = [&] {
    advance(10s); // a third of the lease
    ASSERT_FALSE(driver->renews.empty());
    auto call = std::move(driver->renews.front());
    driver->renews.pop_front();
    call.done({}, /*lost=*/true);
    run();
  };
  renewal_finds_the_connection_lost();
  EXPECT_FALSE(driver->run_standing_claim()) << "a claim naming nothing would skip the check";
  wake();
  ASSERT_EQ(driver->claims.size(), 1u);
  ASSERT_TRUE(driver->claims.front().known.has_value());
  EXPECT_EQ(driver->claims.front().known->size(), 2u);
  answer_claim(0);

  ASSERT_TRUE(driver->run_standing_claim()) << "checked: a claim stands again";
  renewal_finds_the_connection_lost(); // its answer comes after the standing claim ran
  answer_claim(0);
  EXPECT_FALSE(driver->run_standing_claim()) << "the claim that ran named nothing";
  wake();
  ASSERT_EQ(driver->claims.size(), 1u);
  EXPECT_TRUE(driver->claims.front().known.has_value());
}

// Drain: a draining poller claims nothing more; the pool and the writer still finish what they
// hold, and a restarted unit first releases what its predecessor held.
TEST_F(queue_unit, a_drained_poller_claims_nothing_and_the_rest_finishes) {
  start(/*release_held=*/true);
  EXPECT_EQ(driver->releases, 1);
  auto ids = answer_claim(2);
  auto drained = std::make_shared<bool>(false);
  sys->spawn(
      [](caf::event_based_actor* self, poller_control_actor poller, std::shared_ptr<bool> out) {
        self->request(poller, 1s, drain_atom::value).then([out](bool ok) { *out = ok; });
      },
      unit.poller, drained);
  run();
  EXPECT_TRUE(*drained);
  EXPECT_EQ(busy(unit.pool), 2u);
  end_step(ids[0], workflows::handler_result::completed());
  end_step(ids[1], workflows::handler_result::retry("later"));
  wake();
  EXPECT_TRUE(driver->claims.empty()) << "claimed while draining";
  while (!driver->writes.empty() || busy(unit.writer) > 0) {
    if (driver->writes.empty())
      advance(10ms);
    else
      answer_write();
  }
  EXPECT_EQ(busy(unit.pool), 0u);
  EXPECT_TRUE(driver->claims.empty());
}

} // namespace
