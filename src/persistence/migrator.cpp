// Migration runner: schema_migrations ledger, one transaction per file under an advisory lock.
#include "persistence/migrator.hpp"

#include "persistence/sql_catalog.hpp"

#include <algorithm>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

namespace sky::persistence {
namespace {

// Arbitrary but fixed key: every ScraperSky process contends on the same lock.
constexpr long long k_migration_lock_key = 0x5c5a9e75c0de0001LL;

} // namespace

std::vector<int> applied_versions(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  auto exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0].as<bool>();
  std::vector<int> out;
  if (!exists)
    return out;
  for (auto row : tx.exec(query("schema_migrations_list")))
    out.push_back(row[0].as<int>());
  return out;
}

migration_report migrate(pqxx::connection& conn) {
  // Each step takes a transaction-scoped advisory lock, so concurrent migrators serialise and the
  // lock can never outlive its transaction, also through a transaction-mode pooler (where a
  // session lock and its unlock could land on different server connections).
  migration_report report;
  {
    pqxx::work tx(conn);
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", k_migration_lock_key);
    // The ledger itself is the one object created outside a numbered migration.
    tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())");
    tx.commit();
  }
  for (const auto& m : migrations()) {
    pqxx::work tx(conn);
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", k_migration_lock_key);
    // Read under the lock: another migrator may have applied it meanwhile.
    if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty())
      continue;
    tx.exec(std::string(m.sql));
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                   m.name);
    tx.commit();
    spdlog::info("applied migration {}", m.name);
    report.applied.push_back(m.name);
  }
  auto now = applied_versions(conn);
  report.version = now.empty() ? 0 : *std::max_element(now.begin(), now.end());
  return report;
}

} // namespace sky::persistence
