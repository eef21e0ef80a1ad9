// Creates and drops per-test databases on the test cluster.
#include "support/test_database.hpp"

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>
#include <random>
#include <unistd.h>

namespace sky::test_support {

std::string admin_database_url() {
  const char* url = std::getenv("TEST_DATABASE_URL");
  if (!url || !*url) {
    std::cerr << "TEST_DATABASE_URL is not set; run the suite with ./scripts/test\n";
    std::abort();
  }
  return url;
}

std::string with_database(const std::string& url, const std::string& database) {
  // URLs look like postgresql://user@host:port/dbname?params
  auto scheme_end = url.find("://");
  auto slash = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  auto query = url.find('?');
  std::string tail = query == std::string::npos ? "" : url.substr(query);
  if (slash == std::string::npos)
    return url.substr(0, query) + "/" + database + tail;
  return url.substr(0, slash) + "/" + database + tail;
}

scoped_database::scoped_database() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  name_ = "sky_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
          std::to_string(rd() % 100000);
  pqxx::connection admin(admin_database_url());
  pqxx::nontransaction tx(admin);
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  url_ = with_database(admin_database_url(), name_);
}

scoped_database::~scoped_database() {
  try {
    pqxx::connection admin(admin_database_url());
    pqxx::nontransaction tx(admin);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::cerr << "could not drop " << name_ << ": " << e.what() << "\n";
  }
}

std::string through_pgbouncer(const std::string& url) {
  const char* port = std::getenv("TEST_PGBOUNCER_PORT");
  if (!port || !*port)
    return {};
  // Both URLs are postgresql://user@host:port/database; only the port differs.
  const auto admin = admin_database_url();
  const auto cluster = admin.substr(0, admin.rfind('/') + 1);
  if (url.rfind(cluster, 0) != 0)
    return {};
  const auto host_end = cluster.rfind(':');
  return cluster.substr(0, host_end + 1) + port + "/" + url.substr(cluster.size());
}

} // namespace sky::test_support
