// Migration runner: schema_migrations ledger, advisory lock, one transaction per file.
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
  migration_report report;
  {
    pqxx::nontransaction tx(conn);
    tx.exec_params("SELECT pg_advisory_lock($1)", k_migration_lock_key);
  }
  try {
    {
      pqxx::work tx(conn);
      // The ledger itself is the one object created outside a numbered migration.
      tx.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version integer PRIMARY KEY, name text NOT NULL,"
              " applied_at timestamptz NOT NULL DEFAULT now())");
      tx.commit();
    }
    auto done = applied_versions(conn);
    for (const auto& m : migrations()) {
      if (std::find(done.begin(), done.end(), m.version) != done.end())
        continue;
      pqxx::work tx(conn);
      tx.exec(std::string(m.sql));
      tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                     m.name);
      tx.commit();
      spdlog::info("applied migration {}", m.name);
      report.applied.push_back(m.name);
    }
    auto now = applied_versions(conn);
    report.version = now.empty() ? 0 : *std::max_element(now.begin(), now.end());
  } catch (...) {
    try {
      pqxx::nontransaction tx(conn);
      tx.exec_params("SELECT pg_advisory_unlock($1)", k_migration_lock_key);
    } catch (...) {
    }
    throw;
  }
  pqxx::nontransaction tx(conn);
  tx.exec_params("SELECT pg_advisory_unlock($1)", k_migration_lock_key);
  return report;
}

} // namespace sky::persistence
