// Access to the .sql files embedded in the binary: numbered migrations and named queries.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sky::persistence {

struct embedded_sql_file {
  std::string_view path; // "migrations/001_schema.sql" or "queries/jobs.sql"
  std::string_view text;
};

// Defined in the generated embedded_sql.cpp.
const std::vector<embedded_sql_file>& embedded_sql_files();

struct migration {
  int version;
  std::string name;
  std::string_view sql;
};

// Migrations ordered by version; throws if two files share a number or a name is malformed.
std::vector<migration> migrations();

// The text of the query headed `-- name: <name>` in queries/*.sql; throws if absent.
const std::string& query(std::string_view name);

} // namespace sky::persistence
