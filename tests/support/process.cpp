// fork/exec with a pipe for stdout+stderr and poll()-based reads with deadlines.
#include "support/process.hpp"

#include "support/test_database.hpp"

#include "http/jwt.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace sky::test_support {

child_process::child_process(std::vector<std::string> argv,
                             std::map<std::string, std::string> env) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto name = entry.substr(0, entry.find('='));
    if (!env.count(name))
      env_strings.push_back(entry);
  }
  for (const auto& [k, v] : env)
    env_strings.push_back(k + "=" + v);
  std::vector<char*> c_argv, c_env;
  for (auto& a : argv)
    c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  for (auto& e : env_strings)
    c_env.push_back(e.data());
  c_env.push_back(nullptr);

  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
}

child_process::~child_process() {
  if (!exit_code_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0)
    close(out_fd_);
}

bool child_process::read_some(std::chrono::milliseconds timeout) {
  pollfd p{out_fd_, POLLIN, 0};
  int r = poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0)
    return false;
  char buf[4096];
  auto n = read(out_fd_, buf, sizeof buf);
  if (n <= 0)
    return false;
  output_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> child_process::wait_for_line(const std::string& needle,
                                                        std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto pos = output_.find(needle, scanned_);
    if (pos != std::string::npos) {
      auto begin = output_.rfind('\n', pos);
      begin = begin == std::string::npos ? 0 : begin + 1;
      auto end = output_.find('\n', pos);
      if (end != std::string::npos) {
        scanned_ = end;
        return output_.substr(begin, end - begin);
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    if (!read_some(std::min(left, std::chrono::milliseconds(200)))) {
      int status = 0;
      if (!exit_code_ && waitpid(pid_, &status, WNOHANG) == pid_)
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (exit_code_) {
        while (read_some(std::chrono::milliseconds(50))) {
        }
        if (output_.find(needle, scanned_) == std::string::npos)
          return std::nullopt;
      }
    }
  }
}

void child_process::signal(int sig) {
  if (pid_ > 0 && !exit_code_)
    kill(pid_, sig);
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code_) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    // Drain output so the child never blocks on a full pipe while we wait.
    if (!read_some(std::chrono::milliseconds(20)))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  while (read_some(std::chrono::milliseconds(10))) {
  }
  return exit_code_;
}

void child_process::drain_output() {
  while (read_some(std::chrono::milliseconds(0))) {
  }
}

std::optional<long> proc_status_kb(int pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::stol(line.substr(field.size() + 1));
  return std::nullopt;
}

bool reset_peak_rss(int pid) {
  std::ofstream clear("/proc/" + std::to_string(pid) + "/clear_refs");
  clear << "5"; // 5: reset the peak RSS (proc(5))
  clear.flush();
  return static_cast<bool>(clear);
}

std::pair<int, std::string> run_to_end(std::vector<std::string> argv,
                                       std::map<std::string, std::string> env,
                                       std::chrono::milliseconds timeout) {
  child_process p(std::move(argv), std::move(env));
  auto code = p.wait_exit(timeout);
  return {code.value_or(-1), p.output()};
}

running_server start_server(const std::string& database_url, std::map<std::string, std::string> env,
                            const std::string& role, std::vector<std::string> launcher) {
  // Under TEST_PGBOUNCER_PORT every server goes through the pooler, listening on a direct
  // connection, unless the test chose its database settings itself.
  if (auto pooled = through_pgbouncer(database_url);
      !pooled.empty() && !env.count("DATABASE_POOLER")) {
    env.emplace("DATABASE_POOLER", "transaction");
    env.emplace("DATABASE_DIRECT_URL", database_url);
    env.emplace("DATABASE_URL", pooled);
  }
  env.emplace("DATABASE_URL", database_url);
  env.emplace("PORT", "0");
  env.emplace("JWT_SECRET", k_test_jwt_secret);
  env.emplace("ENVIRONMENT", "test");
  // Workflows a test sets off (domain metadata for an inserted website, say) must not reach
  // beyond this machine: every fetch goes to a closed loopback port, which the SSRF guard
  // refuses anyway unless the test serves a fixture web and allows it.
  env.emplace("FETCH_CONNECT_TO", "::127.0.0.1:1");
  // A killed node's successor takes maintenance (rescue) over once the lease ends: short here.
  env.emplace("MAINTENANCE_LEASE_MS", "2000");
  running_server s;
  auto argv = std::move(launcher);
  for (const char* a : {SCRAPERSKY_BINARY, "serve", "--role"})
    argv.emplace_back(a);
  argv.push_back(role);
  s.process = std::make_unique<child_process>(std::move(argv), std::move(env));
  // A worker node serves no HTTP: it is up once its engine runs.
  auto line =
      s.process->wait_for_line(role == "worker" ? "engine started on node" : "listening on http://",
                               std::chrono::seconds(60));
  if (!line)
    throw std::runtime_error("server did not start:\n" + s.process->output());
  if (role != "worker") {
    auto colon = line->rfind(':', line->find(" (node"));
    s.port = std::stoi(line->substr(colon + 1));
  }
  return s;
}

std::string test_operator_bearer() {
  return "Bearer " + http::mint_token("6f1c2a4e-6b7a-4c53-9a0e-2f2d3c4b5a69",
                                      http::jwt_policy{k_test_jwt_secret}, std::chrono::minutes(5),
                                      std::chrono::system_clock::now(), http::k_operator_role);
}

std::string test_bearer() {
  return "Bearer " + http::mint_token("6f1c2a4e-6b7a-4c53-9a0e-2f2d3c4b5a69", k_test_jwt_secret,
                                      std::chrono::minutes(5));
}

} // namespace sky::test_support
