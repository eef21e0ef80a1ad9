// The HTTP server: Beast over Asio C++20 coroutines, handlers on a separate blocking pool.
#pragma once

#include "http/router.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace sky::config {
struct http_config;
}
namespace sky::process {
class thread_watchdog;
}

namespace sky::http {

// The most client connections to hold open under a descriptor limit: the configured number, but
// never so many that client sockets alone exhaust the process's descriptors (database connections,
// fetches and files need theirs).
int connection_cap(int configured, std::uint64_t descriptor_limit);

class http_server {
public:
  http_server(const config::http_config& config, const router& routes);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds, listens and starts the I/O and handler threads; returns the bound port.
  std::uint16_t start();

  // Heartbeats into the I/O threads ("http_io") and the handler pool ("http_handlers"), their
  // names after `prefix`, until shutdown.
  void watch_with(process::thread_watchdog& watchdog, const std::string& prefix = "");

  // Stops accepting, lets in-flight requests finish for up to `grace`, then stops all threads.
  void shutdown(std::chrono::milliseconds grace);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sky::http
