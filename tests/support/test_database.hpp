// A fresh, uniquely named database per test on the throwaway cluster of ./scripts/test.
#pragma once

#include <string>

namespace sky::test_support {

// Admin URL of the test cluster (TEST_DATABASE_URL); aborts the test run when unset, because a
// database test that silently skips would prove nothing.
std::string admin_database_url();

class scoped_database {
public:
  scoped_database();
  ~scoped_database();
  scoped_database(const scoped_database&) = delete;
  scoped_database& operator=(const scoped_database&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

private:
  std::string name_;
  std::string url_;
};

// `url` (a database of the test cluster) through the cluster's transaction-mode PgBouncer, when
// TEST_PGBOUNCER_PORT names one; empty otherwise, or when `url` is on another cluster.
std::string through_pgbouncer(const std::string& url);

// The same URL with its database name replaced.
std::string with_database(const std::string& url, const std::string& database);

} // namespace sky::test_support
