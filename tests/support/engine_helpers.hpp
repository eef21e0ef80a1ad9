// Helpers for engine tests: seeding jobs, waiting on database state, reading execution logs.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace sky::test_support {

// Inserts `n` jobs of `job_type` with `params_json`; returns their ids.
std::vector<std::string> insert_jobs(const std::string& url, int n,
                                     const std::string& params_json = "{}",
                                     const std::string& job_type = "page_scrape");

// Runs a scalar query (first column of the first row) and returns it as text ("" for NULL).
std::string scalar(const std::string& url, const std::string& sql);
long long count(const std::string& url, const std::string& sql);
// Jobs matching a WHERE condition.
long long jobs_with(const std::string& url, const std::string& where);

// The value of one series in a Prometheus text ("scrapersky_x{queue=\"q\"}"), read at a line's
// start (a "# HELP" line names the series too); -1 when absent.
long long metric_value(const std::string& text, const std::string& series);

// Re-evaluates `predicate` until it holds or `timeout` passes; true when it held.
bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

struct execution {
  std::string id;
  long long start_ns = 0;
  long long end_ns = 0;
  std::string node;
};
std::vector<execution> read_executions(const std::string& path);
// Ids executed more than once at the same time (overlapping intervals); empty when none.
std::vector<std::string> overlapping_executions(const std::vector<execution>& executions);
std::map<std::string, int> executions_per_id(const std::vector<execution>& executions);

// A fresh file path in the temporary directory (not created).
std::string temp_path(const std::string& stem);

// Environment for a server running the synthetic page_scrape workload quickly.
std::map<std::string, std::string> synthetic_env(const std::string& execution_log,
                                                 std::map<std::string, std::string> extra = {});

// A PostgreSQL cluster of the test's own, for faults that would disturb a shared one.
class private_cluster {
public:
  private_cluster();
  ~private_cluster();
  void stop();
  void start();
  // Stops (SIGSTOP) or resumes (SIGCONT) the postmaster and every backend: a database that
  // accepts TCP connections and answers nothing, like a frozen host.
  void freeze();
  void thaw();
  std::string url(const std::string& database = "postgres") const;

private:
  std::string dir_;
  int port_ = 0;
};

// A primary and its synchronous streaming standby (a base backup with -R), each a cluster of the
// test's own: every commit the primary acknowledged is on the standby.
class replicated_pair {
public:
  replicated_pair();
  ~replicated_pair();
  void crash_primary();   // stops it as a crash would
  void promote_standby(); // the standby takes writes from now on
  std::string primary_url(const std::string& database = "postgres") const;
  std::string standby_url(const std::string& database = "postgres") const;
  // Both hosts in one libpq URL that connects to whichever accepts writes, as a deployment
  // with a standby configures its nodes.
  std::string failover_url(const std::string& database = "postgres") const;

private:
  std::string primary_dir_, standby_dir_;
  int primary_port_ = 0, standby_port_ = 0;
};

} // namespace sky::test_support
