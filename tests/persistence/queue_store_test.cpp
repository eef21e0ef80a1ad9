// queue_store against a real PostgreSQL: claims, fencing, rescue, release, concurrency.
#include "config/config.hpp"
#include "config/queue_catalog.hpp"
#include "persistence/migrator.hpp"
#include "persistence/pg_array.hpp"
#include "persistence/queue_sql.hpp"
#include "persistence/queue_store.hpp"
#include "persistence/sql_catalog.hpp"
#include "support/engine_helpers.hpp"
#include "support/test_database.hpp"

#include <boost/json.hpp>
#include <future>
#include <gtest/gtest.h>
#include <limits>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

using namespace sky;
using namespace sky::test_support;

namespace {

struct fixture {
  scoped_database db;
  pqxx::connection conn{db.url()};
  config::queue_config qc;
  persistence::queue_store store;

  fixture() : store(*config::find_queue_definition("page_scrape"), make_config()) {
    persistence::migrate(conn);
  }
  static config::queue_config make_config() {
    config::queue_config c;
    c.name = "page_scrape";
    c.lease = std::chrono::seconds(30);
    c.max_attempts = 2;
    return c;
  }
};

} // namespace

TEST(queue_store, claims_at_most_the_limit_and_marks_rows) {
  fixture f;
  insert_jobs(f.db.url(), 7);
  insert_jobs(f.db.url(), 3, "{}", "email_scan"); // another queue on the same table
  auto rows = f.store.claim(f.conn, "node-1", 5);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].attempt, 1);
  // The payload holds the catalog's payload columns, and only those.
  auto payload = boost::json::parse(rows[0].payload_json).as_object();
  EXPECT_EQ(payload.at("job_type").as_string(), "page_scrape");
  EXPECT_TRUE(payload.at("params").is_object());
  EXPECT_TRUE(payload.at("domain_id").is_null());
  EXPECT_EQ(payload.size(), 3u);
  EXPECT_EQ(count(f.db.url(),
                  "SELECT count(*) FROM jobs WHERE status = 'InProgress' AND "
                  "locked_by = 'node-1' AND lease_expires_at > now() + interval '20 s'"),
            5);
  EXPECT_EQ(f.store.claim(f.conn, "node-1", 5).size(), 2u);
  EXPECT_TRUE(f.store.claim(f.conn, "node-1", 5).empty());
  EXPECT_EQ(count(f.db.url(),
                  "SELECT count(*) FROM jobs WHERE job_type = 'email_scan' AND status = 'Queued'"),
            3);
}

TEST(queue_store, rows_waiting_for_backoff_are_not_claimed_until_due) {
  fixture f;
  insert_jobs(f.db.url(), 1);
  f.conn.prepare("x", "UPDATE jobs SET next_attempt_at = now() + interval '1 hour'");
  {
    pqxx::work tx(f.conn);
    tx.exec_prepared("x");
    tx.commit();
  }
  EXPECT_TRUE(f.store.claim(f.conn, "n", 10).empty());
  auto due = f.store.next_due_in(f.conn);
  ASSERT_TRUE(due);
  EXPECT_GT(*due, 3500);
}

TEST(queue_store, concurrent_claims_never_return_the_same_row) {
  fixture f;
  insert_jobs(f.db.url(), 2000);
  std::vector<std::vector<std::string>> claimed(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      pqxx::connection c(f.db.url());
      for (;;) {
        auto rows = f.store.claim(c, "node-" + std::to_string(t), 37);
        if (rows.empty())
          break;
        for (auto& r : rows)
          claimed[t].push_back(r.id);
      }
    });
  for (auto& t : threads)
    t.join();
  std::set<std::string> all;
  std::size_t total = 0;
  for (auto& v : claimed) {
    total += v.size();
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(total, 2000u);
  EXPECT_EQ(all.size(), 2000u);
}

TEST(queue_store, finish_is_fenced_on_holder_and_claim) {
  fixture f;
  insert_jobs(f.db.url(), 1);
  auto row = f.store.claim(f.conn, "node-1", 1).at(0);
  using persistence::finish_kind;
  persistence::finish_request done{row.id,           row.claim, finish_kind::completed, "", 0,
                                   R"({"ok":true})", {}};
  pqxx::work tx(f.conn);
  EXPECT_FALSE(f.store.finish(tx, "node-2", done));
  auto wrong_claim = done;
  wrong_claim.claim++;
  EXPECT_FALSE(f.store.finish(tx, "node-1", wrong_claim));
  std::string status;
  EXPECT_TRUE(f.store.finish(tx, "node-1", done, &status));
  EXPECT_EQ(status, "Completed");
  // A replay of the same commit (e.g. after an in-doubt error) changes nothing.
  EXPECT_FALSE(f.store.finish(tx, "node-1", done));
  tx.commit();
  EXPECT_EQ(scalar(f.db.url(),
                   "SELECT result_data->>'ok' || progress || (finished_at IS NOT NULL) FROM jobs"),
            "true1true");
}

namespace {

// How often this connection ran each of its prepared statements (PostgreSQL 14+ counts plans).
long long executions(pqxx::connection& conn, const std::string& statement) {
  pqxx::nontransaction tx(conn);
  auto r = tx.exec_params("SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM "
                          "pg_prepared_statements WHERE name = $1",
                          statement);
  return r[0][0].as<long long>();
}

} // namespace

// Ids, addresses and claims of a batch go to PostgreSQL as binary arrays: what it reads from
// them is what they were built from, and text that is not of the array's type never leaves.
TEST(pg_array, binary_arrays_reach_postgresql_as_the_values_they_were_built_from) {
  fixture f;
  using element = persistence::binary_array_builder::element;
  persistence::binary_array_builder ids(element::uuid), addresses(element::tid),
      claims(element::int8), none(element::uuid);
  ids.add_uuid("0190a4b2-7c3e-7abc-8def-0123456789ab");
  ids.add_uuid("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");
  addresses.add_tid("(0,1)");
  addresses.add_tid("(4294967295,65535)");
  claims.add_int8(0);
  claims.add_int8(-1);
  claims.add_int8(std::numeric_limits<std::int64_t>::max());
  f.conn.prepare("binary_arrays", "SELECT $1::uuid[]::text, $2::tid[]::text, $3::bigint[]::text, "
                                  "cardinality($4::uuid[])");
  auto r = pqxx::nontransaction(f.conn).exec_prepared(
      "binary_arrays", pqxx::binarystring(ids.finish()), pqxx::binarystring(addresses.finish()),
      pqxx::binarystring(claims.finish()), pqxx::binarystring(none.finish()));
  EXPECT_EQ(r[0][0].as<std::string>(),
            "{0190a4b2-7c3e-7abc-8def-0123456789ab,ffffffff-ffff-ffff-ffff-ffffffffffff}");
  EXPECT_EQ(r[0][1].as<std::string>(), R"x({"(0,1)","(4294967295,65535)"})x");
  EXPECT_EQ(r[0][2].as<std::string>(), "{0,-1,9223372036854775807}");
  EXPECT_EQ(r[0][3].as<int>(), 0);
  EXPECT_TRUE(ids.empty()); // finish() starts the next array
  for (const char* bad :
       {"0190a4b2-7c3e-7abc-8def-0123456789a", "0190a4b2x7c3e-7abc-8def-0123456789ab",
        "g190a4b2-7c3e-7abc-8def-0123456789ab", "", "'; DROP TABLE jobs; --"})
    EXPECT_THROW(ids.add_uuid(bad), std::invalid_argument) << bad;
  for (const char* bad : {"(1,2", "1,2)", "(,2)", "(1,)", "(1,65536)", "(4294967296,1)", "(-1,2)",
                          "(1,2,3)", "(1 ,2)"})
    EXPECT_THROW(addresses.add_tid(bad), std::invalid_argument) << bad;
  EXPECT_TRUE(ids.empty() && addresses.empty()); // a refused element adds nothing
  EXPECT_THROW(ids.add_int8(1), std::logic_error);
}

// A completion goes straight to the row version its claim returned. The fence holds there too,
// an address with another row's id finds nothing, and a row that has moved since its claim (a
// lease renewal writes a new version) is found by id instead.
TEST(queue_store, completions_go_to_the_claimed_address_and_follow_a_moved_row) {
  fixture f;
  insert_jobs(f.db.url(), 3);
  auto rows = f.store.claim(f.conn, "node-1", 3);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows)
    EXPECT_EQ(r.row_address.front(), '(') << r.row_address;
  using persistence::finish_kind;
  auto request = [](const persistence::claimed_row& r) {
    return persistence::finish_request{.id = r.id,
                                       .claim = r.claim,
                                       .kind = finish_kind::completed,
                                       .error = {},
                                       .retry_delay_s = 0,
                                       .result_json = "{}",
                                       .row_address = r.row_address};
  };
  // (Prepared on first use; counted once this connection has run it.)
  const auto before = executions(f.conn, "sky_page_scrape_complete_at");
  {
    pqxx::work tx(f.conn);
    auto wrong_claim = request(rows[0]);
    wrong_claim.claim++;
    EXPECT_FALSE(f.store.finish(tx, "node-1", wrong_claim));
    EXPECT_FALSE(f.store.finish(tx, "node-2", request(rows[0])));
    auto other_row = request(rows[0]);
    other_row.row_address = rows[1].row_address;
    other_row.id = rows[2].id; // rows[2] is ours, but it does not lie at rows[1]'s address
    other_row.claim = rows[2].claim;
    EXPECT_EQ(f.store.finish_many(tx, "node-1", {other_row}).size(), 1u); // found by id instead
    tx.commit();
  }
  EXPECT_EQ(executions(f.conn, "sky_page_scrape_complete_at"), before + 3);
  // rows[0] at its address: one statement, no lookup by id.
  auto by_id_before = executions(f.conn, "sky_page_scrape_complete");
  {
    pqxx::work tx(f.conn);
    auto applied = f.store.finish_many(tx, "node-1", {request(rows[0])});
    ASSERT_EQ(applied.size(), 1u);
    EXPECT_EQ(applied[0].new_status, "Completed");
    tx.commit();
  }
  EXPECT_EQ(executions(f.conn, "sky_page_scrape_complete"), by_id_before);
  // rows[1] moves (its lease is renewed); its claim's address now holds a dead version.
  EXPECT_TRUE(f.store.renew(f.conn, "node-1", {rows[1].id}).empty());
  EXPECT_NE(scalar(f.db.url(), "SELECT ctid::text FROM jobs WHERE id = '" + rows[1].id + "'"),
            rows[1].row_address);
  {
    pqxx::work tx(f.conn);
    EXPECT_EQ(f.store.finish_many(tx, "node-1", {request(rows[1])}).size(), 1u);
    tx.commit();
  }
  EXPECT_EQ(executions(f.conn, "sky_page_scrape_complete"), by_id_before + 1);
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM jobs WHERE status = 'Completed' AND "
                              "finished_at IS NOT NULL AND locked_by IS NULL"),
            3);
}

namespace {

// Completes `row` at its claimed address while another transaction holds a newer, uncommitted
// version of it (`change`); returns how many rows the completion applied once that commits.
std::size_t complete_behind(fixture& f, const persistence::claimed_row& row,
                            const std::string& change) {
  pqxx::connection other(f.db.url());
  pqxx::work blocker(other);
  blocker.exec(change);
  const int writer_pid = f.conn.backendpid();
  auto finished = std::async(std::launch::async, [&] {
    pqxx::work tx(f.conn);
    auto applied = f.store.finish_many(
        tx, "node-1",
        {{row.id, row.claim, persistence::finish_kind::completed, "", 0, "{}", row.row_address}});
    tx.commit();
    return applied.size();
  });
  // The completion reaches the row and waits for the other transaction's lock.
  bool waited = false;
  for (int i = 0; i < 2000 && !waited; ++i) {
    waited =
        count(f.db.url(), "SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                              std::to_string(writer_pid) + " AND wait_event_type = 'Lock'") == 1;
    if (!waited)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(waited);
  blocker.commit();
  return finished.get();
}

} // namespace

// While a completion waits for a row that another transaction is changing, the fence is checked
// again on the version that transaction leaves: a renewed lease is still ours and completes; a
// row the rescuer took back is not.
TEST(queue_store, a_completion_that_waits_for_a_row_checks_the_fence_on_its_newest_version) {
  fixture f;
  insert_jobs(f.db.url(), 2);
  auto rows = f.store.claim(f.conn, "node-1", 2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(
      complete_behind(f, rows[0],
                      "UPDATE jobs SET lease_expires_at = now() + interval '1 h' WHERE id = '" +
                          rows[0].id + "'"),
      1u);
  EXPECT_EQ(complete_behind(f, rows[1],
                            "UPDATE jobs SET status = 'Queued', locked_by = NULL, "
                            "lease_expires_at = NULL WHERE id = '" +
                                rows[1].id + "'"),
            0u);
  EXPECT_EQ(
      scalar(f.db.url(), "SELECT string_agg(status::text, ',' ORDER BY status::text) FROM jobs"),
      "Completed,Queued");
}

TEST(queue_store, retry_requeues_with_backoff_until_attempts_are_spent) {
  fixture f; // max_attempts = 2
  insert_jobs(f.db.url(), 1);
  auto first = f.store.claim(f.conn, "n", 1).at(0);
  using persistence::finish_kind;
  std::string status;
  {
    pqxx::work tx(f.conn);
    ASSERT_TRUE(f.store.finish(
        tx, "n", {first.id, first.claim, finish_kind::retry, "flaky", 0.0, {}, {}}, &status));
    tx.commit();
  }
  EXPECT_EQ(status, "Queued");
  EXPECT_EQ(scalar(f.db.url(),
                   "SELECT last_error || '|' || error || '|' || (finished_at IS NULL) FROM jobs"),
            "flaky|flaky|true");
  auto second = f.store.claim(f.conn, "n", 1).at(0);
  EXPECT_EQ(second.attempt, 2);
  {
    pqxx::work tx(f.conn);
    ASSERT_TRUE(f.store.finish(
        tx, "n", {second.id, second.claim, finish_kind::retry, "flaky again", 60, {}, {}},
        &status));
    tx.commit();
  }
  EXPECT_EQ(status, "Error");
  EXPECT_EQ(scalar(f.db.url(), "SELECT finished_at IS NOT NULL FROM jobs"), "t");
}

TEST(queue_store, batch_finish_applies_each_kind_and_skips_rows_that_are_not_ours) {
  fixture f;
  insert_jobs(f.db.url(), 5);
  auto rows = f.store.claim(f.conn, "n", 5);
  ASSERT_EQ(rows.size(), 5u);
  using persistence::finish_kind;
  std::vector<persistence::finish_request> items{
      {rows[0].id, rows[0].claim, finish_kind::completed, "", 0, R"({"a":1})", rows[0].row_address},
      {rows[1].id, rows[1].claim, finish_kind::retry, "again", 0, {}, rows[1].row_address},
      {rows[2].id, rows[2].claim, finish_kind::failed, "broken", 0, {}, rows[2].row_address},
      {rows[3].id, rows[3].claim, finish_kind::cancelled, "stop", 0, {}, rows[3].row_address},
      // wrong claim: fenced out, at its address and by id
      {rows[4].id, rows[4].claim + 1, finish_kind::completed, "", 0, {}, rows[4].row_address},
  };
  pqxx::work tx(f.conn);
  auto applied = f.store.finish_many(tx, "n", items);
  tx.commit();
  std::map<std::string, std::string> status;
  for (auto& a : applied)
    status[a.id] = a.new_status;
  EXPECT_EQ(applied.size(), 4u);
  EXPECT_EQ(status[rows[0].id], "Completed");
  EXPECT_EQ(status[rows[1].id], "Queued");
  EXPECT_EQ(status[rows[2].id], "Error");
  EXPECT_EQ(status[rows[3].id], "Cancelled");
  EXPECT_EQ(status.count(rows[4].id), 0u);
  EXPECT_EQ(scalar(f.db.url(), "SELECT status::text FROM jobs WHERE id = '" + rows[4].id + "'"),
            "InProgress");
}

TEST(queue_store, rescue_returns_expired_leases_and_errors_exhausted_rows) {
  fixture f;
  insert_jobs(f.db.url(), 2);
  auto rows = f.store.claim(f.conn, "dead-node", 2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(f.store.rescue(f.conn, 100).empty()) << "leases are still valid";
  {
    pqxx::work tx(f.conn);
    tx.exec("UPDATE jobs SET lease_expires_at = now() - interval '1 s'");
    tx.exec("UPDATE jobs SET attempts = 2 WHERE id = '" + rows[1].id + "'");
    tx.commit();
  }
  auto rescued = f.store.rescue(f.conn, 100);
  ASSERT_EQ(rescued.size(), 2u);
  EXPECT_EQ(scalar(f.db.url(), "SELECT status::text FROM jobs WHERE id = '" + rows[0].id + "'"),
            "Queued");
  EXPECT_EQ(scalar(f.db.url(), "SELECT status::text FROM jobs WHERE id = '" + rows[1].id + "'"),
            "Error");
  EXPECT_NE(scalar(f.db.url(), "SELECT last_error FROM jobs WHERE id = '" + rows[0].id + "'")
                .find("dead-node"),
            std::string::npos);
}

TEST(queue_store, renew_extends_leases_and_reports_cancellation_requests) {
  fixture f;
  insert_jobs(f.db.url(), 2);
  auto rows = f.store.claim(f.conn, "n", 2);
  {
    pqxx::work tx(f.conn);
    tx.exec("UPDATE jobs SET lease_expires_at = now() + interval '1 s'");
    tx.exec("UPDATE jobs SET cancel_requested = true WHERE id = '" + rows[0].id + "'");
    tx.commit();
  }
  auto cancelled = f.store.renew(f.conn, "n", {rows[0].id, rows[1].id});
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0], rows[0].id);
  EXPECT_EQ(count(f.db.url(),
                  "SELECT count(*) FROM jobs WHERE lease_expires_at > now() + interval '20 s'"),
            2);
  EXPECT_TRUE(f.store.renew(f.conn, "other-node", {rows[0].id}).empty());
}

TEST(queue_store, release_returns_held_rows_without_counting_the_attempt) {
  fixture f;
  insert_jobs(f.db.url(), 3);
  f.store.claim(f.conn, "leaving", 2);
  auto released = f.store.release(f.conn, "leaving");
  EXPECT_EQ(released.size(), 2u);
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM jobs WHERE status = 'Queued' AND attempts = 0 "
                              "AND locked_by IS NULL"),
            3);
}

// The fencing token only grows: an operator's requeue resets attempts and a drain gives one
// back, so the same node can claim a row again at the attempt of a worker that is still running.
// That worker's result must not land on the new claim.
TEST(queue_store, a_stale_result_is_refused_after_a_requeue_and_a_reclaim_by_the_same_node) {
  fixture f;
  insert_jobs(f.db.url(), 1);
  using persistence::finish_kind;
  auto stale = f.store.claim(f.conn, "node-1", 1).at(0);
  // Its lease expires with no attempt left (the worker is slow, not gone): the rescuer ends it
  // in Error, and an operator retries it from scratch.
  pqxx::nontransaction(f.conn).exec("UPDATE jobs SET max_attempts = 1, lease_expires_at = now() "
                                    "- interval '1 second'");
  ASSERT_EQ(f.store.rescue(f.conn, 10).at(0).new_status, "Error");
  const auto requeue = persistence::render_queue_query("queue_requeue_one", f.store.definition());
  ASSERT_EQ(pqxx::nontransaction(f.conn).exec_params(requeue, stale.id).size(), 1u);
  auto fresh = f.store.claim(f.conn, "node-1", 1).at(0);
  ASSERT_EQ(fresh.id, stale.id);
  EXPECT_EQ(fresh.attempt, stale.attempt); // the holder and the attempt cannot tell them apart
  EXPECT_GT(fresh.claim, stale.claim);
  const auto report = [&](const persistence::claimed_row& r, finish_kind kind) {
    pqxx::work tx(f.conn);
    auto applied =
        f.store.finish_many(tx, "node-1",
                            {{r.id, r.claim, kind, "from claim " + std::to_string(r.claim), 0,
                              R"({"claim":)" + std::to_string(r.claim) + "}", r.row_address}});
    tx.commit();
    return applied.size();
  };
  for (auto kind : {finish_kind::completed, finish_kind::retry, finish_kind::failed})
    EXPECT_EQ(report(stale, kind), 0u);
  EXPECT_EQ(scalar(f.db.url(), "SELECT status::text || '|' || locked_by FROM jobs"),
            "InProgress|node-1");
  // A progress report of the stale worker is fenced out too.
  EXPECT_EQ(pqxx::nontransaction(f.conn)
                .exec_params(persistence::query("jobs_report_progress"), stale.id, 0.5, "node-1",
                             stale.claim)
                .affected_rows(),
            0u);
  EXPECT_EQ(report(fresh, finish_kind::completed), 1u);
  EXPECT_EQ(scalar(f.db.url(), "SELECT status::text || '|' || (result_data->>'claim') FROM jobs"),
            "Completed|" + std::to_string(fresh.claim));

  // A drain gives the attempt back; the same node claiming again gets a new claim all the same.
  insert_jobs(f.db.url(), 1);
  auto before_drain = f.store.claim(f.conn, "node-1", 1).at(0);
  ASSERT_EQ(f.store.release(f.conn, "node-1").size(), 1u);
  auto after_drain = f.store.claim(f.conn, "node-1", 1).at(0);
  ASSERT_EQ(after_drain.id, before_drain.id);
  EXPECT_EQ(after_drain.attempt, before_drain.attempt);
  EXPECT_EQ(report(before_drain, finish_kind::completed), 0u);
  EXPECT_EQ(report(after_drain, finish_kind::completed), 1u);
}

TEST(queue_store, orphaned_claims_are_returned_but_known_ones_are_kept) {
  fixture f;
  insert_jobs(f.db.url(), 3);
  auto rows = f.store.claim(f.conn, "n", 3);
  ASSERT_EQ(rows.size(), 3u);
  auto orphans = f.store.release_orphans(f.conn, "n", {rows[0].id});
  EXPECT_EQ(orphans.size(), 2u);
  EXPECT_EQ(scalar(f.db.url(), "SELECT status::text FROM jobs WHERE id = '" + rows[0].id + "'"),
            "InProgress");
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM jobs WHERE status = 'Queued' AND attempts = 0"),
            2);
  EXPECT_TRUE(f.store.release_orphans(f.conn, "other-node", {}).empty());
}

// Directly and through a pooler (where some statements take another form).
TEST(queue_store, every_queue_renders_and_runs_its_statements) {
  fixture f;
  for (const auto& def : config::queue_definitions())
    for (bool prepared : {true, false}) {
      config::queue_config qc;
      persistence::queue_store store(def, qc, prepared);
      EXPECT_NO_THROW(store.claim(f.conn, "n", 1)) << def.name;
      EXPECT_NO_THROW(store.rescue(f.conn, 1)) << def.name;
      EXPECT_NO_THROW(store.release(f.conn, "n")) << def.name;
      EXPECT_NO_THROW(store.release_orphans(f.conn, "n", {})) << def.name;
      EXPECT_NO_THROW(store.next_due_in(f.conn)) << def.name;
      const std::string nobody = "00000000-0000-0000-0000-000000000000";
      EXPECT_NO_THROW(store.renew(f.conn, "n", {nobody})) << def.name;
      pqxx::work tx(f.conn);
      for (auto kind : {persistence::finish_kind::completed, persistence::finish_kind::retry,
                        persistence::finish_kind::failed, persistence::finish_kind::cancelled})
        for (std::string address : {"", "(0,1)"}) // by id, and at an address first
          EXPECT_NO_THROW(
              store.finish_many(tx, "n", {{nobody, 1, kind, "why", 1.0, "{}", address}}))
              << def.name << (prepared ? "" : " (pooled)");
      tx.commit();
    }
}

// A claim changes no indexed column, and the jobs table's pages keep room for the new row
// version, so PostgreSQL keeps it on its page without index entries (a HOT update): claiming a
// job costs no index writes. (Lease renewals change no indexed column either; whether they fit
// on the page depends on when the claim's old versions get pruned, so they are not counted.)
TEST(queue_store, claims_are_heap_only_updates) {
  fixture f;
  insert_jobs(f.db.url(), 200);
  auto rows = f.store.claim(f.conn, "node-1", 200);
  ASSERT_EQ(rows.size(), 200u);
  // Statistics reach the shared counters when the backend goes idle; wait for them.
  pqxx::nontransaction(f.conn).exec("SELECT pg_stat_force_next_flush()");
  pqxx::connection other(f.db.url());
  long long updated = 0, hot = 0;
  for (int i = 0; i < 100 && updated < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pqxx::nontransaction tx(other);
    auto r = tx.exec("SELECT pg_stat_clear_snapshot()::text, n_tup_upd, n_tup_hot_upd FROM "
                     "pg_stat_user_tables WHERE relname = 'jobs'")[0];
    updated = r[1].as<long long>();
    hot = r[2].as<long long>();
  }
  ASSERT_EQ(updated, 200);
  EXPECT_EQ(hot, 200);
}

namespace {

std::string generic_plan(pqxx::connection& conn, const std::string& execute) {
  pqxx::nontransaction tx(conn);
  tx.exec("SET plan_cache_mode = force_generic_plan");
  std::string plan;
  for (auto r : tx.exec("EXPLAIN " + execute))
    plan += std::string(r[0].c_str()) + "\n";
  tx.exec("RESET plan_cache_mode");
  return plan;
}

} // namespace

// A batch completed at its claimed addresses gives each row its own item's result, and an item
// without one keeps the row's earlier result; directly (one pass over the addresses, the results
// matched by id) and through a pooler (one lookup per item) alike.
TEST(queue_store, a_batch_completed_at_its_addresses_gives_each_row_its_own_result) {
  for (bool prepared : {true, false}) {
    SCOPED_TRACE(prepared ? "direct" : "pooled");
    fixture f;
    persistence::queue_store store(*config::find_queue_definition("page_scrape"),
                                   fixture::make_config(), prepared);
    if (prepared)
      persistence::configure_engine_session(f.conn);
    insert_jobs(f.db.url(), 4);
    pqxx::nontransaction(f.conn).exec("UPDATE jobs SET result_data = '{\"earlier\": true}'");
    auto rows = store.claim(f.conn, "node-1", 4);
    ASSERT_EQ(rows.size(), 4u);
    std::vector<persistence::finish_request> done;
    for (std::size_t i = 0; i < rows.size(); ++i)
      done.push_back({rows[i].id,
                      rows[i].claim,
                      persistence::finish_kind::completed,
                      {},
                      0,
                      i == 2 ? std::string() : "{\"n\": " + std::to_string(i) + "}",
                      rows[i].row_address});
    const auto by_id_before = executions(f.conn, "sky_page_scrape_complete");
    {
      pqxx::work tx(f.conn);
      EXPECT_EQ(store.finish_many(tx, "node-1", done).size(), 4u);
      tx.commit();
    }
    if (prepared) { // (unprepared statements leave no count behind)
      EXPECT_EQ(executions(f.conn, "sky_page_scrape_complete"), by_id_before); // all at addresses
    }
    for (std::size_t i = 0; i < rows.size(); ++i)
      EXPECT_EQ(
          scalar(f.db.url(), "SELECT status || ' ' || result_data::text FROM jobs WHERE id = '" +
                                 rows[i].id + "'"),
          i == 2 ? std::string("Completed {\"earlier\": true}")
                 : "Completed {\"n\": " + std::to_string(i) + "}");
  }
}

// Statistics never see the short-lived processing rows. With them stale, a claim and a batch
// finish must still reach their rows directly (row address, primary key): not by hashing a scan
// of the whole table, and not by walking every held row for each item of the batch.
TEST(queue_store, claim_and_finish_plans_reach_rows_directly_with_stale_statistics) {
  fixture f;
  insert_jobs(f.db.url(), 20000);
  pqxx::nontransaction(f.conn).exec("ANALYZE jobs");
  auto rows = f.store.claim(f.conn, "node-1", 600);
  ASSERT_EQ(rows.size(), 600u);
  std::vector<persistence::finish_request> done;
  for (std::size_t i = 0; i < 100; ++i)
    done.push_back(
        {rows[i].id, rows[i].claim, persistence::finish_kind::completed, {}, 0, "{}", {}});
  {
    pqxx::work tx(f.conn);
    EXPECT_EQ(f.store.finish_many(tx, "node-1", done).size(), 100u);
    tx.commit();
  }
  // The statements as prepared on this connection by the calls above. The claim picks from the
  // index of active jobs and updates the picked rows by address.
  auto claim = generic_plan(f.conn, "EXECUTE sky_page_scrape_claim('node-1', 30, 500)");
  EXPECT_NE(claim.find("jobs_active_idx"), std::string::npos) << claim;
  EXPECT_NE(claim.find("Tid Scan"), std::string::npos) << claim;
  // (The one-row control table that a pause is read from may be read whole.)
  EXPECT_EQ(claim.find("Seq Scan on jobs"), std::string::npos) << claim;
  std::vector<std::string> ids, results;
  std::vector<std::int64_t> claims;
  for (std::size_t i = 100; i < 600; ++i) {
    ids.push_back(rows[i].id);
    claims.push_back(rows[i].claim);
    results.push_back("{}");
  }
  auto finish = generic_plan(
      f.conn, "EXECUTE sky_page_scrape_complete(" + f.conn.quote(persistence::text_array(ids)) +
                  ", " + f.conn.quote(persistence::bigint_array(claims)) + ", 'node-1', " +
                  f.conn.quote(persistence::text_array(results)) + ")");
  EXPECT_NE(finish.find("Index Scan using jobs_pkey"), std::string::npos) << finish;
  EXPECT_EQ(finish.find("Seq Scan"), std::string::npos) << finish;
  // The old plan: held rows scanned in an outer loop, each compared with every item.
  EXPECT_EQ(finish.find("Join Filter"), std::string::npos) << finish;
  // The completion at the claimed addresses reads each row by its address.
  std::vector<persistence::finish_request> at_address;
  for (std::size_t i = 100; i < 200; ++i)
    at_address.push_back({rows[i].id,
                          rows[i].claim,
                          persistence::finish_kind::completed,
                          {},
                          0,
                          "{}",
                          rows[i].row_address});
  {
    pqxx::work tx(f.conn);
    EXPECT_EQ(f.store.finish_many(tx, "node-1", at_address).size(), 100u);
    tx.commit();
  }
  std::vector<std::string> addresses;
  for (std::size_t i = 200; i < 600; ++i)
    addresses.push_back(rows[i].row_address);
  ids.erase(ids.begin(), ids.begin() + 100);
  claims.erase(claims.begin(), claims.begin() + 100);
  results.erase(results.begin(), results.begin() + 100);
  auto direct =
      generic_plan(f.conn, "EXECUTE sky_page_scrape_complete_at(" +
                               f.conn.quote(persistence::text_array(addresses)) + ", " +
                               f.conn.quote(persistence::text_array(ids)) + ", " +
                               f.conn.quote(persistence::bigint_array(claims)) + ", 'node-1', " +
                               f.conn.quote(persistence::text_array(results)) + ")");
  EXPECT_NE(direct.find("Tid Scan on jobs"), std::string::npos) << direct;
  EXPECT_EQ(direct.find("Seq Scan"), std::string::npos) << direct;
  // One pass over the addresses, the items' (id, claim) pairs hashed once: no loop of lookups
  // and no join that compares every row with every item.
  EXPECT_NE(direct.find("hashed SubPlan"), std::string::npos) << direct;
  EXPECT_EQ(direct.find("Nested Loop"), std::string::npos) << direct;
  EXPECT_EQ(direct.find("Join Filter"), std::string::npos) << direct;
}

// Through a transaction pooler every statement is planned for its own values, with no session
// settings. With statistics from when the table was small and held no processing row, a plain
// join of the table to a batch of 500 items is planned as one pass over the whole table that
// compares every row with every item; the finish at the claimed addresses must still read its
// rows by address, and not the table whole.
TEST(queue_store, a_finish_through_a_pooler_reads_rows_by_address_with_stale_statistics) {
  fixture f;
  persistence::queue_store pooled(*config::find_queue_definition("page_scrape"),
                                  fixture::make_config(), /*prepared=*/false);
  insert_jobs(f.db.url(), 2000);
  pqxx::nontransaction(f.conn).exec("ANALYZE jobs");
  insert_jobs(f.db.url(), 20000); // no ANALYZE since
  auto rows = pooled.claim(f.conn, "node-1", 500);
  ASSERT_EQ(rows.size(), 500u);
  std::vector<persistence::finish_request> done;
  for (const auto& r : rows)
    done.push_back(
        {r.id, r.claim, persistence::finish_kind::completed, {}, 0, "{}", r.row_address});
  pqxx::work tx(f.conn);
  // The session's scans of jobs, whole or by index, not yet reported to the statistics (nothing
  // is reported inside a transaction), before and after the finish: reads by address are neither.
  auto scans = [&] {
    return tx
        .exec1("SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables "
               "WHERE relname = 'jobs'")[0]
        .as<long>();
  };
  const long before = scans();
  EXPECT_EQ(pooled.finish_many(tx, "node-1", done).size(), 500u);
  EXPECT_EQ(scans(), before);
  tx.commit();
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM jobs WHERE status = 'Completed'"), 500);
}

// Statements prepared while the table was empty keep their generic plans until an ANALYZE; the
// engine's session settings keep those plans on row addresses and indexes as the table grows.
TEST(queue_store, plans_prepared_on_an_empty_table_still_reach_rows_directly_once_it_has_grown) {
  fixture f;
  persistence::configure_engine_session(f.conn);
  pqxx::nontransaction(f.conn).exec("ANALYZE jobs"); // as autovacuum does on a new table
  // More than five runs each: from then on PostgreSQL plans them once, generically, for a
  // table of this size.
  for (int i = 0; i < 8; ++i) {
    insert_jobs(f.db.url(), 1);
    auto claimed = f.store.claim(f.conn, "node-1", 2);
    ASSERT_EQ(claimed.size(), 1u);
    pqxx::work tx(f.conn);
    f.store.finish_many(tx, "node-1",
                        {{claimed[0].id, claimed[0].claim, persistence::finish_kind::completed, "",
                          0, "{}", claimed[0].row_address}});
    tx.commit();
  }
  insert_jobs(f.db.url(), 5000); // no ANALYZE since
  auto claim = generic_plan(f.conn, "EXECUTE sky_page_scrape_claim('node-1', 30, 500)");
  EXPECT_NE(claim.find("Tid Scan on jobs t"), std::string::npos) << claim;
  EXPECT_EQ(claim.find("Seq Scan on jobs"), std::string::npos) << claim;
  auto rows = f.store.claim(f.conn, "node-1", 2);
  ASSERT_EQ(rows.size(), 2u);
  auto finish = generic_plan(
      f.conn,
      "EXECUTE sky_page_scrape_complete_at(" +
          f.conn.quote(persistence::text_array(std::vector<std::string>{rows[0].row_address})) +
          ", " + f.conn.quote(persistence::text_array(std::vector<std::string>{rows[0].id})) +
          ", '{1}', 'node-1', " +
          f.conn.quote(persistence::text_array(std::vector<std::string>{"{}"})) + ")");
  EXPECT_EQ(finish.find("Seq Scan on jobs"), std::string::npos) << finish;
  // Asked after every claim that emptied the queue: prepared too, and an index read.
  EXPECT_TRUE(f.store.next_due_in(f.conn));
  auto due = generic_plan(f.conn, "EXECUTE sky_page_scrape_next_due");
  EXPECT_NE(due.find("jobs_active_idx"), std::string::npos) << due;
  EXPECT_EQ(due.find("Seq Scan on jobs"), std::string::npos) << due;
  // A statement that can only scan (the status deltas are read whole) gets no JIT compilation
  // for the cost that setting adds.
  std::string fold;
  for (auto r : pqxx::nontransaction(f.conn).exec("EXPLAIN " +
                                                  persistence::query("jobs_fold_status_deltas")))
    fold += std::string(r[0].c_str()) + "\n";
  EXPECT_EQ(fold.find("JIT"), std::string::npos) << fold;
}

// With a long history of finished jobs, the claim and the rescuer read only the active rows.
TEST(queue_store, claim_and_rescue_read_the_active_jobs_index_not_the_history) {
  fixture f;
  {
    pqxx::work tx(f.conn);
    tx.exec("INSERT INTO jobs (job_type, status, finished_at) SELECT 'page_scrape', 'Completed', "
            "now() FROM generate_series(1, 20000)");
    tx.exec("ANALYZE jobs");
    tx.commit();
  }
  insert_jobs(f.db.url(), 5);
  ASSERT_EQ(f.store.claim(f.conn, "node-1", 2).size(), 2u);
  auto claim = generic_plan(f.conn, "EXECUTE sky_page_scrape_claim('node-1', 30, 10)");
  EXPECT_NE(claim.find("jobs_active_idx"), std::string::npos) << claim;
  EXPECT_EQ(claim.find("Seq Scan on jobs"), std::string::npos) << claim;
  pqxx::nontransaction(f.conn).exec(
      "PREPARE rescue AS " + persistence::render_queue_query(
                                 "queue_rescue", *config::find_queue_definition("page_scrape")));
  auto rescue = generic_plan(f.conn, "EXECUTE rescue(500, 3)");
  EXPECT_NE(rescue.find("jobs_active_idx"), std::string::npos) << rescue;
  EXPECT_EQ(rescue.find("Seq Scan"), std::string::npos) << rescue;
}

// The finished counts kept beside jobs agree with counting the table, whatever changed them:
// finishes, a rescue that gives up, a requeue of errors, a cancel, retention, before and after
// the deltas are folded, and on two job types at once.
TEST(queue_store, finished_counts_follow_every_change_of_jobs) {
  fixture f;
  auto kept = [&](const std::string& type) {
    std::map<std::string, long long> out;
    pqxx::nontransaction tx(f.conn);
    for (auto r : tx.exec_params(persistence::query("jobs_finished_counts"), type))
      out[r[0].c_str()] = r[1].as<long long>();
    return out;
  };
  auto counted = [&](const std::string& type) {
    std::map<std::string, long long> out;
    pqxx::nontransaction tx(f.conn);
    for (auto r : tx.exec_params("SELECT status::text, count(*) FROM jobs WHERE job_type = $1 "
                                 "AND finished_at IS NOT NULL GROUP BY 1",
                                 type))
      out[r[0].c_str()] = r[1].as<long long>();
    return out;
  };
  auto agree = [&](const char* step) {
    for (const char* type : {"page_scrape", "email_scan"})
      EXPECT_EQ(kept(type), counted(type)) << step << ", " << type;
  };

  insert_jobs(f.db.url(), 6);
  insert_jobs(f.db.url(), 2, "{}", "email_scan");
  auto rows = f.store.claim(f.conn, "n", 6);
  ASSERT_EQ(rows.size(), 6u);
  using persistence::finish_kind;
  {
    pqxx::work tx(f.conn);
    f.store.finish_many(
        tx, "n",
        {{rows[0].id, rows[0].claim, finish_kind::completed, "", 0, "{}", rows[0].row_address},
         {rows[1].id, rows[1].claim, finish_kind::completed, "", 0, "{}", {}},
         {rows[2].id, rows[2].claim, finish_kind::failed, "broken", 0, {}, {}},
         {rows[3].id, rows[3].claim, finish_kind::cancelled, "stop", 0, {}, {}},
         {rows[4].id, rows[4].claim, finish_kind::retry, "again", 0, {}, {}}});
    tx.commit();
  }
  agree("after finishes");
  EXPECT_EQ(kept("page_scrape"),
            (std::map<std::string, long long>{{"Cancelled", 1}, {"Completed", 2}, {"Error", 1}}));
  // A lease that expires with its attempts spent ends in Error through the rescuer.
  {
    pqxx::work tx(f.conn);
    tx.exec("UPDATE jobs SET lease_expires_at = now() - interval '1 s', attempts = 2 "
            "WHERE id = '" +
            rows[5].id + "'");
    tx.commit();
  }
  ASSERT_EQ(f.store.rescue(f.conn, 10).size(), 1u);
  agree("after a rescue");
  f.store.fold_status_counts(f.conn);
  agree("after folding");
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM job_status_deltas"), 0);
  // An operator re-queues the errors and cancels the email scans still queued.
  pqxx::nontransaction(f.conn).exec(
      "UPDATE jobs SET status = 'Queued', finished_at = NULL WHERE status = 'Error'");
  pqxx::nontransaction(f.conn).exec(
      "UPDATE jobs SET status = 'Cancelled', finished_at = now() WHERE job_type = 'email_scan'");
  agree("after a requeue and a cancel");
  // Retention deletes finished rows, in the same transaction as other changes.
  {
    pqxx::work tx(f.conn);
    tx.exec("DELETE FROM jobs WHERE status = 'Completed' AND id = '" + rows[0].id + "'");
    tx.exec("UPDATE jobs SET status = 'Completed', finished_at = now() WHERE status = 'Queued' "
            "AND job_type = 'page_scrape'");
    tx.commit();
  }
  agree("after deleting and finishing in one transaction");
  // A transaction that rolls back leaves no delta behind.
  {
    pqxx::work tx(f.conn);
    tx.exec("DELETE FROM jobs");
    tx.abort();
  }
  f.store.fold_status_counts(f.conn);
  agree("after a rollback and a fold");
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM jobs WHERE finished_at IS NOT NULL"), 7);
}

// The history of a job queue (jobs_finished_per_minute) reads counts per minute kept beside
// jobs, not the table. Whatever changes the jobs, before and after a fold, it agrees with
// counting the table's finished rows by minute, and the fold keeps two hours of minutes.
TEST(queue_store, finished_per_minute_counts_agree_with_the_table_through_changes_and_folds) {
  fixture f;
  const auto& def = *config::find_queue_definition("page_scrape");
  const auto history = persistence::render_queue_query("jobs_finished_per_minute", def);
  using minutes = std::map<long long, std::pair<long long, long long>>;
  auto start = [&] {
    return pqxx::nontransaction(f.conn)
        .exec("SELECT extract(epoch FROM date_trunc('minute', now()))::bigint - 59 * 60")[0][0]
        .as<long long>();
  };
  auto kept = [&] {
    minutes out;
    const auto from = start();
    pqxx::nontransaction tx(f.conn);
    for (auto r : tx.exec_params(history, from))
      if (r[1].as<long long>() != 0 || r[2].as<long long>() != 0)
        out[r[0].as<long long>()] = {r[1].as<long long>(), r[2].as<long long>()};
    return out;
  };
  auto counted = [&] {
    minutes out;
    const auto from = start();
    pqxx::nontransaction tx(f.conn);
    for (auto r : tx.exec_params(
             "SELECT extract(epoch FROM date_trunc('minute', finished_at))::bigint, "
             "count(*) FILTER (WHERE status = 'Completed'), count(*) FILTER (WHERE status = "
             "'Error') FROM jobs WHERE job_type = 'page_scrape' AND status IN ('Completed', "
             "'Error') AND finished_at >= to_timestamp($1) GROUP BY 1",
             from))
      out[r[0].as<long long>()] = {r[1].as<long long>(), r[2].as<long long>()};
    return out;
  };
  auto agree = [&](const char* step) {
    auto k = kept();
    EXPECT_EQ(k, counted()) << step;
    return k;
  };
  {
    pqxx::work tx(f.conn);
    // Five minutes ago: two completed, one failed; three hours ago (before the window and the
    // minutes kept); now; and another queue's finish, which is not this queue's.
    tx.exec("INSERT INTO jobs (job_type, status, finished_at) VALUES "
            "('page_scrape', 'Completed', date_trunc('minute', now()) - interval '5 minutes'), "
            "('page_scrape', 'Completed', date_trunc('minute', now()) - interval '5 minutes'), "
            "('page_scrape', 'Error', date_trunc('minute', now()) - interval '5 minutes'), "
            "('page_scrape', 'Error', now() - interval '3 hours'), "
            "('page_scrape', 'Completed', now()), ('email_scan', 'Completed', now())");
    tx.commit();
  }
  auto before = agree("after inserts");
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before.begin()->second, (std::pair<long long, long long>{2, 1}));
  f.store.fold_status_counts(f.conn);
  EXPECT_EQ(agree("after a fold"), before);
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM job_status_deltas"), 0);
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM job_finished_minutes WHERE minute < now() - "
                              "interval '2 hours'"),
            0);
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM job_finished_minutes WHERE job_type = "
                              "'email_scan'"),
            1);
  // The engine finishes a claimed job; an operator re-queues the errors; a finished job goes.
  insert_jobs(f.db.url(), 1);
  auto rows = f.store.claim(f.conn, "n", 1);
  ASSERT_EQ(rows.size(), 1u);
  {
    pqxx::work tx(f.conn);
    f.store.finish_many(tx, "n",
                        {{rows[0].id,
                          rows[0].claim,
                          persistence::finish_kind::failed,
                          "broken",
                          0,
                          {},
                          rows[0].row_address}});
    tx.commit();
  }
  agree("after a finish");
  pqxx::nontransaction(f.conn).exec(
      "UPDATE jobs SET status = 'Queued', finished_at = NULL WHERE status = 'Error' AND "
      "finished_at < date_trunc('minute', now())");
  pqxx::nontransaction(f.conn).exec(
      "DELETE FROM jobs WHERE ctid = (SELECT ctid FROM jobs WHERE status = 'Completed' LIMIT 1)");
  agree("after a requeue and a delete");
  f.store.fold_status_counts(f.conn);
  agree("after a second fold");
  // Minutes older than two hours go with the next fold.
  pqxx::nontransaction(f.conn).exec(
      "INSERT INTO job_finished_minutes VALUES ('page_scrape', 'Completed', "
      "date_trunc('minute', now()) - interval '3 hours', 4)");
  f.store.fold_status_counts(f.conn);
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM job_finished_minutes WHERE minute < now() - "
                              "interval '2 hours'"),
            0);
}

// Retention walks the primary key up to the cutoff: it deletes the old finished jobs of its
// type, keeps old jobs that are unfinished or finished recently and every newer job, and its plan
// reads the primary key up to the cutoff, not the table.
TEST(queue_store, retention_deletes_old_finished_jobs_by_walking_ids_up_to_the_cutoff) {
  fixture f;
  {
    pqxx::work tx(f.conn);
    // Created (the id's time) and finished 20 days ago: 30 page scrapes and 5 email scans.
    tx.exec("INSERT INTO jobs (id, job_type, status, finished_at) SELECT "
            "sky_uuid_v7_at(now() - interval '20 days'), t, 'Completed', now() - interval '20 "
            "days' FROM generate_series(1, 30) n, LATERAL (SELECT CASE WHEN n <= 25 THEN "
            "'page_scrape' ELSE 'email_scan' END) AS x(t)");
    // Created 20 days ago, but finished yesterday or never; and a recent one.
    tx.exec("INSERT INTO jobs (id, job_type, status, finished_at) VALUES "
            "(sky_uuid_v7_at(now() - interval '20 days'), 'page_scrape', 'Error', now() - "
            "interval '1 day'), "
            "(sky_uuid_v7_at(now() - interval '20 days'), 'page_scrape', 'Queued', NULL), "
            "(DEFAULT, 'page_scrape', 'Completed', now())");
    tx.commit();
  }
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM jobs WHERE id < sky_uuid_v7_floor(now() - "
                              "interval '19 days')"),
            32);
  EXPECT_EQ(f.store.delete_finished(f.conn, 14, 10), 10u);
  EXPECT_EQ(f.store.delete_finished(f.conn, 14, 100), 15u);
  EXPECT_EQ(f.store.delete_finished(f.conn, 14, 100), 0u);
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM jobs WHERE job_type = 'page_scrape'"), 3);
  EXPECT_EQ(count(f.db.url(), "SELECT count(*) FROM jobs WHERE job_type = 'email_scan'"), 5);
  pqxx::nontransaction(f.conn).exec("PREPARE retention AS " +
                                    persistence::query("jobs_delete_finished"));
  persistence::configure_engine_session(f.conn);
  auto plan = generic_plan(f.conn, "EXECUTE retention('page_scrape', 14, 1000)");
  EXPECT_NE(plan.find("Index Cond: (id < sky_uuid_v7_floor"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("Seq Scan on jobs"), std::string::npos) << plan;
}

// Array literals round-trip through PostgreSQL whatever their elements hold, built from a vector
// or element by element.
TEST(pg_array, literals_round_trip_quotes_backslashes_separators_and_nulls) {
  scoped_database db;
  pqxx::connection c(db.url());
  const std::vector<std::string> items{
      "plain", "with \"quotes\"", "back\\slash", "a,b", "{}", "NULL", "", " spaced "};
  persistence::text_array_builder built;
  for (const auto& item : items)
    built.add(item);
  built.add_null();
  const auto from_builder = built.finish();
  EXPECT_TRUE(built.empty());
  EXPECT_EQ(built.finish(), "{}"); // a finished builder starts again empty
  pqxx::nontransaction tx(c);
  auto elements = [&](const std::string& literal) {
    std::vector<std::string> out;
    for (auto r :
         tx.exec_params("SELECT coalesce(e, '<null>') FROM unnest($1::text[]) AS e", literal))
      out.push_back(r[0].as<std::string>());
    return out;
  };
  EXPECT_EQ(elements(persistence::text_array(items)), items);
  auto expected = items;
  expected.push_back("<null>");
  EXPECT_EQ(elements(from_builder), expected);
  EXPECT_EQ(tx.exec_params("SELECT $1::int[] = '{3,-1,0}'::int[]",
                           persistence::int_array(std::vector<int>{3, -1, 0}))[0][0]
                .as<bool>(),
            true);
}

// Hosts whose booked politeness slots ended over an hour ago are forgotten, a bounded number at
// a time; hosts with slots still ahead (or just past) stay. Only page scrapes book slots.
TEST(queue_store, page_scrapes_forget_hosts_whose_slots_ended_long_ago) {
  fixture f;
  pqxx::nontransaction(f.conn).exec(
      "INSERT INTO host_schedule (host, next_at) SELECT 'old' || n || '.example', now() - "
      "interval '2 hours' FROM generate_series(1, 3) n UNION ALL VALUES ('recent.example', now() "
      "- interval '10 minutes'), ('ahead.example', now() + interval '1 minute')");
  auto email_scan_config = fixture::make_config();
  email_scan_config.name = "email_scan";
  persistence::queue_store email_scans(*config::find_queue_definition("email_scan"),
                                       email_scan_config);
  EXPECT_EQ(email_scans.forget_past_hosts(f.conn, 100), 0u);
  EXPECT_EQ(f.store.forget_past_hosts(f.conn, 2), 2u);
  EXPECT_EQ(f.store.forget_past_hosts(f.conn, 100), 1u);
  EXPECT_EQ(f.store.forget_past_hosts(f.conn, 100), 0u);
  EXPECT_EQ(scalar(f.db.url(), "SELECT string_agg(host, ',' ORDER BY host) FROM host_schedule"),
            "ahead.example,recent.example");
}
