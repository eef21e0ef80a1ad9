// Runs the scrapersky binary as a child process: environment, captured output, signals, exit.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sky::test_support {

class child_process {
public:
  // Starts `argv` with the parent's environment plus `env` (overrides).
  child_process(std::vector<std::string> argv, std::map<std::string, std::string> env);
  ~child_process(); // kills the child if still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // Reads output until a line contains `needle`; returns that line, or nullopt on timeout/exit.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout);
  void signal(int sig);
  int pid() const { return pid_; }
  // Waits for exit; returns the exit code (128+signal when killed), nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Everything read so far.
  const std::string& output() const { return output_; }
  // Reads whatever output is pending without waiting, so a chatty child never blocks on the pipe.
  void drain_output();

private:
  bool read_some(std::chrono::milliseconds timeout);
  int pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
  std::size_t scanned_ = 0;
  std::optional<int> exit_code_;
};

// A "Vm..." field of /proc/<pid>/status in kB (e.g. "VmRSS", "VmHWM"); nullopt when unreadable.
std::optional<long> proc_status_kb(int pid, const std::string& field);
// Resets the peak resident set size (VmHWM) of `pid`; false when the kernel refuses.
bool reset_peak_rss(int pid);

// Runs to completion and returns {exit code, combined output}.
std::pair<int, std::string>
run_to_end(std::vector<std::string> argv, std::map<std::string, std::string> env,
           std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Starts `scrapersky serve` on a free port against `database_url`; returns the process and port.
struct running_server {
  std::unique_ptr<child_process> process;
  int port = 0;
};
// `launcher` is put before the binary's path, e.g. {"/bin/sh", "-c", "ulimit -n 40; exec \"$@\"",
// "sh"} to start it under a lower descriptor limit.
running_server start_server(const std::string& database_url,
                            std::map<std::string, std::string> env = {},
                            const std::string& role = "all",
                            std::vector<std::string> launcher = {});

inline const char* k_test_jwt_secret = "test-secret-test-secret-test-secret-0123";

// "Bearer <token>" for a fixed test user, signed with k_test_jwt_secret, valid for five minutes.
std::string test_bearer();
// The same token with the role claim "operator" (queue controls).
std::string test_operator_bearer();

} // namespace sky::test_support
