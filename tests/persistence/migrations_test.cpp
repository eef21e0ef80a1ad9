// Migrations against a real PostgreSQL: empty database, idempotence, enums, constraints, indexes.
#include "config/queue_catalog.hpp"
#include "persistence/migrator.hpp"
#include "persistence/queue_sql.hpp"
#include "persistence/sql_catalog.hpp"
#include "support/test_database.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

using namespace sky;

namespace {

std::vector<std::string> enum_values(pqxx::connection& c, const std::string& type) {
  pqxx::read_transaction tx(c);
  std::vector<std::string> out;
  for (auto row : tx.exec_params("SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = "
                                 "e.enumtypid WHERE t.typname = $1 ORDER BY e.enumsortorder",
                                 type))
    out.push_back(row[0].c_str());
  return out;
}

// A database as an older release left it: the migrations before `version`, recorded as applied.
void apply_migrations_before(pqxx::work& tx, int version) {
  tx.exec("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
          "applied_at timestamptz NOT NULL DEFAULT now())");
  for (const auto& m : persistence::migrations()) {
    if (m.version >= version)
      break;
    tx.exec(std::string(m.sql));
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                   m.name);
  }
}

} // namespace

TEST(migrations, apply_to_an_empty_database_then_are_a_no_op) {
  test_support::scoped_database db;
  pqxx::connection c(db.url());
  EXPECT_TRUE(persistence::applied_versions(c).empty());
  auto first = persistence::migrate(c);
  EXPECT_EQ(first.applied.size(), persistence::migrations().size());
  EXPECT_EQ(first.version, persistence::migrations().back().version);
  auto second = persistence::migrate(c);
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.version, first.version);
  EXPECT_EQ(persistence::applied_versions(c).size(), persistence::migrations().size());
}

TEST(migrations, enums_carry_the_seeds_exact_values) {
  test_support::scoped_database db;
  pqxx::connection c(db.url());
  persistence::migrate(c);
  using v = std::vector<std::string>;
  const v queued{"Queued", "Processing", "Completed", "Error"};
  EXPECT_EQ(enum_values(c, "domain_extraction_status_enum"), queued);
  EXPECT_EQ(enum_values(c, "sitemap_analysis_status_enum"), queued);
  EXPECT_EQ(enum_values(c, "gcp_api_deep_scan_status_enum"), queued);
  EXPECT_EQ(enum_values(c, "sitemap_import_status_enum"), queued);
  EXPECT_EQ(enum_values(c, "sitemap_file_status_enum"),
            (v{"Pending", "Processing", "Completed", "Error"}));
  EXPECT_EQ(enum_values(c, "sitemap_curation_status_enum"),
            (v{"New", "Selected", "Maybe", "Not a Fit", "Archived"}));
  EXPECT_EQ(enum_values(c, "task_status"), (v{"Queued", "InProgress", "Completed", "Error",
                                              "ManualReview", "Cancelled", "Paused"}));
  // The domain metadata queue uses the seeds' DomainExtractionStatusEnum; the old lowercase type
  // is gone.
  EXPECT_TRUE(enum_values(c, "domain_status_enum").empty());
  EXPECT_EQ(pqxx::nontransaction(c)
                .exec("SELECT udt_name FROM information_schema.columns WHERE table_name = "
                      "'domains' AND column_name = 'status'")[0][0]
                .as<std::string>(),
            "domain_extraction_status_enum");
}

TEST(migrations, every_queue_has_its_columns_and_a_partial_index_to_claim_from) {
  test_support::scoped_database db;
  pqxx::connection c(db.url());
  persistence::migrate(c);
  pqxx::read_transaction tx(c);
  for (const auto& q : config::queue_definitions()) {
    std::string prefix(q.column_prefix);
    for (std::string col : {"attempts", "max_attempts", "last_error", "locked_by",
                            "lease_expires_at", "next_attempt_at"}) {
      auto n = tx.exec_params("SELECT count(*) FROM information_schema.columns WHERE "
                              "table_name = $1 AND column_name = $2",
                              std::string(q.table), prefix + col)[0][0]
                   .as<int>();
      EXPECT_EQ(n, 1) << q.table << "." << prefix << col;
    }
    auto type = tx.exec_params("SELECT udt_name FROM information_schema.columns WHERE "
                               "table_name = $1 AND column_name = $2",
                               std::string(q.table), std::string(q.status_column));
    ASSERT_EQ(type.size(), 1u) << q.name;
    EXPECT_EQ(type[0][0].as<std::string>(), q.status_type) << q.name;
    // A partial index of the rows a claim looks at, so claims stay index scans: the queued
    // value's, or for job queues, the active (unfinished) jobs'.
    auto idx = tx.exec_params(
        "SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE $2",
        std::string(q.table),
        q.job_type.empty()
            ? "%WHERE (" + std::string(q.status_column) + " = '" + std::string(q.queued) + "'%"
            : std::string("%(job_type, next_attempt_at) WHERE (finished_at IS NULL)"));
    EXPECT_GE(idx[0][0].as<int>(), 1) << q.name;
    // The rendered observability query is valid SQL against this schema.
    EXPECT_NO_THROW(tx.exec(persistence::render_queue_query("queue_status_counts", q))) << q.name;
  }
}

TEST(migrations, unique_constraints_make_result_writes_idempotent) {
  test_support::scoped_database db;
  pqxx::connection c(db.url());
  persistence::migrate(c);
  pqxx::work tx(c);
  auto domain_id = tx.exec("INSERT INTO domains (domain) VALUES ('example.com') RETURNING id")[0][0]
                       .as<std::string>();
  // Each probe runs in savepoints (pqxx subtransactions) so that a rejected insert leaves the
  // outer transaction usable.
  auto insert_twice = [&](const std::string& sql) {
    pqxx::subtransaction outer(tx, "probe");
    outer.exec(sql);
    bool rejected = false;
    try {
      pqxx::subtransaction inner(outer, "again");
      inner.exec(sql);
      inner.commit();
    } catch (const pqxx::unique_violation&) {
      rejected = true;
    }
    outer.abort();
    return rejected;
  };
  EXPECT_TRUE(insert_twice("INSERT INTO domains (domain) VALUES ('dup.example')"));
  EXPECT_TRUE(insert_twice("INSERT INTO contacts (domain_id, email) VALUES ('" + domain_id +
                           "', 'a@example.com')"));
  EXPECT_TRUE(insert_twice("INSERT INTO pages (domain_id, url) VALUES ('" + domain_id +
                           "', 'https://example.com/a')"));
  EXPECT_TRUE(insert_twice("INSERT INTO places_staging (place_id) VALUES ('p1')"));
  EXPECT_TRUE(insert_twice("INSERT INTO local_businesses (place_id) VALUES ('p1')"));
  // Only one active email scan per domain.
  EXPECT_TRUE(insert_twice("INSERT INTO jobs (job_type, domain_id) VALUES ('email_scan', '" +
                           domain_id + "')"));
  // Unknown enum values are refused by the type, not by application code.
  {
    pqxx::subtransaction sub(tx, "enum");
    EXPECT_THROW(sub.exec("UPDATE domains SET sitemap_analysis_status = 'queued'"),
                 pqxx::data_exception);
  }
}

TEST(migrations, concurrent_migrators_serialise) {
  test_support::scoped_database db;
  std::vector<std::thread> threads;
  std::atomic<int> applied{0}, failures{0};
  for (int i = 0; i < 3; ++i)
    threads.emplace_back([&] {
      try {
        pqxx::connection c(db.url());
        applied += static_cast<int>(persistence::migrate(c).applied.size());
      } catch (...) {
        ++failures;
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied.load(), static_cast<int>(persistence::migrations().size()));
}

// Rows written under the lowercase domain statuses keep their meaning under the seeds' values.
TEST(migrations, domain_statuses_are_converted_to_the_seeds_values) {
  test_support::scoped_database db;
  pqxx::connection c(db.url());
  {
    pqxx::work tx(c);
    apply_migrations_before(tx, 7);
    tx.exec("INSERT INTO domains (domain, status) VALUES ('a.example.org', 'pending'), "
            "('b.example.org', 'processing'), ('c.example.org', 'completed'), "
            "('d.example.org', 'error')");
    tx.commit();
  }
  persistence::migrate(c);
  pqxx::read_transaction tx(c);
  auto rows = tx.exec("SELECT domain, status::text FROM domains ORDER BY domain");
  std::vector<std::string> statuses;
  for (auto r : rows)
    statuses.push_back(r[1].as<std::string>());
  EXPECT_EQ(statuses, (std::vector<std::string>{"Queued", "Processing", "Completed", "Error"}));
  // A new domain is queued for its metadata, and the queued index serves the claim.
  EXPECT_EQ(tx.exec("SELECT column_default FROM information_schema.columns WHERE table_name = "
                    "'domains' AND column_name = 'status'")[0][0]
                .as<std::string>(),
            "'Queued'::domain_extraction_status_enum");
  EXPECT_EQ(tx.exec("SELECT count(*) FROM pg_indexes WHERE indexname = "
                    "'domains_metadata_queued_idx' AND indexdef LIKE '%Queued%'")[0][0]
                .as<int>(),
            1);
}

// Jobs finished in the last two hours before the index of finish times goes are counted into
// the per-minute history; older ones and deltas appended before then are not counted twice.
TEST(migrations, recent_finishes_are_counted_by_minute_when_the_finish_index_goes) {
  test_support::scoped_database db;
  pqxx::connection c(db.url());
  {
    pqxx::work tx(c);
    apply_migrations_before(tx, 11);
    tx.exec("INSERT INTO jobs (job_type, status, finished_at) VALUES "
            "('page_scrape', 'Completed', date_trunc('minute', now()) - interval '10 minutes'), "
            "('page_scrape', 'Completed', date_trunc('minute', now()) - interval '10 minutes'), "
            "('page_scrape', 'Error', date_trunc('minute', now()) - interval '3 hours')");
    tx.commit();
  }
  persistence::migrate(c);
  pqxx::work tx(c);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM pg_indexes WHERE indexname = 'jobs_finished_idx'")[0][0]
                .as<int>(),
            0);
  EXPECT_EQ(
      tx.exec("SELECT string_agg(status || ' ' || n || ' ' || (minute = date_trunc("
              "'minute', now()) - interval '10 minutes'), ',') FROM job_finished_minutes")[0][0]
          .as<std::string>(),
      "Completed 2 true");
  // The deltas of those inserts (no minute) fold into the totals and not into the minutes.
  tx.exec(persistence::query("jobs_fold_status_deltas"));
  EXPECT_EQ(tx.exec("SELECT sum(n) FROM job_finished_minutes")[0][0].as<int>(), 2);
  EXPECT_EQ(tx.exec("SELECT sum(n) FROM job_status_counts")[0][0].as<int>(), 3);
}
