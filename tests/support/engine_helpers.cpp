// Engine test helpers.
#include "support/engine_helpers.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace sky::test_support {

namespace {

// One connection per database URL and thread, kept between calls. eventually() polls these
// helpers every 25 ms, and a backend started per poll cost PostgreSQL more CPU than the server
// under test (some 20 ms each on this kind of virtual machine). Named, so that tests counting
// the server's sessions can tell them apart.
std::unique_ptr<pqxx::connection>& cached_connection(const std::string& url) {
  thread_local std::map<std::string, std::unique_ptr<pqxx::connection>> connections;
  auto& c = connections[url];
  if (!c)
    c = std::make_unique<pqxx::connection>(url + (url.find('?') == std::string::npos ? "?" : "&") +
                                           "application_name=scrapersky-test-helper");
  return c;
}

// Runs f on the URL's kept connection. A connection found broken (the cluster restarted since its
// last use) is replaced and f run once more: the tests restart or crash a cluster between helper
// calls, never during one, so the statement reached no live server. A commit whose outcome is
// unknown (pqxx::in_doubt_error) is not retried. Any other failure drops the connection too, so
// that the next call starts clean.
template <class F> auto on_connection(const std::string& url, F&& f) {
  for (bool retried = false;; retried = true) {
    auto& c = cached_connection(url);
    try {
      return f(*c);
    } catch (const pqxx::broken_connection&) {
      c.reset();
      if (retried)
        throw;
    } catch (...) {
      c.reset();
      throw;
    }
  }
}

} // namespace

std::vector<std::string> insert_jobs(const std::string& url, int n, const std::string& params_json,
                                     const std::string& job_type) {
  return on_connection(url, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto rows = tx.exec_params("INSERT INTO jobs (job_type, params) SELECT $1, $2::jsonb FROM "
                               "generate_series(1, $3) RETURNING id::text",
                               job_type, params_json, n);
    tx.commit();
    std::vector<std::string> ids;
    for (auto r : rows)
      ids.push_back(r[0].as<std::string>());
    return ids;
  });
}

std::string scalar(const std::string& url, const std::string& sql) {
  return on_connection(url, [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec(sql);
    if (r.empty() || r[0][0].is_null())
      return std::string();
    return std::string(r[0][0].c_str());
  });
}

long long count(const std::string& url, const std::string& sql) {
  auto v = scalar(url, sql);
  return v.empty() ? 0 : std::stoll(v);
}

long long jobs_with(const std::string& url, const std::string& where) {
  return count(url, "SELECT count(*) FROM jobs WHERE " + where);
}

long long metric_value(const std::string& text, const std::string& series) {
  const auto line = series + " ";
  for (std::size_t at = 0; (at = text.find(line, at)) != std::string::npos; at += line.size())
    if (at == 0 || text[at - 1] == '\n')
      return std::stoll(text.substr(at + line.size()));
  return -1;
}

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    try {
      if (predicate())
        return true;
    } catch (const std::exception&) {
      // the database may be restarting in fault tests; keep asking until the deadline
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

std::vector<execution> read_executions(const std::string& path) {
  std::ifstream in(path);
  std::vector<execution> out;
  execution e;
  while (in >> e.id >> e.start_ns >> e.end_ns >> e.node)
    out.push_back(e);
  return out;
}

std::vector<std::string> overlapping_executions(const std::vector<execution>& executions) {
  std::map<std::string, std::vector<const execution*>> by_id;
  for (const auto& e : executions)
    by_id[e.id].push_back(&e);
  std::vector<std::string> out;
  for (auto& [id, list] : by_id)
    for (std::size_t i = 0; i < list.size(); ++i)
      for (std::size_t j = i + 1; j < list.size(); ++j)
        if (list[i]->start_ns < list[j]->end_ns && list[j]->start_ns < list[i]->end_ns)
          out.push_back(id);
  return out;
}

std::map<std::string, int> executions_per_id(const std::vector<execution>& executions) {
  std::map<std::string, int> out;
  for (const auto& e : executions)
    ++out[e.id];
  return out;
}

std::string temp_path(const std::string& stem) {
  // Files handed out here are removed when the test process exits.
  static struct registry {
    std::vector<std::string> paths;
    ~registry() {
      for (const auto& p : paths)
        ::unlink(p.c_str());
    }
  } files;
  static std::atomic<int> n{0};
  files.paths.push_back("/tmp/sky_" + stem + "_" + std::to_string(getpid()) + "_" +
                        std::to_string(n++));
  return files.paths.back();
}

std::map<std::string, std::string> synthetic_env(const std::string& execution_log,
                                                 std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> env{{"TEST_SYNTHETIC_HANDLERS", "true"},
                                         {"TEST_EXECUTION_LOG", execution_log},
                                         {"RETRY_BACKOFF_BASE_MS", "50"},
                                         {"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "8"},
                                         {"PAGE_SCRAPE_SCHEDULER_BATCH_SIZE", "50"}};
  for (auto& [k, v] : extra)
    env[k] = v;
  return env;
}

namespace {

int run_shell(const std::string& script) {
  std::string cmd =
      "bash -c 'source \"" SCRAPERSKY_SOURCE_DIR "/scripts/lib.sh\" && " + script + "'";
  return std::system(cmd.c_str());
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

} // namespace

private_cluster::private_cluster() {
  char tmpl[] = "/tmp/sky_private_pg_XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  port_ = free_port();
  start();
}

private_cluster::~private_cluster() {
  stop();
  run_shell("rm -rf " + dir_);
}

void private_cluster::start() {
  if (run_shell("SKY_PG_FSYNC=off sky_pg_start " + dir_ + " " + std::to_string(port_)) != 0)
    throw std::runtime_error("could not start a private cluster in " + dir_);
}

void private_cluster::stop() {
  run_shell("sky_pg_stop " + dir_);
}

namespace {

// The postmaster of `dir` and its children, from postmaster.pid and /proc.
std::vector<pid_t> cluster_processes(const std::string& dir) {
  std::ifstream pid_file(dir + "/postmaster.pid");
  pid_t postmaster = 0;
  if (!(pid_file >> postmaster) || postmaster <= 0)
    throw std::runtime_error("no running cluster in " + dir);
  std::vector<pid_t> pids{postmaster};
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos)
      continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line))
      continue;
    // "pid (comm) state ppid ...": comm may hold spaces, so parse after the last ')'.
    auto close = line.rfind(')');
    if (close == std::string::npos)
      continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == postmaster)
      pids.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return pids;
}

} // namespace

void private_cluster::freeze() {
  for (auto pid : cluster_processes(dir_))
    kill(pid, SIGSTOP);
}

void private_cluster::thaw() {
  for (auto pid : cluster_processes(dir_))
    kill(pid, SIGCONT);
}

std::string private_cluster::url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

replicated_pair::replicated_pair() {
  char primary[] = "/tmp/sky_primary_pg_XXXXXX";
  char standby[] = "/tmp/sky_standby_pg_XXXXXX";
  if (!mkdtemp(primary) || !mkdtemp(standby))
    throw std::runtime_error("mkdtemp failed");
  primary_dir_ = primary;
  standby_dir_ = standby;
  primary_port_ = free_port();
  standby_port_ = free_port();
  if (run_shell("SKY_PG_FSYNC=off sky_pg_start " + primary_dir_ + " " +
                std::to_string(primary_port_)) != 0 ||
      run_shell("SKY_PG_FSYNC=off sky_pg_standby " + std::to_string(primary_port_) + " " +
                standby_dir_ + " " + std::to_string(standby_port_)) != 0) {
    run_shell("sky_pg_stop " + standby_dir_ + "; sky_pg_stop " + primary_dir_ + "; rm -rf " +
              primary_dir_ + " " + standby_dir_);
    throw std::runtime_error("could not start a primary and its standby");
  }
}

replicated_pair::~replicated_pair() {
  run_shell("sky_pg_stop " + standby_dir_ + "; sky_pg_stop " + primary_dir_ + "; rm -rf " +
            primary_dir_ + " " + standby_dir_);
}

void replicated_pair::crash_primary() {
  if (run_shell("sky_pg_crash " + primary_dir_) != 0)
    throw std::runtime_error("could not stop the primary");
}

void replicated_pair::promote_standby() {
  if (run_shell("sky_pg_promote " + standby_dir_) != 0)
    throw std::runtime_error("could not promote the standby");
}

std::string replicated_pair::primary_url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(primary_port_) + "/" + database;
}

std::string replicated_pair::standby_url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(standby_port_) + "/" + database;
}

std::string replicated_pair::failover_url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(primary_port_) +
         ",127.0.0.1:" + std::to_string(standby_port_) + "/" + database +
         "?target_session_attrs=read-write";
}

} // namespace sky::test_support
