// Applies the embedded numbered migrations in order, each in its own transaction.
#pragma once

#include <string>
#include <vector>

#include <pqxx/connection>

namespace sky::persistence {

struct migration_report {
  std::vector<std::string> applied; // names applied by this call, in order
  int version = 0;                  // highest version now recorded
};

// Safe to run from several processes at once: an advisory lock serialises them.
migration_report migrate(pqxx::connection& conn);

// Versions recorded in schema_migrations (empty when the table does not exist).
std::vector<int> applied_versions(pqxx::connection& conn);

} // namespace sky::persistence
