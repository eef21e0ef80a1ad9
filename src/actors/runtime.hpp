// Owns the actor system of `scrapersky serve`: starts the actors, reports health, drains on stop.
#pragma once

#include <chrono>
#include <memory>

namespace sky::config {
struct app_config;
}

namespace sky::actors {

class runtime {
public:
  explicit runtime(const config::app_config& config);
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  void start();
  // True while every actor is up.
  bool ready() const;
  // Asks every actor to stop and waits up to `drain`; false when some did not stop in time.
  bool shutdown(std::chrono::milliseconds drain);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sky::actors
